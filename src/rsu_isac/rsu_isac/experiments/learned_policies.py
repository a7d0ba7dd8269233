"""Learned policies against each other and against the optimisation policies on 000's
setting: the learning-baselines table, 000's Fig. 3a (rate per slot) and Fig. 3b (rate vs
P_max), and the agents' energy (Fig. 4).

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

import numpy as np

from rsu_isac.core.neural_energy import forward_operations
from rsu_isac.core.scenario import load_named_scenario
from rsu_isac.learning import energy
from rsu_isac.learning.agents import ALGORITHMS
from rsu_isac.learning.checkpoints import load_network
from rsu_isac.learning.env import EVALUATION_SEED_BASE, BeamformingEnv, EnvConfig
from rsu_isac.learning.mdp import MdpConfig
from rsu_isac.learning.spiking import TIME_STEPS
from rsu_isac.learning.zoo import AgentKey, evaluation, trained
from rsu_isac.platform.paths import scenarios_dir

SCENARIO = "seed000"
TRAIN_POWER_DBM = 40.0
POWERS_DBM = (10.0, 20.0, 30.0, 40.0)  # 000 Fig. 3b
# (policy, action encoding of learning.mdp; "-" for the optimisation policies)
# 000's full action (2 N K_max = 192 numbers) is offered (rsu-isac train ppo --action full)
# but not in these runs: 40 000 steps do not train it (a quick run scores 3.7 bit/s/Hz).
AGENTS = (
    ("spiking_ac", "compact"),
    ("ppo", "compact"),
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
    """The learning-baselines table at 40 dBm: the evaluation summary's numbers (rate,
    fairness, tracking, decision time; not the per-RSU breakdown) and the agent's training
    time."""
    result, summary = evaluated(setting["policy"], setting["action"], seed, quick, TRAIN_POWER_DBM)
    train_s = summary["wall_s"] if summary is not None else math.nan
    numbers = {k: v for k, v in result["summary"].items() if isinstance(v, float | int)}
    return {**numbers, "train_s": train_s}


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


ENERGY_AGENTS = (("spiking_ac", "compact"), ("ppo", "compact"), ("ddpg", "compact"),
                 ("dqn", "codebook"))  # fmt: skip


def energy_settings(quick: bool) -> list[dict]:
    agents = ENERGY_AGENTS[:2] if quick else ENERGY_AGENTS
    return [{"policy": p, "action": a} for p, a in agents]


def energy_cell(setting: dict, seed: int, quick: bool) -> dict[str, float]:
    """000 Fig. 4: model energy per decision of the deployed network and of the whole
    training run (learning.energy), the measured hidden spike rates and the CPU time of a
    decision here."""
    algorithm, action = setting["policy"], setting["action"]
    key = AgentKey(algorithm, action, seed, QUICK_STEPS if quick else FULL_STEPS, SCENARIO,
                   TRAIN_POWER_DBM)  # fmt: skip
    checkpoint, summary = trained(key)
    scenario = load_named_scenario(SCENARIO, scenarios_dir())
    _, network = load_network(algorithm, str(checkpoint), scenario)
    env = BeamformingEnv(EnvConfig(scenario=SCENARIO, max_power_dbm=TRAIN_POWER_DBM,
                                   mdp=MdpConfig(action=action)))  # fmt: skip
    observations = []
    episodes, slots = (QUICK_EPISODES, QUICK_SLOTS) if quick else (EPISODES, SLOTS)
    for i in range(episodes):  # the held-out episodes, with the agent acting
        obs, _ = env.reset(options={"episode_seed": EVALUATION_SEED_BASE + i})
        for _ in range(slots):
            observations.append(obs)
            obs, *_ = env.step(network.predict(obs, deterministic=True)[0])
    env.close()
    observations = np.array(observations)
    spiking = algorithm == "spiking_ac"
    rate = energy.inference_spike_rate(network, observations) if spiking else None
    actor = energy.dense(energy.network_layers(algorithm, network)["actor"], rate)
    inference = forward_operations(actor, TIME_STEPS if spiking else 1)
    dims = int(np.prod(env.action_space.shape)) if env.action_space.shape else 1
    forward, backward = energy.training_energy(
        algorithm, network, summary["steps"], dims, summary.get("spike_rates")
    )
    return {
        "inference_energy_nj": inference.energy_j * 1e9,
        "training_energy_mj": (forward + backward).energy_j * 1e3,
        "training_forward_energy_mj": forward.energy_j * 1e3,
        "hidden_spike_rate_inference": math.nan if rate is None else rate,
        "hidden_spike_rate_training": summary["spike_rates"]["actor"] if spiking else math.nan,
        "decision_cpu_ms": energy.decision_cpu_ms(network, observations[0]),
    }
