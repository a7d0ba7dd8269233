"""003's hybrid MDP (Sec. III-C) over the camera RSU's tracks: state, hybrid action and
reward, pure functions shared by the environment (``learning.aoi_env``) and the policies.

State s_n (003: {S_rad(n), A_k(n)} in R^{K x 3}): per confirmed or coasting track, in
track-id order, the last ``sequence_length`` rows of FEATURES (the temporal expert's
sequence buffer B of Algorithm 1, oldest first, padded with the first row) and the predicted
angle (cos, sin) from the camera RSU for the spatial expert; rows beyond the live tracks are
zero with mask 0. FEATURES: A_k / A_max (eq. (6)), beta_k A_max (the angle-uncertainty
growth of eq. (7) over an AoI budget), P_misa,k (eq. (7)) and whether the radar held the
track this slot (our S_rad: the radar's recent outcome). The ablation ``mask_aoi`` zeroes
the two AoI-derived features (A_k and P_misa,k = 1 - exp(-beta_k A_k)).

Action a_n = {pi(n), v(n)} as one box (K_max, 1 + M) in [-1, 1]: column 0 > 0 turns the
camera on for the track (pi_k, constraint (9f)); columns 1..M are its beam's phases / pi,
v_k = exp(j Phi_k) / sqrt(M) (eq. (10), constant modulus (9b)), at an equal share of the
power budget (9c).

Reward eq. (11): r_n = -E_total(n) - lambda_misa max(0, L_BMP(n) - Gamma_misa), with
E_total the camera energy of the frame the schedule ran (eq. (4), the regions' share of
a full frame, whole-road scans included) plus E_recovery per vehicle actually misaligned
by the beams (eq. (5) realised), and L_BMP the mean P_misa of the tracks after the slot
(9e).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from rsu_isac.scheduling.lstm_expert import FEATURES, MAX_FEATURE


@dataclass(frozen=True)
class AoiMdpConfig:
    """The 003 MDP's sizes and reward weight."""

    max_tracks: int = 8  # K_max rows (003: K = 4 vehicles)
    sequence_length: int = 8  # T of the temporal expert's sequences
    misalignment_penalty_j: float = 500.0  # lambda_misa of eq. (11), J per unit of L_BMP excess
    mask_aoi: bool = False  # 003's ablation "RL-H-MoE w/o AoI"


def observation_space(config: AoiMdpConfig) -> spaces.Dict:
    k, t = config.max_tracks, config.sequence_length
    return spaces.Dict(
        {
            "history": spaces.Box(0.0, MAX_FEATURE, (k, t, len(FEATURES)), np.float32),
            "angle": spaces.Box(-1.0, 1.0, (k, 2), np.float32),
            "mask": spaces.Box(0.0, 1.0, (k,), np.float32),
        }
    )


def action_space(config: AoiMdpConfig, num_antennas: int) -> spaces.Box:
    return spaces.Box(-1.0, 1.0, (config.max_tracks, 1 + num_antennas), np.float32)


@dataclass(frozen=True)
class HybridAction:
    """An action decoded for the observation's rows (``track_id``)."""

    track_id: NDArray[np.int64]
    camera: NDArray[np.bool_]  # pi_k
    phases_rad: NDArray[np.float64]  # (rows, M)

    def schedule_of(self, track_id: NDArray) -> NDArray[np.bool_]:
        """pi for ``track_id`` (tracks without a row: off)."""
        chosen = dict(zip(self.track_id.tolist(), self.camera.tolist(), strict=True))
        return np.array([chosen.get(int(t), False) for t in track_id], dtype=bool)

    def phases_of(self, track_id: int) -> NDArray[np.float64] | None:
        rows = np.flatnonzero(self.track_id == track_id)
        return self.phases_rad[rows[0]] if rows.size else None


def decode(action: NDArray, track_id: NDArray[np.int64]) -> HybridAction:
    """The hybrid action of a box action for the observation's live rows."""
    a = np.clip(np.asarray(action, dtype=float), -1.0, 1.0)[: len(track_id)]
    return HybridAction(np.asarray(track_id, np.int64), a[:, 0] > 0.0, np.pi * a[:, 1:])


def constant_modulus_beam(phases_rad: NDArray) -> NDArray[np.complex128]:
    """v = exp(j Phi) / sqrt(M), eq. (10)."""
    return np.exp(1j * phases_rad) / np.sqrt(phases_rad.shape[-1])


def reward(
    camera_energy_j: float,
    sweep_energy_j: float,
    mean_misalignment: float,
    max_misalignment: float,
    config: AoiMdpConfig,
) -> tuple[float, dict[str, float]]:
    """eq. (11) and its parts."""
    excess = max(0.0, mean_misalignment - max_misalignment)
    total = camera_energy_j + sweep_energy_j
    value = -total - config.misalignment_penalty_j * excess
    return value, {
        "energy_j": total,
        "energy_comp_j": camera_energy_j,
        "energy_sweep_j": sweep_energy_j,
        "mean_misalignment": mean_misalignment,
        "misalignment_excess": excess,
    }
