"""Vehicles' own reports as a tracker measurement.

A connected vehicle broadcasts its position, speed and heading (ETSI EN 302 637-2
cooperative awareness messages, 1-10 Hz) with the confidence of each. The RSU hears them
some tens of milliseconds late, in the road frame once a vehicle-side or RSU-side bridge
has mapped WGS84 onto it. To the tracker a report is one more measurement of the
vehicle's state, z = (p_x, p_y, v_x, v_y) at the report's generation time, with the
covariance the vehicle states: position sigma^2 I and the speed and heading variances
carried to (v_x, v_y) by the Jacobian of v = s (cos h, sin h). Like any measurement it is
gated and associated (core.tracker.Tracker.report_update); nothing is taken on trust.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

REPORT_DIM = 4  # z = (p_x, p_y, v_x, v_y)


@dataclass(frozen=True)
class VehicleReports:
    """Reports heard by an RSU (arrays over reports)."""

    station_id: NDArray[np.int64]  # the sender's station id (CAM header)
    time_s: NDArray[np.float64]  # generation time [s]
    position_xy: NDArray[np.float64]  # (C, 2) road frame [m]
    position_std_m: NDArray[np.float64]  # stated 1-sigma error per axis [m]
    speed_mps: NDArray[np.float64]  # [m/s], >= 0
    speed_std_mps: NDArray[np.float64]
    heading_rad: NDArray[np.float64]  # direction of travel from the road's +x axis [rad]
    heading_std_rad: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.station_id.size)

    @staticmethod
    def empty() -> VehicleReports:
        none = np.zeros(0)
        return VehicleReports(
            np.zeros(0, dtype=np.int64), none, np.zeros((0, 2)), none, none, none, none, none
        )

    def select(self, mask: NDArray[np.bool_]) -> VehicleReports:
        """The reports where ``mask`` is true."""
        return VehicleReports(
            self.station_id[mask],
            self.time_s[mask],
            self.position_xy[mask],
            self.position_std_m[mask],
            self.speed_mps[mask],
            self.speed_std_mps[mask],
            self.heading_rad[mask],
            self.heading_std_rad[mask],
        )

    @property
    def velocity_xy(self) -> NDArray[np.float64]:
        """(C, 2) velocity s (cos h, sin h) [m/s]."""
        return self.speed_mps[:, None] * np.stack(
            [np.cos(self.heading_rad), np.sin(self.heading_rad)], axis=-1
        )


def report_measurement(reports: VehicleReports) -> tuple[NDArray, NDArray]:
    """(z (C, 4), covariance (C, 4, 4)) of ``reports`` in the road frame: position with
    sigma^2 I, velocity with J diag(sigma_s^2, sigma_h^2) J^T, J = d v / d(s, h) =
    [[cos h, -s sin h], [sin h, s cos h]]; position and velocity errors independent (GNSS
    position and wheel-speed / heading sensors)."""
    s, h = reports.speed_mps, reports.heading_rad
    z = np.column_stack([reports.position_xy, reports.velocity_xy])
    cov = np.zeros((len(reports), REPORT_DIM, REPORT_DIM))
    cov[:, 0, 0] = cov[:, 1, 1] = reports.position_std_m**2
    jac = np.empty((len(reports), 2, 2))
    jac[:, 0, 0], jac[:, 0, 1] = np.cos(h), -s * np.sin(h)
    jac[:, 1, 0], jac[:, 1, 1] = np.sin(h), s * np.cos(h)
    sh = np.zeros((len(reports), 2, 2))
    sh[:, 0, 0], sh[:, 1, 1] = reports.speed_std_mps**2, reports.heading_std_rad**2
    cov[:, 2:, 2:] = jac @ sh @ np.swapaxes(jac, 1, 2)
    return z, cov
