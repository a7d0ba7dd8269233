"""Semantic age of information, beam-misalignment probability and system energy of the
multimodal RSU (003 eq. (3)-(9)). AoI counts slots, as in eq. (6)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def aoi_next(aoi_slots: ArrayLike, scheduled: ArrayLike, processing_delay_slots: float):
    """A_k(n+1) = T_proc if the camera refreshed vehicle k in slot n, else A_k(n) + 1
    (003 eq. (6))."""
    return np.where(
        np.asarray(scheduled, dtype=bool),
        float(processing_delay_slots),
        np.asarray(aoi_slots, dtype=float) + 1.0,
    )


def uncertainty_rate(angle_variance_growth_rad2: ArrayLike, halfwidth_rad: ArrayLike):
    """Kinematic uncertainty rate beta_k of 003 eq. (7) [1/slot], derived from the track:
    the one-slot growth of the angle variance without a camera fix (the track's predicted
    minus its current variance), in units of the squared half-power half-width of the beam
    at the vehicle. For small beta_k A_k, eq. (7) is then beta_k A_k = (variance gathered
    since the last fix) / halfwidth^2, Chebyshev's bound on P(|angle error| > halfwidth);
    eq. (7) saturates it at 1."""
    growth = np.maximum(np.asarray(angle_variance_growth_rad2, dtype=float), 0.0)
    return growth / np.asarray(halfwidth_rad, dtype=float) ** 2


def misalignment_probability(uncertainty_rate: ArrayLike, aoi_slots: ArrayLike):
    """P_misa,k = 1 - exp(-beta_k A_k) (003 eq. (7)); beta_k per slot."""
    return -np.expm1(-np.asarray(uncertainty_rate, dtype=float) * np.asarray(aoi_slots, float))


def computation_energy_j(scheduled: ArrayLike, vision_energy_j: float) -> float:
    """E_comp = sum_k pi_k e_vis (003 eq. (4))."""
    return float(np.sum(np.asarray(scheduled, dtype=float)) * vision_energy_j)


def sweep_energy_j(misalignment: ArrayLike, recovery_energy_j: float) -> float:
    """Expected beam-recovery energy E_sweep = sum_k P_misa,k E_recovery (003 eq. (5))."""
    return float(np.sum(np.asarray(misalignment, dtype=float)) * recovery_energy_j)


def system_energy_j(
    scheduled: ArrayLike,
    misalignment: ArrayLike,
    vision_energy_j: float,
    recovery_energy_j: float,
) -> float:
    """E_total = E_comp + E_sweep (003 eq. (3))."""
    return computation_energy_j(scheduled, vision_energy_j) + sweep_energy_j(
        misalignment, recovery_energy_j
    )


def channel_error_variance(misalignment: ArrayLike, max_error_variance: float):
    """E||Delta h_k||^2 = rho P_misa,k (003 eq. (8))."""
    return max_error_variance * np.asarray(misalignment, dtype=float)


def constraints_met(
    aoi_slots: ArrayLike, misalignment: ArrayLike, max_aoi_slots: float, max_misalignment: float
) -> bool:
    """(9d) A_k <= A_max for all k and (9e) mean_k P_misa,k <= Gamma_misa of 003."""
    p = np.asarray(misalignment, dtype=float)
    mean_p = float(np.mean(p)) if p.size else 0.0
    return bool(np.all(np.asarray(aoi_slots) <= max_aoi_slots) and mean_p <= max_misalignment)
