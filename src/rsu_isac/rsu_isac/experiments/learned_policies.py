"""Learned policies against each other and against the optimisation policies on 000's
setting: the learning-baselines table and 000's Fig. 3a (rate per slot) and Fig. 3b (rate
vs P_max).

Every agent is trained with each seed on seed000 at P_max = 40 dBm (the measurement level,
the EKF in the loop; ``learning.zoo`` trains it once and shares it between experiments:
the same run as ``rsu-isac train ALGO --action A --steps S --seed SEED``) and evaluated in
the headless loop on held-out episodes of 100 slots (simulator seeds EVALUATION_SEED_BASE
+ i, which training never draws). The rate-vs-power curve evaluates the agents trained at
40 dBm at each budget: the actions are in shares of the budget, so one policy applies to
all; 000 does not say whether it retrains per budget. The optimisation policies and
``random`` (seeded 0) do not depend on the training seed: their rows repeat across seeds.
"""

from __future__ import annotations

import math

from rsu_isac.learning.agents import ALGORITHMS
from rsu_isac.learning.zoo import AgentKey, evaluation, trained

SCENARIO = "seed000"
TRAIN_POWER_DBM = 40.0
POWERS_DBM = (10.0, 20.0, 30.0, 40.0)  # 000 Fig. 3b
# (policy, action encoding of learning.mdp; "-" for the optimisation policies)
AGENTS = (
    ("spiking_ac", "compact"),
    ("ppo", "compact"),
    ("ppo", "full"),
    ("ddpg", "compact"),
    ("dqn", "codebook"),
)
REFERENCES = (("random", "compact"), ("predictive_mrt", "-"), ("maxmin_socp", "-"))
SETTINGS = AGENTS + REFERENCES
QUICK_SETTINGS = (("ppo", "compact"), ("dqn", "codebook"), ("predictive_mrt", "-"))
FULL_STEPS = 40_000
QUICK_STEPS = 512  # one PPO rollout
EPISODES, SLOTS = 10, 100
QUICK_EPISODES, QUICK_SLOTS = 1, 30
BASELINE_METRICS = (
    "sum_rate_bps_hz",
    "genie_sum_rate_bps_hz",
    "jain_fairness",
    "train_s",
    "policy_ms_p50",
    "policy_ms_p99",
)
STEP_SLOTS = (1, 5, *range(10, 101, 10))  # slots of the rate-per-slot curve


def settings(quick: bool) -> list[dict]:
    return [{"policy": p, "action": a} for p, a in (QUICK_SETTINGS if quick else SETTINGS)]


def evaluated(policy: str, action: str, seed: int, quick: bool, power_dbm: float):
    """(held-out evaluation, training summary or None) of ``policy`` trained with ``seed``."""
    checkpoint, summary = None, None
    if policy in ALGORITHMS:
        key = AgentKey(policy, action, seed, QUICK_STEPS if quick else FULL_STEPS, SCENARIO,
                       TRAIN_POWER_DBM)  # fmt: skip
        checkpoint, summary = trained(key)
    episodes, slots = (QUICK_EPISODES, QUICK_SLOTS) if quick else (EPISODES, SLOTS)
    return evaluation(policy, checkpoint, SCENARIO, power_dbm, episodes, slots), summary


def baselines_cell(setting: dict, seed: int, quick: bool) -> dict[str, float]:
    """The learning-baselines table at 40 dBm (training time, decision time)."""
    result, summary = evaluated(setting["policy"], setting["action"], seed, quick, TRAIN_POWER_DBM)
    train_s = summary["wall_s"] if summary is not None else math.nan
    return {**{k: result["summary"][k] for k in BASELINE_METRICS if k != "train_s"},
            "train_s": train_s}  # fmt: skip


def power_cell(setting: dict, seed: int, quick: bool) -> dict[str, float]:
    """000 Fig. 3b: sum rate at P_max = ``pmax_dbm`` (and the genie's)."""
    result, _ = evaluated(setting["policy"], setting["action"], seed, quick, setting["pmax_dbm"])
    return {k: result["summary"][k] for k in ("sum_rate_bps_hz", "genie_sum_rate_bps_hz")}


def step_cell(setting: dict, seed: int, quick: bool) -> dict[str, float]:
    """000 Fig. 3a: the sum rate in slot ``slot`` of the episode at 40 dBm, mean over the
    held-out episodes; ``genie`` is predictive_mrt on the true states."""
    policy, action = setting["policy"], setting["action"]
    series = "sum_rate_bps_hz"
    if policy == "genie":
        policy, action, series = "predictive_mrt", "-", "genie_sum_rate_bps_hz"
    result, _ = evaluated(policy, action, seed, quick, TRAIN_POWER_DBM)
    per_slot = result["per_slot"][series]
    return {"sum_rate_bps_hz": per_slot[min(setting["slot"], len(per_slot)) - 1]}
