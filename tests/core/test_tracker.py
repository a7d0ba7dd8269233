"""Association against brute force, the track life cycle, resets, camera fusion, the
per-track PCRB, and multi-target scores on the 004 Poisson highway."""

import itertools

import numpy as np
import pytest

from rsu_isac.core.association import (
    global_nearest_neighbour,
    mahalanobis_cost,
    mahalanobis_lower_bound,
)
from rsu_isac.core.ekf import MOTION_MODELS, ProcessNoise
from rsu_isac.core.geometry import to_polar
from rsu_isac.core.radar_dsp import Detections
from rsu_isac.core.scenario import load_named_scenario
from rsu_isac.core.tracker import COASTING, CONFIRMED, TENTATIVE, Tracker, TrackerConfig
from rsu_isac.experiments.tracking_accuracy import highway
from rsu_isac.platform.paths import scenarios_dir

SLOT = 0.02
NOISE = ProcessNoise(np.deg2rad(0.02), 0.2, 0.5, SLOT)
VAR = np.array([1e-8, 1e-4, 1e-3])  # angle, range, v_r


def test_gnn_is_the_brute_force_optimum():
    rng = np.random.default_rng(0)
    for _ in range(30):
        t, d = rng.integers(1, 6), rng.integers(1, 6)
        cost = rng.normal(size=(t, d))
        gated = rng.random((t, d)) < 0.6
        rows, cols = global_nearest_neighbour(cost, gated)
        assert gated[rows, cols].all()
        assert len(set(rows)) == len(rows) and len(set(cols)) == len(cols)
        best = (0, 0.0)  # (pairs, -cost): most gated pairs first, then least cost
        for perm in itertools.permutations(range(max(t, d))):
            pairs = [(i, j) for i, j in zip(range(t), perm, strict=False) if j < d and gated[i, j]]
            key = (len(pairs), -sum(cost[i, j] for i, j in pairs))
            best = max(best, key)
        assert len(rows) == best[0]
        assert cost[rows, cols].sum() == pytest.approx(-best[1])


def test_mahalanobis_lower_bound_never_exceeds_the_distance():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(500, 3, 3))
    s = a @ np.swapaxes(a, 1, 2) + 1e-3 * np.eye(3)
    e = rng.normal(size=(500, 3))
    d2, cost = mahalanobis_cost(e, s)
    np.testing.assert_allclose(
        d2, [ei @ np.linalg.solve(si, ei) for ei, si in zip(e, s, strict=True)]
    )
    np.testing.assert_allclose(cost - d2, np.log(np.linalg.det(s)))
    assert np.all(mahalanobis_lower_bound(e, np.diagonal(s, axis1=1, axis2=2)) <= d2 * (1 + 1e-12))


def detections_of(positions, velocities, rsu=(0.0, 0.0), snr_db=15.0) -> Detections:
    polar = to_polar(rsu, np.atleast_2d(positions), np.atleast_2d(velocities))
    k = polar.range_m.size
    zeros = np.zeros(k)
    return Detections(
        polar.range_m,
        polar.radial_velocity_mps,
        polar.theta_rad,
        zeros,
        zeros,
        zeros + snr_db,
        *(np.full(k, v) for v in VAR[[1, 2, 0]]),
    )


def make_tracker(model="cartesian", **overrides) -> Tracker:
    return Tracker(TrackerConfig(motion_model=model, **overrides), NOISE, (0.0, 0.0), 1.0, seed=7)


@pytest.mark.parametrize("model", MOTION_MODELS)
def test_life_cycle_tentative_confirmed_coasting_deleted(model):
    tracker = make_tracker(model, confirm_hits=2, confirm_window=3, max_coast_slots=3)
    p, v = np.array([-10.0, 10.0]), np.array([12.0, 0.0])
    statuses = []
    for n in range(1, 4):
        tracker.step(n * SLOT, detections_of(p + v * n * SLOT, v))
        statuses.append(int(tracker.view().status[0]))
    assert statuses == [TENTATIVE, CONFIRMED, CONFIRMED]
    for n in range(4, 8):  # misses: coasting for max_coast_slots, then deleted
        result = tracker.step(n * SLOT, Detections.empty())
        if n < 7:
            assert tracker.view().status.tolist() == [COASTING]
    assert len(tracker) == 0 and result.deleted.tolist() == [1]
    # a tentative track that cannot reach M hits in its window is deleted
    tracker.step(8 * SLOT, detections_of(p, v))
    tracker.step(9 * SLOT, Detections.empty())
    tracker.step(10 * SLOT, Detections.empty())
    assert len(tracker) == 0
    # a strong detection starts a confirmed track
    tracker.step(11 * SLOT, detections_of(p, v, snr_db=25.0))
    assert tracker.view().status.tolist() == [CONFIRMED]


def test_ids_are_unique_across_time_jumps_and_tracks_follow_vehicles():
    tracker = make_tracker()
    p = np.array([[-20.0, 10.0], [15.0, 13.5]])
    v = np.array([[12.0, 0.0], [-14.0, 0.0]])
    for n in range(1, 40):
        result = tracker.step(n * SLOT, detections_of(p + v * n * SLOT, v))
    view = tracker.view()
    assert view.track_id.tolist() == [1, 2] and result.detection_track_id.tolist() == [1, 2]
    np.testing.assert_allclose(view.position_xy, p + v * 39 * SLOT, atol=0.05)
    np.testing.assert_allclose(view.velocity_xy, v, atol=0.5)
    assert len(set(view.uuid)) == 2
    # time goes backwards (bag loop): clean reset, new ids
    result = tracker.step(1 * SLOT, detections_of(p, v))
    assert result.reset and tracker.view().track_id.tolist() == [3, 4]
    # a long gap resets too
    assert tracker.step(10.0, detections_of(p, v)).reset


def test_coasting_tracks_leave_with_the_road_and_duplicates_merge_when_asked():
    scenario = load_named_scenario("seed000", scenarios_dir())  # road x in [-40, 40] m
    tracker = Tracker.for_scenario(scenario, 0, TrackerConfig(), seed=1)
    p, v = np.array([[36.0, 10.0]]), np.array([[12.0, 0.0]])
    tracker.step(SLOT, detections_of(p, v, snr_db=30.0))
    n = 1
    while len(tracker) and n < 60:  # no more detections: it coasts off the road's end
        n += 1
        tracker.step(n * SLOT, Detections.empty())
    assert len(tracker) == 0 and n < 40  # gone once past x = 43.5 m, before 10 misses
    merging = Tracker(TrackerConfig(merge_distance_m=1.0), NOISE, (0.0, 0.0), 1.0, seed=1)
    twins = np.array([[-10.0, 10.0], [-10.3, 10.0]])  # same speed, 0.3 m apart
    merging.step(SLOT, detections_of(twins, np.array([[12.0, 0.0]] * 2), snr_db=30.0))
    merging.step(2 * SLOT, detections_of(twins[:1] + np.array([0.24, 0.0]), [[12.0, 0.0]]))
    assert merging.view().track_id.tolist() == [1]


def test_same_seed_same_uuids():
    def uuids(seed):
        tracker = Tracker(TrackerConfig(), NOISE, (0.0, 0.0), 1.0, seed=seed)
        tracker.step(SLOT, detections_of([[-5.0, 10.0], [5.0, 10.0]], [[10.0, 0.0]] * 2))
        return tracker.view().uuid

    assert uuids(1) == uuids(1) != uuids(2)


@pytest.mark.parametrize("model", MOTION_MODELS)
def test_prediction_and_pcrb(model):
    tracker = make_tracker(model)
    p, v = np.array([-10.0, 10.0]), np.array([12.0, 0.0])
    for n in range(1, 30):
        tracker.step(n * SLOT, detections_of(p + v * n * SLOT, v))
    view = tracker.view()
    ahead = to_polar((0, 0), p + v * 30 * SLOT, v)
    assert view.predicted_polar[0, 0] == pytest.approx(ahead.theta_rad, abs=2e-3)
    assert view.predicted_polar[0, 1] == pytest.approx(ahead.range_m, abs=0.01)
    # the bound is below the filter's covariance and close to it for this linear-ish case
    pcrb, cov = np.diag(view.pcrb_polar[0]), np.diag(view.polar_covariance[0])
    assert np.all(pcrb <= cov * (1 + 1e-6))
    assert np.all(pcrb > 0.5 * cov)
    # and the prediction's variance exceeds the posterior's by about the evolution noise
    assert view.predicted_polar_covariance[0, 1, 1] > cov[1] + 0.5 * 0.2**2


@pytest.mark.parametrize("model", MOTION_MODELS)
def test_the_deterministic_pcrb_is_the_information_recursion_without_evolution_noise(model):
    """J_n = G^-T J_{n-1} G^-1 + H^T R^-1 H (eq. (25), (35) in information form with E = 0)
    along the tracker's own estimates; the bound with E stays above it."""
    from rsu_isac.core.ekf import predict
    from rsu_isac.core.tracker import polar_covariance

    tracker = make_tracker(model)
    p, v = np.array([-10.0, 10.0]), np.array([12.0, 0.0])
    tracker.step(SLOT, detections_of(p + v * SLOT, v))
    info = np.linalg.inv(tracker.tracks.p[0])
    for n in range(2, 20):
        g = predict(tracker.model, tracker.tracks.x, tracker.tracks.p, SLOT)[2][0]
        detections = detections_of(p + v * n * SLOT, v)
        tracker.step(n * SLOT, detections)
        h = tracker.model.measurement_jacobian(tracker.tracks.x)[0]
        r = np.diag(
            [
                detections.azimuth_variance_rad2[0],
                detections.range_variance_m2[0],
                detections.radial_velocity_variance_m2ps2[0],
            ]
        )
        g_inv = np.linalg.inv(g)
        info = g_inv.T @ info @ g_inv + h.T @ np.linalg.inv(r) @ h
    view = tracker.view()
    expected = polar_covariance(tracker.model, tracker.tracks.x, np.linalg.inv(info)[None])[0]
    got = view.deterministic_pcrb_polar[0]
    assert np.diag(got) == pytest.approx(np.diag(expected), rel=1e-6)
    assert np.all(np.diag(got) < np.diag(view.pcrb_polar[0]))


def test_camera_update_resets_aoi_and_shrinks_covariance():
    tracker = make_tracker()
    p, v = np.array([-10.0, 10.0]), np.array([12.0, 0.0])
    for n in range(1, 11):
        tracker.step(n * SLOT, detections_of(p + v * n * SLOT, v))
    before = tracker.view()
    assert before.aoi_s[0] == pytest.approx(9 * SLOT)
    n = 11
    truth = p + v * n * SLOT
    far = truth + np.array([0.0, 40.0])  # no track there: a new confirmed one
    ids = tracker.camera_update(n * SLOT, np.array([truth, far]), np.array([np.eye(2) * 0.01] * 2))
    assert ids.tolist() == [1, 2]
    after = tracker.view()
    assert after.aoi_s.tolist() == [0.0, 0.0]
    assert after.status.tolist() == [CONFIRMED, CONFIRMED]
    assert np.trace(after.position_covariance[0]) < np.trace(before.position_covariance[0]) + 0.2**2
    # the camera-born track sits where the camera saw it, with the camera's uncertainty
    assert after.position_xy[1] == pytest.approx(far, abs=1e-6)
    assert np.sqrt(np.diag(after.position_covariance[1])) == pytest.approx([0.1, 0.1], rel=0.05)


def test_camera_fixes_keep_a_track_alive_without_radar():
    """A confirmed track the radar no longer sees survives on camera fixes alone."""
    tracker = make_tracker()
    p, v = np.array([-10.0, 10.0]), np.array([12.0, 0.0])
    for n in range(1, 6):
        tracker.step(n * SLOT, detections_of(p + v * n * SLOT, v))
    for n in range(6, 40):  # radar: nothing; camera: the vehicle every slot
        tracker.step(n * SLOT, detections_of(np.zeros((0, 2)), np.zeros((0, 2))))
        tracker.camera_update(n * SLOT, (p + v * n * SLOT)[None], np.eye(2)[None] * 0.01)
    view = tracker.view()
    assert view.track_id.tolist() == [1] and view.status[0] == CONFIRMED
    assert view.position_xy[0] == pytest.approx(p + v * 39 * SLOT, abs=0.2)


def test_a_track_the_camera_fixed_last_stays_confirmed_until_a_max():
    """Between camera fixes (or while the vehicle is hidden from the camera) a track the
    camera fixed last is confirmed - served - for max_camera_coast_slots slots without a
    measurement, then deleted; a camera-born track only from its second fix; a radar hit
    hands it back to the radar's coasting rule."""
    tracker = make_tracker(max_coast_slots=3, max_camera_coast_slots=12)
    p, v = np.array([-10.0, 10.0]), np.array([12.0, 0.0])
    cov = np.eye(2)[None] * 0.01
    tracker.camera_update(SLOT, p[None], cov)  # camera-born: one fix is not yet held
    tracker.step(2 * SLOT, Detections.empty())
    assert tracker.view().status.tolist() == [COASTING]
    tracker.camera_update(2 * SLOT, (p + v * SLOT)[None], cov)
    for n in range(3, 15):  # 12 radar steps without a detection
        tracker.step(n * SLOT, Detections.empty())
        assert tracker.view().status.tolist() == [CONFIRMED]
    assert tracker.view().misses.tolist() == [12]
    assert tracker.step(15 * SLOT, Detections.empty()).deleted.tolist() == [1]
    # camera fixes, then radar hits: the radar rule again (coasting, deleted after 3 misses)
    for n in (16, 17):
        tracker.camera_update(n * SLOT, (p + v * n * SLOT)[None], cov)
    for n in (18, 19):
        tracker.step(n * SLOT, detections_of(p + v * n * SLOT, v))
    statuses = []
    for n in range(20, 24):
        tracker.step(n * SLOT, Detections.empty())
        statuses.extend(tracker.view().status.tolist())
    assert statuses == [COASTING] * 3 and len(tracker) == 0


def test_a_stale_camera_held_track_on_a_vehicle_goes_one_in_another_lane_stays():
    """seed003's lanes (y = 15 m eastbound, 18.5 m westbound): three camera-held tracks, C
    3 m ahead of A in A's lane (closer than any two vehicles in one lane can be), B beside
    A in the other lane. The camera then sees A only: C is a second track on A's vehicle
    and goes; B, hidden from the camera, stays."""
    scenario = load_named_scenario("seed003", scenarios_dir())
    tracker = Tracker.for_scenario(scenario, 0, TrackerConfig(), seed=1)
    start = np.array([[0.0, 15.0], [0.0, 18.5], [3.0, 15.0]])  # A, B, C
    v = np.array([[25.0, 0.0], [-25.0, 0.0], [25.0, 0.0]])
    cov = np.array([np.eye(2) * 0.01] * 3)
    for n in (1, 2):
        tracker.step(n * SLOT, Detections.empty())
        ids = tracker.camera_update(n * SLOT, start + v * n * SLOT, cov)
    assert ids.tolist() == [1, 2, 3]
    tracker.step(3 * SLOT, Detections.empty())
    tracker.camera_update(3 * SLOT, start[:1] + v[:1] * 3 * SLOT, cov[:1])
    assert tracker.step(4 * SLOT, Detections.empty()).deleted.tolist() == [3]
    assert tracker.view().track_id.tolist() == [1, 2]
    assert tracker.view().status.tolist() == [CONFIRMED, CONFIRMED]


@pytest.mark.parametrize("drop", [0.0, 0.3])
def test_poisson_highway_scores(drop):
    """004 setting (~20 vehicles, both directions): purity >= 0.95, <= 1 identity switch
    per 1000 confirmed track-slots and every vehicle confirmed within 5 slots of becoming
    detectable, also with 30 % of the detections dropped."""
    scenario = load_named_scenario("seed004", scenarios_dir())
    result = highway(scenario, "cartesian", slots=400, seed=2, drop_probability=drop)
    assert result.mean_vehicles > 12
    assert result.purity >= 0.95
    assert result.id_switches_per_1000_track_slots <= 1.0
    assert result.vehicles_seen > 50
    assert result.confirmed_within_5_slots == 1.0


def test_a_late_camera_frame_is_fused_out_of_sequence_not_a_reset():
    """A camera frame one slot older than the last radar frame (the camera is slower)
    updates the tracks as if it had come in order, instead of resetting them."""
    p, v = np.array([-10.0, 10.0]), np.array([12.0, 0.0])
    in_order, late = make_tracker(), make_tracker()
    for n in range(1, 11):
        for tracker in (in_order, late):
            tracker.step(n * SLOT, detections_of(p + v * n * SLOT, v))
    seen = p + v * 10 * SLOT + np.array([0.05, -0.05])  # the camera's view of slot 10
    cov = np.eye(2)[None] * 0.01
    in_order.camera_update(10 * SLOT, seen[None], cov)
    in_order.step(11 * SLOT, detections_of(p + v * 11 * SLOT, v))
    late.step(11 * SLOT, detections_of(p + v * 11 * SLOT, v))
    ids = late.camera_update(10 * SLOT, seen[None], cov)  # arrives after radar frame 11
    assert ids.tolist() == [1]  # associated with the live track: no reset, no new track
    a, b = in_order.view(), late.view()
    assert b.track_id.tolist() == [1]
    assert b.aoi_s[0] == pytest.approx(SLOT)  # counted from the frame's capture time
    assert b.position_xy[0] == pytest.approx(a.position_xy[0], abs=0.02)
    assert np.trace(b.position_covariance[0]) == pytest.approx(
        np.trace(a.position_covariance[0]), rel=0.3
    )


@pytest.mark.parametrize("model", MOTION_MODELS)
def test_an_echo_with_the_fisher_floor_keeps_the_angle_bound(model):
    """004 (37): the next slot's PCRB after an echo whose angle carries exactly the view's
    angle_fisher_floor (variance 1 / floor, range and v_r as the last echo's) has the angle
    bound of now; more angle information shrinks it."""
    from rsu_isac.core.bounds import pcrb_update
    from rsu_isac.core.ekf import predict
    from rsu_isac.core.tracker import polar_covariance

    tracker = make_tracker(model)
    p, v = np.array([-10.0, 10.0]), np.array([12.0, 0.0])
    for n in range(1, 15):
        tracker.step(n * SLOT, detections_of(p + v * n * SLOT, v))
    view = tracker.view()
    floor = view.angle_fisher_floor[0]
    assert floor > 0
    t = tracker.tracks
    _, _, g, e = predict(tracker.model, t.x, t.pcrb[:, 0], SLOT)
    x_next = tracker.model.predict(t.x, SLOT)
    h = tracker.model.measurement_jacobian(x_next)
    for scale, compare in ((1.0, "equal"), (4.0, "below")):
        q = np.diag([1.0 / (scale * floor), *VAR[1:]])[None]
        bound = pcrb_update(t.pcrb[:, 0], g, e, h, q)
        angle = polar_covariance(tracker.model, x_next, bound)[0, 0, 0]
        if compare == "equal":
            assert angle == pytest.approx(view.pcrb_polar[0, 0, 0], rel=1e-6)
        else:
            assert angle < 0.9 * view.pcrb_polar[0, 0, 0]
