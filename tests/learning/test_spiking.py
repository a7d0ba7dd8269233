"""Spiking-AC's networks against the LIF recursion of 000 eq. (27), its surrogate gradient
eq. (30) and snntorch's own threshold-less neuron; its two learning rates; and the pass
counts of the energy accounting against SB3's actual training."""

import gymnasium
import numpy as np
import pytest
import snntorch as snn
import torch
from stable_baselines3.common.logger import Logger

from rsu_isac.learning import agents, energy, spiking
from rsu_isac.learning.env import BeamformingEnv


def test_the_hidden_layer_follows_the_lif_recursion_of_eq_27():
    torch.manual_seed(0)
    layer = spiking.SpikingLayer(4, 16)
    x = torch.randn(5, 4) * 3
    spikes = layer(x).detach().numpy()
    current = (layer.fc(x)).detach().numpy()
    u = np.zeros_like(current)
    for t in range(spiking.TIME_STEPS):  # U <- (1 - lambda) U + lambda I; spike, reset to 0
        u = (1 - spiking.LEAK) * u + spiking.LEAK * current
        fired = u > spiking.THRESHOLD
        assert np.array_equal(spikes[t], fired.astype(np.float32))
        u = np.where(fired, 0.0, u)
    assert 0 < spikes.mean() < 1


def test_the_surrogate_gradient_is_eq_30():
    layer = spiking.SpikingLayer(1, 1)
    with torch.no_grad():
        layer.fc.weight.fill_(1.0)
        layer.fc.bias.fill_(0.0)
    for drive in (0.5, 1.4, 3.0):  # first step: U = lambda x, spike = H(U - U_th)
        x = torch.tensor([[drive]], requires_grad=True)
        mem = torch.zeros(1, 1)
        spike, _ = layer.lif(spiking.LEAK * layer.fc(x), mem)
        spike.sum().backward()
        u = spiking.LEAK * drive - spiking.THRESHOLD
        eta = spiking.SURROGATE_ETA
        expected = eta / 2 / (1 + (np.pi * eta / 2 * u) ** 2) * spiking.LEAK
        assert x.grad.item() == pytest.approx(expected, rel=1e-6)


def test_the_readout_trace_is_what_a_threshold_less_lif_integrates():
    torch.manual_seed(1)
    spikes = (torch.rand(spiking.TIME_STEPS, 3, 8) > 0.6).float()
    weight = torch.randn(2, 8)
    readout = snn.Leaky(beta=1 - spiking.LEAK, reset_mechanism="none", threshold=1e9)
    mem = torch.zeros(3, 2)
    for t in range(spiking.TIME_STEPS):
        _, mem = readout(spiking.LEAK * spikes[t] @ weight.T, mem)
    assert torch.allclose(spiking.leak_trace(spikes) @ weight.T, mem, atol=1e-6)


def _observations(count: int = 200) -> torch.Tensor:
    env = BeamformingEnv()
    obs, _ = env.reset(seed=0)
    rows = []
    for _ in range(count):
        obs, *_ = env.step(np.zeros(env.action_space.shape, np.float32))
        rows.append(obs)
    env.close()
    return torch.as_tensor(np.array(rows))


def test_a_fresh_spiking_policy_fires_and_keeps_two_learning_rates():
    env = BeamformingEnv()
    model = agents.build("spiking_ac", env, seed=0)
    obs = _observations()
    for layer in model.policy.spiking_layers.values():
        layer.reset_counts()
        layer(obs)
        assert 0.05 < layer.spike_rate < 0.5  # not silent, not saturated
    model.set_logger(Logger(folder=None, output_formats=[]))
    model._update_learning_rate(model.policy.optimizer)  # what SB3 calls every update
    lrs = [g["lr"] for g in model.policy.optimizer.param_groups]
    assert lrs == [spiking.ACTOR_LR, spiking.CRITIC_LR]
    env.close()


class _Counter:
    """Rows through the first dense layer of a network, forward and backward."""

    def __init__(self, module: torch.nn.Module) -> None:
        first = next(m for m in module.modules() if isinstance(m, torch.nn.Linear))
        self.forward = self.backward = 0
        first.register_forward_hook(self._on_forward)
        first.register_full_backward_hook(self._on_backward)

    def _on_forward(self, module, inputs, output):
        self.forward += inputs[0].reshape(-1, inputs[0].shape[-1]).shape[0]

    def _on_backward(self, module, grad_input, grad_output):
        self.backward += grad_output[0].reshape(-1, grad_output[0].shape[-1]).shape[0]


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
@pytest.mark.parametrize(("algorithm", "steps"), [("ppo", 1024), ("ddpg", 1100)])
def test_training_pass_counts_match_what_sb3_runs(algorithm, steps):
    env = gymnasium.make("Pendulum-v1")
    model = agents.build(algorithm, env, seed=0)
    policy = model.policy
    if algorithm == "ppo":
        counters = {"actor": [_Counter(policy.mlp_extractor.policy_net)]}
    else:
        counters = {
            "actor": [_Counter(policy.actor), _Counter(policy.actor_target)],
            "critic": [_Counter(policy.critic), _Counter(policy.critic_target)],
        }
    model.learn(steps)
    expected = energy.training_passes(algorithm, steps, 1)
    for role, found in counters.items():
        forward = sum(c.forward for c in found)
        backward = sum(c.backward for c in found)
        assert forward == expected[role].forward, role
        assert backward == expected[role].backward, role
