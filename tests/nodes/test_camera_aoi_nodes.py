"""camera_semantics and aoi_scheduler on real DDS: rendered frames with camera_info and the
mounting pose become road-plane detections at the vehicles (whole road, or only the
scheduled regions), tracks become a schedule and an AoI state, malformed input is counted
and dropped, and bad parameters stop the node with a named error."""

import copy
import subprocess
import sys

import numpy as np
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped
from sensor_msgs.msg import CameraInfo, Image

from rsu_isac.core.radar_dsp import Detections
from rsu_isac.core.scenario import load_named_scenario
from rsu_isac.core.tracker import COASTING, CONFIRMED, Tracker, TrackerConfig
from rsu_isac.nodes.convert import (
    MalformedMessageError,
    aoi_inputs_from_msg,
    camera_info_msg,
    camera_pose_msg,
    image_to_msg,
    regions_from_msg,
    sim_time,
    tracks_to_msg,
)
from rsu_isac.nodes.qos import LARGE_SENSOR, LATCHED, RELIABLE
from rsu_isac.platform.paths import scenarios_dir
from rsu_isac.scheduling.scheduler import TrackAoiInputs
from rsu_isac.sim.world import SimConfig, Simulator
from rsu_isac_interfaces.msg import AoiSchedule, AoiState, CameraDetectionArray, TrackArray
from tests.ros_helpers import REPO, node_process, publish_until_answered, spin_until

pytestmark = pytest.mark.ros
CAMERA = [
    "--params-file", str(REPO / "config" / "camera_semantics.param.yaml"),
    "-r", "__ns:=/rsu0", "-p", "scenario:=seed003", "-p", "follow_schedule:=false",
]  # fmt: skip
SCHEDULER = [
    "--params-file", str(REPO / "config" / "aoi_scheduler.param.yaml"),
    "-r", "__ns:=/rsu0", "-p", "scenario:=seed003", "-p", "policy:=vision_only",
]  # fmt: skip


def test_the_scheduler_reads_the_same_coasting_slots_from_messages_as_headless():
    """A camera-held track the radar does not see (confirmed, 5 misses) is no coasting
    track for the threshold trigger; a radar track that lost its echo is (3 slots)."""
    scenario = load_named_scenario("seed003", scenarios_dir())
    tracker = Tracker.for_scenario(scenario, 0, TrackerConfig(), seed=1)
    v = np.array([[25.0, 0.0]])
    for n in (1, 2):  # camera-held from its second fix
        tracker.step(n * 0.02, Detections.empty())
        tracker.camera_update(n * 0.02, np.array([[-20.0, 15.0]]) + v * n * 0.02, np.eye(2)[None])
    for n in range(3, 8):
        tracker.step(n * 0.02, Detections.empty())
    view = tracker.view()
    assert view.status.tolist() == [CONFIRMED] and view.misses.tolist() == [5]
    msg = tracks_to_msg(view, 0, sim_time(0.14), 7, 0.02, "map")
    lost = copy.deepcopy(msg.tracks[0])
    lost.id, lost.status, lost.misses = 9, COASTING, 3
    msg.tracks.append(lost)
    from_msg = aoi_inputs_from_msg(msg)
    assert from_msg.track_id.tolist() == [1, 9]
    assert from_msg.coasting_slots.tolist() == [0, 3]
    headless = TrackAoiInputs.from_view(view, np.ones(1, dtype=bool))
    assert headless.coasting_slots.tolist() == [0]


def test_camera_semantics_detects_the_vehicles():
    sc = load_named_scenario("seed003", scenarios_dir())
    sim = Simulator(sc, SimConfig(camera_period_slots=1, seed=0, abstraction="measurement"))
    try:
        outs = [sim.step() for _ in range(60)]
    finally:
        sim.close()
    camera = sim.mast_camera
    received: list[CameraDetectionArray] = []
    diagnostics: list[DiagnosticArray] = []
    with rclpy.init(), node_process("rsu_isac.nodes.camera_semantics", *CAMERA) as proc:
        node = rclpy.create_node("camera_probe")
        images = node.create_publisher(Image, "/rsu0/camera/image_raw", LARGE_SENSOR)
        info = node.create_publisher(CameraInfo, "/rsu0/camera/camera_info", LATCHED)
        pose = node.create_publisher(PoseStamped, "/rsu0/camera/pose", LATCHED)
        sub = node.create_subscription(
            CameraDetectionArray, "/rsu0/camera/detections", received.append, RELIABLE
        )
        node.create_subscription(DiagnosticArray, "/diagnostics", diagnostics.append, RELIABLE)
        info.publish(camera_info_msg(camera, sim_time(0.0), "cam"))
        pose.publish(camera_pose_msg(camera, sim_time(0.0), "road"))
        assert spin_until(
            node, lambda: images.get_subscription_count() > 0 and sub.get_publisher_count() > 0,
            30, proc,
        )  # fmt: skip
        spin_until(node, lambda: False, 1.0, proc)  # the latched camera model arrives

        def send(out, before: int) -> None:
            images.publish(image_to_msg(out.image, sim_time(out.time_s), "cam"))
            spin_until(node, lambda: len(received) > before, 2.0, proc)

        for out in outs:
            send(out, len(received))
        bad = image_to_msg(outs[0].image, sim_time(0.0), "cam")
        bad.encoding = "mono8"
        images.publish(bad)
        assert spin_until(
            node,
            lambda: any(
                kv.key == "dropped:camera/image_raw"
                for d in diagnostics
                for s in d.status
                for kv in s.values
            ),
            10,
            proc,
        )
        assert proc.poll() is None
    found = [(m, outs[int(m.slot) - 1].vehicles) for m in received if m.detections]
    assert len(found) > 10
    errors = [
        np.min(np.hypot(v.x_m - d.x_m, v.y_m - d.y_m)) for m, v in found for d in m.detections
    ]
    assert np.median(errors) < 0.3
    assert all(m.energy_j == 40.0 for m in received)  # whole-road frames: full_frame_energy_j


def test_aoi_scheduler_schedules_every_track_for_vision_only():
    sc = load_named_scenario("seed003", scenarios_dir())
    from rsu_isac.core.tracker import Tracker, TrackerConfig

    sim = Simulator(sc, SimConfig(camera_period_slots=0, seed=0, abstraction="measurement"))
    tracker = Tracker.for_scenario(sc, 0, TrackerConfig(), 0)
    try:
        for _ in range(5):
            out = sim.step()
            tracker.step(out.time_s, out.echoes[0].measurements.detections)
    finally:
        sim.close()
    msg = tracks_to_msg(tracker.view(), 0, sim_time(out.time_s), out.slot, sc.slot_s, "road")
    schedules: list[AoiSchedule] = []
    states: list[AoiState] = []
    with rclpy.init(), node_process("rsu_isac.nodes.aoi_scheduler", *SCHEDULER) as proc:
        node = rclpy.create_node("aoi_probe")
        pub = node.create_publisher(TrackArray, "/rsu0/tracks", RELIABLE)
        a = node.create_subscription(AoiSchedule, "/rsu0/aoi/schedule", schedules.append, RELIABLE)
        b = node.create_subscription(AoiState, "/rsu0/aoi/state", states.append, RELIABLE)
        assert spin_until(
            node,
            lambda: (
                pub.get_subscription_count() > 0
                and a.get_publisher_count() > 0
                and b.get_publisher_count() > 0
            ),
            30,
            proc,
        )
        assert publish_until_answered(
            node, lambda: pub.publish(msg), lambda: bool(states and schedules), proc
        )
        spin_until(node, lambda: False, 1.0, proc)  # answers to any repeats arrive
        answers = len(states)
        broken = TrackArray()
        broken.tracks = [msg.tracks[0]]
        broken.tracks[0].azimuth_rad = float("nan")
        pub.publish(broken)
        spin_until(node, lambda: False, 1.0, proc)
        assert proc.poll() is None and len(states) == answers  # the NaN array was dropped
    confirmed = [t.id for t in msg.tracks if t.status != 0]
    assert len(confirmed) == 4
    assert schedules[0].camera_on and sorted(schedules[0].track_ids) == sorted(confirmed)
    assert states[0].energy_comp_j == 40.0  # a whole-road frame: 003's 40 J of vision-only
    assert schedules[0].scan and len(schedules[0].region_centers) == 5  # 4 tracks, the road
    wrong = copy.deepcopy(schedules[0])
    wrong.scan = False  # then 5 regions for 4 tracks
    with pytest.raises(MalformedMessageError, match="5 regions for 4 scheduled tracks"):
        regions_from_msg(wrong)
    assert len(regions_from_msg(schedules[0])) == 5


def test_bad_parameters_stop_with_a_named_error(tmp_path):
    (tmp_path / "foreign.pt").write_text("not a checkpoint")
    result = subprocess.run(
        [sys.executable, "-m", "rsu_isac.nodes.aoi_scheduler", "--ros-args", *SCHEDULER,
         "-p", "policy:=lstm", "-p", f"lstm_checkpoint:={tmp_path / 'foreign.pt'}"],
        cwd=REPO, check=False, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "parameter 'lstm_checkpoint': cannot load the LSTM temporal expert" in result.stderr
