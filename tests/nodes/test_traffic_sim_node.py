"""traffic_sim on real DDS: the clock advances, ground truth and echoes arrive, and a
command sent back changes the link metrics."""

import numpy as np
import pytest
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock

from rsu_isac.core.beams import BeamSet
from rsu_isac.core.scenario import load_named_scenario
from rsu_isac.nodes.convert import beamset_to_msg, sim_time
from rsu_isac.nodes.qos import LARGE_SENSOR
from rsu_isac.platform.paths import scenarios_dir
from rsu_isac.sim.traffic import VehicleStates
from rsu_isac.sim.world import omni_beams
from rsu_isac_interfaces.msg import (
    BeamformingCommand,
    LinkMetrics,
    RadarEcho,
    VehicleStateArray,
)
from tests.ros_helpers import REPO, node_process, spin_until
from tests.sim.test_world import genie_beams

pytestmark = pytest.mark.ros
RELIABLE = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
PARAMS = [
    "--params-file",
    str(REPO / "config" / "traffic_sim.param.yaml"),
    "-p",
    "real_time_factor:=0.0",
    "-p",
    "lockstep_timeout_s:=10.0",  # generous: a loaded CI machine must not break lockstep
]


def states_from_msg(msg: VehicleStateArray) -> VehicleStates:
    v = msg.vehicles
    col = lambda name, dtype=float: np.array([getattr(x, name) for x in v], dtype=dtype)  # noqa: E731
    return VehicleStates(
        col("id", np.int64),
        col("classification", np.int8),
        col("lane", np.int32),
        col("x_m"),
        col("y_m"),
        col("vx_mps"),
        col("vy_mps"),
        col("heading_rad"),
        col("length_m"),
        col("width_m"),
    )


@pytest.mark.parametrize("abstraction", ["measurement", "signal"])
def test_clock_truth_echo_and_command_loop(abstraction):
    """The probe acts as the policy: it answers every slot with the command for the next
    one (sensing only at first, then genie beams), so lockstep never times out."""
    sc = load_named_scenario("seed000", scenarios_dir())
    clocks, truths, echoes, links = [], [], [], []
    genie_slot: list[int] = []

    with (
        rclpy.init(),
        node_process(
            "rsu_isac.nodes.traffic_sim",
            *PARAMS,
            "-p",
            f"abstraction:={abstraction}",
            "-p",
            "wait_for_subscribers:=sim/ground_truth,link/metrics",  # slot 1 reaches the probe
        ) as sim,
    ):
        node = rclpy.create_node("traffic_sim_probe")
        command_pub = node.create_publisher(BeamformingCommand, "beamforming/command", RELIABLE)

        def on_truth(msg: VehicleStateArray) -> None:
            truths.append(msg)
            beams = omni_beams(sc)
            if msg.slot >= 3 and not genie_slot:
                genie_slot.append(msg.slot + 1)
                beams = genie_beams(sc, states_from_msg(msg))
            policy = "genie_test" if genie_slot and genie_slot[0] == msg.slot + 1 else "sensing"
            command_pub.publish(
                beamset_to_msg(
                    beams, sim_time(0.0), msg.slot + 1, policy, "road", sc.radio.max_power_w
                )
            )

        node.create_subscription(Clock, "/clock", lambda m: clocks.append(m.clock), RELIABLE)
        node.create_subscription(VehicleStateArray, "sim/ground_truth", on_truth, RELIABLE)
        node.create_subscription(RadarEcho, "rsu0/radar/echo", echoes.append, LARGE_SENSOR)
        node.create_subscription(LinkMetrics, "link/metrics", links.append, RELIABLE)
        assert spin_until(
            node,
            lambda: (
                any(m.command_slot == m.slot and m.policy == "genie_test" for m in links)
                and len(echoes) >= 2
            ),
            60,
            sim,
        )

    # the clock advances by one slot per message
    seconds = np.array([c.sec + c.nanosec * 1e-9 for c in clocks])
    assert np.all(np.diff(seconds) == pytest.approx(sc.slot_s, abs=1e-9))
    echo = echoes[-1]
    if abstraction == "signal":
        assert echo.abstraction == RadarEcho.ABSTRACTION_SIGNAL
        assert len(echo.real) == echo.num_rx_antennas * echo.num_symbols * echo.num_subcarriers
        assert (echo.num_rx_antennas, echo.num_symbols, echo.num_subcarriers) == (32, 64, 128)
    else:
        assert echo.abstraction == RadarEcho.ABSTRACTION_MEASUREMENT
        assert len(echo.measurements) == 3
    # sensing-only slots carry no data; the genie command, applied to exactly its slot
    # (lockstep), serves every vehicle
    before = [m for m in links if m.slot < genie_slot[0]]
    assert before and all(m.sum_rate_bps_hz == 0.0 for m in before)
    scored = next(m for m in links if m.slot == genie_slot[0])
    assert scored.command_slot == genie_slot[0] and scored.policy == "genie_test"
    assert scored.sum_rate_bps_hz > 10.0
    assert not any(v.misaligned for v in scored.links)


def test_malformed_command_is_dropped_and_the_node_keeps_running():
    links = []
    with (
        rclpy.init(),
        node_process(
            "rsu_isac.nodes.traffic_sim",
            *PARAMS,
            "-p",
            "abstraction:=measurement",
            "-p",
            "lockstep:=false",
        ) as sim,
    ):
        node = rclpy.create_node("traffic_sim_probe")
        node.create_subscription(LinkMetrics, "link/metrics", links.append, RELIABLE)
        command_pub = node.create_publisher(BeamformingCommand, "beamforming/command", RELIABLE)
        assert spin_until(node, lambda: command_pub.get_subscription_count() > 0, 30, sim)
        bad = BeamformingCommand(slot=10**6, policy="bad", num_antennas=7)  # wrong size
        command_pub.publish(bad)
        nan = BeamformingCommand(slot=10**6, policy="nan", num_antennas=32)
        nan.beams = beamset_to_msg(genie_beams_nan(), sim_time(0), 0, "nan", "road", 1.0).beams
        command_pub.publish(nan)
        count = len(links)
        assert spin_until(node, lambda: len(links) > count + 5, 30, sim)
        assert sim.poll() is None
        assert all(link.policy == "none" for link in links)


def genie_beams_nan() -> BeamSet:
    w = np.full((1, 32), np.nan, dtype=complex)
    return BeamSet(w, np.ones(1), np.zeros(1, int), np.zeros(1, int), np.ones(1, int), np.zeros(1))


@pytest.mark.parametrize(
    ("topics", "error"),
    [
        ("link/metrics,9bad", "'9bad' is not a topic name"),
        ("link/metrics,camera/x", "camera/x not published by traffic_sim"),
    ],
)
def test_a_bad_wait_for_subscribers_topic_stops_with_a_named_error(topics, error):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "rsu_isac.nodes.traffic_sim", "--ros-args", *PARAMS,
         "-p", f"wait_for_subscribers:={topics}"],
        cwd=REPO,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert f"parameter 'wait_for_subscribers': {error}" in result.stderr
