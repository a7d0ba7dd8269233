"""002's follower: with the leader's communication beams W fixed, the sensing covariance
R_s that maximises the echo SCNR towards the sensing direction against the clutter, while
every user keeps its leader SINR (up to a margin) and the RSU its power budget.

SCNR(R) = a_t^H R a_t / (sum_c c_c |a_c^H ... |^2 + 1) with R = W W^H + R_s, written as
a_t^H R a_t / (sum_c c_c a_c^H R a_c + 1), c_c the clutter-to-noise gain of patch c per
unit transmit power (unit noise). The fractional objective becomes a linear SDP by the
Charnes-Cooper substitution X = s R_s, s >= 0:

    max  a_t^H (X + s R_c) a_t
    s.t. sum_c c_c a_c^H (X + s R_c) a_c + s = 1
         g_k^H X g_k <= s b_k        (user k keeps SINR >= gamma_k, b_k its slack)
         tr X <= s P_s,  X >= 0 (Hermitian PSD)

solved with SCS (docs/architecture.md: Clarabel is slow on this SDP). R_s = X / s.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np
from numpy.typing import NDArray

from rsu_isac.core.array import steering_vector
from rsu_isac.core.channel import beam_gains


def sensing_covariance(
    g: NDArray,
    w: NDArray,
    sinr_targets: NDArray,
    target_rad: float,
    clutter_rad: NDArray,
    clutter_gain: NDArray,
    power_w: float,
    spacing_wavelengths: float = 0.5,
) -> NDArray[np.complex128] | None:
    """R_s (N, N) for unit-noise users G (K, N) served by W (N, K) with SINR targets
    gamma_k, sensing power P_s; None when no positive sensing power fits."""
    n = g.shape[1] if g.size else w.shape[0]
    received = beam_gains(g, w) if g.size else np.zeros((0, 0))
    signal = np.diag(received)
    slack = signal / np.maximum(sinr_targets, 1e-12) - (received.sum(axis=1) - signal) - 1.0
    if np.any(slack < 0) or power_w <= 0:
        return None
    a_t = steering_vector(target_rad, n, spacing_wavelengths)
    a_c = steering_vector(np.asarray(clutter_rad, dtype=float), n, spacing_wavelengths).reshape(
        -1, n
    )
    r_c = w @ w.conj().T
    x = cp.Variable((n, n), hermitian=True)
    s = cp.Variable(nonneg=True)
    leak = sum(
        c * (cp.real(cp.quad_form(a, x)) + s * float(np.real(a.conj() @ r_c @ a)))
        for a, c in zip(a_c, np.asarray(clutter_gain, dtype=float), strict=True)
    )
    constraints = [x >> 0, leak + s == 1, cp.real(cp.trace(x)) <= s * power_w]
    constraints += [
        cp.real(cp.quad_form(g[k].conj(), x)) <= s * float(slack[k]) for k in range(g.shape[0])
    ]
    objective = cp.real(cp.quad_form(a_t, x)) + s * float(np.real(a_t.conj() @ r_c @ a_t))
    problem = cp.Problem(cp.Maximize(objective), constraints)
    try:
        problem.solve(solver=cp.SCS, eps=1e-6, max_iters=20000)
    except cp.SolverError:
        return None
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or s.value is None:
        return None
    if s.value <= 1e-12:
        return None
    r_s = x.value / s.value
    return 0.5 * (r_s + r_s.conj().T)


def scnr(r: NDArray, target_rad: float, clutter_rad, clutter_gain, spacing=0.5) -> float:
    """a_t^H R a_t / (sum_c c_c a_c^H R a_c + 1) of a transmit covariance R."""
    n = r.shape[0]
    a_t = steering_vector(target_rad, n, spacing)
    a_c = steering_vector(np.asarray(clutter_rad, dtype=float), n, spacing).reshape(-1, n)
    leak = sum(c * np.real(a.conj() @ r @ a) for a, c in zip(a_c, clutter_gain, strict=True))
    return float(np.real(a_t.conj() @ r @ a_t) / (leak + 1.0))


def beams_of(r_s: NDArray, max_beams: int = 4) -> tuple[NDArray, NDArray]:
    """Unit-norm beams (B, N) and powers (B,) of the strongest eigenvectors of R_s (the
    beams that carry it; the rest of its trace is dropped)."""
    lam, q = np.linalg.eigh(r_s)
    order = np.argsort(lam)[::-1][:max_beams]
    keep = order[lam[order] > 1e-9 * max(lam.max(), 1e-300)]
    return q[:, keep].T.copy(), lam[keep]
