"""Pinhole model: the road-plane homography inverts the full 3x4 projection."""

import numpy as np
import pytest

from rsu_isac.core.camera_model import PinholeCamera, intrinsics_from_fov, look_at_rotation


def camera():
    centre = np.array([0.0, 0.0, 8.0])
    return PinholeCamera(
        640,
        480,
        intrinsics_from_fov(640, 480, np.radians(100)),
        look_at_rotation(centre, [0.0, 10.0, 0.0]),
        centre,
    )


def test_rotation_is_orthonormal_without_roll():
    r = camera().rotation
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)
    assert r[0, 2] == pytest.approx(0.0)  # image x axis horizontal


def test_target_projects_to_image_centre():
    uv, front = camera().project(np.array([0.0, 10.0, 0.0]))
    assert front
    np.testing.assert_allclose(uv, [320.0, 240.0], atol=1e-9)


def test_homography_inverts_projection():
    cam = camera()
    rng = np.random.default_rng(0)
    ground = np.column_stack([rng.uniform(-30, 30, 100), rng.uniform(5, 20, 100), np.zeros(100)])
    homogeneous = np.column_stack([ground, np.ones(100)]) @ cam.projection.T
    pixels = homogeneous[:, :2] / homogeneous[:, 2:3]
    np.testing.assert_allclose(cam.pixels_to_ground(pixels), ground[:, :2], atol=1e-9)
    uv, _ = cam.project(ground)
    np.testing.assert_allclose(uv, pixels, atol=1e-9)


def test_looking_straight_down_is_rejected():
    with pytest.raises(ValueError, match="straight down"):
        look_at_rotation([0, 0, 8], [0, 0, 0])
