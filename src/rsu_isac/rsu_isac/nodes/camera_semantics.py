"""camera_semantics: camera frames -> vehicle detections on the road (docs/architecture.md).

Subscribes ``camera/image_raw`` (bgr8), ``camera/camera_info`` and ``camera/pose``
(latched: intrinsics and mounting pose, from which the image-to-road homography comes) and
``aoi/schedule``; publishes ``camera/detections`` (CameraDetectionArray with the processing
time and the energy charged: 003's e_vis per scheduled track, a whole-road frame the
scenario's ``full_frame_energy_j``; ``rsu_isac.scheduling.scheduler.frame_energy_j``).
With ``follow_schedule`` the node processes a frame only when the latest schedule has the
camera on, and only in its regions; without, every frame over the whole road. Every frame
feeds the background model. Everything else is
:class:`rsu_isac.perception.camera_detector.CameraDetector`. Malformed images, camera
models and schedules are logged, counted on /diagnostics and dropped.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
from geometry_msgs.msg import PoseStamped
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image

from rsu_isac.core.camera_model import PinholeCamera
from rsu_isac.nodes.convert import (
    MalformedMessageError,
    camera_detections_to_msg,
    camera_from_msgs,
    image_from_msg,
    regions_from_msg,
    stamp_seconds,
)
from rsu_isac.nodes.diagnostics import NodeDiagnostics
from rsu_isac.nodes.params import ParameterError, declare, declare_scenario
from rsu_isac.nodes.qos import LATCHED, RELIABLE, declare_sensor_qos
from rsu_isac.nodes.runner import run_node
from rsu_isac.perception.camera_detector import CameraDetector, DetectorConfig, Region
from rsu_isac.scheduling.scheduler import frame_energy_j
from rsu_isac_interfaces.msg import AoiSchedule, CameraDetectionArray

ROAD_FRAME = "road"


class CameraSemantics(Node):
    """Images in, road-plane vehicle detections out."""

    def __init__(self) -> None:
        super().__init__("camera_semantics")
        self.scenario = declare_scenario(self)
        self.follow_schedule = declare(
            self, "follow_schedule", True, "process only what aoi/schedule asks for"
        )
        self.config = DetectorConfig(
            background_frames=declare(
                self, "background_frames", 15, "frames in the median background", 3, 200
            ),
            background_stride=declare(
                self, "background_stride", 10, "frames between background samples", 1, 1000
            ),
            background_ready=declare(
                self, "background_ready", 5, "samples before the first detection", 1, 200
            ),
            difference_threshold=declare(
                self, "difference_threshold", 25, "foreground colour difference [0-255]", 1, 254
            ),
            min_area_px=declare(self, "min_area_px", 40, "smallest blob [px]", 1, 100000),
            pixel_std=declare(self, "pixel_std", 1.0, "box-edge noise [px]", 0.01, 100.0),
            model_std_m=declare(self, "model_std_m", 0.05, "unmodelled error [m]", 0.0, 10.0),
            max_fit_residual_px=declare(
                self, "max_fit_residual_px", 3.0, "largest RMS box residual [px]", 0.1, 100.0
            ),
        )
        if self.config.background_ready > self.config.background_frames:
            raise ParameterError(
                f"parameter 'background_ready' = {self.config.background_ready} exceeds "
                f"'background_frames' = {self.config.background_frames}"
            )
        self.diagnostics = NodeDiagnostics(self)
        self.detector: CameraDetector | None = None
        self._info: CameraInfo | None = None
        self._pose: PoseStamped | None = None
        # the latest schedule, converted once: regions, scheduled tracks, camera on
        self._regions: list[Region] = []
        self._frame_energy_j = 0.0
        self._camera_on = False
        self._pub = self.create_publisher(CameraDetectionArray, "camera/detections", RELIABLE)
        subscribe = self.diagnostics.subscribe
        subscribe(Image, "camera/image_raw", self._on_image, declare_sensor_qos(self))
        subscribe(CameraInfo, "camera/camera_info", self._on_info, LATCHED)
        subscribe(PoseStamped, "camera/pose", self._on_pose, LATCHED)
        subscribe(AoiSchedule, "aoi/schedule", self._on_schedule, RELIABLE)

    def _on_info(self, msg: CameraInfo) -> None:
        self._build(msg, self._pose)
        self._info = msg

    def _on_pose(self, msg: PoseStamped) -> None:
        self._build(self._info, msg)
        self._pose = msg

    def _build(self, info: CameraInfo | None, pose: PoseStamped | None) -> None:
        """The detector of a new camera model; an unusable model is malformed, and the
        detector of the last good one stays."""
        if info is None or pose is None:
            return
        camera = camera_from_msgs(info, pose)
        if self.detector is not None and _same_camera(camera, self.detector.camera):
            return  # the same model again (latched topics re-sent): keep the background
        try:
            self.detector = CameraDetector(camera, self.scenario.road, self.config)
        except (ValueError, cv2.error, np.linalg.LinAlgError) as exc:
            raise MalformedMessageError(f"unusable camera model: {exc}") from None

    def _on_schedule(self, msg: AoiSchedule) -> None:
        self._regions = regions_from_msg(msg)
        scheduled = np.ones(len(msg.track_ids), dtype=bool)
        self._frame_energy_j = frame_energy_j(scheduled, msg.scan, self.scenario.aoi)
        self._camera_on = msg.camera_on

    def _on_image(self, msg: Image) -> None:
        if self.detector is None:
            return  # no camera model yet
        image = image_from_msg(msg)
        if msg.header.stamp.sec < 0:
            raise MalformedMessageError(f"image stamped {stamp_seconds(msg):g} s, before 0")
        try:
            self.detector.check_image(image)
        except ValueError as exc:
            raise MalformedMessageError(str(exc)) from None
        if self.follow_schedule and not self._camera_on:
            self.detector.observe(image)
            return
        started = time.perf_counter()
        found = self.detector.detect(image, self._regions if self.follow_schedule else None)
        spent = time.perf_counter() - started
        energy = (
            self._frame_energy_j
            if self.follow_schedule
            else frame_energy_j(np.zeros(0, dtype=bool), True, self.scenario.aoi)
        )
        slot = round(stamp_seconds(msg) / self.scenario.slot_s)  # >= 0: checked above
        self._pub.publish(
            camera_detections_to_msg(found, msg.header.stamp, slot, ROAD_FRAME, spent, energy)
        )
        self.diagnostics.record(spent)


def _same_camera(a: PinholeCamera, b: PinholeCamera) -> bool:
    return (a.width_px, a.height_px) == (b.width_px, b.height_px) and all(
        np.array_equal(x, y)
        for x, y in (
            (a.intrinsics, b.intrinsics),
            (a.rotation, b.rotation),
            (a.centre_m, b.centre_m),
        )
    )


def main(args: list[str] | None = None) -> None:
    run_node(CameraSemantics, "camera_semantics", args)


if __name__ == "__main__":
    main()
