"""Precoders against independent computations: the max-min SOCP against a real-valued
power-minimisation formulation, FP monotonicity (004 Lemma 2), zero forcing, water-filling
KKT conditions, the DFT codebook by brute force."""

import cvxpy as cp
import numpy as np
import pytest

from rsu_isac.beamforming.policies import static_codebook
from rsu_isac.beamforming.precoders import (
    FractionalProgram,
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
