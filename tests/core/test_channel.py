"""Channels, SINR and rates against brute-force loops and closed forms."""

import numpy as np
import pytest

from rsu_isac.core.array import steering_vector
from rsu_isac.core.channel import (
    beam_gains,
    energy_efficiency_bit_per_j,
    jain_fairness,
    los_channel,
    multipath_channel,
    pathloss_amplitude,
    rate_bps_hz,
    rayleigh_channel,
    sinr,
)


def brute_force_sinr(h, w, p, noise, serving, mask):
    """Per-user loop over beams, straight from 000 eq. (11)."""
    out = []
    for k in range(h.shape[0]):
        s = serving[k]
        if s < 0:
            out.append(0.0)
            continue
        signal = p[s] * abs(np.dot(h[k], w[:, s])) ** 2
        interference = 0.0
        for b in range(w.shape[1]):
            if b != s and mask[k][b]:
                interference += p[b] * abs(np.dot(h[k], w[:, b])) ** 2
        out.append(signal / (interference + noise))
    return np.array(out)


@pytest.mark.parametrize("seed", range(5))
def test_sinr_matches_brute_force_loop(seed):
    rng = np.random.default_rng(seed)
    k, b, n = 7, 9, 16
    h = rng.standard_normal((k, n)) + 1j * rng.standard_normal((k, n))
    w = rng.standard_normal((n, b)) + 1j * rng.standard_normal((n, b))
    w /= np.linalg.norm(w, axis=0)
    p = rng.uniform(0.1, 2.0, size=b)
    serving = rng.permutation(b)[:k]
    serving[3] = -1
    mask = rng.random((k, b)) < 0.7
    expected = brute_force_sinr(h, w, p, 0.3, serving, mask)
    got = sinr(beam_gains(h, w), p, 0.3, serving, mask)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    got_all = sinr(beam_gains(h, w), p, 0.3, serving)
    expected_all = brute_force_sinr(h, w, p, 0.3, serving, np.ones((k, b), dtype=bool))
    np.testing.assert_allclose(got_all, expected_all, rtol=1e-12)


@pytest.mark.parametrize("n", [8, 32, 64])
def test_single_user_mrt_snr(n):
    theta, alpha, power, noise = 1.2, 3e-4, 10.0, 1e-11
    h = los_channel(np.array([theta]), np.array([alpha]), n)
    w = steering_vector(theta, n)[:, np.newaxis]  # maximum-ratio transmission
    snr = sinr(beam_gains(h, w), [power], noise, [0])
    assert snr[0] == pytest.approx(n * power * alpha**2 / noise, rel=1e-12)


def test_rates_increase_with_power():
    rng = np.random.default_rng(3)
    h = los_channel(rng.uniform(0.3, 2.8, 4), rng.uniform(1e-4, 1e-3, 4), 32)
    w = steering_vector(rng.uniform(0.3, 2.8, 4), 32).T
    base = rng.uniform(0.2, 1.0, 4)
    sum_rates = [
        rate_bps_hz(sinr(beam_gains(h, w), t * base, 1e-9, np.arange(4))).sum()
        for t in np.logspace(-3, 3, 25)
    ]
    assert np.all(np.diff(sum_rates) > 0)
    own = []
    for p0 in np.linspace(0.1, 10, 20):
        p = base.copy()
        p[0] = p0
        own.append(rate_bps_hz(sinr(beam_gains(h, w), p, 1e-9, np.arange(4)))[0])
    assert np.all(np.diff(own) > 0)


def test_pathloss_closed_form():
    assert pathloss_amplitude(1.0, -60.0) == pytest.approx(1e-3)
    assert pathloss_amplitude(20.0, -60.0, 10.0, 3.0) == pytest.approx(1e-3 * 2**-1.5)
    # 004 eq. (9): power gain alpha~ d^-2 with alpha~ = -70 dB
    assert pathloss_amplitude(30.0, -70.0) ** 2 == pytest.approx(1e-7 / 900)


def test_multipath_with_one_path_is_line_of_sight():
    theta = np.array([[0.7], [2.1]])
    gains = np.array([[2e-4], [5e-4]])
    h = multipath_channel(gains, np.zeros((2, 1)), theta, 28e9, 64)
    np.testing.assert_allclose(h, los_channel(theta[:, 0], gains[:, 0], 64), atol=1e-15)


def test_multipath_sums_paths():
    theta = np.array([[0.7, 1.9]])
    gains = np.array([[1e-3, 3e-4j]])
    delays = np.array([[1e-7, 1.3e-7]])
    h = multipath_channel(gains, delays, theta, 28e9, 16)
    manual = np.sqrt(16) * sum(
        gains[0, i] * np.exp(-2j * np.pi * 28e9 * delays[0, i]) * steering_vector(theta[0, i], 16)
        for i in range(2)
    )
    np.testing.assert_allclose(h[0], manual.conj(), atol=1e-15)


def test_rayleigh_power_and_reproducibility():
    amp = np.array([1.0, 0.5])
    draws = rayleigh_channel(np.random.default_rng(7), np.tile(amp, (4000, 1)), 64)
    mean_power = np.mean(np.sum(np.abs(draws) ** 2, axis=-1), axis=0)
    np.testing.assert_allclose(mean_power, 64 * amp**2, rtol=0.02)
    again = rayleigh_channel(np.random.default_rng(7), np.tile(amp, (4000, 1)), 64)
    np.testing.assert_array_equal(draws, again)


def test_jain_fairness():
    assert jain_fairness([3.0, 3.0, 3.0]) == pytest.approx(1.0)
    assert jain_fairness([5.0, 0.0, 0.0, 0.0]) == pytest.approx(0.25)
    assert jain_fairness([1.0, 2.0]) == pytest.approx(9 / 10)
    assert jain_fairness([0.0, 0.0]) == 1.0
    rates = np.random.default_rng(4).uniform(0, 10, 12)
    assert 1 / 12 <= jain_fairness(rates) <= 1
    assert jain_fairness(3 * rates) == pytest.approx(jain_fairness(rates))


def test_energy_efficiency():
    # 10 bit/s/Hz over 100 MHz with 2 W radiated at 40 % PA efficiency plus 1 W: 1e9 / 6 bit/J
    ee = energy_efficiency_bit_per_j(10.0, 100e6, 2.0, 0.4, 1.0)
    assert ee == pytest.approx(1e9 / 6.0)
