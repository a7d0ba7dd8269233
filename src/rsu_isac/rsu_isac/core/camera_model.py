"""Pinhole camera on the RSU mast: intrinsics, mounting pose, projection of road-frame
points and the image <-> road-plane homography (z = 0).

Conventions: road frame x along the road, y across, z up. Camera frame (ROS optical):
x right, y down, z forward. A world point X maps to pixels u ~ K (R X + t), with
R = rotation world -> camera and t = -R C for the camera centre C.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class PinholeCamera:
    """Intrinsics K (3x3), image size, and the pose (R world->camera, centre C)."""

    width_px: int
    height_px: int
    intrinsics: NDArray[np.float64]
    rotation: NDArray[np.float64]
    centre_m: NDArray[np.float64]

    @property
    def translation(self) -> NDArray[np.float64]:
        return -self.rotation @ self.centre_m

    @property
    def projection(self) -> NDArray[np.float64]:
        """3x4 projection matrix P = K [R | t]."""
        return self.intrinsics @ np.hstack([self.rotation, self.translation[:, None]])

    def project(self, points_m: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """Pixel coordinates (..., 2) of road-frame points (..., 3), and whether each lies in
        front of the camera."""
        pts = np.asarray(points_m, dtype=float)
        cam = pts @ self.rotation.T + self.translation
        depth = cam[..., 2]
        uvw = cam @ self.intrinsics.T
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = uvw[..., :2] / uvw[..., 2:3]
        return uv, depth > 1e-6

    def ground_homography(self) -> NDArray[np.float64]:
        """H (3x3) with pixel ~ H [x, y, 1]^T for road-plane points (z = 0)."""
        return self.intrinsics @ np.column_stack(
            [self.rotation[:, 0], self.rotation[:, 1], self.translation]
        )

    def pixels_to_ground(self, pixels: ArrayLike) -> NDArray[np.float64]:
        """Road-plane (x, y) (..., 2) of pixels (..., 2), through the inverse homography."""
        uv = np.asarray(pixels, dtype=float)
        homogeneous = np.concatenate([uv, np.ones((*uv.shape[:-1], 1))], axis=-1)
        xyw = homogeneous @ np.linalg.inv(self.ground_homography()).T
        return xyw[..., :2] / xyw[..., 2:3]


def look_at_rotation(centre_m: ArrayLike, target_m: ArrayLike) -> NDArray[np.float64]:
    """World->camera rotation of a camera at ``centre_m`` looking at ``target_m`` with the
    image's x axis horizontal (no roll)."""
    forward = np.asarray(target_m, float) - np.asarray(centre_m, float)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    if np.linalg.norm(right) < 1e-9:
        raise ValueError("camera looks straight down or up: choose a target off the vertical")
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return np.stack([right, down, forward])


def intrinsics_from_fov(width_px: int, height_px: int, horizontal_fov_rad: float):
    """K of an ideal pinhole (square pixels, principal point at the centre)."""
    focal = 0.5 * width_px / np.tan(0.5 * horizontal_fov_rad)
    return np.array([[focal, 0.0, 0.5 * width_px], [0.0, focal, 0.5 * height_px], [0.0, 0.0, 1.0]])
