"""001's spectrum and interference model (core.interference) against core.channel's
single-band SINR and against hand computations; the pilot estimate's error."""

import numpy as np
import pytest

from rsu_isac.core.channel import estimated_channel, rate_bps_hz, sinr
from rsu_isac.core.interference import (
    band_carriers_hz,
    band_gain_factors,
    band_link,
    band_masks,
    mask_bits,
    self_interference_w,
    sensing_disturbance_w,
)


def test_one_band_without_cli_is_the_single_band_sinr_exactly():
    rng = np.random.default_rng(0)
    gains = rng.exponential(1.0, (5, 4))
    powers = rng.uniform(0.1, 1.0, 4)
    serving = np.array([0, 1, 2, 3, -1])
    link = band_link(gains, powers, np.ones((4, 1), bool), 0.3, serving, np.ones(1))
    expected = sinr(gains, powers, 0.3, serving)
    np.testing.assert_array_equal(link.sinr[:, 0][serving >= 0], expected[serving >= 0])
    np.testing.assert_array_equal(
        link.rates_bps_hz, rate_bps_hz(np.where(serving >= 0, expected, 0))
    )
    assert not link.on[4].any()


def test_two_bands_by_hand():
    """Beam 0 on band 0 only, beam 1 on both bands: vehicle 0 (beam 0) sees beam 1's half
    power on band 0; vehicle 1 (beam 1) sees beam 0 on band 0 and nothing on band 1, plus
    CLI there."""
    gains = np.array([[2.0, 0.5], [0.25, 4.0]])
    powers = np.array([1.0, 2.0])
    masks = np.array([[True, False], [True, True]])
    factors = np.array([1.1, 0.9])
    cli = np.array([[0.0, 0.0], [0.0, 0.3]])
    noise = 0.4  # 0.2 per band
    link = band_link(gains, powers, masks, noise, np.array([0, 1]), factors, cli)
    s00 = 1.1 * 1.0 * 2.0 / (1.1 * 1.0 * 0.5 + 0.2)  # beam 1's half power: 1 W on band 0
    s10 = 1.1 * 1.0 * 4.0 / (1.1 * 1.0 * 0.25 + 0.2)
    s11 = 0.9 * 1.0 * 4.0 / (0.3 + 0.2)
    np.testing.assert_allclose(link.sinr, [[s00, 0.0], [s10, s11]], rtol=1e-12)
    np.testing.assert_allclose(
        link.rates_bps_hz,
        [np.log2(1 + s00) / 2, (np.log2(1 + s10) + np.log2(1 + s11)) / 2],
        rtol=1e-12,
    )
    np.testing.assert_allclose(link.mi_w, [[0.55, 0.0], [0.275, 0.0]], rtol=1e-12)
    np.testing.assert_allclose(link.per_vehicle(link.cli_w), [0.0, 0.15], rtol=1e-12)


def test_bands_masks_and_friis_factors():
    carriers = band_carriers_hz(28e9, 4, 25e6)
    np.testing.assert_allclose(carriers, 28e9 + np.array([-37.5, -12.5, 12.5, 37.5]) * 1e6)
    np.testing.assert_allclose(band_gain_factors(28e9, carriers), (28e9 / carriers) ** 2)
    masks = band_masks(np.array([0, 1, 0b1010]), 4)
    np.testing.assert_array_equal(masks, [[1, 1, 1, 1], [1, 0, 0, 0], [0, 1, 0, 1]])
    np.testing.assert_array_equal(band_masks(mask_bits(masks[1:]), 4), masks[1:])


def test_self_interference():
    assert self_interference_w(2.0, 110.0) == pytest.approx(2e-11)
    assert sensing_disturbance_w(1e-12, 2.0, 110.0) == pytest.approx(2.1e-11)
    assert sensing_disturbance_w(1e-12, 2.0, None) == 1e-12


def test_pilot_estimate_error_has_the_stated_nmse():
    rng = np.random.default_rng(1)
    amplitude = np.array([1e-3, 2e-4])
    h = amplitude[:, None] * (rng.standard_normal((2, 64)) + 1j * rng.standard_normal((2, 64)))
    errors = []
    for _ in range(400):
        estimate = estimated_channel(rng, h, amplitude, -10.0)
        errors.append(np.mean(np.abs(estimate - h) ** 2, axis=1) / amplitude**2)
    np.testing.assert_allclose(np.mean(errors, axis=0), 0.1, rtol=0.03)
