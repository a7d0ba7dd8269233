"""The stack's vehicle-facing messages in the nodes: traffic_sim emits the vehicles'
reports, ekf_tracker fuses them (a malformed one rejected alone) and sends CPMs by the
inclusion rules, radar_processing's point cloud holds the detections' road positions."""

import copy

import numpy as np
import pytest
from std_msgs.msg import Header

from rsu_isac.core.geometry import to_cartesian
from rsu_isac.core.radar_dsp import Detections
from rsu_isac.nodes.convert import sim_time
from rsu_isac.nodes.ekf_tracker import EkfTracker
from rsu_isac.nodes.interop import CLOUD_FIELDS, detections_to_cloud
from rsu_isac.nodes.traffic_sim import TrafficSim
from rsu_isac_interfaces.msg import RadarDetectionArray, Track
from tests.ros_helpers import in_process

pytestmark = pytest.mark.ros


def test_reports_from_the_simulator_hold_tracks_and_make_cpms():
    """At an RF SNR where the radar detects nothing, the reports alone track the road."""
    params = {"scenario": "seed000", "abstraction": "measurement", "lockstep": False}
    sim_params = {**params, "v2x_share": 1.0, "rf_snr_db": -20.0, "camera_period_slots": 0}
    with in_process(TrafficSim, **sim_params) as sim:
        for _ in range(60):
            sim.node._tick()
        reports = sim.published["rsu0/v2x/reports"]
        echoes = sim.published["rsu0/radar/echo"]
    assert reports and all(m.header.frame_id == "road" for m in reports)
    heard = [r for m in reports for r in m.reports]
    assert {r.position_std_m for r in heard} == {1.5}
    by_slot = {m.slot: m for m in reports}
    with in_process(EkfTracker, scenario="seed000", rf_snr_db=-20.0) as tracker:
        for echo in echoes:
            if echo.slot in by_slot:
                tracker.send("v2x/reports", by_slot[echo.slot])
            frame = RadarDetectionArray(header=echo.header, slot=echo.slot, detections=[])
            tracker.send("radar/detections", frame)
        last = tracker.published["tracks"][-1]
        cpms = tracker.published["cpm"]
        assert len(last.tracks) >= 2
        assert all(t.status == Track.STATUS_CONFIRMED for t in last.tracks)
        # every CPM follows the rules: first the new objects, then fewer
        assert cpms[0].perceived_objects and cpms[0].header.frame_id == "road"
        sent = sum(len(c.perceived_objects) for c in cpms)
        assert sent < sum(c.objects_tracked for c in cpms)  # not every object every time
        first = cpms[0].perceived_objects[0]
        assert first.x_confidence_m > 0 and 0 <= first.object_perception_quality <= 15
        assert cpms[0].reference_position.y == pytest.approx(0.0)
        # one malformed report (NaN speed) is rejected alone
        bad = copy.deepcopy(reports[-1])
        bad.reports = [copy.deepcopy(bad.reports[0]), *bad.reports]
        bad.reports[0].speed_mps = float("nan")
        tracker.send("v2x/reports", bad)
        assert tracker.node.diagnostics.rejected == {"v2x/reports": 1}
        assert len(tracker.node._pending_reports[-1][1]) == len(bad.reports) - 1


def test_the_point_cloud_holds_each_detection_at_its_road_position():
    rng = np.random.default_rng(0)
    n = 5
    d = Detections(
        rng.uniform(5, 60, n), rng.uniform(-30, 30, n), rng.uniform(0.1, 3.0, n),
        np.zeros(n), np.zeros(n), rng.uniform(0, 40, n), np.ones(n), np.ones(n), np.ones(n),
    )  # fmt: skip
    cloud = detections_to_cloud(d, (3.0, -2.0), -1.0, Header(stamp=sim_time(1.0), frame_id="road"))
    points = np.frombuffer(bytes(cloud.data), dtype=np.float32).reshape(cloud.width, -1)
    assert [f.name for f in cloud.fields] == list(CLOUD_FIELDS)
    assert cloud.point_step == 4 * len(CLOUD_FIELDS) and cloud.row_step == cloud.point_step * n
    xy = to_cartesian((3.0, -2.0), d.azimuth_rad, d.range_m, -1.0)
    np.testing.assert_allclose(points[:, :2], xy, rtol=1e-6)
    np.testing.assert_allclose(points[:, 3:], np.column_stack(
        [d.range_m, d.azimuth_rad, d.radial_velocity_mps, d.snr_db]), rtol=1e-6)  # fmt: skip
