"""WMMSE-ISAC, 002's MI-weighted baseline (its reference [25]: a weighted sum of the
communication and sensing mutual-information rates made tractable by the WMMSE transform):
the communication beams W (N, K) and one sensing stream v (N,) that maximise

    f(V) = (1 - omega) sum_k log2(1 + SINR_k) + omega log2(1 + SCNR),   V = [W, v],

with ||W||_F^2 <= P_c and ||v||^2 <= P_s (the communication / sensing power ratios of 002's
figures), SINR_k counting the sensing stream as interference, SCNR the target's at the
receive RSU with the MVDR filter (core.isac_metrics). The weights are the method's weakness
002 points at: ``sensing_weight`` omega says how much sensing is worth.

Both rates are MMSE problems (Shi, Razaviyayn, Luo, Hua, IEEE TSP 2011):

* user k estimates its symbol from y_k = g_k V s + n_k with a scalar u_k; its MSE e_k(u_k, V)
  is 1 / (1 + SINR_k) at the MMSE u_k;
* the receive RSU sees y = eta b_t + eps with eta = alpha a_t^H x ~ CN(0, sigma_t^2 p),
  p = ||V^H a_t||^2, and eps ~ CN(0, Q(V V^H)) (the clutter and noise of core.isac_metrics);
  estimating the unit-variance eta / sqrt(sigma_t^2 p) with a filter u has MSE
  e_s = |1 - sigma_t sqrt(p) u^H b_t|^2 + u^H Q u, 1 / (1 + SCNR) at the MMSE u;

and log(1 + SINR) = max over u, lambda > 0 of log lambda - lambda e(u) + 1. For fixed
filters and weights lambda every e is a convex quadratic in V except e_s's term
-2 sigma_t (u^H b_t) ||V^H a_t|| (u^H b_t > 0 at the MMSE u), which is minorised by its
tangent -2 sigma_t (u^H b_t) Re(xi^H V^H a_t), xi = V^H a_t / ||V^H a_t|| at the current V.
The V step then maximises a concave quadratic:

    v_j = (A + mu I)^-1 c_j,   A = (1 - omega) sum_k lambda_k |u_k|^2 g_k^H g_k
                                   + omega lambda_s (sigma_t^2 (u^H b_t)^2 a_t a_t^H
                                                     + sum_c sigma_c^2 |u^H b_c|^2 a_c a_c^H),
    c_k = (1 - omega) lambda_k u_k g_k^H + omega lambda_s sigma_t (u^H b_t) xi_k^* a_t,
    c_v = omega lambda_s sigma_t (u^H b_t) xi_v^* a_t,

with one multiplier mu per power budget (the smallest meeting it). Each step leaves f no
lower (the transform is tight at the MMSE filters and weights, the tangent at the current
V), so f rises monotonically to a stationary point (in exact arithmetic: with clutter-to-
noise ratios near 1e15, seed002's, rounding can make a step lose, and the iteration stops
at the best V it had); the tests check the rise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from rsu_isac.beamforming.precoders import equal_power, mrt, regularised_solve, sinr_of
from rsu_isac.core.isac_metrics import BistaticScene, communication_mi, sensing_mi

MAX_ITERATIONS = 200
TOLERANCE = 1e-7  # relative gain of f below which the iteration stops


def user_sinr(g: NDArray, w: NDArray, sensing: NDArray) -> NDArray[np.float64]:
    """SINR_k of unit-noise users G (K, N) served by W (N, K) while the sensing stream
    ``sensing`` (N,) is their interference: precoders.sinr_of with the stream as one more
    column."""
    return sinr_of(g, np.column_stack([w, sensing]))


@dataclass(frozen=True)
class JointBeams:
    """Communication beams (N, K), the sensing stream (N,), f's value and the iterations."""

    w: NDArray[np.complex128]
    sensing: NDArray[np.complex128]
    objective: float
    iterations: int


def weighted_mi(
    g: NDArray, w: NDArray, sensing: NDArray, scene: BistaticScene, sensing_weight: float
) -> float:
    """f of the module docstring [bit/s/Hz]."""
    r = w @ w.conj().T + np.outer(sensing, sensing.conj())
    cmi = float(communication_mi(user_sinr(g, w, sensing)).sum())
    return (1.0 - sensing_weight) * cmi + sensing_weight * sensing_mi(r, scene)


def wmmse_isac(
    g: NDArray,
    scene: BistaticScene,
    comm_power_w: float,
    sensing_power_w: float,
    sensing_weight: float = 0.5,
    max_iterations: int = MAX_ITERATIONS,
) -> JointBeams:
    """The WMMSE-ISAC beams (module docstring) for unit-noise users G (K, N), from MRT with
    equal power and the sensing stream steered at the target."""
    n = g.shape[1]
    omega = float(sensing_weight)
    a_t, a_c, b_t, b_c = scene.steering(n)
    sigma_t = np.sqrt(scene.target_variance)
    w = equal_power(mrt(g), comm_power_w)
    v = a_t * np.sqrt(sensing_power_w)
    value = weighted_mi(g, w, v, scene, omega)
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        streams = np.column_stack([w, v])
        # users: MMSE receivers and weights
        received = g @ streams  # (K, K + 1)
        total = np.sum(np.abs(received) ** 2, axis=1) + 1.0
        u_k = np.diag(received[:, : w.shape[1]]) / total
        lam_k = total / (total - np.abs(np.diag(received[:, : w.shape[1]])) ** 2)  # 1 / MSE
        # the receive RSU: MMSE filter of the normalised target echo, its weight, the tangent
        r = streams @ streams.conj().T
        q = scene.interference_covariance(r)
        through = streams.conj().T @ a_t  # V^H a_t
        p = float(np.sum(np.abs(through) ** 2))
        echo = sigma_t * np.sqrt(p)
        # MMSE filter echo (Q + echo^2 b b^H)^-1 b = echo Q^-1 b / (1 + SCNR) (Sherman-
        # Morrison), SCNR = echo^2 b^H Q^-1 b; the weight 1 / MSE = 1 + SCNR taken directly
        # (1 - echo u^H b cancels to rounding at the SCNRs of 1e14 that seed002 has)
        whitened = np.linalg.solve(q, b_t)
        scnr = echo**2 * float(np.real(b_t.conj() @ whitened))
        u = echo * whitened / (1.0 + scnr)
        gain = float(np.real(u.conj() @ b_t))  # u^H b_t, real and positive
        lam_s = 1.0 + scnr
        xi = through / np.sqrt(p) if p > 0 else np.full(len(through), 1 / np.sqrt(len(through)))
        clutter = scene.clutter_variance * np.abs(b_c.conj() @ u) ** 2
        a = (1.0 - omega) * (g.conj().T * (lam_k * np.abs(u_k) ** 2)) @ g
        a = a + omega * lam_s * (
            scene.target_variance * gain**2 * np.outer(a_t, a_t.conj())
            + (a_c.T * clutter) @ a_c.conj()
        )
        tangent = omega * lam_s * sigma_t * gain * np.outer(a_t, xi.conj())  # (N, K + 1)
        c = tangent.copy()
        c[:, : w.shape[1]] += (1.0 - omega) * g.conj().T * (lam_k * u_k)
        w_next = regularised_solve(a, c[:, :-1], comm_power_w)
        v_next = regularised_solve(a, c[:, -1:], sensing_power_w)[:, 0]
        following = weighted_mi(g, w_next, v_next, scene, omega)
        if following < value:  # rounding (clutter-to-noise ratios of 1e15): keep the best
            break
        w, v, value, previous = w_next, v_next, following, value
        if value - previous <= TOLERANCE * max(abs(previous), 1e-12):
            break
    return JointBeams(w, v, value, iterations)
