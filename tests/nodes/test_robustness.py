"""Defects a hostile or careless user found (robustness issue), each with the node built in
this process and the message delivered through its own subscription callback, as the
executor delivers it."""

import copy
import math
import time

import numpy as np
import pytest
from rclpy.parameter import Parameter

from rsu_isac.beamforming.context import PredictedVehicles, RadioContext
from rsu_isac.beamforming.policies import create_policy
from rsu_isac.core.beams import BeamSet
from rsu_isac.core.scenario import load_named_scenario
from rsu_isac.nodes.beamforming_policy import BeamformingPolicy
from rsu_isac.nodes.convert import beamset_to_msg, sim_time
from rsu_isac.nodes.diagnostics import NodeDiagnostics
from rsu_isac.nodes.ekf_tracker import EkfTracker
from rsu_isac.nodes.fuzz import valid_stream
from rsu_isac.nodes.radar_processing import RadarProcessing
from rsu_isac.nodes.stream_gate import StreamGate, Verdict
from rsu_isac.nodes.traffic_sim import TrafficSim
from rsu_isac.platform.paths import scenarios_dir
from rsu_isac.sim.world import SimConfig, Simulator
from rsu_isac_interfaces.msg import RadarEcho, Track, TrackArray
from tests.ros_helpers import in_process

pytestmark = pytest.mark.ros


@pytest.fixture(scope="module")
def stream():
    """Valid messages of 12 slots of seed003 (measurement level, tracks from slot 2)."""
    return valid_stream(load_named_scenario("seed003", scenarios_dir()), 12, seed=5)


def test_simulated_measurements_are_within_the_radars_instrumented_range():
    """seed004 at the measurement level reported ranges such as -36 m (91 of 300 frames in
    150 slots): a noisy delay outside the range window is a miss, as in range bins."""
    sc = load_named_scenario("seed004", scenarios_dir())
    sim = Simulator(sc, SimConfig(abstraction="measurement", seed=0, camera_period_slots=0))
    policy = create_policy("predictive_mrt", RadioContext(sc))  # beams at the true vehicles
    reach = [sc.max_echo_range_m(i) for i in sc.receivers()]
    count = 0
    try:
        for n in range(150):  # before: 119 of these 300 frames held a negative range
            out = sim.step()
            for echo, limit in zip(out.echoes, reach, strict=True):
                d = echo.measurements.detections
                count += len(d)
                assert np.all((d.range_m >= 0) & (d.range_m <= limit))
                assert np.all(np.abs(d.doppler_hz) <= 0.5 / sc.radar.waveform.symbol_interval_s)
            v = out.vehicles
            truth = PredictedVehicles(v.vehicle_id, v.position_xy, v.velocity_xy)
            sim.apply(policy.decide(truth, n + 1))
    finally:
        sim.close()
    assert count > 1000  # the vehicles are still detected


def test_one_bad_detection_is_rejected_alone(stream):
    echo = copy.deepcopy(next(s["echo"] for s in stream if len(s["echo"].measurements) >= 2))
    echo.measurements[0].range_m = -36.0
    echo.measurements[0].range_variance_m2 = 4773.0
    with in_process(RadarProcessing, max_range_m=60.0) as radar:
        radar.send("radar/echo", echo)
        (out,) = radar.published["radar/detections"]
        assert len(out.detections) == len(echo.measurements) - 1
        assert radar.node.diagnostics.rejected == {"radar/echo": 1}
        assert not radar.node.diagnostics.dropped


def test_an_overflowing_echo_and_an_oversized_frame_are_dropped(stream):
    with in_process(RadarProcessing, max_frame_samples=1000) as radar:
        echo = copy.deepcopy(stream[3]["signal_echo"])
        radar.send("radar/echo", echo)  # 262144 samples > 1000
        echo.subcarrier_spacing_hz = 1e300  # was an OverflowError that ended the node
        radar.send("radar/echo", echo)
        measured = copy.deepcopy(stream[3]["echo"])
        measured.subcarrier_spacing_hz = 1e300
        radar.send("radar/echo", measured)
        assert radar.node.diagnostics.dropped == {"radar/echo": 3}
        assert not radar.published["radar/detections"]


def test_an_empty_command_turns_the_beams_off_without_killing_the_simulator():
    sc = load_named_scenario("seed000", scenarios_dir())
    params = {"scenario": "seed000", "abstraction": "measurement", "lockstep": False}
    with in_process(TrafficSim, **params, camera_period_slots=0) as sim:
        sim.node._tick()
        empty = beamset_to_msg(
            BeamSet.empty(sc.radio.array.num_tx_antennas), sim_time(0.0), 2, "t", "road", 1.0
        )
        sim.send("beamforming/command", empty)
        sim.node._tick()  # scored the empty command: an IndexError in core.channel.sinr before
        link = sim.published["link/metrics"][-1]
        assert link.command_slot == 2 and link.sum_rate_bps_hz == 0.0
        assert link.num_misaligned == len(link.links) > 0


def test_any_exception_in_a_callback_is_contained_and_counted():
    with in_process(RadarProcessing) as radar:
        diagnostics: NodeDiagnostics = radar.node.diagnostics

        def broken(msg):
            raise ZeroDivisionError("a bug")

        diagnostics.contained("radar/echo", broken)(RadarEcho(slot=7))
        assert diagnostics.errors == {"radar/echo": 1}
        assert "ZeroDivisionError: a bug" in diagnostics.last_error


def test_commands_over_the_power_budget_or_far_from_the_road_slot_are_dropped():
    sc = load_named_scenario("seed000", scenarios_dir())
    n, p_max = sc.radio.array.num_tx_antennas, sc.radio.max_power_w
    unit = np.ones((1, n), complex) / math.sqrt(n)

    def command(slot, powers):
        beams = BeamSet(
            weights=np.repeat(unit, len(powers), axis=0),
            powers_w=np.asarray(powers, float),
            rsu_index=np.zeros(len(powers), int),
            kind=np.zeros(len(powers), int),
            track_id=np.zeros(len(powers), int),
            target_angle_rad=np.zeros(len(powers)),
        )
        return beamset_to_msg(beams, sim_time(0.0), slot, "t", "road", p_max)

    params = {"scenario": "seed000", "abstraction": "measurement", "lockstep": False}
    with in_process(TrafficSim, **params, camera_period_slots=0) as sim:
        sim.send("beamforming/command", command(1, [1e6 * p_max]))
        sim.send("beamforming/command", command(1, [p_max] * 200))
        sim.send("beamforming/command", command(10**12, [p_max]))  # latched lockstep off
        assert sim.node.diagnostics.dropped == {"beamforming/command": 3}
        assert sim.node.commands_received == 0 and sim.node._command_slot == 0
        sim.send("beamforming/command", command(1, [0.5 * p_max, 0.5 * p_max]))
        assert sim.node.commands_received == 1 and sim.node._command_slot == 1


def _tracks(stream, slot: int) -> TrackArray:
    msg = copy.deepcopy(stream[4]["tracks"])
    msg.slot = slot
    return msg


def test_a_rogue_slot_does_not_latch_the_policy_and_a_looped_stream_restarts_it(stream):
    with in_process(BeamformingPolicy, scenario="seed003") as policy:
        commands = lambda: policy.published.get("beamforming/command", [])  # noqa: E731
        policy.send("rsu0/tracks", _tracks(stream, 100))
        policy.send("rsu0/tracks", _tracks(stream, 2**63))  # never published again, before
        policy.send("rsu0/tracks", _tracks(stream, 101))
        assert [c.slot for c in commands()] == [101, 102]
        for slot in (1, 2, 3, 4):  # the bag loops: a new stream after three slots
            policy.send("rsu0/tracks", _tracks(stream, slot))
        assert [c.slot for c in commands()][2:] == [4, 5]
        assert policy.node.diagnostics.dropped == {"rsu0/tracks": 3}


def test_many_tracks_are_capped_to_the_nearest(stream):
    msg = _tracks(stream, 5)
    template = next(t for t in msg.tracks if t.status == Track.STATUS_CONFIRMED)
    msg.tracks = []
    for i in range(500):
        t = copy.deepcopy(template)
        t.id, t.predicted_range_m = i + 1, 5.0 + 0.1 * i
        msg.tracks.append(t)
    with in_process(BeamformingPolicy, scenario="seed003", max_vehicles=20) as policy:
        policy.send("rsu0/tracks", msg)
        (command,) = policy.published["beamforming/command"]
        served = {b.track_id for b in command.beams if b.kind == 0}
        assert served and served <= set(range(1, 21))
        assert policy.node.diagnostics.rejected == {"rsu0/tracks": 480}


def test_a_stale_camera_frame_or_stray_stamp_never_resets_the_tracks(stream):
    with in_process(EkfTracker, scenario="seed003") as tracker:
        for slot in range(6):
            tracker.send("radar/detections", stream[slot]["detections"])
        ids = {t.id for t in tracker.published["tracks"][-1].tracks}
        assert ids
        stale = copy.deepcopy(stream[6]["camera_detections"])
        stale.header.stamp = sim_time(stream[6]["detections"].header.stamp.nanosec * 1e-9 - 50)
        tracker.send("camera/detections", stale)  # 50 s before: every track reset, before
        stray = copy.deepcopy(stream[6]["detections"])
        stray.header.stamp = sim_time(1000.0)
        tracker.send("radar/detections", stray)
        tracker.send("radar/detections", stream[6]["detections"])
        assert {t.id for t in tracker.published["tracks"][-1].tracks} >= ids
        assert tracker.node.diagnostics.dropped == {
            "camera/detections": 1,
            "radar/detections": 1,
        }
        # a real time jump: the stream restarts (three frames of the new timeline)
        for slot in range(3):
            tracker.send("radar/detections", stream[slot]["detections"])
        assert not {t.id for t in tracker.published["tracks"][-1].tracks} & ids


def test_runtime_parameter_sets_are_refused_not_ignored():
    with in_process(BeamformingPolicy, scenario="seed003") as policy:
        (result,) = policy.node.set_parameters([Parameter("policy", value="zf")])
        assert not result.successful and "read-only" in result.reason
        assert policy.node.policy.name == "predictive_mrt"


def test_the_stream_gate():
    gate = StreamGate(ahead=5, behind=2)
    assert [gate.check(v) for v in (10, 11, 9, 10**9, 12)] == [
        Verdict.ACCEPT,
        Verdict.ACCEPT,
        Verdict.ACCEPT,
        Verdict.DROP,
        Verdict.ACCEPT,
    ]
    assert [gate.check(v) for v in (1, 2, 3, 4)] == [Verdict.DROP] * 2 + [Verdict.RESET] * 1 + [
        Verdict.ACCEPT
    ]
    assert gate.check(100.0, clock_now=100.5) is Verdict.RESET  # the clock jumped with it


def test_a_policy_past_its_deadline_is_replaced_by_the_last_beams_repointed(stream):
    """With deadline_s, a decision that is not ready in time (and every decision while it
    still runs) becomes the last beams re-pointed at the new predictions, counted on
    /diagnostics; the road never waits for the slow solver."""
    import threading

    with in_process(BeamformingPolicy, scenario="seed003", deadline_s=0.5) as policy:
        commands = lambda: policy.published.get("beamforming/command", [])  # noqa: E731
        policy.send("rsu0/tracks", _tracks(stream, 5))
        (first,) = commands()
        assert policy.node.diagnostics.events == {}
        release = threading.Event()
        decide = policy.node.policy.decide
        policy.node.policy.decide = lambda *a: release.wait(10.0) and decide(*a)  # stuck
        started = time.monotonic()
        policy.send("rsu0/tracks", _tracks(stream, 6))
        policy.send("rsu0/tracks", _tracks(stream, 7))  # the stuck decision still runs
        assert time.monotonic() - started < 5.0
        assert [c.slot for c in commands()] == [6, 7, 8]
        assert policy.node.diagnostics.events == {"deadline_misses": 2}
        comm = [b for b in first.beams if b.kind == 0]
        late = [b for b in commands()[-1].beams if b.kind == 0]
        assert [b.track_id for b in late] == [b.track_id for b in comm]
        assert [b.power_w for b in late] == [b.power_w for b in comm]
        release.set()


def test_repointed_keeps_powers_turns_beams_to_the_new_predictions_and_drops_lost_tracks():
    from rsu_isac.beamforming.fallback import repointed
    from rsu_isac.core.array import steering_vector

    scenario = load_named_scenario("seed000", scenarios_dir())
    context = RadioContext(scenario)
    old = PredictedVehicles(
        np.array([1, 2]), np.array([[-5.0, 10.0], [-15.0, 10.0]]), np.full((2, 2), 12.0)
    )
    last = create_policy("predictive_mrt", context).decide(old, 1)
    new = PredictedVehicles(
        np.array([2, 3]), np.array([[-14.0, 10.0], [20.0, 10.0]]), np.full((2, 2), 12.0)
    )
    out = repointed(last, new, context)
    comm = out.kind == 0
    assert out.track_id[comm].tolist() == [2]
    assert out.powers_w[comm][0] == last.powers_w[last.track_id == 2][0]
    theta, _ = context.polar(new)
    expected = steering_vector(theta[0, 0], context.num_antennas)
    expected = expected.conj() / np.linalg.norm(expected)
    assert abs(abs(out.weights[comm][0].conj() @ expected.conj()) - 1.0) < 1e-9
    np.testing.assert_array_equal(out.weights[~comm], last.weights[last.kind != 0])


def test_diagnostics_carry_every_timing_series_and_counted_event():
    """/diagnostics: p50/p99 per timing series (processing, its named parts, series timed
    apart), counted events as keys, WARN while events were counted."""
    from diagnostic_msgs.msg import DiagnosticStatus

    with in_process(RadarProcessing) as radar:
        diagnostics: NodeDiagnostics = radar.node.diagnostics
        for ms in (1.0, 2.0, 3.0):
            diagnostics.record(ms * 1e-3, compute=ms * 0.5e-3)
        diagnostics.time(loop=0.010)
        diagnostics.publish()
        (status,) = radar.published["diagnostics"][-1].status
        values = {kv.key: kv.value for kv in status.values}
        assert values["processing_ms_p50"] == "2.000" and values["compute_ms_p50"] == "1.000"
        assert values["loop_ms_p99"] == "10.000" and values["slots"] == "3"
        assert status.level == DiagnosticStatus.OK
        diagnostics.count("deadline_misses")
        diagnostics.publish()
        (status,) = radar.published["diagnostics"][-1].status
        assert status.level == DiagnosticStatus.WARN and "deadline_misses" in status.message
        assert {kv.key: kv.value for kv in status.values}["deadline_misses"] == "1"
