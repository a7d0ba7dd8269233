"""Geometry between an RSU's array and vehicles on the road plane.

The road frame has x along the road and y across it. Each RSU's ULA lies along the x axis
(parallel to the road, as in 000 and 004), so the papers' angle theta in [0, pi] is the
angle between +x and the line of sight: cos(theta) = (x - x_rsu) / d.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class Polar:
    """Vehicle states relative to one RSU (arrays of equal shape)."""

    theta_rad: NDArray[np.float64]  # angle to the array axis, in [0, pi]
    range_m: NDArray[np.float64]  # distance d
    radial_velocity_mps: NDArray[np.float64]  # d(d)/dt, positive = receding


def to_polar(rsu_xy: ArrayLike, position_xy: ArrayLike, velocity_xy: ArrayLike) -> Polar:
    """RSU-relative (theta, d, v_r) of vehicles at ``position_xy`` (..., 2) moving at
    ``velocity_xy`` (..., 2)."""
    rel = np.asarray(position_xy, dtype=float) - np.asarray(rsu_xy, dtype=float)
    vel = np.asarray(velocity_xy, dtype=float)
    d = np.hypot(rel[..., 0], rel[..., 1])
    safe_d = np.maximum(d, 1e-9)
    theta = np.arccos(np.clip(rel[..., 0] / safe_d, -1.0, 1.0))
    v_r = np.einsum("...i,...i->...", rel, vel) / safe_d
    return Polar(theta, d, v_r)


def echo_polar(
    rx_xy: ArrayLike, tx_xy: ArrayLike, position_xy: ArrayLike, velocity_xy: ArrayLike
) -> Polar:
    """What the receiving RSU at ``rx_xy`` measures of reflectors at ``position_xy`` moving at
    ``velocity_xy`` that the RSU at ``tx_xy`` illuminates: the angle at the receiving array,
    half the transmitter -> reflector -> receiver path (the range the echo delay gives,
    tau = path / c: 2 d / c of 000 eq. (6) when the two coincide) and its rate. Monostatic
    (tx_xy = rx_xy): :func:`to_polar`."""
    rx = to_polar(rx_xy, position_xy, velocity_xy)
    if np.array_equal(np.asarray(tx_xy, dtype=float), np.asarray(rx_xy, dtype=float)):
        return rx
    tx = to_polar(tx_xy, position_xy, velocity_xy)
    return Polar(
        rx.theta_rad,
        0.5 * (rx.range_m + tx.range_m),
        0.5 * (rx.radial_velocity_mps + tx.radial_velocity_mps),
    )


def echo_position(
    rx_xy: ArrayLike,
    tx_xy: ArrayLike,
    theta_rad: ArrayLike,
    half_path_m: ArrayLike,
    side: ArrayLike,
) -> NDArray[np.float64]:
    """The inverse of :func:`echo_polar`'s position part: the point (..., 2) at angle theta
    from the receiver (on ``side``) whose half path is d. On the ray p = rx + r u, with
    o = tx - rx, (r + |r u - o|) / 2 = d gives r = (4 d^2 - |o|^2) / (4 d - 2 u.o).
    Monostatic: :func:`to_cartesian`."""
    rx = np.asarray(rx_xy, dtype=float)
    offset = np.asarray(tx_xy, dtype=float) - rx
    if not offset.any():
        return to_cartesian(rx, theta_rad, half_path_m, side)
    theta = np.asarray(theta_rad, dtype=float)
    d = np.asarray(half_path_m, dtype=float)
    u = np.stack([np.cos(theta), np.sign(side) * np.sin(theta)], axis=-1)
    r = (4 * d**2 - offset @ offset) / (4 * d - 2 * (u @ offset))
    return rx + r[..., None] * u


def to_cartesian(
    rsu_xy: ArrayLike, theta_rad: ArrayLike, range_m: ArrayLike, side: ArrayLike
) -> NDArray[np.float64]:
    """Road-plane position (..., 2) from (theta, d); ``side`` (+1 or -1) says on which side
    of the array axis the vehicle is (a ULA alone cannot tell: the road geometry does)."""
    theta = np.asarray(theta_rad, dtype=float)
    d = np.asarray(range_m, dtype=float)
    rsu = np.asarray(rsu_xy, dtype=float)
    x = rsu[..., 0] + d * np.cos(theta)
    y = rsu[..., 1] + np.sign(side) * d * np.sin(theta)
    return np.stack([x, y], axis=-1)
