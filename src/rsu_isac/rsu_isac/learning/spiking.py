"""Spiking Actor-Critic of 000 Sec. III: PPO whose actor and critic are spiking networks.

Each network (000 Sec. III-B, IV-A2): the observation enters a hidden layer of 128 LIF
neurons (snntorch ``Leaky``) directly as input current (direct encoding) for T~ = 6 time
steps, with eq. (27) U(t+1) = (1 - lambda) U(t) + lambda W I(t), lambda = 0.5, threshold
U_th = 1 and reset to U_r = 0, and the arctan surrogate gradient of eq. (29)-(30) with
eta = 3 (snntorch's ``atan(alpha=eta)`` is exactly eq. (30)), trained by back-propagation
through time. The last layer has no threshold: its membrane potential after T~ steps is the
action mean (actor) or the value (critic). That potential is a linear function of the
hidden spikes weighted by the leak, U_T = W sum_t (1 - lambda)^(T-t) lambda s_t + const,
so the hidden layer hands SB3 the leak-weighted spike trace and SB3's linear ``action_net``
/ ``value_net`` are the readout layers: the same function, written as SB3's policy hosts it.

Trained by SB3's PPO (clipping eq. (24)-(26), GAE) with 000's settings: rollouts and
minibatches of 512, G = 0.99, epsilon = 0.2, learning rates 5e-5 (actor) and 5e-4 (critic).
SB3 hosts the spiking networks as the policy's ``mlp_extractor`` without changes to its
PPO loop; the one addition is :class:`SpikingPPO`, which keeps the two learning rates
(SB3 sets one rate for every parameter group).

Each hidden layer counts the spikes it fires and the neuron-steps it runs (``spike_rate``)
for the energy accounting of ``core.neural_energy``.
"""

from __future__ import annotations

import snntorch as snn
import torch
from snntorch import surrogate
from stable_baselines3 import PPO
from stable_baselines3.common.policies import ActorCriticPolicy
from torch import nn

HIDDEN = 128
TIME_STEPS = 6  # T~
LEAK = 0.5  # lambda of eq. (27)
THRESHOLD = 1.0  # U_th
SURROGATE_ETA = 3.0  # eta of eq. (29)-(30)
# SB3's orthogonal initialisation (gain sqrt 2) gives currents of about 0.3 against
# U_th = 1 on seed000's states: the hidden layers start silent (spike rate 0.000), the
# policy ignores its input and the surrogate gradient is all that could wake it. Gain 8
# starts them at a spike rate of about 0.2 (3: 0.03, 4: 0.06, 6: 0.14).
INIT_GAIN = 8.0
ACTOR_LR = 5e-5
CRITIC_LR = 5e-4
BATCH = 512


class SpikingLayer(nn.Module):
    """Real inputs into ``outputs`` LIF neurons for TIME_STEPS steps; returns the spikes
    (T, batch, outputs) and counts them while ``counting``."""

    def __init__(self, inputs: int, outputs: int) -> None:
        super().__init__()
        self.fc = nn.Linear(inputs, outputs)
        self.lif = snn.Leaky(
            beta=1.0 - LEAK,
            threshold=THRESHOLD,
            spike_grad=surrogate.atan(alpha=SURROGATE_ETA),
            reset_mechanism="zero",
        )
        self.counting = True
        self.spikes = 0.0
        self.neuron_steps = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        current = LEAK * self.fc(x)  # eq. (27): lambda sum_i W_ij I_i, the same every step
        mem = torch.zeros_like(current)
        spikes = []
        for _ in range(TIME_STEPS):
            spike, mem = self.lif(current, mem)
            spikes.append(spike)
        out = torch.stack(spikes)
        if self.counting:
            self.spikes += float(out.detach().sum())
            self.neuron_steps += out.numel()
        return out

    @property
    def spike_rate(self) -> float:
        """Spikes per neuron and time step since the counters were reset."""
        return self.spikes / self.neuron_steps if self.neuron_steps else 0.0

    def reset_counts(self) -> None:
        self.spikes, self.neuron_steps = 0.0, 0


def leak_trace(spikes: torch.Tensor) -> torch.Tensor:
    """sum_t (1 - lambda)^(T-t) lambda s_t over the first axis: what a threshold-less LIF
    readout integrates from the spikes by step T (eq. (27) unrolled)."""
    steps = spikes.shape[0]
    weights = LEAK * (1.0 - LEAK) ** torch.arange(steps - 1, -1, -1, dtype=spikes.dtype)
    return torch.tensordot(weights, spikes, dims=1)


class SpikingExtractor(nn.Module):
    """Separate spiking hidden layers of the actor and the critic (SB3's mlp_extractor)."""

    def __init__(self, feature_dim: int) -> None:
        super().__init__()
        self.latent_dim_pi = HIDDEN
        self.latent_dim_vf = HIDDEN
        self.actor = SpikingLayer(feature_dim, HIDDEN)
        self.critic = SpikingLayer(feature_dim, HIDDEN)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_actor(features), self.forward_critic(features)

    def forward_actor(self, features: torch.Tensor) -> torch.Tensor:
        return leak_trace(self.actor(features))

    def forward_critic(self, features: torch.Tensor) -> torch.Tensor:
        return leak_trace(self.critic(features))


class SpikingActorCriticPolicy(ActorCriticPolicy):
    """SB3's actor-critic policy with the spiking hidden layers and one learning rate for
    the actor's parameters and one for the critic's."""

    def _build_mlp_extractor(self) -> None:
        self.mlp_extractor = SpikingExtractor(self.features_dim)

    def _build(self, lr_schedule) -> None:
        super()._build(lr_schedule)
        for layer in self.spiking_layers.values():
            nn.init.orthogonal_(layer.fc.weight, gain=INIT_GAIN)
        actor = [*self.mlp_extractor.actor.parameters(), *self.action_net.parameters()]
        if isinstance(getattr(self, "log_std", None), nn.Parameter):
            actor.append(self.log_std)
        critic = [*self.mlp_extractor.critic.parameters(), *self.value_net.parameters()]
        self.optimizer = self.optimizer_class(
            [{"params": actor, "lr": ACTOR_LR}, {"params": critic, "lr": CRITIC_LR}],
            **self.optimizer_kwargs,
        )

    @property
    def spiking_layers(self) -> dict[str, SpikingLayer]:
        return {"actor": self.mlp_extractor.actor, "critic": self.mlp_extractor.critic}


class SpikingPPO(PPO):
    """PPO that keeps the actor's and the critic's learning rates (000 Sec. IV-A2)."""

    def _update_learning_rate(self, optimizers) -> None:
        groups = self.policy.optimizer.param_groups
        groups[0]["lr"], groups[1]["lr"] = ACTOR_LR, CRITIC_LR
        self.logger.record("train/learning_rate", ACTOR_LR)
