"""Compute energy of the trained agents (000 Sec. IV-B2, Fig. 4): per decision of the
deployed network and per training run, from the networks' actual layer shapes, the spike
rates measured in them (recorded during training, ``learning.train``; during inference on
held-out episodes, here) and the passes each algorithm makes, priced by
``core.neural_energy``. Also the CPU time the same network takes per decision here: a
spiking network simulated on a CPU runs its T~ time steps one after another and is not
cheaper there.

Passes of a training run of S environment steps (SB3's algorithms as configured in
``learning.agents``; minibatch samples counted one by one):

- PPO and Spiking-AC: S forward passes of actor and critic in the rollouts, and n_epochs x S
  samples each with a forward and a backward pass of both in the updates;
- DDPG: an actor forward per step after ``learning_starts`` (uniform actions before); per
  gradient step (one per step after ``learning_starts``) and sample: the critic update
  (target actor and target critic forward on s', critic forward and backward) and the actor
  update (actor forward, critic forward, backward through critic and actor);
- DQN: a Q-network forward per step; per gradient step (every ``train_freq`` steps after
  ``learning_starts``) and sample: target and online forward, online backward.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from rsu_isac.core.neural_energy import (
    DenseLayer,
    Operations,
    backward_operations,
    forward_operations,
)
from rsu_isac.learning.agents import hyperparameters
from rsu_isac.learning.spiking import TIME_STEPS


def _linears(*modules: nn.Module) -> list[nn.Linear]:
    return [m for module in modules for m in module.modules() if isinstance(m, nn.Linear)]


def network_layers(algorithm: str, policy) -> dict[str, list[nn.Linear]]:
    """The dense layers of each network of ``algorithm``'s SB3 ``policy``, by role."""
    if algorithm in ("ppo", "spiking_ac"):
        extractor = policy.mlp_extractor
        if algorithm == "spiking_ac":
            actor, critic = extractor.actor, extractor.critic
        else:
            actor, critic = extractor.policy_net, extractor.value_net
        return {
            "actor": _linears(actor, policy.action_net),
            "critic": _linears(critic, policy.value_net),
        }
    if algorithm == "ddpg":
        return {"actor": _linears(policy.actor), "critic": _linears(policy.critic)}
    if algorithm == "dqn":
        return {"actor": _linears(policy.q_net)}  # the Q-network decides
    raise ValueError(f"unknown algorithm '{algorithm}'")


def dense(linears: list[nn.Linear], hidden_spike_rate: float | None) -> list[DenseLayer]:
    """The layers for the energy count: the first takes real inputs; the others take the
    hidden spikes at ``hidden_spike_rate`` (None: a non-spiking network)."""
    return [
        DenseLayer(m.in_features, m.out_features, None if i == 0 else hidden_spike_rate)
        for i, m in enumerate(linears)
    ]


@dataclass(frozen=True)
class Passes:
    """Forward and backward passes of one network in a training run."""

    forward: float
    backward: float


def training_passes(algorithm: str, steps: int, action_dims: int) -> dict[str, Passes]:
    """Passes per network over a training run of ``steps`` (module docstring)."""
    h = hyperparameters(algorithm, action_dims)
    if algorithm in ("ppo", "spiking_ac"):
        updates = h["n_epochs"] * steps
        both = Passes(steps + updates, updates)
        return {"actor": both, "critic": both}
    learning = max(steps - h["learning_starts"], 0)
    if algorithm == "ddpg":
        samples = learning * h["batch_size"]
        return {
            "actor": Passes(learning + 2 * samples, samples),
            "critic": Passes(3 * samples, 2 * samples),
        }
    samples = learning // h["train_freq"] * h["batch_size"]
    return {"actor": Passes(steps + 2 * samples, samples)}


def training_energy(
    algorithm: str,
    policy,
    steps: int,
    action_dims: int,
    spike_rates: dict[str, float] | None,
) -> tuple[Operations, Operations]:
    """(forward, backward) operations of a whole training run; spiking networks' forward
    passes at the spike rates recorded during training."""
    passes = training_passes(algorithm, steps, action_dims)
    forward, backward = Operations(0.0, 0.0), Operations(0.0, 0.0)
    for role, linears in network_layers(algorithm, policy).items():
        rate = spike_rates[role] if spike_rates else None
        layers = dense(linears, rate)
        steps_t = TIME_STEPS if rate is not None else 1
        forward = forward + forward_operations(layers, steps_t) * passes[role].forward
        backward = backward + backward_operations(layers) * passes[role].backward
    return forward, backward


def inference_spike_rate(policy, observations: np.ndarray) -> float:
    """The deployed (actor) network's hidden spike rate on ``observations``."""
    layer = policy.mlp_extractor.actor
    layer.reset_counts()
    with torch.no_grad():
        policy.predict(observations, deterministic=True)
    return layer.spike_rate


def decision_cpu_ms(policy, observation: np.ndarray, repeats: int = 200) -> float:
    """Median wall-clock time [ms] of one deterministic decision of ``policy`` on this CPU
    (one torch thread)."""
    times = []
    with torch.no_grad():
        for _ in range(repeats):
            started = time.perf_counter()
            policy.predict(observation, deterministic=True)
            times.append(time.perf_counter() - started)
    return float(np.median(times) * 1e3)
