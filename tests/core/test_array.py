"""ULA steering vectors against closed forms and finite differences."""

import numpy as np
import pytest

from rsu_isac.core.array import (
    array_response,
    beam_pattern,
    steering_vector,
    steering_vector_derivative,
)


def dirichlet_magnitude(theta1: float, theta2: float, n: int) -> float:
    """|a^H(t1) a(t2)| for a half-wavelength ULA: |sin(N x / 2) / (N sin(x / 2))|,
    x = pi (cos t2 - cos t1) (geometric series, independent of the implementation)."""
    x = np.pi * (np.cos(theta2) - np.cos(theta1))
    if abs(np.sin(x / 2)) < 1e-15:
        return 1.0
    return abs(np.sin(n * x / 2) / (n * np.sin(x / 2)))


@pytest.mark.parametrize("n", [1, 2, 7, 32, 64, 256])
def test_unit_norm(n):
    theta = np.random.default_rng(0).uniform(0, np.pi, size=50)
    a = steering_vector(theta, n)
    assert a.shape == (50, n)
    np.testing.assert_allclose(np.linalg.norm(a, axis=-1), 1.0, rtol=1e-12)


def test_matches_paper_phase_convention():
    theta = 1.1
    n = np.arange(8)
    expected = np.exp(-1j * np.pi * n * np.cos(theta)) / np.sqrt(8)  # eq. (3) of 000
    np.testing.assert_allclose(steering_vector(theta, 8), expected, atol=1e-14)


def test_inner_product_is_dirichlet_kernel():
    rng = np.random.default_rng(1)
    for _ in range(50):
        t1, t2 = rng.uniform(0, np.pi, size=2)
        n = int(rng.integers(2, 128))
        inner = abs(np.vdot(steering_vector(t1, n), steering_vector(t2, n)))
        assert inner == pytest.approx(dirichlet_magnitude(t1, t2, n), abs=1e-10)


def test_asymptotically_orthogonal():
    pairs = [(0.6, 1.2), (1.5, 1.7), (2.0, 2.9), (0.3, 2.5)]
    for t1, t2 in pairs:
        sizes = [16, 64, 256, 1024, 4096]
        inner = [abs(np.vdot(steering_vector(t1, n), steering_vector(t2, n))) for n in sizes]
        bound = [1.0 / (n * abs(np.sin(np.pi * (np.cos(t2) - np.cos(t1)) / 2))) for n in sizes]
        assert all(i <= b + 1e-12 for i, b in zip(inner, bound, strict=True))
        assert inner[-1] < 1e-2


def test_derivative_matches_central_difference():
    rng = np.random.default_rng(2)
    theta = rng.uniform(0.1, np.pi - 0.1, size=20)
    h = 1e-6
    numeric = (steering_vector(theta + h, 32) - steering_vector(theta - h, 32)) / (2 * h)
    np.testing.assert_allclose(steering_vector_derivative(theta, 32), numeric, atol=1e-7)


def test_beam_pattern_peaks_at_steering_angle():
    grid = np.linspace(0, np.pi, 20001)
    for target in (0.4, 1.0, np.pi / 2, 2.3):
        w = steering_vector(target, 32)
        pattern = beam_pattern(grid, w)
        assert pattern.max() == pytest.approx(1.0, abs=1e-6)
        assert grid[np.argmax(pattern)] == pytest.approx(target, abs=2e-4)
        assert np.all(pattern <= 1.0 + 1e-12)


def test_array_response_shapes_for_several_beams():
    w = steering_vector(np.array([0.5, 1.5, 2.5]), 16).T  # (N, B)
    response = array_response(np.array([0.5, 1.5]), w)
    assert response.shape == (2, 3)
    assert abs(response[0, 0]) == pytest.approx(1.0)


def test_polar_round_trip_and_radial_velocity():
    from rsu_isac.core.geometry import to_cartesian, to_polar

    rsu = np.array([0.0, 30.0])
    xy = np.array([[-20.0, 2.5], [0.0, -2.5], [25.0, 2.5]])
    v = np.array([[30.0, 0.0], [-30.0, 0.0], [30.0, 0.0]])
    polar = to_polar(rsu, xy, v)
    np.testing.assert_allclose(polar.range_m, np.hypot(*(xy - rsu).T))
    np.testing.assert_allclose(
        np.cos(polar.theta_rad), (xy[:, 0] - rsu[0]) / polar.range_m, atol=1e-12
    )
    # radial velocity = d(range)/dt by finite difference
    later = to_polar(rsu, xy + 1e-6 * v, v)
    np.testing.assert_allclose(
        polar.radial_velocity_mps, (later.range_m - polar.range_m) / 1e-6, atol=1e-4
    )
    side = np.sign(xy[:, 1] - rsu[1])
    np.testing.assert_allclose(
        to_cartesian(rsu, polar.theta_rad, polar.range_m, side), xy, atol=1e-9
    )


def test_decibel_conversions():
    from rsu_isac.core.units import db_to_linear, dbm_to_watt, linear_to_db, watt_to_dbm

    assert dbm_to_watt(30.0) == pytest.approx(1.0)
    assert watt_to_dbm(0.01) == pytest.approx(10.0)
    np.testing.assert_allclose(linear_to_db(db_to_linear([-80.0, 3.0])), [-80.0, 3.0])
