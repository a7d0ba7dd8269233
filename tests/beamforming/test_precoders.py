"""Precoders against independent computations: the max-min SOCP against a real-valued
power-minimisation formulation, FP monotonicity (004 Lemma 2), zero forcing, water-filling
KKT conditions, the DFT codebook by brute force."""

import cvxpy as cp
import numpy as np
import pytest

from rsu_isac.beamforming.policies import static_codebook
from rsu_isac.beamforming.precoders import (
    FractionalProgram,
    MaxMinSinr,
    MaxMinSocp,
    equal_power,
    mrt,
    sinr_of,
    sum_rate,
    water_filling,
    wmmse,
    zero_forcing,
)
from rsu_isac.core.array import steering_vector


def random_channel(rng, k, n, scale=3.0):
    return scale * (rng.normal(size=(k, n)) + 1j * rng.normal(size=(k, n))) / np.sqrt(2)


def minimum_power(g: np.ndarray, target: float) -> float:
    """min sum ||w_k||^2 s.t. SINR_k >= target, written in real arithmetic (Bengtsson and
    Ottersten's downlink power minimisation): w_k = x_k + j y_k, g = a + j b. Returns inf
    when infeasible."""
    k, n = g.shape
    a, b = g.real, g.imag
    x, y = cp.Variable((n, k)), cp.Variable((n, k))
    re = a @ x - b @ y  # Re(g_i w_j)
    im = a @ y + b @ x  # Im(g_i w_j)
    constraints = []
    for i in range(k):
        others = [j for j in range(k) if j != i]
        constraints += [
            im[i, i] == 0,
            np.sqrt(target) * cp.norm(cp.hstack([re[i, others], im[i, others], np.ones(1)]))
            <= re[i, i],
        ]
    problem = cp.Problem(cp.Minimize(cp.sum_squares(x) + cp.sum_squares(y)), constraints)
    try:
        problem.solve(solver=cp.CLARABEL)
    except cp.SolverError:
        return np.inf
    return problem.value if problem.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) else np.inf


def test_maxmin_socp_matches_an_independent_power_minimisation():
    """On 50 random instances the bisection's t* is within 1 % of the optimum: the
    independent formulation needs at most P for 0.99 t* and more than P for 1.01 t*."""
    rng = np.random.default_rng(0)
    solver = MaxMinSocp(3, 6)
    for _ in range(50):
        g = random_channel(rng, 3, 6)
        power = rng.uniform(0.5, 2.0)
        w, t = solver.solve(g, power)
        assert np.sum(np.abs(w) ** 2) <= power * (1 + 1e-4)
        assert np.min(sinr_of(g, w)) >= t * (1 - 1e-3)
        assert minimum_power(g, 0.99 * t) <= power * (1 + 1e-6)
        assert minimum_power(g, 1.01 * t) > power


@pytest.mark.parametrize(("k", "n"), [(1, 4), (3, 6), (4, 4), (6, 4), (8, 16)])
def test_maxmin_duality_reaches_the_cvxpy_optimum(k, n):
    """The duality fixed point is balanced, spends exactly the budget and its common SINR is
    within 1e-3 of the cvxpy bisection's (which stops at 1e-3 relative width, so it may only
    lie below), also with more vehicles than antennas; a warm start changes nothing."""
    rng = np.random.default_rng(10 + k)
    solver, reference = MaxMinSinr(), MaxMinSocp(k, n)
    for _ in range(4):
        g = random_channel(rng, k, n, scale=rng.uniform(0.3, 5.0))
        power = rng.uniform(0.5, 2.0)
        w, t = solver.solve(g, power)
        sinr = sinr_of(g, w)
        assert np.sum(np.abs(w) ** 2) == pytest.approx(power, rel=1e-9)
        np.testing.assert_allclose(sinr, t, rtol=1e-6)
        _, t_ref = reference.solve(g, power)
        assert t_ref * (1 - 1e-6) <= t <= t_ref * (1 + 1e-3) / (1 - 1e-3)
        _, t_cold = MaxMinSinr().solve(g, power)
        assert t == pytest.approx(t_cold, rel=1e-6)


def test_maxmin_duality_single_vehicle_is_mrt_at_full_power():
    g = random_channel(np.random.default_rng(3), 1, 8)
    w, t = MaxMinSinr().solve(g, 2.0)
    assert t == pytest.approx(2.0 * np.sum(np.abs(g) ** 2))
    np.testing.assert_allclose(np.abs(g @ w) ** 2, 2.0 * np.sum(np.abs(g) ** 2))


def test_fractional_program_never_decreases_and_beats_mrt():
    rng = np.random.default_rng(1)
    for _ in range(20):
        g = random_channel(rng, 5, 8)
        w, history = FractionalProgram().solve(g, 1.0)
        steps = np.diff(history)
        assert np.all(steps >= -1e-9 * np.abs(history[1:])), "f_q decreased (004 Lemma 2)"
        assert sum_rate(g, w) >= sum_rate(g, equal_power(mrt(g), 1.0)) - 1e-9
        assert np.sum(np.abs(w) ** 2) <= 1.0 + 1e-9


def test_fp_objective_is_the_sum_rate_at_the_optimal_auxiliaries():
    rng = np.random.default_rng(2)
    g = random_channel(rng, 4, 8)
    w = equal_power(mrt(g), 1.0)
    gamma = sinr_of(g, w)
    received = g @ w
    y = np.sqrt(1 + gamma) * np.diag(received) / (np.sum(np.abs(received) ** 2, 1) + 1)
    value = FractionalProgram.objective(g, w, gamma, y)
    assert value == pytest.approx(np.sum(np.log1p(gamma)), rel=1e-9)


def test_wmmse_improves_on_mrt_and_zf():
    rng = np.random.default_rng(3)
    for _ in range(10):
        g = random_channel(rng, 4, 8, scale=2.0)
        w = wmmse(g, 1.0)
        assert np.sum(np.abs(w) ** 2) <= 1.0 + 1e-6
        best_linear = max(
            sum_rate(g, equal_power(mrt(g), 1.0)), sum_rate(g, equal_power(zero_forcing(g), 1.0))
        )
        assert sum_rate(g, w) >= 0.99 * best_linear


def test_zero_forcing_nulls_interference_and_water_filling_kkt():
    rng = np.random.default_rng(4)
    g = random_channel(rng, 4, 8)
    d = zero_forcing(g)
    cross = np.abs(g @ d) ** 2
    assert np.allclose(cross - np.diag(np.diag(cross)), 0.0, atol=1e-20 + 1e-12 * cross.max())
    np.testing.assert_allclose(np.linalg.norm(d, axis=0), 1.0)
    w = water_filling(g, d, 2.0)
    p = np.linalg.norm(w, axis=0) ** 2
    assert p.sum() == pytest.approx(2.0)
    a = np.diag(cross)
    level = p + 1.0 / a
    active = p > 1e-12
    np.testing.assert_allclose(level[active], level[active][0])  # p_k + 1/a_k = mu
    assert np.all(1.0 / a[~active] >= level[active][0] - 1e-12)


def test_static_codebook_picks_the_strongest_dft_beam():
    rng = np.random.default_rng(5)
    n = 16
    g = random_channel(rng, 3, n)
    w = static_codebook(g, 3.0)
    for k in range(3):
        best = max(
            np.abs(g[k] @ steering_vector(np.arccos(-1 + (2 * i + 1) / n), n)) for i in range(n)
        )
        assert np.abs(g[k] @ w[:, k]) == pytest.approx(best * 1.0)
    np.testing.assert_allclose(np.linalg.norm(w, axis=0) ** 2, 1.0)


def test_sensing_sdp_beats_random_feasible_covariances_and_keeps_the_users():
    """002's follower: every random sensing covariance that respects the users' SINR and the
    power budget has a lower SCNR than the SDP's (an independent search over the feasible
    set), and the SDP's covariance itself respects them."""
    from rsu_isac.beamforming.sensing import scnr, sensing_covariance

    rng = np.random.default_rng(6)
    n, k, p_s = 12, 2, 0.3
    g = random_channel(rng, k, n)
    w, t = MaxMinSocp(k, n).solve(g, 0.7)
    gamma = np.full(k, 0.9 * t)
    target, clutter, cgain = 1.3, np.array([0.7, 2.2]), np.array([50.0, 80.0])
    r_s = sensing_covariance(g, w, gamma, target, clutter, cgain, p_s)
    assert r_s is not None and np.trace(r_s).real <= p_s * (1 + 1e-3)

    def user_sinr(r):
        received = np.abs(g @ w) ** 2
        signal = np.diag(received)
        extra = np.real(np.einsum("kn,nm,km->k", g, r, g.conj()))
        return signal / (received.sum(1) - signal + extra + 1)

    assert np.all(user_sinr(r_s) >= gamma * (1 - 1e-3))
    best = scnr(w @ w.conj().T + r_s, target, clutter, cgain)
    for _ in range(200):
        a = rng.normal(size=(n, 2)) + 1j * rng.normal(size=(n, 2))
        r = a @ a.conj().T
        r *= p_s / np.trace(r).real
        while np.any(user_sinr(r) < gamma):  # shrink into the feasible set
            r *= 0.8
        assert scnr(w @ w.conj().T + r, target, clutter, cgain) <= best * (1 + 1e-3)


def sensing_sdp_reference(g, w, gamma, target, clutter, cgain, p_s) -> float:
    """The follower's optimum SCNR by cvxpy (Clarabel): the Charnes-Cooper SDP over the
    sensing covariance, written independently of beamforming.sensing."""
    from rsu_isac.core.array import steering_vector

    n = g.shape[1]
    received = np.abs(g @ w) ** 2
    signal = np.diag(received)
    slack = signal / gamma - (received.sum(axis=1) - signal) - 1.0
    a_t = steering_vector(target, n)
    a_c = steering_vector(clutter, n).reshape(-1, n)
    r_c = w @ w.conj().T
    x = cp.Variable((n, n), hermitian=True)
    s = cp.Variable(nonneg=True)
    leak = sum(
        c * (cp.real(cp.quad_form(a, x)) + s * float(np.real(a.conj() @ r_c @ a)))
        for a, c in zip(a_c, cgain, strict=True)
    )
    constraints = [x >> 0, leak + s == 1, cp.real(cp.trace(x)) <= s * p_s]
    constraints += [cp.real(cp.quad_form(g[i].conj(), x)) <= s * slack[i] for i in range(len(g))]
    objective = cp.real(cp.quad_form(a_t, x)) + s * float(np.real(a_t.conj() @ r_c @ a_t))
    problem = cp.Problem(cp.Maximize(objective), constraints)
    problem.solve(solver=cp.CLARABEL)
    return problem.value


@pytest.mark.parametrize(
    ("n", "k", "scale", "margin"),
    [(8, 2, 3.0, 0.9), (12, 3, 10.0, 0.95), (16, 5, 1.0, 0.95), (10, 2, 3.0, 0.1)],
)
def test_follower_barrier_reaches_the_cvxpy_sdp_optimum(n, k, scale, margin):
    """The barrier method's rank-one covariance is feasible (users keep gamma, trace within
    P_s) and its SCNR equals the cvxpy SDP's optimum within 1e-5 (margin 0.1: no user
    constraint binds, the generalised eigenvector is exact)."""
    from rsu_isac.beamforming.sensing import scnr, sensing_covariance

    rng = np.random.default_rng(n + k)
    g = random_channel(rng, k, n, scale)
    w, t = MaxMinSinr().solve(g, 0.7)
    gamma = np.full(k, margin * t)
    target, clutter, cgain = 1.3, np.array([0.7, 1.9, 2.2]), np.array([50.0, 3e3, 80.0])
    r_s = sensing_covariance(g, w, gamma, target, clutter, cgain, 0.3)
    assert np.trace(r_s).real <= 0.3 * (1 + 1e-9)
    assert np.linalg.matrix_rank(r_s, tol=1e-9 * np.abs(r_s).max()) == 1
    received = np.abs(g @ w) ** 2
    signal = np.diag(received)
    extra = np.real(np.einsum("kn,nm,km->k", g, r_s, g.conj()))
    assert np.all(signal / (received.sum(1) - signal + extra + 1) >= gamma * (1 - 1e-9))
    ours = scnr(w @ w.conj().T + r_s, target, clutter, cgain)
    reference = sensing_sdp_reference(g, w, gamma, target, clutter, cgain, 0.3)
    assert ours == pytest.approx(reference, rel=1e-5)


def test_constant_modulus_projection_and_crb_power():
    from rsu_isac.beamforming.context import RadioContext
    from rsu_isac.beamforming.policies import constant_modulus, crb_balanced
    from rsu_isac.core.bounds import crlb_angle_rad2
    from rsu_isac.core.radar import echo_complex_gain, reflection_coefficient
    from rsu_isac.core.scenario import load_named_scenario
    from rsu_isac.platform.paths import scenarios_dir

    rng = np.random.default_rng(7)
    w = rng.normal(size=(8, 3)) + 1j * rng.normal(size=(8, 3))
    v = constant_modulus(w)
    np.testing.assert_allclose(np.abs(v), np.tile(np.linalg.norm(w, axis=0) / np.sqrt(8), (8, 1)))
    np.testing.assert_allclose(np.angle(v), np.angle(w))
    sc = load_named_scenario("seed000", scenarios_dir())
    ctx = RadioContext(sc)
    theta, rng_m = np.array([1.0, 1.6, 2.1]), np.array([12.0, 10.0, 20.0])
    d = steering_vector(theta, 32).T
    out = crb_balanced(ctx, 0, theta, rng_m, d, 5.0)
    p = np.linalg.norm(out, axis=0) ** 2
    assert p.sum() == pytest.approx(5.0)
    gain = echo_complex_gain(32, 32, p, reflection_coefficient(sc.radar.kappa, rng_m), 10.0)
    crlb = crlb_angle_rad2(theta, gain, d.T, 32, sc.radio.sensing_noise_w)
    np.testing.assert_allclose(crlb, crlb[0], rtol=1e-9)  # every vehicle's bound equal


def test_fp_pcrb_constraint_holds_within_the_budget():
    """004's constraint (37) as f_k^H A_k f_k >= Lambda_k with A_k the angle Fisher matrix
    of core.bounds: its quadratic form equals 1 / CRLB of the closed form, and a binding
    floor is met while the power budget holds."""
    from rsu_isac.core.bounds import angle_fisher_matrix, crlb_angle_rad2

    rng = np.random.default_rng(8)
    k, n, power = 3, 8, 1.0
    g = random_channel(rng, k, n)
    theta = rng.uniform(0.5, 2.6, k)
    a = [angle_fisher_matrix(t, 2.0 + 1.0j, n, n, 1.0) for t in theta]
    f = rng.normal(size=n) + 1j * rng.normal(size=n)
    crlb = crlb_angle_rad2(
        theta[:1],
        np.array([(2.0 + 1.0j) * np.linalg.norm(f)]),
        (f / np.linalg.norm(f))[None],
        n,
        1.0,
    )[0]
    assert np.real(f.conj() @ a[0] @ f) == pytest.approx(1.0 / crlb, rel=1e-9)
    free, _ = FractionalProgram().solve(g, power)
    floor = 0.5 * power * np.linalg.eigvalsh(a[0]).max()
    assert np.real(free[:, 0].conj() @ a[0] @ free[:, 0]) < floor  # binding here
    w, _ = FractionalProgram().solve(g, power, [(a[0], floor), (a[1], 0.0), (a[2], 0.0)])
    assert np.sum(np.abs(w) ** 2) <= power * (1 + 1e-9)
    assert np.real(w[:, 0].conj() @ a[0] @ w[:, 0]) >= floor * (1 - 1e-3)
    assert sum_rate(g, w) > 0.3 * sum_rate(g, free)  # the users are still served
