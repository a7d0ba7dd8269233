"""Vehicles' own reports: the measurement's covariance against Monte Carlo, and the
tracker's fusion of them (gated, out of sequence, births only on the road)."""

import numpy as np
import pytest

from rsu_isac.core.scenario import load_named_scenario
from rsu_isac.core.tracker import COASTING, CONFIRMED, Tracker, TrackerConfig
from rsu_isac.core.v2x import VehicleReports, report_measurement
from rsu_isac.platform.paths import scenarios_dir
from tests.core.test_tracker import SLOT, detections_of, make_tracker

P, V = np.array([-10.0, 10.0]), np.array([12.0, 0.0])


def reports_of(positions, velocities, time_s, pos_std=1.5, speed_std=0.2, heading_std_deg=2.0):
    positions, velocities = np.atleast_2d(positions), np.atleast_2d(velocities)
    n = len(positions)
    return VehicleReports(
        np.arange(1, n + 1),
        np.full(n, float(time_s)),
        positions.astype(float),
        np.full(n, pos_std),
        np.hypot(velocities[:, 0], velocities[:, 1]),
        np.full(n, speed_std),
        np.arctan2(velocities[:, 1], velocities[:, 0]),
        np.full(n, np.deg2rad(heading_std_deg)),
    )


def test_the_velocity_covariance_is_that_of_noisy_speed_and_heading():
    """J diag(sigma_s^2, sigma_h^2) J^T against the sample covariance of s (cos h, sin h)."""
    rng = np.random.default_rng(0)
    reports = reports_of([0.0, 0.0], [20.0, 5.0], 0.0, speed_std=0.3, heading_std_deg=1.0)
    _, cov = report_measurement(reports)
    s = reports.speed_mps[0] + 0.3 * rng.standard_normal(400_000)
    h = reports.heading_rad[0] + np.deg2rad(1.0) * rng.standard_normal(400_000)
    sample = np.cov(np.stack([s * np.cos(h), s * np.sin(h)]))
    np.testing.assert_allclose(cov[0, 2:, 2:], sample, rtol=0.02, atol=1e-4)
    assert cov[0, :2, :2] == pytest.approx(np.eye(2) * 1.5**2)
    assert not cov[0, :2, 2:].any()


def test_a_report_updates_its_track_and_a_gross_one_does_not():
    tracker = make_tracker()
    for n in range(1, 6):
        tracker.step(n * SLOT, detections_of(P + V * n * SLOT, V))
    before = tracker.view()
    t = 5 * SLOT
    truth = P + V * t
    ids = tracker.report_update(reports_of(truth + np.array([1.0, -0.5]), V, t))
    assert ids.tolist() == [1]
    after = tracker.view()
    assert after.hits[0] == before.hits[0] + 1
    # metres of GNSS error move a centimetre-accurate radar track by little
    assert np.linalg.norm(after.position_xy[0] - truth) < 0.1
    # 30 m along the lane from every track: a new confirmed track, the old one untouched
    ids = tracker.report_update(reports_of(truth + np.array([30.0, 0.0]), V, t))
    assert ids.tolist() == [2]
    view = tracker.view()
    assert view.position_xy[0] == pytest.approx(after.position_xy[0])
    assert view.status.tolist() == [CONFIRMED, CONFIRMED]
    assert view.position_xy[1] == pytest.approx(truth + np.array([30.0, 0.0]), abs=1e-6)
    assert view.velocity_xy[1] == pytest.approx(V, abs=1e-6)


def test_reports_off_the_road_start_nothing():
    scenario = load_named_scenario("seed000", scenarios_dir())
    tracker = Tracker.for_scenario(scenario, 0, TrackerConfig(), seed=0)
    lane_y = scenario.road.lanes[0].y_m
    ids = tracker.report_update(reports_of([[0.0, lane_y], [0.0, lane_y + 40.0]], [V, V], 0.0))
    assert ids[0] > 0 and ids[1] == -1 and len(tracker) == 1


def test_reports_hold_a_track_the_radar_lost_for_two_report_periods():
    tracker = make_tracker(max_coast_slots=5, max_report_coast_slots=10)
    for n in range(1, 6):
        tracker.step(n * SLOT, detections_of(P + V * n * SLOT, V))
    statuses = []
    for n in range(6, 60):  # radar: nothing; a report every 5 slots, heard 2 slots late
        tracker.step(n * SLOT, detections_of(np.zeros((0, 2)), np.zeros((0, 2))))
        if n % 5 == 0:
            t = (n - 2) * SLOT
            tracker.report_update(reports_of(P + V * t, V, t))
        statuses.append(int(tracker.view().status[0]) if len(tracker) else -1)
    assert tracker.view().track_id.tolist() == [1]
    assert set(statuses[:4]) == {COASTING}  # slots 6-9: before the first report
    assert set(statuses[4:]) == {CONFIRMED}
    # no more reports: held for max_report_coast_slots from the last report's generation
    lost = []
    for n in range(60, 75):
        tracker.step(n * SLOT, detections_of(np.zeros((0, 2)), np.zeros((0, 2))))
        lost.append(len(tracker))
    assert lost.index(0) == 64 - 60  # generated at slot 53: 11 slots unmeasured at slot 64


def test_reports_are_fused_at_their_generation_time():
    """A report 0.06 s late lands where the same report in time would have put the track."""
    in_order, late = make_tracker(), make_tracker()
    for n in range(1, 11):
        for tracker in (in_order, late):
            tracker.step(n * SLOT, detections_of(P + V * n * SLOT, V, snr_db=0.0))
    t = 10 * SLOT
    report = reports_of(P + V * t + np.array([0.4, 0.3]), V + np.array([0.5, 0.0]), t, pos_std=0.5)
    in_order.report_update(report)
    for n in range(11, 14):
        in_order.step(n * SLOT, detections_of(np.zeros((0, 2)), np.zeros((0, 2))))
        late.step(n * SLOT, detections_of(np.zeros((0, 2)), np.zeros((0, 2))))
    late.report_update(report)
    a, b = in_order.view(), late.view()
    assert b.position_xy[0] == pytest.approx(a.position_xy[0], abs=0.01)
    # the late update neglects the process noise over the lag (sigma_v = 0.5 m/s per slot
    # here): it weighs the report's velocity more than the in-order one, within that noise
    assert b.velocity_xy[0] == pytest.approx(a.velocity_xy[0], abs=0.5)
    assert a.status[0] == COASTING or a.misses[0] == 3
    assert b.misses[0] == 3  # counted from the report's generation
