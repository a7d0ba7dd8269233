"""CRLB and PCRB against independent computations: finite-difference and Monte-Carlo
Fisher information of the echo model, and the Kalman covariance recursion."""

import numpy as np
import pytest

from rsu_isac.core.array import steering_vector
from rsu_isac.core.bounds import crlb_angle_rad2, crlb_range_m2, pcrb_update
from rsu_isac.core.radar import echo_complex_gain, matched_filter_echo, reflection_coefficient
from rsu_isac.core.units import SPEED_OF_LIGHT_MPS

NT, NR, NOISE = 32, 32, 1e-8


def setting(seed: int, k: int = 6):
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0.3, 2.8, k)
    gain = echo_complex_gain(
        NT,
        NR,
        rng.uniform(0.1, 5, k),
        reflection_coefficient(10 + 10j, rng.uniform(5, 50, k)),
        10.0,
    )
    # beams slightly off the vehicles, as predicted beams are
    weights = steering_vector(theta + rng.normal(0, 0.01, k), NT)
    return theta, gain, weights


def finite_difference_fisher(theta, gain, weights, h=1e-6):
    """J = 2/sigma^2 ||d mu / d theta||^2 with the derivative of the signal model taken
    numerically (central differences)."""
    d_mu = (
        matched_filter_echo(theta + h, gain, weights, NR)
        - matched_filter_echo(theta - h, gain, weights, NR)
    ) / (2 * h)
    return 2.0 / NOISE * np.sum(np.abs(d_mu) ** 2, axis=-1)


@pytest.mark.parametrize("seed", range(4))
def test_angle_crlb_is_inverse_finite_difference_fisher(seed):
    theta, gain, weights = setting(seed)
    expected = 1.0 / finite_difference_fisher(theta, gain, weights)
    np.testing.assert_allclose(
        crlb_angle_rad2(theta, gain, weights, NR, NOISE), expected, rtol=1e-6
    )


def test_fisher_information_matches_monte_carlo_score_variance():
    """E[(d/dtheta ln p(y; theta))^2] by simulation, for CN(0, sigma^2 I) noise: checks the
    factor 2 of the complex-Gaussian Fisher information independently of any formula."""
    rng = np.random.default_rng(11)
    theta, gain, weights = setting(3, k=1)
    mean = matched_filter_echo(theta, gain, weights, NR)[0]
    samples = 20000
    noise = np.sqrt(NOISE / 2) * (
        rng.standard_normal((samples, NR)) + 1j * rng.standard_normal((samples, NR))
    )
    y = mean + noise
    h = 1e-6

    def log_likelihood(t):
        mu = matched_filter_echo(np.array([t]), gain, weights, NR)[0]
        return -np.sum(np.abs(y - mu) ** 2, axis=-1) / NOISE

    score = (log_likelihood(theta[0] + h) - log_likelihood(theta[0] - h)) / (2 * h)
    fisher = 1.0 / crlb_angle_rad2(theta, gain, weights, NR, NOISE)[0]
    assert np.mean(score**2) == pytest.approx(fisher, rel=0.04)


def test_angle_crlb_scales_inversely_with_power():
    theta, gain, weights = setting(7)
    base = crlb_angle_rad2(theta, gain, weights, NR, NOISE)
    np.testing.assert_allclose(crlb_angle_rad2(theta, 2 * gain, weights, NR, NOISE), base / 4)


def test_range_crlb_equation_16():
    var_tau = 3e-19
    assert crlb_range_m2(var_tau) == pytest.approx(
        1.0 / ((1 / var_tau) * (2 / SPEED_OF_LIGHT_MPS) ** 2)
    )


def kalman_covariance(p_prev, f, q, h, r):
    """Textbook Kalman predict + Joseph-form update of the covariance."""
    p_pred = f @ p_prev @ f.T + q
    k = p_pred @ h.T @ np.linalg.inv(h @ p_pred @ h.T + r)
    i_kh = np.eye(len(p_prev)) - k @ h
    return i_kh @ p_pred @ i_kh.T + k @ r @ k.T


def test_pcrb_matches_kalman_covariance_recursion():
    rng = np.random.default_rng(9)
    m = np.diag([1e-4, 1.0, 0.5])
    e = np.diag([(0.02 * np.pi / 180) ** 2, 0.2**2, 0.5**2])
    expected = m.copy()
    for _ in range(30):
        g = np.eye(3) + 0.05 * rng.standard_normal((3, 3))
        h = np.eye(3) + 0.1 * rng.standard_normal((3, 3))
        a = rng.standard_normal((3, 3))
        q = a @ a.T * 1e-3 + np.diag([1e-6, 1e-2, 1e-2])
        m = pcrb_update(m, g, e, h, q)
        expected = kalman_covariance(expected, g, e, h, q)
        np.testing.assert_allclose(m, expected, rtol=1e-8, atol=1e-14)


def test_pcrb_scalar_closed_form_and_batching():
    prev = np.array([[[2.0]], [[0.5]]])
    out = pcrb_update(
        prev, np.array([[1.5]]), np.array([[0.1]]), np.array([[1.0]]), np.array([[0.4]])
    )
    expected = [1 / (1 / 0.4 + 1 / (1.5**2 * p + 0.1)) for p in (2.0, 0.5)]
    np.testing.assert_allclose(out[:, 0, 0], expected)


def test_angle_fisher_floor_is_the_appendix_determinant_form():
    """004 eq. (56)-(58) written out entry by entry (omega of Omega = Omega_0 + J e1 e1^T
    with m^hat_11 = omega_0(1,1), c = 1) against 1 / m_prev - 1 / [Omega_0^-1]_11. The
    omega_13 term enters with a minus sign: the cofactor expansion of (55) has it so; (56)
    and (58) as printed carry a plus."""
    from rsu_isac.core.bounds import angle_fisher_floor

    rng = np.random.default_rng(4)
    for _ in range(20):
        a = rng.normal(size=(3, 3))
        w = a @ a.T + 0.5 * np.eye(3)  # Omega_0: information without the echo's angle
        m_prev = 0.5 * np.linalg.inv(w)[0, 0]  # the bound must shrink: a floor is needed
        (w11, w12, w13), (w21, w22, w23), (w31, w32, w33) = w
        minor = w22 * w33 - w23 * w32
        # (56): omega_11 must reach this; (58) with omega_11 = J + m^hat_11
        needed = (w12 * (w21 * w33 - w23 * w31) - w13 * (w21 * w32 - w22 * w31)) / minor
        needed = needed + 1.0 / m_prev
        paper = needed - w11
        got = angle_fisher_floor(m_prev, np.linalg.inv(w)[0, 0])
        assert got == pytest.approx(paper, rel=1e-9)
        # and with exactly that information the angle bound lands on m_prev
        w_new = w.copy()
        w_new[0, 0] += got
        assert np.linalg.inv(w_new)[0, 0] == pytest.approx(m_prev, rel=1e-9)
    assert angle_fisher_floor(1.0, 0.5) == 0.0  # the bound holds without the angle
    assert angle_fisher_floor(0.0, 1.0) == 0.0  # no bound yet


def test_the_covariance_crlb_of_001_is_the_inverse_of_the_finite_difference_fim():
    """001 eq. (6)-(7): the echo c b(theta) a^H(theta) X of L snapshots X with R = X X^H and
    unknown complex c; the CRB of theta is [J^-1]_{theta theta} of the real FIM over
    (theta, Re c, Im c) from central differences of the mean (Kay eq. (15.52))."""
    from rsu_isac.core.bounds import crlb_angle_covariance_rad2

    rng = np.random.default_rng(3)
    nt, nr, snapshots, noise = 8, 4, 6, 0.5
    x = rng.standard_normal((nt, snapshots)) + 1j * rng.standard_normal((nt, snapshots))
    for theta, c in ((1.1, 0.7 - 0.3j), (0.4, 2.0 + 0.1j), (2.5, -0.2j)):

        def mean(p):
            a = np.outer(steering_vector(p[0], nr), steering_vector(p[0], nt).conj())
            return ((p[1] + 1j * p[2]) * a @ x).ravel()

        point, h = np.array([theta, c.real, c.imag]), 1e-6
        d = np.array([(mean(point + h * e) - mean(point - h * e)) / (2 * h) for e in np.eye(3)])
        fisher = 2 / noise * np.real(d.conj() @ d.T)
        expected = np.linalg.inv(fisher)[0, 0]
        found = crlb_angle_covariance_rad2([theta], [c], x @ x.conj().T, nr, noise)
        assert found[0] == pytest.approx(expected, rel=1e-6)
