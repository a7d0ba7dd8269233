"""002's Monte Carlo placements: reproducible, angles within 60 deg of broadside, the
channels' and reflections' gains as the config says."""

import numpy as np
import pytest

from rsu_isac.core.array import steering_vector
from rsu_isac.sim.placements import PlacementConfig, draw_placement


def test_placements_are_reproducible_and_scaled_as_configured():
    config = PlacementConfig(snr_db=5.0, users=4, user_distance_m=100.0)
    a = draw_placement(np.random.default_rng(3), config)
    b = draw_placement(np.random.default_rng(3), config)
    np.testing.assert_array_equal(a.g, b.g)
    assert a.scene.target_tx_rad == b.scene.target_tx_rad
    np.testing.assert_array_equal(a.scene.clutter_rx_rad, b.scene.clutter_rx_rad)
    angles = np.concatenate([a.user_rad, [a.scene.target_tx_rad, a.scene.target_rx_rad]])
    angles = np.concatenate([angles, a.scene.clutter_tx_rad, a.scene.clutter_rx_rad])
    assert np.all((angles >= np.deg2rad(30)) & (angles <= np.deg2rad(150)))
    # |g_k a(theta_k)|^2 = N (d0 / d)^2 / sigma^2: the array gain, path loss and noise
    sigma2 = 1.0 / 10**0.5
    gain = np.abs(np.sum(a.g * steering_vector(a.user_rad, 16), axis=1)) ** 2
    np.testing.assert_allclose(gain, 16 * 0.25 / sigma2, rtol=1e-12)
    assert a.scene.noise_w == pytest.approx(sigma2)
    assert a.scene.target_variance == pytest.approx(16 * 4)
    np.testing.assert_allclose(a.scene.clutter_variance, 16 * 4 * 10.0)
    assert len(a.scene.clutter_variance) == 6
