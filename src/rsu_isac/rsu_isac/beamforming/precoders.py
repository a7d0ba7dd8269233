"""Single-RSU multi-user precoders on an estimated channel.

Every function takes the channel rows G (K, N) = h_k^H / sigma already divided by the noise
amplitude (so the noise power is 1) and the power budget P [W], and returns the precoder
W (N, K) whose column k serves vehicle k, with ||W||_F^2 <= P. SINR_k =
|g_k W_k|^2 / (sum_{j != k} |g_k W_j|^2 + 1) (000 eq. (11) with sigma^2 = 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from rsu_isac.core.channel import beam_gains, sinr

SOLVER_TOLERANCE = 1e-3  # relative width at which the max-min bisection stops


def sinr_of(g: NDArray, w: NDArray) -> NDArray[np.float64]:
    """SINR of each vehicle under precoder W (N, K), unit noise: core.channel.sinr with
    column k serving vehicle k and unit power per column (the power is in W)."""
    k = g.shape[0]
    return sinr(beam_gains(g, w), np.ones(w.shape[1]), 1.0, np.arange(k))


def sum_rate(g: NDArray, w: NDArray) -> float:
    return float(np.sum(np.log2(1.0 + sinr_of(g, w))))


def mrt(g: NDArray) -> NDArray[np.complex128]:
    """Unit-norm maximum-ratio directions w_k = h_k / ||h_k|| (N, K)."""
    w = g.conj().T
    return w / np.maximum(np.linalg.norm(w, axis=0), 1e-300)


def zero_forcing(g: NDArray) -> NDArray[np.complex128]:
    """Unit-norm zero-forcing directions, the columns of the pseudo-inverse of G (exactly
    interference-free when K <= N and G has full row rank)."""
    w = np.linalg.pinv(g)
    return w / np.maximum(np.linalg.norm(w, axis=0), 1e-300)


def regularised_zf(g: NDArray, regulariser: float) -> NDArray[np.complex128]:
    """Unit-norm regularised zero-forcing directions, the columns of
    G^H (G G^H + lambda I)^-1 (N, K): zero forcing as lambda -> 0, maximum ratio as
    lambda -> inf; lambda = K / P (unit noise) is the MMSE choice (Peel, Hochwald,
    Swindlehurst, IEEE Trans. Commun. 2005)."""
    k = g.shape[0]
    w = g.conj().T @ np.linalg.inv(g @ g.conj().T + regulariser * np.eye(k))
    return w / np.maximum(np.linalg.norm(w, axis=0), 1e-300)


def equal_power(directions: NDArray, power_w: float) -> NDArray[np.complex128]:
    k = directions.shape[1]
    return directions * np.sqrt(power_w / max(k, 1))


def water_filling(g: NDArray, directions: NDArray, power_w: float) -> NDArray[np.complex128]:
    """Powers p_k = (mu - 1 / a_k)^+ with sum p_k = P on the effective gains
    a_k = |g_k w_k|^2, the capacity-optimal split when the beams do not interfere (zero
    forcing); for MRT it ignores the interference."""
    a = np.maximum(np.abs(np.sum(g.T * directions, axis=0)) ** 2, 1e-300)
    inv = np.sort(1.0 / a)
    for count in range(len(inv), 0, -1):
        mu = (power_w + inv[:count].sum()) / count
        if mu > inv[count - 1]:
            break
    p = np.maximum(mu - 1.0 / a, 0.0)
    return directions * np.sqrt(p)


@dataclass
class MaxMinSocp:
    """Max-min SINR by bisection over a second-order-cone feasibility problem (002's leader
    problem; Wiesel, Eldar, Shamai, IEEE TSP 2006): SINR_k >= t for all k is
    sqrt(1 + 1/t) Re(g_k w_k) >= ||[g_k W, 1]||, Im(g_k w_k) = 0 (the phase of each w_k is
    free), ||W||_F^2 <= P. The problem is built once per (K, N) with cvxpy Parameters and
    re-solved by Clarabel; a SolverError near the boundary counts as infeasible
    (docs/architecture.md). The reference for :class:`MaxMinSinr`, which the policies use
    (the same optimum in about a millisecond instead of 0.1 - 30 s)."""

    num_vehicles: int
    num_antennas: int
    _problem: object = field(init=False)  # the cvxpy Problem

    def __post_init__(self) -> None:
        import cvxpy as cp  # the reference only: the policies never load cvxpy (1.6 s)

        k, n = self.num_vehicles, self.num_antennas
        self._g = cp.Parameter((k, n), complex=True)
        self._g_scaled = cp.Parameter((k, n), complex=True)  # sqrt(1 + 1/t) G
        self._power = cp.Parameter(nonneg=True)
        self._w = cp.Variable((n, k), complex=True)
        received = self._g @ self._w  # (K, K)
        wanted = self._g_scaled @ self._w
        constraints = [cp.sum_squares(self._w) <= self._power]
        for i in range(k):
            constraints += [
                cp.imag(wanted[i, i]) == 0,
                cp.norm(cp.hstack([received[i, :], np.ones(1)]), 2) <= cp.real(wanted[i, i]),
            ]
        self._problem = cp.Problem(cp.Minimize(0), constraints)

    def _feasible(self, g: NDArray, target: float) -> NDArray | None:
        import cvxpy as cp

        self._g_scaled.value = np.sqrt(1.0 + 1.0 / target) * g
        try:
            self._problem.solve(solver=cp.CLARABEL)
        except cp.SolverError:
            return None
        w = self._w.value
        if self._problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or w is None:
            return None
        # an inaccurate answer counts only if it really meets the target and the budget
        if np.min(sinr_of(g, w)) < target * (1 - 1e-4):
            return None
        return w * min(1.0, np.sqrt(self._power.value / np.sum(np.abs(w) ** 2)))

    def solve(self, g: NDArray, power_w: float) -> tuple[NDArray[np.complex128], float]:
        """(W, t*): the max-min precoder and its common SINR target."""
        self._g.value = g
        self._power.value = power_w
        high = power_w * float(np.min(np.sum(np.abs(g) ** 2, axis=1)))  # single-user SNR
        # start from the better of MRT with equal power and power-balanced zero forcing
        # (SINR_k = p_k a_k with p_k = P / (a_k sum_j 1/a_j): all equal to P / sum 1/a_j)
        d = zero_forcing(g)
        a = np.abs(np.sum(g.T * d, axis=0)) ** 2
        candidates = [equal_power(mrt(g), power_w), d * np.sqrt(power_w / (a * np.sum(1 / a)))]
        floors = [float(np.min(sinr_of(g, w))) for w in candidates]
        low, best = max(zip(floors, candidates, strict=True), key=lambda c: c[0])
        while high - low > SOLVER_TOLERANCE * high:
            mid = 0.5 * (low + high)
            w = self._feasible(g, mid)
            if w is None:
                high = mid
            else:
                low, best = mid, w
        return best, low


@dataclass
class MaxMinSinr:
    """The exact max-min SINR precoder by uplink-downlink duality (Schubert, Boche, IEEE TVT
    2004; Cai, Quek, Tan, Low, IEEE TSP 2011): the downlink problem of :class:`MaxMinSocp`
    has the same optimum as the virtual uplink with powers q (sum q_k = P, unit noise) and
    MMSE receivers. With H = G^H and A = G G^H (K x K), h_k^H Sigma^-1 h_k = s_k, the
    diagonal of (I + A Q)^-1 A (Sigma = I + H Q H^H, push-through identity), the uplink
    interference function is I_k(q) = 1 / s_k - q_k and SINR_k = q_k / I_k(q); the
    normalised fixed point q <- P I(q) / sum I(q) converges to the balanced optimum
    gamma* = P / sum I(q*). The downlink beams are the MMSE receivers Sigma^-1 h_k,
    normalised, and the downlink powers solve (diag(D) - gamma* F) p = gamma* 1 (D the own
    gains, F the cross gains), which sums to P by duality (rescaled to P against rounding).
    Only K x K systems are solved. The last solution's q starts the next call with as many
    vehicles (warm start); any start converges."""

    tolerance: float = 1e-9  # relative spread of the uplink SINRs at which it stops
    max_iterations: int = 1000
    _last_q: NDArray[np.float64] | None = field(default=None, init=False, repr=False)

    def solve(self, g: NDArray, power_w: float) -> tuple[NDArray[np.complex128], float]:
        """(W, t*): the max-min precoder and its common SINR."""
        k = g.shape[0]
        if k == 0:
            return np.zeros((g.shape[1], 0), complex), math.inf
        gram = g @ g.conj().T
        eye = np.eye(k)
        warm = self._last_q is not None and self._last_q.size == k
        q = self._last_q * (power_w / self._last_q.sum()) if warm else np.full(k, power_w / k)
        for _ in range(self.max_iterations):
            s = np.maximum(np.real(np.diag(np.linalg.solve(eye + gram * q, gram))), 1e-300)
            interference = np.maximum(1.0 / s - q, 1e-300)
            uplink = q / interference
            if uplink.max() - uplink.min() <= self.tolerance * uplink.min():
                break
            q = power_w * interference / interference.sum()
        self._last_q = q
        gamma = power_w / interference.sum()
        u = g.conj().T @ np.linalg.inv(eye + q[:, None] * gram)  # Sigma^-1 H
        u = u / np.maximum(np.linalg.norm(u, axis=0), 1e-300)
        gains = np.abs(g @ u) ** 2  # (K, K): |g_k u_j|^2
        own = np.diag(gains).copy()
        p = np.linalg.solve(np.diag(own) - gamma * (gains - np.diag(own)), np.full(k, gamma))
        p = np.maximum(p, 0.0)
        return u * np.sqrt(p * (power_w / p.sum())), float(gamma)


def wmmse(
    g: NDArray, power_w: float, iterations: int = 50, tolerance: float = 1e-6
) -> NDArray[np.complex128]:
    """Weighted-MMSE sum-rate precoder (Shi, Razaviyayn, Luo, Hua, IEEE TSP 2011), MISO,
    equal weights, total power P: alternate the MMSE receivers u_k, the weights
    w_k = 1 / MSE_k and v_k = w_k (sum_j w_j |u_j|^2 h_j h_j^H + mu I)^-1 h_k u_k^* with mu
    the smallest value that meets the budget, from MRT with equal power. Stops when the sum
    rate gains less than ``tolerance`` [bit/s/Hz] in an iteration. (A warm start from the
    last slot's V was measured and dropped: on moving line-of-sight users it took as many
    iterations and ended lower, docs/realtime.md.)"""
    basis = channel_span(g)
    g = g @ basis  # the same problem in the span of the channels (V stays in it)
    h = g.conj().T  # (M, K): h_k
    v = equal_power(mrt(g), power_w)
    previous = -np.inf
    for _ in range(iterations):
        received = g @ v  # (K, K)
        total = np.sum(np.abs(received) ** 2, axis=1) + 1.0
        u = np.diag(received).conj() / total  # MMSE receivers
        mse = 1.0 - np.real(u * np.diag(received))
        weight = 1.0 / np.maximum(mse, 1e-12)
        a = (h * (weight * np.abs(u) ** 2)) @ h.conj().T  # sum_j w_j |u_j|^2 h_j h_j^H
        b = h * (weight * u.conj())  # columns w_k u_k^* h_k
        v = regularised_solve(a, b, power_w)
        rate = sum_rate(g, v)
        if rate - previous < tolerance:
            break
        previous = rate
    return basis @ v


def channel_span(g: NDArray, *extra: NDArray) -> NDArray[np.complex128]:
    """An orthonormal basis (N, M) of the span of the channels h_k = g_k^H and of ``extra``
    vectors, M <= N. MRT, WMMSE's updates and FP's gradient steps never leave that span, so
    the precoders iterate on M x M instead of N x N matrices (K = 20, N = 64: 3x faster)
    and map back with W = basis X."""
    columns = np.column_stack([g.conj().T, *extra]) if extra else g.conj().T
    if columns.shape[1] >= columns.shape[0]:
        return np.eye(columns.shape[0], dtype=complex)
    return np.linalg.qr(columns)[0]


def regularised_solve(a: NDArray, b: NDArray, power_w: float) -> NDArray[np.complex128]:
    """V = (A + mu I)^-1 B with the smallest mu >= 0 such that ||V||_F^2 <= P, on the
    eigenvalues of the Hermitian A (:func:`_budget_multiplier`)."""
    lam, q = np.linalg.eigh(a)
    energy = np.sum(np.abs(q.conj().T @ b) ** 2, axis=1)  # (N,): B along each eigenvector
    mu = _budget_multiplier(lam, energy, power_w)
    return q @ ((q.conj().T @ b) / (lam[:, None] + mu))


def _budget_multiplier(lam: NDArray, energy: NDArray, power_w: float) -> float:
    """The smallest mu >= 0 with sum_i e_i / (lambda_i + mu)^2 <= P (the squared norm of
    (A + mu I)^-1 B on A's eigenvalues lambda_i >= 0, e_i the energy of B along each): 0 when
    A is regular and that already holds, else the root by Newton's method on
    1 / ||x(mu)|| - 1 / sqrt(P), which is concave and increasing in mu, so that the iterates
    rise monotonically to the root (More, Sorensen, SIAM J. Sci. Stat. Comput. 1983), then
    nudged up to the budget where rounding left them a hair short (bisected where a badly
    scaled A left them far short)."""
    floor = 1e-12 * max(float(lam.max()), 1e-300)
    regular = lam.min() > floor
    if regular and np.sum(energy / lam**2) <= power_w:
        return 0.0
    lam, energy = lam[energy > 0], energy[energy > 0]  # directions B does not reach
    mu = 0.0 if regular else floor  # (A singular: mu > 0 keeps (A + mu I) invertible)
    for _ in range(100):
        shifted = lam + mu
        norm2 = float(np.sum(energy / shifted**2))
        if norm2 <= power_w * (1 + 1e-12):
            break
        slope = float(np.sum(energy / shifted**3))  # -d(norm2)/dmu / 2
        mu += norm2 / slope * (np.sqrt(norm2 / power_w) - 1.0)
    for _ in range(64):  # rounding left mu a hair below the root: nudge it up
        if np.sum(energy / (lam + mu) ** 2) <= power_w:
            return mu
        mu = mu * (1 + 1e-12) + 1e-300
    # a badly scaled A (seed002's echo terms) left mu far below the root: bisect up to a mu
    # that meets the budget for certain (sum e_i / mu^2 <= P)
    low, high = mu, max(float(np.sqrt(energy.sum() / power_w)), mu)
    while high - low > 1e-12 * high:
        mid = 0.5 * (low + high)
        if np.sum(energy / (lam + mid) ** 2) > power_w:
            low = mid
        else:
            high = mid
    return high


@dataclass(frozen=True)
class FractionalProgram:
    """004's fractional programming with projected gradient (eq. (42)-(46)) for one RSU:
    with gamma_k = SINR_k (eq. (43)) and y_k = sqrt(1 + gamma_k) g_k w_k / (sum_m |g_k w_m|^2
    + 1) (eq. (46)) fixed, f_q of eq. (44) is concave in W; a few projected gradient steps
    with step 1 / L (L the largest eigenvalue of sum_k |y_k|^2 g_k^H g_k) onto ||W||_F^2 <= P
    increase it, so f_q never decreases (004 Lemma 2). The per-beam norm of 004 (39) is
    replaced by the RSU's total power budget, as for every other policy here."""

    iterations: int = 30
    gradient_steps: int = 10
    tolerance: float = 1e-7

    @staticmethod
    def objective(g: NDArray, w: NDArray, gamma: NDArray, y: NDArray) -> float:
        """f_q of 004 eq. (44) (one RSU, unit noise)."""
        received = g @ w
        total = np.sum(np.abs(received) ** 2, axis=1) + 1.0
        wanted = np.diag(received)
        return float(
            np.sum(
                np.log(1.0 + gamma)
                - gamma
                + 2.0 * np.sqrt(1.0 + gamma) * np.real(y.conj() * wanted)
                - np.abs(y) ** 2 * total
            )
        )

    def solve(
        self,
        g: NDArray,
        power_w: float,
        fisher: list[tuple[NDArray, float]] | None = None,
    ) -> tuple[NDArray[np.complex128], list[float]]:
        """(W, f_q after every block update) from MRT with equal power (a warm start from the
        last slot's W did not help, as for :func:`wmmse`). ``fisher``: per vehicle (A_k,
        Lambda_k), the PCRB constraint (37) of 004 as f_k^H A_k f_k >= Lambda_k (core.bounds.
        angle_fisher_matrix); each projected gradient step then also lifts f_k along the
        strongest direction of A_k until it holds, before the power projection (the budget
        wins where both cannot hold; with the constraint active f_q may decrease). The
        iterations run in :func:`channel_span` of the channels and those directions."""
        lifts = [np.linalg.eigh(a)[1][:, -1] for a, floor in fisher or () if floor > 0]
        basis = channel_span(g, *lifts)
        g = g @ basis
        if fisher is not None:
            fisher = [(basis.conj().T @ a @ basis, floor) for a, floor in fisher]
        w = equal_power(mrt(g), power_w)
        history: list[float] = []
        protected = np.array([floor > 0 for _, floor in fisher]) if fisher else None
        for _ in range(self.iterations):
            gamma = sinr_of(g, w)  # eq. (43)
            received = g @ w
            y = (
                np.sqrt(1.0 + gamma)
                * np.diag(received)
                / (np.sum(np.abs(received) ** 2, axis=1) + 1.0)
            )  # eq. (46)
            history.append(self.objective(g, w, gamma, y))
            curvature = (g.conj().T * np.abs(y) ** 2) @ g  # sum_k |y_k|^2 g_k^H g_k
            step = 1.0 / max(float(np.linalg.eigvalsh(curvature)[-1]), 1e-300)
            linear = g.conj().T * (np.sqrt(1.0 + gamma) * y)  # columns sqrt(1+gamma_k) y_k g_k^H
            for _ in range(self.gradient_steps):
                w = w + step * (linear - curvature @ w)
                if fisher is not None:
                    w = _lift_fisher(w, fisher)
                w = _project_power(w, power_w, protected)
            history.append(self.objective(g, w, gamma, y))
            if len(history) > 2 and history[-1] - history[-3] < self.tolerance * abs(history[-1]):
                break
        return basis @ w, history


def _project_power(w: NDArray, power_w: float, protected: NDArray | None) -> NDArray:
    """Onto ||W||_F^2 <= P: the unprotected beams give up power first, so that a beam lifted
    for its PCRB constraint keeps its Fisher information while the budget allows."""
    norm2 = np.sum(np.abs(w) ** 2, axis=0)
    if norm2.sum() <= power_w:
        return w
    if protected is not None and protected.any() and norm2[protected].sum() < power_w:
        others = norm2[~protected].sum()
        scale = np.where(protected, 1.0, np.sqrt((power_w - norm2[protected].sum()) / others))
        return w * scale
    return w * np.sqrt(power_w / norm2.sum())


def _lift_fisher(w: NDArray, fisher: list[tuple[NDArray, float]]) -> NDArray[np.complex128]:
    """Smallest step t >= 0 along the top eigenvector u of A_k (phase-aligned with f_k) with
    (f_k + t u)^H A_k (f_k + t u) >= Lambda_k, for every violated constraint."""
    w = w.copy()
    for k, (a, floor) in enumerate(fisher):
        f = w[:, k]
        info = float(np.real(f.conj() @ a @ f))
        if floor <= 0 or info >= floor:
            continue
        lam, vec = np.linalg.eigh(a)
        u = vec[:, -1]
        overlap = u.conj() @ f
        u = u * (np.exp(1j * np.angle(overlap)) if abs(overlap) > 0 else 1.0)
        half_b = float(np.real(u.conj() @ a @ f))
        t = (-half_b + np.sqrt(half_b**2 + lam[-1] * (floor - info))) / lam[-1]
        w[:, k] = f + t * u
    return w
