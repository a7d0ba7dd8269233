"""Measurement-to-track association: Mahalanobis gating and global nearest neighbour."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.stats import chi2


def gate_threshold(probability: float, dof: int) -> float:
    """Squared Mahalanobis distance that a correct measurement falls inside with the given
    probability (chi-square quantile with ``dof`` degrees of freedom)."""
    return float(chi2.ppf(probability, dof))


def mahalanobis_lower_bound(innovation: NDArray, variances: NDArray) -> NDArray[np.float64]:
    """max_i e_i^2 / S_ii, a lower bound of e^T S^-1 e for any positive definite S with that
    diagonal (Cauchy-Schwarz: (u^T e)^2 <= (u^T S u)(e^T S^-1 e) with u a unit vector). Pairs
    whose bound exceeds the gate are outside it, so the exact distance is only needed for
    the few pairs that pass this cheap test."""
    return np.max(innovation**2 / variances, axis=-1)


def mahalanobis_cost(
    innovation: NDArray, covariance: NDArray
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Squared distances e^T S^-1 e and the GNN cost d^2 + ln det S (the negative log
    likelihood up to a constant, so that a vague track does not win every detection) for
    innovations (T, D, m) with covariances (T, D, m, m)."""
    solved = np.linalg.solve(covariance, innovation[..., None])[..., 0]
    d2 = np.einsum("...i,...i->...", innovation, solved)
    _, logdet = np.linalg.slogdet(covariance)
    return d2, d2 + logdet


def global_nearest_neighbour(
    cost: NDArray, gated: NDArray[np.bool_]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Minimum-cost one-to-one assignment (scipy ``linear_sum_assignment``) restricted to the
    pairs inside the gate. Returns (track rows, detection columns) of the assigned pairs."""
    if cost.size == 0 or not gated.any():
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    finite = np.where(gated, cost, 0.0)
    # a forbidden pair costs more than any complete assignment of allowed pairs
    big = 1.0 + np.abs(finite).sum() * 2.0
    rows, cols = linear_sum_assignment(np.where(gated, cost, big))
    keep = gated[rows, cols]
    return rows[keep].astype(np.int64), cols[keep].astype(np.int64)
