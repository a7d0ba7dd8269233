"""The pip-only runner of ``rsu-isac sim``: one process per node of the graph description
(rsu_isac.runtime.graph), a recorder in this process, a progress bar, a clean shutdown and the
report (rsu_isac.runtime.report).

Order: the stack's nodes start first; once every one of them is in the ROS graph and the
policy is subscribed to every RSU's tracks, the simulator starts (it holds slot 1 until
the policy and the radar nodes are matched, then runs in lockstep for the duration). When
it has simulated the duration it exits; the others get SIGINT and are waited for. Each
node's output goes to ``<out>/logs/<node>.log``; a traceback there fails the run.

What can go wrong is caught and still reported: a node that dies, Ctrl-C (or SIGTERM) and
a stack that does not come up end the run with a partial report naming what failed and
how many slots were scored (:class:`RunFailedError`, :class:`RunInterruptedError`). Node processes
die with the runner even when it is killed (``platform.process.die_with_parent``, which
every node's ``main`` calls when the runner names itself in RSU_ISAC_PARENT_PID). A run
never shares its ROS domain: with ``ROS_DOMAIN_ID`` unset a free domain is picked, with it
set a domain that already has nodes is refused before the simulator starts, and publishers
of other nodes that appear on the run's topics mid-run mark it invalid (:func:`validity`),
as do late or lost commands above MAX_LATE_SHARE and exceptions contained in the nodes.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image

from rsu_isac.bags.files import BagError
from rsu_isac.bags.play import BagPlayer
from rsu_isac.bags.record import BagRecorder
from rsu_isac.core.scenario import Scenario
from rsu_isac.nodes.qos import LATCHED
from rsu_isac.platform.paths import config_dir
from rsu_isac.platform.process import PARENT_PID_VARIABLE
from rsu_isac.runtime.graph import (
    GraphOptions,
    NodeSpec,
    node_environment,
    node_graph,
    stack_outputs,
)
from rsu_isac.runtime.report import RunRecord, TrackSnapshot, summarize, write_report
from rsu_isac_interfaces.msg import (
    AoiState,
    BeamformingCommand,
    CameraDetectionArray,
    CollectivePerception,
    LinkMetrics,
    RadarDetectionArray,
    RadarEcho,
    Track,
    TrackArray,
    VehicleReportArray,
    VehicleStateArray,
)

RECORD_QOS = QoSProfile(depth=500, reliability=ReliabilityPolicy.RELIABLE)
STARTUP_TIMEOUT_S = 60.0
SHUTDOWN_TIMEOUT_S = 15.0
DISCOVERY_S = 3.5  # DDS discovery of the nodes already in a domain (announced every 3 s)
DOMAIN_CANDIDATES = range(1, 102)  # Fast DDS's port mapping fits domains 0-101 per host
GRAPH_CHECK_PERIOD_S = 1.0  # how often a run looks for foreign nodes mid-run
REPLAY_SETTLE_S = 1.0  # after the player's writers matched, before the first sample
MAX_LATE_SHARE = 0.01  # late or lost commands in more of the slots make a run invalid
UNKNOWN_NODE = "_NODE_NAME_UNKNOWN_"  # rmw's name for a node not discovered yet
RUNNER_NODES = {"rsu_isac_recorder", "rsu_isac_bag_recorder", "rsu_isac_bag_player"}


class RunFailedError(RuntimeError):
    """A run could not go on (a node died, the stack did not come up, the domain is in
    use); the text says what failed."""


class RunInterruptedError(RuntimeError):
    """The run was stopped by Ctrl-C or SIGTERM."""


_signals: list[int] = []  # SIGINT / SIGTERM received during a run, not yet acted on


def _note_signal(signum, _frame) -> None:
    """Signal handler: only remember the signal. Raising here could unwind through rclpy's
    C++ code mid-call; the runner's loops call :func:`_check_interrupt` instead."""
    _signals.append(signum)


def _check_interrupt() -> None:
    if _signals:
        raise RunInterruptedError(f"interrupted by {signal.Signals(_signals[0]).name}")


@contextmanager
def _interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM are noted for the runner's loops (not left to rclpy's handlers,
    which would shut the context down before the report is written)."""
    _signals.clear()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, _note_signal)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _nodes_in_domain(domain: int, wait_s: float) -> list[str]:
    """Fully qualified names of the nodes DDS discovers in ``domain`` within ``wait_s``."""
    with rclpy.init(domain_id=domain, signal_handler_options=SignalHandlerOptions.NO):
        probe = rclpy.create_node("rsu_isac_domain_probe")
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            _check_interrupt()
            rclpy.spin_once(probe, timeout_sec=0.1)
        names = probe.get_node_names_and_namespaces()
        probe.destroy_node()
    own = "rsu_isac_domain_probe"
    return sorted(f"{ns.rstrip('/')}/{name}" for name, ns in names if name != own)


def run_domain() -> int:
    """The ROS domain of a run: ``ROS_DOMAIN_ID`` if set (whether other nodes are there is
    checked while the stack starts, :func:`_wait_for_stack`); otherwise the first free
    domain of a shuffled candidate list."""
    given = os.environ.get("ROS_DOMAIN_ID", "").strip()
    if given:
        if not given.isdigit() or int(given) > 232:
            raise RunFailedError(f"ROS_DOMAIN_ID={given!r} is not a domain id (0-232)")
        return int(given)
    candidates = list(DOMAIN_CANDIDATES)
    random.Random(os.getpid()).shuffle(candidates)
    for domain in candidates[:8]:
        if not _nodes_in_domain(domain, DISCOVERY_S):
            return domain
    raise RunFailedError("no free ROS domain among 8 tried; set ROS_DOMAIN_ID")


class Recorder(Node):
    """Keeps what the report needs from the running graph."""

    def __init__(self, scenario: Scenario) -> None:
        super().__init__("rsu_isac_recorder")
        self.record = RunRecord()
        self.last_slot = 0
        self.track_messages = dict.fromkeys(scenario.receivers(), 0)  # per RSU index
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
        for i in scenario.receivers():
            self.create_subscription(
                CollectivePerception,
                f"{scenario.rsus[i].name}/cpm",
                lambda m, i=i: self._on_cpm(i, m),
                RECORD_QOS,
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
        self.record.command_of[s] = int(msg.command_slot)
        self.record.arrival_s[s] = time.monotonic()
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
        self.track_messages[rsu] += 1
        ok = [t for t in msg.tracks if t.status == Track.STATUS_CONFIRMED]
        self.record.tracks[(int(msg.slot), rsu)] = TrackSnapshot(
            rsu,
            np.array([[t.azimuth_rad, t.range_m, t.radial_velocity_mps] for t in ok]).reshape(
                -1, 3
            ),
            np.array([[t.pcrb_azimuth_rad2, t.pcrb_range_m2] for t in ok]).reshape(-1, 2),
            np.array([[t.position.x, t.position.y] for t in ok]).reshape(-1, 2),
            np.array([t.aoi_s for t in ok]),
            np.array([t.id for t in ok], dtype=np.int64),
        )

    def _on_cpm(self, rsu: int, msg: CollectivePerception) -> None:
        self.record.cpm_objects[(int(msg.slot), rsu)] = len(msg.perceived_objects)

    def _on_command(self, msg: BeamformingCommand) -> None:
        self.record.transmit_w[int(msg.slot)] = float(sum(b.power_w for b in msg.beams))
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
            series = {
                key[: -len("_ms_p50")]: (float(value), float(values[key[:-3] + "p99"]))
                for key, value in values.items()
                if key.endswith("_ms_p50") and key[:-3] + "p99" in values
            }
            if series:
                self.record.latency_ms[status.name] = series
            for kind, counts in (("dropped", self.record.dropped), ("errors", self.record.errors)):
                found = {
                    k.split(":", 1)[1]: int(v)
                    for k, v in values.items()
                    if k.startswith(f"{kind}:")
                }
                if found:
                    counts[status.name] = found


def _log_path(spec: NodeSpec, logs: Path) -> Path:
    return logs / f"{spec.namespace.strip('/') or 'root'}_{spec.name}.log"


def _start(spec: NodeSpec, logs: Path, stack: ExitStack, domain: int) -> subprocess.Popen:
    log = stack.enter_context(_log_path(spec, logs).open("w"))
    env = {**os.environ, **node_environment(), "ROS_DOMAIN_ID": str(domain)}
    env[PARENT_PID_VARIABLE] = str(os.getpid())  # the node dies with this process
    process = subprocess.Popen(
        [sys.executable, "-m", spec.module, *spec.ros_args(config_dir())],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches the runner, which stops the nodes in order
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

    def __init__(self, nodes: list[Node]) -> None:
        self.executor = SingleThreadedExecutor()
        for node in nodes:
            self.executor.add_node(node)
        self.processes: dict[str, tuple[subprocess.Popen, Path]] = {}  # name: process, log

    def start(self, spec: NodeSpec, logs: Path, stack: ExitStack, domain: int) -> None:
        process = _start(spec, logs, stack, domain)
        self.processes[spec.fully_qualified_name] = (process, _log_path(spec, logs))

    def once(self) -> None:
        _check_interrupt()
        for name, (p, log) in self.processes.items():
            if p.poll() is not None and name != "/traffic_sim":
                raise RunFailedError(
                    f"node {name} exited early with status {p.returncode}{_last_line(log)} "
                    f"(log: {log})"
                )
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
    echo (signal frames are ~2 MB each), detections, tracks, vehicle reports and CPMs, and
    the camera."""
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
        topics[f"{rsu.name}/v2x/reports"] = VehicleReportArray
        topics[f"{rsu.name}/cpm"] = CollectivePerception
    camera = scenario.rsus[0].name
    topics[f"{camera}/camera/image_raw"] = Image
    topics[f"{camera}/camera/camera_info"] = CameraInfo
    return topics


def _wait_for_stack(spinner: _Spinner, recorder: Recorder, specs, scenario, logs) -> None:
    """Until every node of ``specs`` is up and matched (and DDS has had DISCOVERY_S to show
    the domain's other nodes); a node that is not the run's, already in its domain, ends
    the run before the simulator starts."""
    expected = {(s.name, s.namespace or "/") for s in specs}
    receivers = [scenario.rsus[i].name for i in scenario.receivers()]
    started = time.monotonic()

    def ready() -> bool:
        foreign = _foreign_nodes(recorder, expected)
        if foreign:
            raise RunFailedError(
                f"ROS_DOMAIN_ID={os.environ.get('ROS_DOMAIN_ID', '')} already has nodes "
                f"({', '.join(foreign[:5])}): another run there would mix its topics with this "
                "one's; choose a free domain or unset ROS_DOMAIN_ID to have one picked"
            )
        names = set(recorder.get_node_names_and_namespaces())
        # the recorder's readers matched to the trackers' writers (the graph alone lists
        # endpoints before they match); the policy's reader is seen through the graph
        return (
            time.monotonic() - started >= DISCOVERY_S
            and expected <= names
            and all(sub.get_publisher_count() >= 1 for sub in recorder.track_subs)
            and all(recorder.count_subscribers(f"/{r}/tracks") >= 2 for r in receivers)
        )

    if not spinner.until(ready, STARTUP_TIMEOUT_S):
        raise RunFailedError(
            f"the stack did not come up within {STARTUP_TIMEOUT_S:g} s; see {logs}"
        )


def _last_line(log: Path) -> str:
    """': <the last line of a node's log>' (empty when it has none)."""
    lines = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
    return f": {lines[-1][-300:]}" if lines else ""


def _tracebacks(logs: Path) -> list[str]:
    """The node logs with a traceback, other than that of a node stopped while it was still
    importing its modules (a KeyboardInterrupt from the runner's SIGINT)."""
    failed = []
    for path in sorted(logs.glob("*.log")):
        text = path.read_text(errors="replace")
        if "Traceback" in text and text.rstrip().splitlines()[-1] != "KeyboardInterrupt":
            failed.append(path.name)
    return failed


def _foreign_nodes(recorder: Node, expected: set[tuple[str, str]]) -> list[str]:
    """Nodes in the run's domain that are neither the run's nor the runner's own."""
    return sorted(
        f"{ns.rstrip('/')}/{name}"
        for name, ns in recorder.get_node_names_and_namespaces()
        if (name, ns) not in expected and name not in RUNNER_NODES
    )


def _foreign_publishers(recorder: Node, expected: set[tuple[str, str]]) -> list[str]:
    """Nodes other than the run's that publish on a topic of the run (a second run on the
    domain, a bag played into it); watchers that only subscribe (RViz, ros2 topic echo) are
    no harm."""
    found = set()
    for topic, _ in recorder.get_topic_names_and_types():
        if topic in ("/rosout", "/parameter_events", "/diagnostics"):
            continue
        for info in recorder.get_publishers_info_by_topic(topic):
            name, ns = info.node_name, info.node_namespace or "/"
            if name == UNKNOWN_NODE:  # an endpoint seen before its node's name (discovery)
                continue
            if (name, ns) not in expected and name not in RUNNER_NODES:
                found.add(f"{ns.rstrip('/')}/{name} on {topic}")
    return sorted(found)


def validity(summary: dict, foreign: list[str], failure: str | None) -> list[str]:
    """Why a run's figures cannot be trusted (empty: valid)."""
    reasons = []
    if failure:
        reasons.append(failure)
    slots = int(summary.get("slots_scored") or 0)
    late = int(summary.get("late_or_lost_commands") or 0)
    if slots and late > MAX_LATE_SHARE * slots:
        reasons.append(
            f"{late} of {slots} slots ran on late or lost commands (> {MAX_LATE_SHARE:.0%}): "
            "a node stalled or hung"
        )
    if foreign:
        reasons.append(f"foreign publishers on the run's topics: {', '.join(foreign[:5])}")
    errors = {n: c for n, c in summary.get("node_errors", {}).items() if c}
    if errors:
        reasons.append(f"nodes contained exceptions: {errors}")
    return reasons


def _guarded(body: Callable[[ExitStack, int], None], logs: Path) -> tuple[str, str | None]:
    """Run ``body(stack, domain)`` in a fresh rclpy context on the run's ROS domain, with
    Ctrl-C and SIGTERM noted, and say how it went: ("complete", None), ("interrupted",
    why) or ("failed", why); a traceback in a node's log is a failure too."""
    with _interruptible():
        try:
            domain = run_domain()
            with (
                rclpy.init(domain_id=domain, signal_handler_options=SignalHandlerOptions.NO),
                ExitStack() as stack,
            ):
                body(stack, domain)
        except RunInterruptedError as exc:
            return "interrupted", str(exc)
        except (RunFailedError, BagError) as exc:
            return "failed", str(exc)
    failed = _tracebacks(logs)
    if failed:
        return "failed", f"tracebacks in {', '.join(failed)} (in {logs})"
    return "complete", None


def _finish(
    summary: dict, outcome: tuple[str, str | None], reasons: list[str], record: RunRecord,
    scenario: Scenario, out: Path,
) -> dict:  # fmt: skip
    """The report of a run, with its status, failure and validity, written into ``out``."""
    status, failure = outcome
    summary.update(status=status, failure=failure, valid=not reasons, invalid_reasons=reasons)
    write_report(summary, record, scenario, out)
    return summary


def run_graph(
    options: GraphOptions,
    out: Path,
    meta: dict[str, object],
    progress=None,
    record: Path | None = None,
) -> dict:
    """Start the ``sim`` graph, run it for ``options.duration_s`` of simulated time, stop it
    cleanly and write the report into ``out`` (and, with ``record``, a bag of the run).
    ``progress(n)`` is called with the number of new slots as they pass. A failed or
    interrupted run still writes the report of what it scored, with ``status`` and
    ``failure`` saying what happened; ``valid`` says whether its figures can be trusted."""
    specs = node_graph("sim", options)
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    scenario = options.scenario
    total = round(options.duration_s / scenario.slot_s)
    recorder: Recorder | None = None
    foreign: list[str] = []

    def session(stack: ExitStack, domain: int) -> None:
        nonlocal recorder, foreign
        recorder = Recorder(scenario)
        nodes: list[Node] = [recorder]
        if record is not None:
            camera_info = f"{scenario.rsus[0].name}/camera/camera_info"
            bag = BagRecorder(record, record_topics(scenario), qos={camera_info: LATCHED})
            stack.callback(bag.close)
            nodes.append(bag)
        spinner = _Spinner(nodes)
        for spec in specs[:-1]:
            spinner.start(spec, logs, stack, domain)
        _wait_for_stack(spinner, recorder, specs[:-1], scenario, logs)
        # the simulator holds slot 1 until the recorder hears it too
        overrides = {**specs[-1].overrides, "wait_for_subscribers": "link/metrics,sim/ground_truth"}
        spinner.start(replace(specs[-1], overrides=overrides), logs, stack, domain)
        foreign = _run_to_end(spinner, recorder, specs, progress)
        # messages still in flight
        spinner.until(lambda: len(recorder.record.sum_rate) >= total, 5.0)

    outcome = _guarded(session, logs)
    record_ = recorder.record if recorder is not None else RunRecord()
    summary = summarize(record_, scenario, meta)
    reasons = validity(summary, foreign, outcome[1])
    return _finish(summary, outcome, reasons, record_, scenario, out)


def _run_to_end(spinner: _Spinner, recorder: Recorder, specs, progress) -> list[str]:
    """Spin until the simulator exits; the foreign publishers seen meanwhile."""
    sim, log = spinner.processes["/traffic_sim"]
    expected = {(s.name, s.namespace or "/") for s in specs}
    shown, foreign, checked = 0, set(), time.monotonic()
    while sim.poll() is None:
        spinner.until(lambda: False, 0.1)
        if progress is not None and recorder.last_slot > shown:
            progress(recorder.last_slot - shown)
            shown = recorder.last_slot
        if time.monotonic() - checked > GRAPH_CHECK_PERIOD_S:
            foreign.update(_foreign_publishers(recorder, expected))
            checked = time.monotonic()
    if sim.returncode != 0:
        raise RunFailedError(
            f"traffic_sim exited with {sim.returncode}{_last_line(log)} (log: {log})"
        )
    return sorted(foreign)


def output_topics(scenario: Scenario) -> dict[str, type]:
    """The stack's outputs a replay records (``rsu-isac replay --record``): per receiving
    RSU its detections, tracks and CPMs, and the beamforming command."""
    topics: dict[str, type] = {"beamforming/command": BeamformingCommand}
    for rsu in (scenario.rsus[i] for i in scenario.receivers()):
        topics[f"{rsu.name}/radar/detections"] = RadarDetectionArray
        topics[f"{rsu.name}/tracks"] = TrackArray
        topics[f"{rsu.name}/cpm"] = CollectivePerception
    return topics


def run_replay(
    options: GraphOptions,
    bag: Path,
    out: Path,
    meta: dict[str, object],
    rate: float = 0.0,
    record: Path | None = None,
) -> dict:
    """Start the ``rsu`` graph (the stack without the simulator), play ``bag`` into it
    (its sensor topics, ground truth and link score; /clock from the bag's timeline, never
    the stack's own outputs it may hold) and write the report of the tracks it produces.
    At ``rate`` 0 every echo is tracked before the next slot is played (lockstep: the same
    report on an idle or a loaded machine); at a rate > 0 the bag is replayed against the
    wall clock and the report counts the echoes the stack did not answer. With ``record``,
    the stack's outputs (:func:`output_topics`) go into a new MCAP bag there. A bag without
    ground truth (real sensors) still reports its tracks (``tracks``), latencies and
    replay counts; the truth-based figures are NaN."""
    specs = node_graph("rsu", options)
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    scenario = options.scenario
    echoes = {i: f"/{scenario.rsus[i].name}/radar/echo" for i in scenario.receivers()}
    recorder: Recorder | None = None
    player: BagPlayer | None = None
    lost = dict.fromkeys(echoes, 0)  # echoes the stack never answered (a lost sample)

    def tracked() -> bool:  # every echo played so far has come back as tracks
        return all(
            recorder.track_messages[i] + lost[i] >= player.published_by_topic.get(t, 0)
            for i, t in echoes.items()
        )

    def resync() -> None:  # after a wait ran out: what has not come is lost, not late
        for i, t in echoes.items():
            lost[i] = max(player.published_by_topic.get(t, 0) - recorder.track_messages[i], 0)

    def session(stack: ExitStack, domain: int) -> None:
        nonlocal recorder, player
        recorder = Recorder(scenario)
        player = BagPlayer(bag, drop=frozenset(stack_outputs(scenario)))
        stack.callback(player.close)
        nodes: list[Node] = [recorder, player]
        outputs = BagRecorder(record, output_topics(scenario)) if record is not None else None
        if outputs is not None:
            stack.callback(outputs.close)
            nodes.append(outputs)
        spinner = _Spinner(nodes)
        for spec in specs:
            spinner.start(spec, logs, stack, domain)
        _wait_for_stack(spinner, recorder, specs, scenario, logs)
        if outputs is not None and not spinner.until(outputs.matched, STARTUP_TIMEOUT_S):
            raise RunFailedError(f"the stack's outputs did not reach the recorder; see {logs}")
        inputs = ["/sim/ground_truth"] + [f"/{r.name}/radar/echo" for r in scenario.rsus]
        if not spinner.until(lambda: player.matched(inputs), STARTUP_TIMEOUT_S):
            raise RunFailedError(f"nothing subscribed to the bag's {', '.join(inputs)}; see {logs}")
        # the player's writers have matched the stack's readers; the readers match the
        # writers a moment later, and a volatile sample sent before is lost to them
        spinner.until(lambda: False, REPLAY_SETTLE_S)
        player.play(rate, spin=spinner.once, ready=tracked, resync=resync)
        spinner.until(tracked, 5.0)  # the last frames through the stack
        if outputs is not None:  # ... and into the outputs' bag
            spinner.until(
                lambda: all(
                    outputs.counts[f"/{scenario.rsus[i].name}/tracks"] >= n
                    for i, n in recorder.track_messages.items()
                ),
                5.0,
            )

    outcome = _guarded(session, logs)
    record_ = recorder.record if recorder is not None else RunRecord()
    summary = summarize(record_, scenario, {**meta, "bag": str(bag)})
    if player is not None and recorder is not None:
        played = sum(player.published_by_topic.get(t, 0) for t in echoes.values())
        summary["replay"] = {
            "mode": "lockstep" if rate == 0 else f"real time x{rate:g}",
            "messages_played": player.published,
            "echoes_played": played,
            "echoes_not_tracked": max(played - sum(recorder.track_messages.values()), 0),
            "lockstep_timeouts": player.late_waits,
        }
    reasons = [outcome[1]] if outcome[1] else []
    return _finish(summary, outcome, reasons, record_, scenario, out)
