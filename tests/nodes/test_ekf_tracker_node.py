"""ekf_tracker on real DDS: simulator detections become confirmed tracks at the vehicles,
camera detections reset the AoI, a time jump resets the tracks (a stray stamp does not),
a malformed detection is rejected alone and counted, and bad parameters stop the node with a
named error."""

import copy
import subprocess
import sys

import numpy as np
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.qos import QoSProfile, ReliabilityPolicy

from rsu_isac.core.scenario import load_named_scenario
from rsu_isac.nodes.convert import detections_to_msgs, sim_time
from rsu_isac.platform.paths import scenarios_dir
from rsu_isac.sim.world import SimConfig, Simulator
from rsu_isac_interfaces.msg import (
    CameraDetection,
    CameraDetectionArray,
    RadarDetectionArray,
    Track,
    TrackArray,
)
from tests.ros_helpers import REPO, node_process, publish_until_answered, spin_until

pytestmark = pytest.mark.ros
RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
PARAMS = ["--params-file", str(REPO / "config" / "ekf_tracker.param.yaml"), "-r", "__ns:=/rsu0"]


def simulated_detections(slots: int):
    sc = load_named_scenario("seed000", scenarios_dir())
    sim = Simulator(sc, SimConfig(abstraction="measurement", seed=3, camera_period_slots=0))
    frames = []
    try:
        for _ in range(slots):
            out = sim.step()
            meas = out.echoes[0].measurements
            msg = RadarDetectionArray(slot=out.slot)
            msg.header.stamp = sim_time(out.time_s)
            msg.header.frame_id = "rsu0"
            msg.detections = detections_to_msgs(meas.detections, meas.beam_index)
            frames.append((msg, out.vehicles))
    finally:
        sim.close()
    return frames


def test_tracks_camera_time_jump_and_malformed_input():
    frames = simulated_detections(30)
    received: list[TrackArray] = []
    diagnostics: list[DiagnosticArray] = []
    with rclpy.init(), node_process("rsu_isac.nodes.ekf_tracker", *PARAMS) as tracker:
        node = rclpy.create_node("tracker_probe")
        radar = node.create_publisher(RadarDetectionArray, "/rsu0/radar/detections", RELIABLE)
        camera = node.create_publisher(CameraDetectionArray, "/rsu0/camera/detections", RELIABLE)
        tracks_sub = node.create_subscription(TrackArray, "/rsu0/tracks", received.append, RELIABLE)
        node.create_subscription(DiagnosticArray, "/diagnostics", diagnostics.append, RELIABLE)
        assert spin_until(
            node,
            lambda: (
                radar.get_subscription_count() > 0
                and camera.get_subscription_count() > 0
                and tracks_sub.get_publisher_count() > 0  # matched, not only listed
            ),
            30,
            tracker,
        )

        # an empty frame at the first frame's time, repeated until the tracker answers: both
        # sides have matched, and the tracker (no tracks yet) is left as it was
        empty = RadarDetectionArray(header=frames[0][0].header, slot=frames[0][0].slot - 1)
        assert publish_until_answered(
            node, lambda: radar.publish(empty), lambda: bool(received), tracker
        )

        def send(msg):
            radar.publish(msg)
            return spin_until(node, lambda: received[-1].slot == msg.slot, 10, tracker)

        for msg, _ in frames[:-1]:
            assert send(msg)
        last = received[-1]
        truth = frames[-2][1]
        assert len(last.tracks) == len(truth) == 3
        for track in last.tracks:
            assert track.status == Track.STATUS_CONFIRMED
            nearest = np.min(np.hypot(truth.x_m - track.position.x, truth.y_m - track.position.y))
            assert nearest < 0.05
            assert 0 < track.pcrb_range_m2 <= track.state_covariance[4] * (1 + 1e-6)
            assert track.aoi_s == pytest.approx(28 * 0.02)
        assert len({bytes(t.uuid.uuid) for t in last.tracks}) == 3
        assert last.slot_duration_s == pytest.approx(0.02)

        # a camera detection of the first vehicle resets its semantic AoI
        msg, vehicles = frames[-1]
        cam = CameraDetectionArray()
        cam.header.stamp = msg.header.stamp
        cam.detections = [
            CameraDetection(
                x_m=float(vehicles.x_m[0]),
                y_m=float(vehicles.y_m[0]),
                position_covariance=[0.25, 0.0, 0.0, 0.25],
            )
        ]
        camera.publish(cam)
        spin_until(node, lambda: False, 0.5, tracker)  # let it arrive before the radar frame
        assert send(msg)
        aoi = sorted(t.aoi_s for t in received[-1].tracks)
        assert aoi[0] == pytest.approx(0.0, abs=1e-9) and aoi[-1] > 0.5

        # a malformed detection is rejected alone, counted, and the node keeps running
        bad = copy.deepcopy(msg)
        bad.detections[0].azimuth_variance_rad2 = float("nan")
        bad.header.stamp, bad.slot = frames[-1][0].header.stamp, msg.slot + 1
        assert send(bad)
        assert len(received[-1].tracks) == 3  # the two other vehicles' detections were used
        assert spin_until(
            node,
            lambda: any(
                kv.key == "rejected:radar/detections" and int(kv.value) >= 1
                for m in diagnostics
                for s in m.status
                for kv in s.values
            ),
            30,
            tracker,
        )
        # time jumps back (bag loop): one stray frame is dropped, three frames of the new
        # timeline reset the tracks, with new ids
        old_ids = {t.id for t in received[-1].tracks}
        answered = len(received)
        for stray, _ in frames[:2]:
            radar.publish(stray)
            spin_until(node, lambda: False, 0.3, tracker)
        assert len(received) == answered  # neither was taken (1 of 3, 2 of 3)
        assert send(frames[2][0])
        fresh = received[-1].tracks
        assert len(fresh) == 3  # confirmed at once: the detections are far above 20 dB
        assert all(t.status == Track.STATUS_CONFIRMED and t.hits == 1 for t in fresh), [
            (t.status, t.hits, t.id) for t in fresh
        ]
        assert min(t.id for t in fresh) > max(old_ids)


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("motion_model:=spline", "parameter 'motion_model' = 'spline' is not allowed"),
        ("confirm_hits:=9", "parameter 'confirm_hits' = 9 exceeds 'confirm_window' = 6"),
        ("rsu:=rsu7", "parameter 'rsu' = 'rsu7' is not allowed; allowed: rsu0"),
    ],
)
def test_bad_parameters_stop_with_a_named_error(argument, message):
    result = subprocess.run(
        [sys.executable, "-m", "rsu_isac.nodes.ekf_tracker", "--ros-args", *PARAMS, "-p", argument],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr
