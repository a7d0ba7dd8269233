"""003's methods side by side (003 Figs. 3-5): the rule schedules (vision-only, radar-only,
our ``threshold``) and the learned ones (RL-H-MoE, the homogeneous MoE, the ablation without
AoI, the single-network PPO), all on the 003 environment (``learning.aoi_env``: seed003, the
closed loop with the camera, 150 warm-up slots, then the measured slots) with
constant-modulus beams (003 (9b)): the rules beam at the predicted angles, the learned ones
with their own phases. Energy per slot = the camera energy of the frames run + E_recovery per
vehicle actually misaligned (eq. (3) realised); mean P_misa = L_BMP of (9e) over the slots;
sensing MAE = mean absolute error of the beams' look angles against the true angles.

Each cell is one training seed: a learned method is trained with it (``learning.zoo.
trained_hmoe``, 40 episodes of 200 slots at 10 dB; once per machine) and every method runs
the same held-out episodes of that seed (``learning.zoo.hmoe_evaluation``, kept once per
method, seed and SNR, so the three experiments share them), so methods compare on the same
traffic."""

from __future__ import annotations

import numpy as np

from rsu_isac.learning.zoo import hmoe_evaluation

METHODS = ("vision_only", "radar_only", "threshold", "hmoe_ppo", "hmoe_mlp", "hmoe_no_aoi", "hmoe")
METRICS = ("energy_j_per_slot", "mean_misalignment_probability", "camera_share", "angle_mae_deg")
MAE_WINDOW_SLOTS = 20  # 003-mae: the sensing MAE averaged over windows of this many slots


def cell(method: str, rf_snr_db: float, seed: int, quick: bool) -> dict[str, float]:
    """One method, one seed, at ``rf_snr_db`` (the learned ones trained at 10 dB): the means
    over the measured slots."""
    series = hmoe_evaluation(method, rf_snr_db, seed, quick)
    return {key: _finite_mean(series[key]) for key in METRICS}


def window_cell(method: str, start_slot: int, seed: int, quick: bool) -> dict[str, float]:
    """One method, one seed at 10 dB: the means over the window of measured slots from
    ``start_slot`` (MAE_WINDOW_SLOTS long; 5 slots in ``quick``)."""
    series = hmoe_evaluation(method, 10.0, seed, quick)
    length = 5 if quick else MAE_WINDOW_SLOTS
    window = slice(start_slot, start_slot + length)
    return {key: _finite_mean(series[key][window]) for key in METRICS}


def _finite_mean(values: list[float]) -> float:
    """The mean of the finite values (NaN where none: no track matched a vehicle)."""
    v = np.asarray(values, dtype=float)
    return float(v[np.isfinite(v)].mean()) if np.isfinite(v).any() else float("nan")
