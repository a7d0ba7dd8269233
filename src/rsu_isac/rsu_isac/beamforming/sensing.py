"""002's follower: with the leader's communication beams W fixed, the sensing beam and the
receive RSU's filter that maximise the target's SCNR against the clutter (002 Sec. 4; its
system model is missing from our copy, so the model is the standard bistatic one written
once in core.isac_metrics and the choices are in docs/isac_ocs.md).

For a receive filter u at the receive RSU the SCNR of the transmit covariance
R = W W^H + R_s is

    SCNR(u, R) = tau_u a_t^H R a_t / (sum_c kappa_c,u a_c^H R a_c + 1),
    tau_u = sigma_t^2 |u^H b_t|^2 / (sigma^2 ||u||^2),
    kappa_c,u = sigma_c^2 |u^H b_c|^2 / (sigma^2 ||u||^2),

a_* the transmit steering vectors at the transmit RSU and b_* the receive ones at the
receive RSU (core.isac_metrics.BistaticScene). :func:`follow` alternates the two exact
maximisations (each never lowers the SCNR, so the iteration climbs to a stationary point):
for fixed R the best filter is MVDR, u = Q(R)^-1 b_t; for fixed u the best R_s with
tr R_s <= P_s is :func:`sensing_covariance`. Optionally every user keeps an SINR target
under the sensing signal (``sinr_targets``; 002's follower has none: the communication
beams are fixed and the sensing signal is the users' interference).

:func:`sensing_covariance` solves the fractional problem over R_s = P_s Q. The
Charnes-Cooper substitution X = s Q, s >= 0 makes it a linear SDP (hats: scaled by P_s and by
the denominator's constant beta, user constraints by ||g_k||^2, so that every term is of
order one):

    max  a^H X a + alpha s                     (A = a a^H, rank one)
    s.t. tr(C X) + s = 1                       (multiplier tau)
         v_k^H X v_k <= b_k s                  (user k keeps SINR >= gamma_k; mu_k)
         tr X <= s,  X >= 0 (Hermitian PSD)    (the sensing power; nu)

Its dual has K + 2 scalars and one N x N matrix inequality:

    min tau  s.t.  Z(y) = tau C + sum_k mu_k v_k v_k^H + nu I - A >= 0,
                   l(y) = tau - sum_k mu_k b_k - nu - alpha >= 0,  mu, nu >= 0,

solved exactly (to a relative duality gap of 1e-6) by a barrier method with damped Newton
steps in those K + 2 variables (Boyd, Vandenberghe, Convex Optimization, 2004, Sec. 9.6 and
11.3; the damped step 1 / (1 + decrement) keeps a self-concordant barrier's iterate
feasible without a line search): each step is one inverse of Z and a (K + 2) x (K + 2)
system, 50-75 steps when user constraints bind (10-30 ms at N = 32, docs/realtime.md)
instead of the tens of seconds of a general SDP solver; without a binding user constraint
the answer is a generalised eigenvector and no step runs. At the optimum Z(y*) Q* = 0 with
Z(y*) a positive definite matrix minus the rank-one A, so Q* is rank one: the eigenvector
of Z's smallest eigenvalue with the largest feasible power (one sensing beam). The cvxpy
SDP is the reference in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rsu_isac.core.array import steering_vector
from rsu_isac.core.channel import beam_gains
from rsu_isac.core.geometry import echo_polar, to_polar
from rsu_isac.core.isac_metrics import BistaticScene, sensing_scnr
from rsu_isac.core.radar import echo_complex_gain, reflection_coefficient
from rsu_isac.core.scenario import Scenario

GAP_TOLERANCE = 1e-6  # relative duality gap at which the barrier method stops
NEWTON_TOLERANCE = 1e-9  # half the squared Newton decrement at which centering stops
BARRIER_GROWTH = 300.0  # t grows by this factor between centering steps
MAX_ALTERNATIONS = 30  # filter / covariance alternations of the follower at most
ALTERNATION_TOLERANCE = 1e-6  # relative SCNR gain below which the alternation stops


def sensing_covariance(
    g: NDArray,
    w: NDArray,
    sinr_targets: NDArray | None,
    target_rad: float,
    clutter_rad: NDArray,
    clutter_gain: NDArray,
    power_w: float,
    spacing_wavelengths: float = 0.5,
    target_gain: float = 1.0,
) -> NDArray[np.complex128] | None:
    """R_s (N, N) maximising tau a_t^H R a_t / (sum_c kappa_c a_c^H R a_c + 1), R = W W^H +
    R_s, tr R_s <= P_s (``target_gain`` tau, ``clutter_gain`` kappa_c per unit transmit
    power and unit-norm steering), for unit-noise users G (K, N) served by W (N, K) that
    keep SINR >= gamma_k (``sinr_targets``; None: no user constraint); None when no positive
    sensing power fits."""
    n = w.shape[0]
    if sinr_targets is None:
        g, sinr_targets = np.zeros((0, n), complex), np.zeros(0)
    received = beam_gains(g, w) if g.size else np.zeros((0, 0))
    signal = np.diag(received)
    slack = signal / np.maximum(sinr_targets, 1e-12) - (received.sum(axis=1) - signal) - 1.0
    if np.any(slack < 0) or power_w <= 0:
        return None
    a_t = steering_vector(target_rad, n, spacing_wavelengths) * np.sqrt(target_gain)
    a_c = steering_vector(np.asarray(clutter_rad, dtype=float), n, spacing_wavelengths).reshape(
        -1, n
    )
    gain = np.asarray(clutter_gain, dtype=float)
    r_c = w @ w.conj().T
    beta = float(np.real(np.einsum("cn,nm,cm,c->", a_c.conj(), r_c, a_c, gain))) + 1.0
    alpha = float(np.real(a_t.conj() @ r_c @ a_t)) / beta
    a = a_t * np.sqrt(power_w / beta)
    clutter = a_c.T * np.sqrt(gain * power_w / beta)  # (N, C): C = clutter clutter^H
    norms = np.maximum(np.sum(np.abs(g) ** 2, axis=1), 1e-300)
    users = g.conj().T / np.sqrt(norms)  # (N, K) unit v_k
    bounds = slack / (power_w * norms)
    q = _follower_sdp(a, alpha, clutter, users, bounds)
    r_s = power_w * q
    return 0.5 * (r_s + r_s.conj().T)


@dataclass(frozen=True)
class FollowerBeam:
    """The follower's answer: the sensing beam (N,) with norm^2 its power [W], the receive
    RSU's filter (N_r,) (unit norm), the SCNR they reach and the alternations it took."""

    beam: NDArray[np.complex128]
    receive_filter: NDArray[np.complex128]
    scnr: float
    iterations: int


def follow(
    g: NDArray,
    w: NDArray,
    scene: BistaticScene,
    power_w: float,
    sinr_targets: NDArray | None = None,
    max_iterations: int = MAX_ALTERNATIONS,
) -> FollowerBeam | None:
    """002's follower (module docstring): the sensing beam of power <= ``power_w`` and the
    MVDR receive filter, alternated from the matched filter u = b_t until the SCNR gains
    less than ALTERNATION_TOLERANCE (relative); None when no sensing power fits the users'
    ``sinr_targets``. ``g`` (K, N): unit-noise user channels, ``w`` (N, K): the leader's
    beams."""
    n = w.shape[0]
    _, _, b_t, b_c = scene.steering(n)
    u, value, r_s = b_t, -np.inf, np.zeros((n, n), complex)
    r_c = w @ w.conj().T
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        scale = scene.noise_w * np.real(u.conj() @ u)
        r_s = sensing_covariance(
            g,
            w,
            sinr_targets,
            scene.target_tx_rad,
            scene.clutter_tx_rad,
            scene.clutter_variance * np.abs(b_c.conj() @ u) ** 2 / scale,
            power_w,
            scene.spacing_wavelengths,
            scene.target_variance * float(np.abs(b_t.conj() @ u) ** 2) / scale,
        )
        if r_s is None:
            return None
        r = r_c + r_s
        q = scene.interference_covariance(r)
        u = np.linalg.solve(q, b_t)
        u /= np.linalg.norm(u)
        previous, value = value, sensing_scnr(r, scene, u)
        if value <= previous * (1.0 + ALTERNATION_TOLERANCE):
            break
    lam, vec = np.linalg.eigh(r_s)
    beam = vec[:, -1] * np.sqrt(max(float(lam[-1]), 0.0))
    return FollowerBeam(beam, u, value, iterations)


def echo_scene(scenario: Scenario, tx: int, target_xy: ArrayLike, kappa: complex) -> BistaticScene:
    """The scene of transmit RSU ``tx``'s echo at the RSU that hears it (itself if
    monostatic, the receive RSU in 002's bistatic pair): the target at ``target_xy`` [m] with
    fading factor ``kappa`` and the scenario's clutter patches, each seen from both ends,
    with its echo variance per unit transmit power and unit-norm steering vectors, |E beta
    xi|^2 of core.radar.echo_complex_gain over the bistatic echo range (core.geometry.
    echo_polar, as the simulator's echoes), and the sensing noise."""
    rx = next(i for i in scenario.receivers() if scenario.illuminator(i) == tx)
    tx_xy, rx_xy = scenario.rsus[tx].position_m, scenario.rsus[rx].position_m
    clutter = np.array([c.position_m for c in scenario.clutter], dtype=float).reshape(-1, 2)
    points = np.vstack([np.asarray(target_xy, dtype=float).reshape(1, 2), clutter])
    still = np.zeros_like(points)
    seen = to_polar(tx_xy, points, still)
    echo = echo_polar(rx_xy, tx_xy, points, still)
    kappas = np.concatenate([[kappa], [complex(*c.reflection) for c in scenario.clutter]])
    radio = scenario.radio
    gain = echo_complex_gain(
        radio.array.num_tx_antennas,
        radio.array.num_rx_antennas,
        1.0,
        reflection_coefficient(1.0, echo.range_m) * kappas,
        scenario.radar.matched_filter_gain,
    )
    variance = np.abs(gain) ** 2
    return BistaticScene(
        float(seen.theta_rad[0]),
        float(echo.theta_rad[0]),
        float(variance[0]),
        seen.theta_rad[1:],
        echo.theta_rad[1:],
        variance[1:],
        radio.sensing_noise_w,
        radio.array.num_rx_antennas,
        radio.array.spacing_wavelengths,
    )


def _follower_sdp(
    a: NDArray, alpha: float, clutter: NDArray, users: NDArray, bounds: NDArray
) -> NDArray[np.complex128]:
    """Q maximising (a^H Q a + alpha) / (||clutter^H Q^(1/2)||_F^2 + 1) over Q >= 0 with
    v_k^H Q v_k <= b_k (``users`` the columns v_k) and tr Q <= 1: the barrier method on the
    dual of the module docstring."""
    n = users.shape[0]
    dual = _FollowerDual(a, alpha, clutter, users, bounds)
    # without the users: the top generalised eigenvector of (A + alpha I, C + I) at full
    # power (the SCNR of a unit u is then a Rayleigh quotient), tau_u its value
    tau_u, u = _top_generalised(dual.big_a + alpha * np.eye(n), dual.c + np.eye(n))
    if tau_u <= alpha:  # no sensing beam raises the SCNR
        return np.zeros((n, n), complex)
    if np.all(np.abs(users.conj().T @ u) ** 2 <= bounds):  # no user constraint binds: exact
        return np.outer(u, u.conj())
    y, t = dual.start(tau_u, dual.scnr(u))
    while True:
        for _ in range(100):  # centering: damped Newton
            grad, hess = dual.newton_system(y, t)
            step = -np.linalg.solve(hess, grad)
            decrement = float(-grad @ step)  # squared Newton decrement
            if decrement / 2 <= NEWTON_TOLERANCE:
                break
            # damped Newton step of a self-concordant barrier: stays strictly feasible and
            # decreases the barrier without evaluating it (whose differences at large t are
            # below double precision)
            root = np.sqrt(decrement)
            y = y + (step if root < 0.25 else step / (1.0 + root))
        if dual.terms / t <= GAP_TOLERANCE * abs(y[0]):
            break
        t *= BARRIER_GROWTH
    # Z(y*) is positive definite minus a rank-one term, so Z(y*) Q* = 0 leaves Q* rank one:
    # the eigenvector of Z's smallest eigenvalue, with the power that is best and feasible
    # (the SCNR is linear-fractional in it, so 0 or the largest feasible one)
    u = np.linalg.eigh(dual.z(y))[1][:, 0]
    helps = np.abs(a.conj() @ u) ** 2 > alpha * np.real(u.conj() @ dual.c @ u)
    return np.outer(u, u.conj()) * (dual.feasible_power(u) if helps else 0.0)


class _FollowerDual:
    """The dual of the module docstring: y = (tau, mu_1..mu_K, nu),
    Z(y) = M diag(tau 1_C, mu) M^H + nu I - A with M = [E, V] (C = E E^H, V the users),
    l(y) = tau - mu.b - nu - alpha."""

    def __init__(self, a, alpha, clutter, users, bounds) -> None:
        self.a, self.alpha, self.users, self.bounds = a, alpha, users, bounds
        self.big_a = np.outer(a, a.conj())
        self.c = clutter @ clutter.conj().T
        self.m = np.concatenate([clutter, users], axis=1)
        self.patches, (n, self.k) = clutter.shape[1], users.shape
        self.eye = np.eye(n)
        self.shift = np.concatenate([[1.0], -bounds, [-1.0]])  # gradient of l(y)
        self.terms = n + self.k + 2  # barrier terms: the duality gap is terms / t

    def feasible_power(self, u: NDArray) -> float:
        """The largest power (<= 1) of the unit beam u that every user tolerates."""
        load = np.abs(self.users.conj().T @ u) ** 2
        return min(1.0, *(self.bounds / np.maximum(load, 1e-300)).tolist())

    def scnr(self, u: NDArray) -> float:
        """The (normalised) SCNR of the unit beam u at its feasible power."""
        power = self.feasible_power(u)
        return (power * np.abs(self.a.conj() @ u) ** 2 + self.alpha) / (
            power * np.real(u.conj() @ self.c @ u) + 1.0
        )

    def start(self, tau_u: float, lower: float) -> tuple[NDArray, float]:
        """A strictly feasible y just above the unconstrained dual optimum (Z(tau_u, 0, nu)
        >= 0 with nu = lambda_max(A - tau_u C) = tau_u - alpha, l = 0), and t from the gap
        to ``lower``, a primal value."""
        margin = 0.01 * tau_u
        tau = tau_u + margin
        nu = float(np.linalg.eigvalsh(self.big_a - tau * self.c)[-1]) + 0.25 * margin
        mu = np.full(self.k, 0.25 * margin / max(float(self.bounds.sum()), 1e-300))
        return np.concatenate([[tau], mu, [nu]]), self.terms / max(tau - lower, 1e-300)

    def z(self, y: NDArray) -> NDArray:
        weights = np.concatenate([np.full(self.patches, y[0]), y[1 : self.k + 1]])
        return (self.m * weights) @ self.m.conj().T + y[-1] * self.eye - self.big_a

    def newton_system(self, y: NDArray, t: float) -> tuple[NDArray, NDArray]:
        """Gradient and Hessian of t tau - log det Z - log l - sum log mu - log nu."""
        k, patches = self.k, self.patches
        s = np.linalg.inv(self.z(y))
        sm = s @ self.m
        gram = self.m.conj().T @ sm  # M^H S M: every trace below is a block of it
        lin = float(self.shift @ y) - self.alpha
        cross = np.abs(gram) ** 2
        diag = np.real(np.diag(gram))
        column = np.sum(np.abs(sm) ** 2, axis=0)  # ||S m_j||^2
        grad = np.concatenate([[t - diag[:patches].sum()], -diag[patches:], [-np.trace(s).real]])
        grad -= self.shift / lin
        grad[1:] -= 1.0 / y[1:]
        hess = np.empty((k + 2, k + 2))
        hess[0, 0] = cross[:patches, :patches].sum()  # tr(S C S C)
        hess[0, 1 : k + 1] = hess[1 : k + 1, 0] = cross[:patches, patches:].sum(axis=0)
        hess[0, -1] = hess[-1, 0] = column[:patches].sum()  # tr(S C S)
        hess[1 : k + 1, 1 : k + 1] = cross[patches:, patches:]
        hess[1 : k + 1, -1] = hess[-1, 1 : k + 1] = column[patches:]
        hess[-1, -1] = np.sum(np.abs(s) ** 2)
        hess += np.outer(self.shift, self.shift) / lin**2
        hess[1:, 1:] += np.diag(1.0 / y[1:] ** 2)
        return grad, hess


def _top_generalised(m: NDArray, b: NDArray) -> tuple[float, NDArray[np.complex128]]:
    """Largest eigenvalue of M u = lambda B u (B positive definite) and its unit-norm u."""
    chol = np.linalg.cholesky(b)
    inv = np.linalg.inv(chol)
    lam, vec = np.linalg.eigh(inv @ m @ inv.conj().T)
    u = inv.conj().T @ vec[:, -1]
    return float(lam[-1]), u / np.linalg.norm(u)


def scnr(r: NDArray, target_rad: float, clutter_rad, clutter_gain, spacing=0.5) -> float:
    """a_t^H R a_t / (sum_c c_c a_c^H R a_c + 1) of a transmit covariance R."""
    n = r.shape[0]
    a_t = steering_vector(target_rad, n, spacing)
    a_c = steering_vector(np.asarray(clutter_rad, dtype=float), n, spacing).reshape(-1, n)
    leak = sum(c * np.real(a.conj() @ r @ a) for a, c in zip(a_c, clutter_gain, strict=True))
    return float(np.real(a_t.conj() @ r @ a_t) / (leak + 1.0))
