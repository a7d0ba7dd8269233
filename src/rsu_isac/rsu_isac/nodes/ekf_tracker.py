"""ekf_tracker: detections -> tracks of one RSU (docs/architecture.md).

Subscribes ``radar/detections`` (RadarDetectionArray), ``camera/detections``
(CameraDetectionArray) and ``v2x/reports`` (VehicleReportArray: vehicles' own reports) in
the RSU's namespace; publishes ``tracks`` (TrackArray: polar state and covariance,
road-frame position, one-slot prediction, PCRB, semantic AoI) after every radar frame,
``tracks/markers`` (MarkerArray) and ``cpm`` (CollectivePerception, the RSU's message to
the vehicles, when core.cpm's inclusion rules make an object due). Reports are fused before
the first radar frame stamped after the time they were heard (the order of the headless
loop, whatever the order in which the two topics arrive). Everything else is
:class:`rsu_isac.core.tracker.Tracker`.

Time: radar stamps pass a :class:`~rsu_isac.nodes.stream_gate.StreamGate`. A step backwards
or longer than ``max_time_gap_s`` resets the tracks (ids keep counting; logged at WARN) only
on a real time jump: the node's clock jumped with it (a restarted simulator's /clock), or
three frames continue the new timeline (a looped bag); a single stray stamp is dropped. A
camera frame stamped further than ``max_time_gap_s`` from the tracks' time is dropped,
never a reset. Detections no radar reports (NaN, negative variance or range) are rejected
one by one, beyond ``max_detections`` the weakest; a malformed camera message (bad
covariance) is logged, counted on /diagnostics and dropped.
"""

from __future__ import annotations

import time

import numpy as np
from rclpy.node import Node
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from rsu_isac.core.cpm import CpmConfig, CpmGenerator
from rsu_isac.core.ekf import MOTION_MODELS
from rsu_isac.core.radar import detection_limits
from rsu_isac.core.tracker import (
    MAX_TRACKER_DETECTIONS,
    TENTATIVE,
    Tracker,
    TrackerConfig,
    TrackView,
)
from rsu_isac.core.v2x import VehicleReports
from rsu_isac.nodes.convert import (
    MalformedMessageError,
    camera_detections_from_msg,
    detections_from_msgs,
    stamp_seconds,
    track_markers,
    tracks_to_msg,
)
from rsu_isac.nodes.diagnostics import NodeDiagnostics
from rsu_isac.nodes.interop import cpm_to_msg, reports_from_msg
from rsu_isac.nodes.params import ParameterError, declare, declare_scenario
from rsu_isac.nodes.qos import RELIABLE, declare_sensor_qos
from rsu_isac.nodes.runner import run_node
from rsu_isac.nodes.stream_gate import StreamGate, Verdict
from rsu_isac_interfaces.msg import (
    CameraDetectionArray,
    CollectivePerception,
    RadarDetectionArray,
    TrackArray,
    VehicleReportArray,
)

ROAD_FRAME = "road"


class EkfTracker(Node):
    """Radar and camera detections in, tracks out."""

    def __init__(self) -> None:
        super().__init__("ekf_tracker")
        self.scenario = declare_scenario(self)
        names = [r.name for r in self.scenario.rsus]
        rsu_name = declare(self, "rsu", names[0], "RSU whose detections these are", choices=names)
        self.rsu_index = names.index(rsu_name)
        if self.rsu_index not in self.scenario.receivers():
            hearing = ", ".join(names[i] for i in self.scenario.receivers())
            raise ParameterError(
                f"parameter 'rsu' = '{rsu_name}' hears no echo (a transmit RSU, or a receive "
                f"RSU without one); RSUs that do: {hearing}"
            )
        config = TrackerConfig(
            motion_model=declare(
                self, "motion_model", "cartesian", "EKF state", choices=MOTION_MODELS
            ),
            gate_probability=declare(
                self, "gate_probability", 0.999999, "chi-square gate, radar", 0.5, 1 - 1e-12
            ),
            camera_gate_probability=declare(
                self, "camera_gate_probability", 0.9999, "chi-square gate, camera", 0.5, 1 - 1e-12
            ),
            report_gate_probability=declare(
                self,
                "report_gate_probability",
                0.9999,
                "chi-square gate, vehicle reports (position and velocity)",
                0.5,
                1 - 1e-12,
            ),
            confirm_hits=declare(self, "confirm_hits", 2, "M of the M-of-N confirmation", 1, 100),
            confirm_window=declare(self, "confirm_window", 6, "N of the M-of-N", 1, 100),
            instant_confirm_snr_db=declare(
                self,
                "instant_confirm_snr_db",
                20.0,
                "a detection this strong starts a confirmed track [dB]",
                -50.0,
                300.0,
            ),
            max_coast_slots=declare(
                self, "max_coast_slots", 10, "misses before a confirmed track is deleted", 0, 10000
            ),
            max_camera_coast_slots=declare(
                self,
                "max_camera_coast_slots",
                25,
                "misses before a track the camera fixed last is deleted (003's A_max)",
                0,
                10000,
            ),
            max_report_coast_slots=declare(
                self,
                "max_report_coast_slots",
                10,
                "slots from a vehicle report's generation before a track it fixed last is deleted",
                0,
                10000,
            ),
            initial_speed_std_mps=declare(
                self, "initial_speed_std_mps", 15.0, "speed prior of a new track [m/s]", 0.1, 100.0
            ),
            merge_distance_m=declare(
                self, "merge_distance_m", 0.0, "merge closer tracks; 0 = never [m]", 0.0, 10.0
            ),
            merge_speed_mps=declare(
                self, "merge_speed_mps", 2.0, "... if their speeds differ less [m/s]", 0.0, 50.0
            ),
            duplicate_distance_m=declare(
                self,
                "duplicate_distance_m",
                4.5,
                "a stale camera-held track this close in a fresher one's lane goes; 0 = never [m]",
                0.0,
                50.0,
            ),
            max_time_gap_s=declare(
                self, "max_time_gap_s", 1.0, "a longer step resets the tracks [s]", 1e-3, 1e4
            ),
        )
        if config.confirm_hits > config.confirm_window:
            raise ParameterError(
                f"parameter 'confirm_hits' = {config.confirm_hits} exceeds 'confirm_window' = "
                f"{config.confirm_window}: no track could ever be confirmed"
            )
        seed = declare(self, "seed", -1, "UUID seed; -1 = the scenario's seed", -1, 2**31 - 1)
        self.max_detections = declare(
            self,
            "max_detections",
            MAX_TRACKER_DETECTIONS,
            "radar detections per frame at most; beyond, the weakest are rejected",
            1,
            100000,
        )
        self.tracker = Tracker.for_scenario(
            self.scenario, self.rsu_index, config, self.scenario.seed if seed < 0 else seed
        )
        self._time_gate = StreamGate(ahead=config.max_time_gap_s)
        self._limits = detection_limits(self.scenario)
        self.diagnostics = NodeDiagnostics(self)
        cpm_period_s = declare(
            self,
            "cpm_period_s",
            0.1,
            "collective perception: check the inclusion rules this often [s] (T_GenCpm); 0 = "
            "no CPMs",
            0.0,
            10.0,
        )
        self._cpm = CpmGenerator(CpmConfig(period_s=cpm_period_s)) if cpm_period_s else None
        self._pending_reports: list[tuple[float, VehicleReports]] = []
        self._tracks_pub = self.create_publisher(TrackArray, "tracks", RELIABLE)
        self._cpm_pub = self.create_publisher(CollectivePerception, "cpm", RELIABLE)
        self._markers_pub = self.create_publisher(MarkerArray, "tracks/markers", RELIABLE)
        self.diagnostics.subscribe(
            RadarDetectionArray, "radar/detections", self._on_radar, RELIABLE
        )
        self.diagnostics.subscribe(
            CameraDetectionArray, "camera/detections", self._on_camera, RELIABLE
        )
        self.diagnostics.subscribe(
            VehicleReportArray, "v2x/reports", self._on_reports, declare_sensor_qos(self)
        )

    def _clock_s(self) -> float | None:
        """The node's clock [s] (simulated time with use_sim_time), None before it runs."""
        nanoseconds = self.get_clock().now().nanoseconds
        return nanoseconds * 1e-9 if nanoseconds > 0 else None

    def _on_radar(self, msg: RadarDetectionArray) -> None:
        started = time.perf_counter()
        stamp = stamp_seconds(msg)
        verdict = self._time_gate.check(stamp, self._clock_s())
        if verdict is Verdict.DROP:
            raise MalformedMessageError(f"stamp {self._time_gate.describe(stamp)} [s]")
        if verdict is Verdict.RESET:
            previous = self.tracker.time_s
            self.tracker.reset()
            self._pending_reports.clear()
            if self._cpm is not None:
                self._cpm.reset()
            self.get_logger().warning(
                f"time jumped from {previous:.3f} s to {stamp:.3f} s: tracks reset"
            )
        checked = detections_from_msgs(
            msg.detections,
            max_range_m=self._limits[0],
            max_detections=self.max_detections,
            max_speed_mps=self._limits[1],
        )
        if checked.num_rejected:
            self.diagnostics.reject("radar/detections", checked.num_rejected, checked.reason)
        computing = time.perf_counter()
        self._fuse_reports(stamp)
        self.tracker.step(stamp, checked.detections)
        view = self.tracker.view()
        compute_s = time.perf_counter() - computing
        slot_s = self.scenario.slot_s
        self._tracks_pub.publish(
            tracks_to_msg(view, self.rsu_index, msg.header.stamp, msg.slot, slot_s, ROAD_FRAME)
        )
        self._publish_cpm(view, msg, stamp)
        if self._markers_pub.get_subscription_count():  # RViz only: built when watched
            self._markers_pub.publish(
                track_markers(view, msg.header.stamp, ROAD_FRAME, self.get_namespace())
            )
        self.diagnostics.record(time.perf_counter() - started, compute=compute_s)

    def _on_reports(self, msg: VehicleReportArray) -> None:
        reports, rejected, reason = reports_from_msg(msg)
        if rejected:
            self.diagnostics.reject("v2x/reports", rejected, reason)
        now, gap = self.tracker.time_s, self.tracker.config.max_time_gap_s
        stale = now is not None and len(reports) and np.any(np.abs(reports.time_s - now) > gap)
        if stale:
            raise MalformedMessageError(
                f"vehicle reports generated more than max_time_gap_s = {gap:g} s from the "
                f"tracks' time {now:.3f} s"
            )
        if len(reports):
            self._pending_reports.append((stamp_seconds(msg), reports))

    def _fuse_reports(self, stamp: float) -> None:
        """Before the radar frame at ``stamp``: fuse the reports heard before it (at an
        earlier frame's time). Those heard with the previous frame have arrived whatever
        the order of the two topics (in lockstep the frame comes after that frame's tracks
        and command), so the fusion order does not depend on which callback ran first."""
        due = [r for heard, r in self._pending_reports if heard < stamp - 1e-9]
        self._pending_reports = [(h, r) for h, r in self._pending_reports if h >= stamp - 1e-9]
        for reports in due:
            self.tracker.report_update(reports)

    def _publish_cpm(self, view: TrackView, msg: RadarDetectionArray, stamp: float) -> None:
        """The CPM of the objects core.cpm's rules make due now, if any."""
        if self._cpm is None:
            return
        known = view.status != TENTATIVE
        due = self._cpm.due(stamp, view.track_id[known], view.position_xy[known],
                            view.velocity_xy[known])  # fmt: skip
        if due is None or not due.any():
            return
        include = np.zeros(len(view), dtype=bool)
        include[np.flatnonzero(known)[due]] = True
        rsu_xy = self.scenario.rsus[self.rsu_index].position_m
        header = Header(stamp=msg.header.stamp, frame_id=ROAD_FRAME)
        cpm = cpm_to_msg(view, include, self.rsu_index, rsu_xy, header, msg.slot,
                         self.scenario.slot_s)  # fmt: skip
        self._cpm_pub.publish(cpm)

    def _on_camera(self, msg: CameraDetectionArray) -> None:
        xy, cov = camera_detections_from_msg(msg)
        stamp, now = stamp_seconds(msg), self.tracker.time_s
        gap = self.tracker.config.max_time_gap_s
        if now is not None and abs(stamp - now) > gap:
            raise MalformedMessageError(
                f"camera frame stamped {stamp:.3f} s, more than max_time_gap_s = {gap:g} s "
                f"from the tracks' time {now:.3f} s"
            )
        self.tracker.camera_update(stamp, xy, cov)


def main(args: list[str] | None = None) -> None:
    run_node(EkfTracker, "ekf_tracker", args)


if __name__ == "__main__":
    main()
