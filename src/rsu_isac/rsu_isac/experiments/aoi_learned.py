"""003's methods side by side (``rsu-isac experiment 003-energy-bars``, 003 Fig. 3): the
rule schedules (vision-only, radar-only, our ``threshold``) and the learned ones (RL-H-MoE,
the homogeneous MoE, the ablation without AoI, the single-network PPO), all on the 003
environment (``learning.aoi_env``: seed003, the closed loop with the camera, 150 warm-up
slots, then the measured slots) with constant-modulus beams (003 (9b)): the rules beam at the
predicted angles, the learned ones with their own phases. Energy per slot = the camera
energy of the frames run + E_recovery per vehicle actually misaligned (eq. (3) realised);
mean P_misa = L_BMP of (9e) over the slots.

Each cell is one training seed: a learned method is trained with it (``learning.zoo.
trained_hmoe``, 40 episodes of 200 slots at 10 dB; once per machine) and every method runs
the same held-out episodes of that seed (simulator seeds EVALUATION_SEED_BASE + 1000 (1 +
seed) + i), so methods compare on the same traffic."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from rsu_isac.core.array import steering_vector
from rsu_isac.core.scenario import resolve_scenario
from rsu_isac.learning.aoi_env import RULES, AoiEnvConfig
from rsu_isac.learning.env import EVALUATION_SEED_BASE
from rsu_isac.learning.hmoe import VARIANTS, evaluate, load_variant
from rsu_isac.learning.zoo import trained_hmoe
from rsu_isac.platform.paths import scenarios_dir

METHODS = ("vision_only", "radar_only", "threshold", "hmoe_ppo", "hmoe_mlp", "hmoe_no_aoi", "hmoe")
METRICS = ("energy_j_per_slot", "mean_misalignment_probability", "camera_share")
EPISODES = 2  # held-out episodes per cell
SLOTS = 200


class SteeringAgent:
    """The rules' beams: constant modulus at each row's predicted angle (the camera column is
    the rule's business)."""

    def __init__(self, num_antennas: int) -> None:
        self.num_antennas = num_antennas

    def act(self, observation: dict[str, NDArray], generator=None):
        angle = np.arctan2(observation["angle"][:, 1], observation["angle"][:, 0])
        action = np.zeros((len(angle), 1 + self.num_antennas), np.float32)
        action[:, 1:] = np.angle(steering_vector(angle, self.num_antennas)) / np.pi
        action[observation["mask"] == 0] = 0.0
        return action, np.zeros(len(angle), dtype=bool)


def cell(method: str, rf_snr_db: float, seed: int, quick: bool) -> dict[str, float]:
    """One method, one seed, at ``rf_snr_db`` (the learned ones trained at 10 dB)."""
    if method not in METHODS:
        raise ValueError(f"unknown method '{method}'; valid: {', '.join(METHODS)}")
    slots, warmup, episodes = (10, 5, 1) if quick else (SLOTS, None, EPISODES)
    env = AoiEnvConfig(
        rf_snr_db=rf_snr_db,
        episode_slots=slots,
        schedule=method if method in RULES else "agent",
        **({} if warmup is None else {"warmup_slots": warmup}),
    )
    if method in VARIANTS:
        agent = load_variant(trained_hmoe(method, seed, quick=quick))
    else:
        scenario = resolve_scenario(env.scenario, scenarios_dir())
        agent = SteeringAgent(scenario.radio.array.num_tx_antennas)
    seeds = [EVALUATION_SEED_BASE + 1000 * (1 + seed) + i for i in range(episodes)]
    return evaluate(agent, env, seeds)
