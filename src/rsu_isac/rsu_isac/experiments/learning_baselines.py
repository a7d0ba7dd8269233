"""Learned baselines against the optimisation policies on 000's setting
(``rsu-isac experiment learning-baselines``).

A cell is one policy and one training seed. A learned policy (PPO, DDPG, DQN) is trained
with that seed by :func:`rsu_isac.learning.train.train` (the same run as ``rsu-isac train
ALGO --steps S --seed SEED``) into ``<out>/artifacts/<algo>-seed<SEED>``; every policy is
then evaluated in the headless loop (``rsu-isac eval``'s :func:`~rsu_isac.loop.closed_loop.
evaluate`) on the same held-out episodes: seed000, 100 slots, P_max = 40 dBm, simulator
seeds EVALUATION_SEED_BASE + i, which training never draws. The optimisation policies and
``random`` (seeded 0) do not depend on the training seed: their rows repeat across seeds.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from rsu_isac.core.scenario import load_named_scenario
from rsu_isac.learning.agents import ALGORITHMS
from rsu_isac.learning.env import EVALUATION_SEED_BASE, EnvConfig
from rsu_isac.learning.mdp import MdpConfig
from rsu_isac.learning.train import TrainConfig, train
from rsu_isac.loop.closed_loop import EvalConfig, evaluate
from rsu_isac.platform.paths import scenarios_dir

SCENARIO = "seed000"
MAX_POWER_DBM = 40.0
EPISODE_SLOTS = 100
# (policy, action encoding of learning.mdp; "-" for the optimisation policies)
SETTINGS = (
    ("ppo", "compact"),
    ("ppo", "full"),
    ("ddpg", "compact"),
    ("dqn", "codebook"),
    ("random", "compact"),
    ("predictive_mrt", "-"),
    ("maxmin_socp", "-"),
)
FULL_STEPS = 40_000
QUICK_STEPS = 512
METRICS = (
    "sum_rate_bps_hz",
    "genie_sum_rate_bps_hz",
    "jain_fairness",
    "train_s",
    "policy_ms_p50",
    "policy_ms_p99",
)


def training_run(algorithm: str, action: str, seed: int, steps: int, folder: Path) -> dict:
    """Train (or finish training) ``algorithm`` on ``action`` with ``seed`` into ``folder``."""
    env = EnvConfig(scenario=SCENARIO, max_power_dbm=MAX_POWER_DBM, mdp=MdpConfig(action=action))
    config = TrainConfig(
        algorithm=algorithm,
        env=env,
        steps=steps,
        seed=seed,
        out=folder,
        eval_every=10_000,
        eval_episodes=2,
        resume=True,
        progress=False,
    )
    command = (
        f"rsu-isac train {algorithm} --action {action} --steps {steps} --seed {seed} "
        f"--eval-episodes 2 --out {folder}"
    )
    return train(config, command)


def held_out(policy: str, checkpoint: str | None, episodes: int) -> dict[str, float]:
    """Means over ``episodes`` held-out episodes of ``policy``'s evaluation summary."""
    scenario = load_named_scenario(SCENARIO, scenarios_dir())
    runs = [
        evaluate(
            scenario,
            EvalConfig(
                policy=policy,
                checkpoint=checkpoint,
                slots=EPISODE_SLOTS,
                seed=EVALUATION_SEED_BASE + i,
                max_power_dbm=MAX_POWER_DBM,
            ),
        )
        for i in range(episodes)
    ]
    return {k: float(np.mean([r[k] for r in runs])) for k in METRICS if k in runs[0]}


def cell(setting: dict, seed: int, quick: bool, artifacts: Path) -> dict[str, float]:
    policy, action = setting["policy"], setting["action"]
    checkpoint, train_s = None, math.nan
    if policy in ALGORITHMS:
        folder = artifacts / f"{policy}-{action}-seed{seed}"
        steps = QUICK_STEPS if quick else FULL_STEPS
        summary = training_run(policy, action, seed, steps, folder)
        checkpoint, train_s = str(folder / "checkpoint"), summary["wall_s"]
    return {**held_out(policy, checkpoint, 1 if quick else 10), "train_s": train_s}
