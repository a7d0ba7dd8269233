"""Radar measurement model against hand computations and a per-vehicle loop of 000 eq. (7)."""

import numpy as np
import pytest

from rsu_isac.core.array import steering_vector
from rsu_isac.core.radar import (
    doppler_shift_hz,
    echo_complex_gain,
    echo_sinr,
    matched_filter_echo,
    radial_velocity_from_doppler_mps,
    radial_velocity_variance_m2ps2,
    range_from_delay_m,
    range_variance_m2,
    reflection_coefficient,
    round_trip_delay_s,
    variance_from_sinr,
)
from rsu_isac.core.units import SPEED_OF_LIGHT_MPS

C = SPEED_OF_LIGHT_MPS


def test_delay_and_doppler_values_and_inverses():
    assert round_trip_delay_s(15.0) == pytest.approx(30.0 / C)
    assert doppler_shift_hz(12.0, 30e9) == pytest.approx(2 * 12 * 30e9 / C)  # ~2.4 kHz
    d = np.linspace(1, 300, 7)
    np.testing.assert_allclose(range_from_delay_m(round_trip_delay_s(d)), d)
    v = np.linspace(-40, 40, 9)
    np.testing.assert_allclose(radial_velocity_from_doppler_mps(doppler_shift_hz(v, 28e9), 28e9), v)


def test_variance_conversions():
    assert range_variance_m2(1e-18) == pytest.approx((C / 2) ** 2 * 1e-18)
    assert radial_velocity_variance_m2ps2(4.0, 30e9) == pytest.approx((C / 60e9) ** 2 * 4.0)
    np.testing.assert_allclose(variance_from_sinr(1e-9, [1.0, 100.0]), [1e-18, 1e-20])


def test_reflection_coefficient():
    assert reflection_coefficient(10 + 10j, 5.0) == pytest.approx(1 + 1j)


def test_echo_sinr_matches_equation_7_loop():
    rng = np.random.default_rng(5)
    k, nt, nr, noise = 4, 32, 16, 1e-11
    theta = rng.uniform(0.3, 2.8, k)
    beta = reflection_coefficient(10 + 10j, rng.uniform(5, 40, k))
    w = steering_vector(theta + rng.normal(0, 0.02, k), nt).T
    p = rng.uniform(0.5, 3.0, k)
    e2 = nt * nr
    expected = []
    for i in range(k):
        a_k = steering_vector(theta[i], nt)
        signal = e2 * p[i] * abs(beta[i]) ** 2 * abs(np.vdot(a_k, w[:, i])) ** 2
        interference = sum(
            e2 * p[j] * abs(beta[j]) ** 2 * abs(np.vdot(a_k, w[:, j])) ** 2
            for j in range(k)
            if j != i
        )
        expected.append(signal / (interference + noise))
    np.testing.assert_allclose(echo_sinr(theta, beta, w, p, nr, noise), expected, rtol=1e-12)


def test_matched_filter_echo_peak_power():
    theta, nt, nr = 1.3, 32, 32
    gain = echo_complex_gain(nt, nr, 2.0, reflection_coefficient(10 + 10j, 10.0), 10.0)
    assert abs(gain) == pytest.approx(np.sqrt(nt * nr) * np.sqrt(2.0) * abs(1 + 1j) / 2 * 10)
    echo = matched_filter_echo(theta, gain, steering_vector(theta, nt), nr)
    # pointed beam: |a^H a| = 1 and ||b|| = 1, so the echo energy is |c|^2
    assert np.sum(np.abs(echo) ** 2) == pytest.approx(abs(gain) ** 2)


def test_reference_echo_snr_is_the_closed_form_abeam():
    """Abeam with the whole power on one beam at the vehicle, |a^H f|^2 = 1 and eq. (7)
    reduces to N_t N_r P |kappa / (2 d)|^2 / sigma^2."""
    from rsu_isac.core.radar import reference_echo_snr
    from rsu_isac.core.scenario import load_named_scenario
    from rsu_isac.platform.paths import scenarios_dir

    sc = load_named_scenario("seed003", scenarios_dir())
    d = min(abs(lane.y_m - sc.rsus[0].position_m[1]) for lane in sc.road.lanes)
    a = sc.radio.array
    expected = (
        a.num_tx_antennas * a.num_rx_antennas * sc.radio.max_power_w
        * abs(sc.radar.kappa / (2 * d)) ** 2 / 1e-3
    )  # fmt: skip
    assert reference_echo_snr(sc, 1e-3) == pytest.approx(expected, rel=1e-9)


def test_with_rf_snr_sets_the_noise_of_the_closed_form_and_refuses_nonsense():
    from rsu_isac.core.radar import with_rf_snr
    from rsu_isac.core.scenario import load_named_scenario
    from rsu_isac.platform.paths import scenarios_dir

    sc = load_named_scenario("seed003", scenarios_dir())
    d = min(abs(lane.y_m - sc.rsus[0].position_m[1]) for lane in sc.road.lanes)
    a = sc.radio.array
    signal_w = (
        a.num_tx_antennas
        * a.num_rx_antennas
        * sc.radio.max_power_w
        * abs(sc.radar.kappa / (2 * d)) ** 2
    )
    noise_w = with_rf_snr(sc, 10.0).radio.sensing_noise_w
    assert 10 * np.log10(signal_w / noise_w) == pytest.approx(10.0, abs=1e-9)
    for bad in (float("nan"), float("inf"), 200.0):
        with pytest.raises(ValueError, match=r"RF SNR .* dB is out of range"):
            with_rf_snr(sc, bad)
