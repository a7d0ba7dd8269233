"""Messages for and from other stacks (docs/integration.md): radar detections as a
sensor_msgs/PointCloud2, vehicles' CAM-shaped reports in, the RSU's CPM-shaped collective
perception out. Incoming reports are validated here one by one, like radar detections.
"""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point
from sensor_msgs.msg import PointCloud2, PointField
from std_msgs.msg import Header

from rsu_isac.core.cpm import CONFIDENCE_95_SIGMAS
from rsu_isac.core.geometry import echo_position
from rsu_isac.core.radar_dsp import Detections
from rsu_isac.core.tracker import TENTATIVE, TrackView
from rsu_isac.core.v2x import VehicleReports
from rsu_isac.nodes.convert import MAX_COORDINATE_M, rejected_elements, sim_time, time_seconds
from rsu_isac_interfaces.msg import (
    CollectivePerception,
    PerceivedObject,
    VehicleReport,
    VehicleReportArray,
    VehicleState,
)

# The common radar point-cloud layout (as radar drivers publish, e.g. the ARS-series and
# ros2 radar_conversions): position, then the radar's own measurements; float32 each.
CLOUD_FIELDS = ("x", "y", "z", "range", "azimuth", "radial_velocity", "snr")
MAX_SPEED_MPS = 150.0  # a reported speed above this is no road vehicle's


def detections_to_cloud(
    d: Detections,
    array_xy: tuple[float, float],
    side: float,
    header: Header,
    illuminator_xy: tuple[float, float] | None = None,
) -> PointCloud2:
    """PointCloud2 of detections in the road frame (``header.frame_id``): x, y from (theta,
    d) with the array at ``array_xy``, the road on its ``side`` and the echo lit from
    ``illuminator_xy`` (None: the array itself; core.geometry.echo_position), z = 0, then
    range [m] (half the echo's path), azimuth theta [rad], radial velocity [m/s], SNR [dB]."""
    source = array_xy if illuminator_xy is None else illuminator_xy
    xy = echo_position(array_xy, source, d.azimuth_rad, d.range_m, side).reshape(-1, 2)
    columns = [xy[:, 0], xy[:, 1], np.zeros(len(xy)), d.range_m, d.azimuth_rad]
    columns += [d.radial_velocity_mps, d.snr_db]
    points = np.column_stack([np.ravel(c) for c in columns]).astype(np.float32)
    fields = [
        PointField(name=name, offset=4 * i, datatype=PointField.FLOAT32, count=1)
        for i, name in enumerate(CLOUD_FIELDS)
    ]
    return PointCloud2(
        header=header,
        height=1,
        width=len(points),
        fields=fields,
        is_bigendian=False,
        point_step=4 * len(CLOUD_FIELDS),
        row_step=4 * len(CLOUD_FIELDS) * len(points),
        data=points.tobytes(),
        is_dense=True,
    )


def reports_to_msg(reports: VehicleReports, stamp: Time, slot: int, frame_id: str):
    """VehicleReportArray of ``reports`` heard at ``stamp``."""
    return VehicleReportArray(
        header=Header(stamp=stamp, frame_id=frame_id),
        slot=slot,
        reports=[
            VehicleReport(
                station_id=int(reports.station_id[i]),
                generation_time=sim_time(float(reports.time_s[i])),
                x_m=float(reports.position_xy[i, 0]),
                y_m=float(reports.position_xy[i, 1]),
                position_std_m=float(reports.position_std_m[i]),
                speed_mps=float(reports.speed_mps[i]),
                speed_std_mps=float(reports.speed_std_mps[i]),
                heading_rad=float(reports.heading_rad[i]),
                heading_std_rad=float(reports.heading_std_rad[i]),
            )
            for i in range(len(reports))
        ],
    )


def reports_from_msg(msg: VehicleReportArray) -> tuple[VehicleReports, int, str]:
    """(the usable reports, how many were rejected, why in one line). A report is rejected
    on its own when a field is NaN or infinite, its position lies beyond MAX_COORDINATE_M,
    its stated position error is not positive, its speed is negative or above
    MAX_SPEED_MPS, or a stated error is negative."""
    rows = np.array(
        [
            [time_seconds(r.generation_time), r.x_m, r.y_m, r.position_std_m, r.speed_mps,
             r.speed_std_mps, r.heading_rad, r.heading_std_rad]
            for r in msg.reports
        ],
        dtype=float,
    ).reshape(-1, 8)  # fmt: skip
    with np.errstate(invalid="ignore"):
        reasons = {
            "NaN or infinite fields": ~np.isfinite(rows).all(axis=1),
            f"position beyond {MAX_COORDINATE_M:g} m": (
                np.abs(rows[:, 1:3]) > MAX_COORDINATE_M
            ).any(axis=1),
            "position error not positive": ~(rows[:, 3] > 0),
            f"speed outside [0, {MAX_SPEED_MPS:g}] m/s": ~(
                (rows[:, 4] >= 0) & (rows[:, 4] <= MAX_SPEED_MPS)
            ),
            "negative speed or heading error": (rows[:, [5, 7]] < 0).any(axis=1),
        }
    bad, notes = rejected_elements(reasons, len(rows))
    ok = rows[~bad]
    ids = np.array([r.station_id for r in msg.reports], dtype=np.int64)[~bad]
    reports = VehicleReports(
        ids, ok[:, 0], ok[:, 1:3], ok[:, 3], ok[:, 4], ok[:, 5], ok[:, 6], ok[:, 7]
    )
    return reports, int(bad.sum()), "; ".join(notes)


def cpm_to_msg(
    view: TrackView,
    include: np.ndarray,
    rsu_index: int,
    array_xy: tuple[float, float],
    header: Header,
    slot: int,
    slot_s: float,
) -> CollectivePerception:
    """The CPM of the tracks ``include`` selects (core.cpm.CpmGenerator.due) at the
    reference time ``header.stamp`` (the radar frame the view follows): positions relative
    to the RSU's array at ``array_xy``, 95 % confidences from the track's covariances, the
    last measurement ``misses`` slots of ``slot_s`` back, age and perception quality from
    the track; the radar alone does not classify (CLASS_UNKNOWN, confidence 0)."""
    rows = np.flatnonzero(include)
    rel = view.position_xy[rows] - np.asarray(array_xy)

    def confidence(cov: np.ndarray) -> np.ndarray:
        return CONFIDENCE_95_SIGMAS * np.sqrt(np.diagonal(cov[rows], axis1=1, axis2=2))

    pos_conf, vel_conf = confidence(view.position_covariance), confidence(view.velocity_covariance)
    quality = np.rint(15.0 * view.existence_probability[rows]).astype(int)
    delta_ms = np.rint(-view.misses[rows] * slot_s * 1e3).astype(int)
    objects = [
        PerceivedObject(
            object_id=int(view.track_id[k]) % 65536,
            measurement_delta_time_ms=int(delta_ms[j]),
            x_m=float(rel[j, 0]),
            y_m=float(rel[j, 1]),
            x_confidence_m=float(pos_conf[j, 0]),
            y_confidence_m=float(pos_conf[j, 1]),
            vx_mps=float(view.velocity_xy[k, 0]),
            vy_mps=float(view.velocity_xy[k, 1]),
            vx_confidence_mps=float(vel_conf[j, 0]),
            vy_confidence_mps=float(vel_conf[j, 1]),
            object_age_s=float(view.age_s[k]),
            object_perception_quality=int(quality[j]),
            classification=VehicleState.CLASS_UNKNOWN,
            classification_confidence=0,
        )
        for j, k in enumerate(rows.tolist())
    ]
    return CollectivePerception(
        header=header,
        station_id=rsu_index + 1,
        reference_position=Point(x=float(array_xy[0]), y=float(array_xy[1]), z=0.0),
        slot=slot,
        objects_tracked=int(np.sum(view.status != TENTATIVE)),
        perceived_objects=objects,
    )
