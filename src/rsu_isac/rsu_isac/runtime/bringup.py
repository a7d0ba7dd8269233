"""The pip-only runner of ``rsu-isac sim``: one process per node of the graph description
(rsu_isac.runtime.graph), a recorder in this process, a progress bar, a clean shutdown and the
report (rsu_isac.runtime.report).

Order: the stack's nodes start first; once every one of them is in the ROS graph and the
policy is subscribed to every RSU's tracks, the simulator starts (it holds slot 1 until
the policy and the radar nodes are matched, then runs in lockstep for the duration). When
it has simulated the duration it exits; the others get SIGINT and are waited for. Each
node's output goes to ``<out>/logs/<node>.log``; a traceback there fails the run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image

from rsu_isac.bags.play import BagPlayer
from rsu_isac.bags.record import BagRecorder
from rsu_isac.core.scenario import Scenario
from rsu_isac.nodes.qos import LATCHED
from rsu_isac.platform.paths import config_dir
from rsu_isac.runtime.graph import GraphOptions, NodeSpec, node_environment, node_graph
from rsu_isac.runtime.report import RunRecord, TrackSnapshot, write_report
from rsu_isac_interfaces.msg import (
    AoiState,
    BeamformingCommand,
    CameraDetectionArray,
    LinkMetrics,
    RadarDetectionArray,
    RadarEcho,
    Track,
    TrackArray,
    VehicleStateArray,
)

RECORD_QOS = QoSProfile(depth=500, reliability=ReliabilityPolicy.RELIABLE)
STARTUP_TIMEOUT_S = 60.0
SHUTDOWN_TIMEOUT_S = 15.0


class Recorder(Node):
    """Keeps what the report needs from the running graph."""

    def __init__(self, scenario: Scenario) -> None:
        super().__init__("rsu_isac_recorder")
        self.record = RunRecord()
        self.last_slot = 0
        self.create_subscription(LinkMetrics, "link/metrics", self._on_link, RECORD_QOS)
        self.create_subscription(VehicleStateArray, "sim/ground_truth", self._on_truth, RECORD_QOS)
        self.create_subscription(DiagnosticArray, "/diagnostics", self._on_diag, RECORD_QOS)
        self.create_subscription(
            BeamformingCommand, "beamforming/command", self._on_command, RECORD_QOS
        )
        camera_rsu = scenario.rsus[0].name
        self.create_subscription(AoiState, f"{camera_rsu}/aoi/state", self._on_aoi, RECORD_QOS)
        self.create_subscription(
            CameraDetectionArray, f"{camera_rsu}/camera/detections", self._on_camera, RECORD_QOS
        )
        self.track_subs = [
            self.create_subscription(
                TrackArray,
                f"{scenario.rsus[i].name}/tracks",
                lambda m, i=i: self._on_tracks(i, m),
                RECORD_QOS,
            )
            for i in scenario.receivers()
        ]

    def _on_link(self, msg: LinkMetrics) -> None:
        s = int(msg.slot)
        self.record.sum_rate[s] = msg.sum_rate_bps_hz
        self.record.fairness[s] = msg.jain_fairness
        self.record.misaligned[s] = int(msg.num_misaligned)
        self.record.late_command[s] = int(msg.command_slot) != s
        self.last_slot = max(self.last_slot, s)

    def _on_aoi(self, msg: AoiState) -> None:
        self.record.mean_misalignment_probability[int(msg.slot)] = msg.mean_misalignment_probability

    def _on_camera(self, msg: CameraDetectionArray) -> None:
        """The compute energy the camera node charged for a processed frame."""
        self.record.energy_comp_j[int(msg.slot)] = msg.energy_j

    def _on_truth(self, msg: VehicleStateArray) -> None:
        v = msg.vehicles
        self.record.truth_xy[int(msg.slot)] = np.array([[x.x_m, x.y_m] for x in v]).reshape(-1, 2)
        self.record.truth_velocity[int(msg.slot)] = np.array(
            [[x.vx_mps, x.vy_mps] for x in v]
        ).reshape(-1, 2)

    def _on_tracks(self, rsu: int, msg: TrackArray) -> None:
        ok = [t for t in msg.tracks if t.status == Track.STATUS_CONFIRMED]
        self.record.tracks[(int(msg.slot), rsu)] = TrackSnapshot(
            rsu,
            np.array([[t.azimuth_rad, t.range_m, t.radial_velocity_mps] for t in ok]).reshape(
                -1, 3
            ),
            np.array([[t.pcrb_azimuth_rad2, t.pcrb_range_m2] for t in ok]).reshape(-1, 2),
            np.array([[t.position.x, t.position.y] for t in ok]).reshape(-1, 2),
            np.array([t.aoi_s for t in ok]),
        )

    def _on_command(self, msg: BeamformingCommand) -> None:
        if msg.beams:
            w = np.array(
                [np.asarray(b.weights_real) + 1j * np.asarray(b.weights_imag) for b in msg.beams]
            )
            p = np.array([b.power_w for b in msg.beams])
            r = np.array([b.rsu_index for b in msg.beams])
            self.record.last_beams = (w, p, r)

    def _on_diag(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            if "processing_ms_p50" in values:
                self.record.latency_ms[status.name] = (
                    float(values["processing_ms_p50"]),
                    float(values["processing_ms_p99"]),
                )
            dropped = {
                k.split(":", 1)[1]: int(v) for k, v in values.items() if k.startswith("dropped:")
            }
            if dropped:
                self.record.dropped[status.name] = dropped


def _start(spec: NodeSpec, logs: Path, stack: ExitStack) -> subprocess.Popen:
    log = stack.enter_context(
        (logs / f"{spec.namespace.strip('/') or 'root'}_{spec.name}.log").open("w")
    )
    process = subprocess.Popen(
        [sys.executable, "-m", spec.module, *spec.ros_args(config_dir())],
        env={**os.environ, **node_environment()},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    stack.callback(_stop, process)
    return process


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=SHUTDOWN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class _Spinner:
    """Spins the runner's own nodes and watches the node processes."""

    def __init__(self, nodes: list[Node], processes: dict[str, subprocess.Popen]) -> None:
        self.executor = SingleThreadedExecutor()
        for node in nodes:
            self.executor.add_node(node)
        self.processes = processes

    def once(self) -> None:
        for name, p in self.processes.items():
            if p.poll() is not None and name != "traffic_sim":
                raise RuntimeError(f"node {name} exited early with status {p.returncode}")
        self.executor.spin_once(timeout_sec=0.02)

    def until(self, condition, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition():
                return True
            self.once()
        return condition()


def record_topics(scenario: Scenario) -> dict[str, type]:
    """What a recorded run keeps: clock, ground truth, link score, commands, and per RSU the
    echo (signal frames are ~2 MB each), detections and tracks, and the camera."""
    topics: dict[str, type] = {
        "/clock": Clock,
        "sim/ground_truth": VehicleStateArray,
        "link/metrics": LinkMetrics,
        "beamforming/command": BeamformingCommand,
    }
    for rsu in (scenario.rsus[i] for i in scenario.receivers()):
        topics[f"{rsu.name}/radar/echo"] = RadarEcho
        topics[f"{rsu.name}/radar/detections"] = RadarDetectionArray
        topics[f"{rsu.name}/tracks"] = TrackArray
    camera = scenario.rsus[0].name
    topics[f"{camera}/camera/image_raw"] = Image
    topics[f"{camera}/camera/camera_info"] = CameraInfo
    return topics


def _wait_for_stack(spinner: _Spinner, recorder: Recorder, specs, scenario, logs) -> None:
    expected = {(s.name, s.namespace or "/") for s in specs}
    receivers = [scenario.rsus[i].name for i in scenario.receivers()]

    def ready() -> bool:
        names = set(recorder.get_node_names_and_namespaces())
        # the recorder's readers matched to the trackers' writers (the graph alone lists
        # endpoints before they match); the policy's reader is seen through the graph
        return (
            expected <= names
            and all(sub.get_publisher_count() >= 1 for sub in recorder.track_subs)
            and all(recorder.count_subscribers(f"/{r}/tracks") >= 2 for r in receivers)
        )

    if not spinner.until(ready, STARTUP_TIMEOUT_S):
        raise RuntimeError(f"the stack did not come up within {STARTUP_TIMEOUT_S:g} s; see {logs}")


def _check_logs(logs: Path) -> None:
    failures = [p.name for p in sorted(logs.glob("*.log")) if "Traceback" in p.read_text()]
    if failures:
        raise RuntimeError(f"tracebacks in {', '.join(failures)} (in {logs})")


def run_graph(
    options: GraphOptions,
    out: Path,
    meta: dict[str, object],
    progress=None,
    record: Path | None = None,
) -> dict:
    """Start the ``sim`` graph, run it for ``options.duration_s`` of simulated time, stop it
    cleanly and write the report into ``out`` (and, with ``record``, a bag of the run).
    ``progress(n)`` is called with the number of new slots as they pass."""
    specs = node_graph("sim", options)
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    scenario = options.scenario
    total = round(options.duration_s / scenario.slot_s)
    with rclpy.init(), ExitStack() as stack:
        recorder = Recorder(scenario)
        nodes: list[Node] = [recorder]
        if record is not None:
            camera_info = f"{scenario.rsus[0].name}/camera/camera_info"
            bag = BagRecorder(record, record_topics(scenario), qos={camera_info: LATCHED})
            stack.callback(bag.close)
            nodes.append(bag)
        processes = {s.fully_qualified_name: _start(s, logs, stack) for s in specs[:-1]}
        spinner = _Spinner(nodes, processes)
        _wait_for_stack(spinner, recorder, specs[:-1], scenario, logs)
        # the simulator holds slot 1 until the recorder hears it too
        sim_spec = replace(
            specs[-1],
            overrides={
                **specs[-1].overrides,
                "wait_for_subscribers": "link/metrics,sim/ground_truth",
            },
        )
        sim = _start(sim_spec, logs, stack)
        processes["traffic_sim"] = sim
        shown = 0
        while sim.poll() is None:
            spinner.until(lambda: False, 0.1)
            if progress is not None and recorder.last_slot > shown:
                progress(recorder.last_slot - shown)
                shown = recorder.last_slot
        if sim.returncode != 0:
            raise RuntimeError(f"traffic_sim exited with {sim.returncode}; see {logs}")
        # messages still in flight
        spinner.until(lambda: len(recorder.record.sum_rate) >= total, 5.0)
    _check_logs(logs)
    return write_report(recorder.record, scenario, meta, out)


def run_replay(
    options: GraphOptions, bag: Path, out: Path, meta: dict[str, object], rate: float = 1.0
) -> dict:
    """Start the ``rsu`` graph (the stack without the simulator), play ``bag`` into it
    (its sensor topics, ground truth and link score; /clock from the bag's timeline) and
    write the report of the tracks it produces."""
    specs = node_graph("rsu", options)
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    scenario = options.scenario
    produced = {"/beamforming/command"} | {
        f"/{r.name}/{t}" for r in scenario.rsus for t in ("tracks", "radar/detections")
    }
    with rclpy.init(), ExitStack() as stack:
        recorder = Recorder(scenario)
        player = BagPlayer(bag, topics=None)
        stack.callback(player.close)
        player.drop_topics(produced)
        processes = {s.fully_qualified_name: _start(s, logs, stack) for s in specs}
        spinner = _Spinner([recorder, player], processes)
        _wait_for_stack(spinner, recorder, specs, scenario, logs)
        inputs = ["/sim/ground_truth"] + [f"/{r.name}/radar/echo" for r in scenario.rsus]
        if not spinner.until(lambda: player.matched(inputs), STARTUP_TIMEOUT_S):
            raise RuntimeError(f"nothing subscribed to the bag's {', '.join(inputs)}; see {logs}")
        player.play(rate, spin=spinner.once)
        spinner.until(lambda: False, 2.0)  # the last frames through the stack
    _check_logs(logs)
    return write_report(recorder.record, scenario, {**meta, "bag": str(bag)}, out)
