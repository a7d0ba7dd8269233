"""The agents of 000 Sec. IV on stable-baselines3 - the Spiking Actor-Critic
(``learning.spiking``) and the baselines PPO, DDPG, DQN - with their settings, and the bare
inference network of each (for a checkpoint loaded without its trainer).

Settings (ours unless marked): every network has one hidden layer of 128 units, as 000's
Spiking-AC (Sec. III-B), so that the energy comparison of the Spiking-AC issue compares like
with like; discount G = 0.99 and PPO clipping epsilon = 0.2 (000 Sec. IV-A); PPO collects
512 steps per update (000's batch). PPO and DDPG act on the compact action, DQN on the
codebook action (``learning.mdp``). Spiking-AC has 000's own settings (Sec. IV-A2,
``learning.spiking``) on the compact action.

``ddpg_mo`` is 001's agent on 001's multi-objective MDP (``learning.mo_mdp``): DDPG (001
Sec. "Training algorithm"), with our settings as DDPG's above but two hidden layers of 256
units for actor and critic (001 gives no network size).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3 import DDPG, DQN, PPO
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.noise import NormalActionNoise
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
from stable_baselines3.dqn.policies import DQNPolicy
from stable_baselines3.td3.policies import TD3Policy

from rsu_isac.learning import spiking

ALGORITHMS = ("spiking_ac", "ppo", "ddpg", "dqn", "ddpg_mo")
ACTION_OF = {"spiking_ac": "compact", "ppo": "compact", "ddpg": "compact", "dqn": "codebook"}
MO_ALGORITHMS = ("ddpg_mo",)  # on 001's multi-objective MDP (learning.mo_mdp)
MO_HIDDEN_UNITS = (256, 256)
HIDDEN_UNITS = 128
GAMMA = 0.99

_CLASSES: dict[str, tuple[type[BaseAlgorithm], type[BasePolicy]]] = {
    "ppo": (PPO, ActorCriticPolicy),
    "ddpg": (DDPG, TD3Policy),
    "ddpg_mo": (DDPG, TD3Policy),
    "dqn": (DQN, DQNPolicy),
    "spiking_ac": (spiking.SpikingPPO, spiking.SpikingActorCriticPolicy),
}


def _check(algorithm: str) -> None:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm '{algorithm}'; valid: {', '.join(ALGORITHMS)}")


def hyperparameters(algorithm: str, action_dims: int) -> dict[str, Any]:
    """Constructor arguments of ``algorithm`` (see the module docstring)."""
    _check(algorithm)
    if algorithm == "spiking_ac":
        return {
            "n_steps": spiking.BATCH,
            "batch_size": spiking.BATCH,
            "n_epochs": 10,
            "gamma": GAMMA,
            "gae_lambda": 0.95,
            "clip_range": 0.2,
            "policy_kwargs": {"log_std_init": -1.0},
        }
    if algorithm == "ppo":
        return {
            "n_steps": 512,
            "batch_size": 128,
            "n_epochs": 10,
            "learning_rate": 3e-4,
            "gamma": GAMMA,
            "gae_lambda": 0.95,
            "clip_range": 0.2,
            "policy_kwargs": {
                "net_arch": {"pi": [HIDDEN_UNITS], "vf": [HIDDEN_UNITS]},
                "log_std_init": -1.0,
            },
        }
    if algorithm in ("ddpg", "ddpg_mo"):
        return {
            "learning_rate": 1e-3,
            "buffer_size": 100_000,
            "learning_starts": 1_000,
            "batch_size": 128,
            "tau": 0.005,
            "gamma": GAMMA,
            "action_noise": NormalActionNoise(np.zeros(action_dims), np.full(action_dims, 0.1)),
            "policy_kwargs": {
                "net_arch": list(MO_HIDDEN_UNITS) if algorithm == "ddpg_mo" else [HIDDEN_UNITS]
            },
        }
    return {
        "learning_rate": 5e-4,
        "buffer_size": 50_000,
        "learning_starts": 1_000,
        "batch_size": 64,
        "gamma": GAMMA,
        "train_freq": 4,
        "target_update_interval": 500,
        "exploration_fraction": 0.3,
        "exploration_final_eps": 0.05,
        "policy_kwargs": {"net_arch": [HIDDEN_UNITS]},
    }


def build(algorithm: str, env, seed: int, tensorboard_log: str | None = None) -> BaseAlgorithm:
    """A fresh ``algorithm`` agent on ``env`` (torch and the environment seeded by ``seed``)."""
    _check(algorithm)
    dims = int(np.prod(env.action_space.shape)) if env.action_space.shape else 1
    cls, policy = _CLASSES[algorithm]
    return cls(
        policy,
        env,
        seed=seed,
        device="cpu",
        verbose=0,
        tensorboard_log=tensorboard_log,
        **hyperparameters(algorithm, dims),
    )


def load_trainer(algorithm: str, path: str, env) -> BaseAlgorithm:
    """A saved agent (``model.zip``, torch tensors loaded with weights_only) to resume."""
    _check(algorithm)
    return _CLASSES[algorithm][0].load(path, env=env, device="cpu")


def inference_policy(
    algorithm: str,
    observation_space: spaces.Space,
    action_space: spaces.Space,
    policy_kwargs: dict[str, Any],
) -> BasePolicy:
    """The untrained network of ``algorithm`` with these spaces, to load a state dict into."""
    _check(algorithm)
    cls = _CLASSES[algorithm][1]
    kwargs = dict(policy_kwargs)
    if algorithm in ("ddpg", "ddpg_mo"):
        kwargs.setdefault("n_critics", 1)  # DDPG is TD3 with one critic
    policy = cls(observation_space, action_space, lambda _: 0.0, **kwargs)
    policy.set_training_mode(False)
    return policy
