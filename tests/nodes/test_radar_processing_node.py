"""radar_processing on real DDS: a simulator echo becomes detections at the vehicles;
measurement-level echoes pass through; malformed echoes are counted and dropped."""

import numpy as np
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.qos import QoSProfile, ReliabilityPolicy

from rsu_isac.core.geometry import to_polar
from rsu_isac.core.scenario import load_named_scenario
from rsu_isac.nodes.convert import frame_to_echo_msg, measurements_to_echo_msg, sim_time
from rsu_isac.nodes.qos import LARGE_SENSOR
from rsu_isac.platform.paths import scenarios_dir
from rsu_isac.sim.world import SimConfig, Simulator
from rsu_isac_interfaces.msg import RadarDetectionArray, RadarEcho
from tests.ros_helpers import REPO, node_process, publish_until_answered, spin_until

pytestmark = pytest.mark.ros
RELIABLE = QoSProfile(depth=20, reliability=ReliabilityPolicy.RELIABLE)
PARAMS = ["--params-file", str(REPO / "config" / "radar_processing.param.yaml")]


def simulated_slot(abstraction: str):
    sc = load_named_scenario("seed000", scenarios_dir())
    sim = Simulator(sc, SimConfig(abstraction=abstraction, seed=4, camera_period_slots=0))
    try:
        out = sim.step()
    finally:
        sim.close()
    echo = out.echoes[0]
    stamp = sim_time(out.time_s)
    if abstraction == "signal":
        msg = frame_to_echo_msg(echo.frame, sc, stamp, out.slot, "rsu0")
    else:
        msg = measurements_to_echo_msg(echo.measurements, sc, stamp, out.slot, "rsu0")
    return sc, out, msg


def test_echo_to_detections_pass_through_and_malformed_input():
    sc, out, signal_msg = simulated_slot("signal")
    _, _, measurement_msg = simulated_slot("measurement")
    received: list[RadarDetectionArray] = []
    diagnostics: list[DiagnosticArray] = []
    with (
        rclpy.init(),
        node_process("rsu_isac.nodes.radar_processing", *PARAMS, "-r", "__ns:=/rsu0") as radar,
    ):
        node = rclpy.create_node("radar_probe")
        pub = node.create_publisher(RadarEcho, "/rsu0/radar/echo", LARGE_SENSOR)
        detections_sub = node.create_subscription(
            RadarDetectionArray, "/rsu0/radar/detections", received.append, RELIABLE
        )
        node.create_subscription(DiagnosticArray, "/diagnostics", diagnostics.append, RELIABLE)
        assert spin_until(
            node,
            lambda: pub.get_subscription_count() > 0 and detections_sub.get_publisher_count() > 0,
            30,
            radar,
        )

        def send(msg, count):
            # best-effort sensor QoS: repeat until an answer arrives (bounded)
            return publish_until_answered(
                node, lambda: pub.publish(msg), lambda: len(received) >= count, radar
            )

        def passed_through() -> bool:
            return any(list(r.detections) == list(measurement_msg.measurements) for r in received)

        assert send(signal_msg, 1)
        detections = received[-1].detections
        polar = to_polar(sc.rsus[0].position_m, out.vehicles.position_xy, out.vehicles.velocity_xy)
        for d, v, theta in zip(
            polar.range_m, polar.radial_velocity_mps, polar.theta_rad, strict=True
        ):
            nearest = min(detections, key=lambda x: abs(x.range_m - d))
            assert nearest.range_m == pytest.approx(d, abs=0.2)
            assert nearest.radial_velocity_mps == pytest.approx(v, abs=0.5)
            assert nearest.azimuth_rad == pytest.approx(theta, abs=np.radians(0.5))
            assert nearest.range_variance_m2 > 0 and nearest.azimuth_variance_rad2 > 0

        # a slow first frame can be answered twice (it is repeated every 0.5 s until answered),
        # so a count would not tell the pass-through answer from a late signal-level one
        answered = publish_until_answered(
            node, lambda: pub.publish(measurement_msg), passed_through, radar
        )
        assert answered and list(received[-1].detections) == list(measurement_msg.measurements)

        bad = RadarEcho(
            abstraction=RadarEcho.ABSTRACTION_SIGNAL,
            waveform="ofdm",
            num_rx_antennas=4,
            num_symbols=4,
            num_subcarriers=4,
        )
        bad.real = [0.0] * 10  # wrong size
        nan = RadarEcho(abstraction=RadarEcho.ABSTRACTION_MEASUREMENT)
        nan.measurements = list(measurement_msg.measurements)
        nan.measurements[0].range_m = float("nan")
        for _ in range(5):
            pub.publish(bad)
            pub.publish(nan)
        assert spin_until(
            node,
            lambda: any(
                kv.key == "dropped:radar/echo" and int(kv.value) >= 2
                for msg in diagnostics
                for status in msg.status
                for kv in status.values
            ),
            30,
            radar,
        )
        assert send(signal_msg, 3)  # still running
