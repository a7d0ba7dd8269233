"""Fuzzing of every node's subscriptions (``rsu-isac fuzz``, tests/nodes/test_fuzz.py).

Each node runs in this process, built as its executable builds it. A seeded generator
takes valid messages of a closed-loop run (the simulator, tracker, policy and scheduler of
the core, converted as the nodes convert them) and mutates 1-3 fields each: NaN, +-inf,
extreme magnitudes, zero and negative values, integers at their type's limits (slots of
2^64 - 1, RSU indices past the last), empty, truncated and repeated (huge) sequences and
wrong strings. Every mutated message goes through the node's own subscription callback,
exactly as the executor delivers it; the simulator also steps after every few commands.
Then the node gets the valid messages that follow in the run and must answer each with
finite output (tracks, detections, commands, schedules, link scores).

Per node it counts: accepted, dropped (malformed, whole message), rejected (messages the
node used after removing bad elements), errors (an exception the node contained: a check
is missing) and escaped (an exception out of the callback: the node would have died).
A clean node has neither errors nor escaped.
"""

from __future__ import annotations

import copy
import math
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rclpy
import yaml
from rclpy.node import Node

from rsu_isac.beamforming.context import RadioContext
from rsu_isac.beamforming.policies import create_policy
from rsu_isac.core.scenario import Scenario, load_named_scenario, with_v2x_share
from rsu_isac.core.tracker import Tracker, TrackerConfig
from rsu_isac.nodes.aoi_scheduler import AoiSchedulerNode
from rsu_isac.nodes.beamforming_policy import BeamformingPolicy, predicted_from_msgs
from rsu_isac.nodes.camera_semantics import CameraSemantics
from rsu_isac.nodes.convert import (
    aoi_inputs_from_msg,
    beamset_to_msg,
    camera_info_msg,
    camera_pose_msg,
    frame_to_echo_msg,
    image_to_msg,
    measurements_to_echo_msg,
    schedule_to_msgs,
    sim_time,
    tracks_to_msg,
)
from rsu_isac.nodes.diagnostics import NodeDiagnostics
from rsu_isac.nodes.ekf_tracker import EkfTracker
from rsu_isac.nodes.interop import reports_to_msg
from rsu_isac.nodes.radar_processing import RadarProcessing
from rsu_isac.nodes.traffic_sim import TrafficSim
from rsu_isac.platform.paths import scenarios_dir
from rsu_isac.scheduling.scheduler import AoiScheduler
from rsu_isac.sim.world import SimConfig, Simulator
from rsu_isac_interfaces.msg import CameraDetection, CameraDetectionArray, RadarDetectionArray

SIGNAL_SHARE = 0.2  # share of radar/echo fuzz messages made from a signal-level frame
SCENARIO = "seed003"  # one RSU with the camera: every node has something to do
WARMUP_SLOTS = 60  # the camera's background model needs 50 frames before it detects
VALID_TAIL = 8  # valid messages after the fuzzing, each of which must be answered
TICK_EVERY = 5  # traffic_sim steps once per this many commands
MAX_REPEAT = 2000  # a sequence repeated to at most this many elements ("huge")

# node name -> (class, {input topic -> stream key}, output topic that answers a valid input);
# radar/echo alternates measurement-level echoes with a signal-level frame (1 in 5)
NODES: dict[str, tuple[type[Node], dict[str, str], str]] = {
    "traffic_sim": (TrafficSim, {"beamforming/command": "command"}, "link/metrics"),
    "radar_processing": (RadarProcessing, {"radar/echo": "echo"}, "radar/detections"),
    "ekf_tracker": (
        EkfTracker,
        {
            "radar/detections": "detections",
            "camera/detections": "camera_detections",
            "v2x/reports": "reports",
        },
        "tracks",
    ),
    "beamforming_policy": (BeamformingPolicy, {"rsu0/tracks": "tracks"}, "beamforming/command"),
    "aoi_scheduler": (AoiSchedulerNode, {"tracks": "tracks"}, "aoi/schedule"),
    "camera_semantics": (
        CameraSemantics,
        {
            "camera/image_raw": "image",
            "camera/camera_info": "camera_info",
            "camera/pose": "camera_pose",
            "aoi/schedule": "schedule",
        },
        "camera/detections",
    ),
}
# parameters of the in-process nodes (no lockstep, no waiting for subscribers)
PARAMETERS = {
    "traffic_sim": {"abstraction": "measurement", "lockstep": False, "camera_period_slots": 1},
    "aoi_scheduler": {"policy": "vision_only"},
}


@dataclass
class FuzzCounts:
    messages: int = 0
    accepted: int = 0
    dropped: int = 0
    rejected: int = 0
    errors: int = 0
    escaped: int = 0
    answered: int = 0  # valid messages after the fuzzing answered with finite output
    valid: int = 0  # valid messages sent after the fuzzing
    failures: list[str] = field(default_factory=list)  # first few error / escape texts

    @property
    def crashed(self) -> int:
        return self.errors + self.escaped


def valid_stream(scenario: Scenario, slots: int, seed: int) -> list[dict[str, Any]]:
    """Per slot, the valid input message of every stream key (closed loop of the core)."""
    sim = Simulator(  # every vehicle reporting: the tracker's v2x/reports stream
        with_v2x_share(scenario, 1.0),
        SimConfig(abstraction="measurement", seed=seed, camera_period_slots=1),
    )
    tracker = Tracker.for_scenario(scenario, 0, TrackerConfig(), seed)
    policy = create_policy("predictive_mrt", RadioContext(scenario))
    scheduler = AoiScheduler(scenario, "vision_only", None, None)
    radio = scenario.radio
    stream = []
    signal_sim = Simulator(
        scenario, SimConfig(abstraction="signal", seed=seed, camera_period_slots=0)
    )
    try:
        out = signal_sim.step()
        signal_echo = frame_to_echo_msg(
            out.echoes[0].frame, scenario, sim_time(out.time_s), out.slot, "rsu0"
        )
    finally:
        signal_sim.close()
    try:
        for _ in range(slots):
            out = sim.step()
            stamp = sim_time(out.time_s)
            echo = measurements_to_echo_msg(
                out.echoes[0].measurements, scenario, stamp, out.slot, "rsu0"
            )
            detections = RadarDetectionArray(
                header=echo.header, slot=out.slot, detections=echo.measurements
            )
            tracker.step(out.time_s, out.echoes[0].measurements.detections)
            tracks = tracks_to_msg(tracker.view(), 0, stamp, out.slot, scenario.slot_s, "road")
            vehicles, _ = predicted_from_msgs([tracks], scenario, 3.0, 2)
            beams = policy.decide(vehicles, out.slot + 1)
            sim.apply(beams)
            command = beamset_to_msg(
                beams, stamp, out.slot + 1, policy.name, "road", radio.max_power_w
            )
            schedule, _ = schedule_to_msgs(
                scheduler.decide(aoi_inputs_from_msg(tracks), out.slot), stamp, "road"
            )
            cam = CameraDetectionArray(slot=out.slot)
            cam.header.stamp = stamp
            cam.detections = [
                CameraDetection(x_m=float(x), y_m=float(y), position_covariance=[0.25, 0, 0, 0.25])
                for x, y in out.vehicles.position_xy[:2]
            ]
            stream.append(
                {
                    "command": command,
                    "echo": echo,
                    "signal_echo": signal_echo,
                    "detections": detections,
                    "camera_detections": cam,
                    "reports": reports_to_msg(out.reports, stamp, out.slot, "road"),
                    "tracks": tracks,
                    "schedule": schedule,
                    "image": image_to_msg(out.image, stamp, "rsu0_camera_optical"),
                    "camera_info": camera_info_msg(sim.camera, stamp, "rsu0_camera_optical"),
                    "camera_pose": camera_pose_msg(sim.camera, stamp, "road"),
                }
            )
    finally:
        sim.close()
    return stream


# hostile values per field type; assignments the generated setters refuse are skipped
_FLOATS = (math.nan, math.inf, -math.inf, 1e300, -1e300, 3.4e38, -3.4e38, 0.0, -1.0, 1e-300)
INT_LIMITS = {  # the range of each integer type of the ROS IDL
    "int8": (-(2**7), 2**7 - 1),
    "uint8": (0, 2**8 - 1),
    "char": (0, 2**8 - 1),
    "octet": (0, 2**8 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "uint16": (0, 2**16 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
}


def _hostile(field_type: str, value: Any, rng: np.random.Generator) -> list[Any]:
    """Candidate hostile values of one field, most hostile first (shuffled)."""
    if field_type in ("float", "double"):
        out = list(_FLOATS)
    elif field_type in INT_LIMITS:
        low, high = INT_LIMITS[field_type]
        out = [low, high, 0, min(high, int(value) + 10**6), max(low, int(value) - 1), high // 2]
    elif field_type == "boolean":
        out = [not value]
    elif field_type == "string":
        out = ["", "x" * 10_000, "no_such_value", "\u00e9\u0000"]
    elif field_type.startswith("sequence<") or field_type.endswith("]"):
        n = len(value)
        out = [[], list(value)[: n // 2], list(value) * max(2, MAX_REPEAT // max(n, 1))]
        out += [list(value)[:-1]] if n else []
    else:
        return []
    order = rng.permutation(len(out))
    return [out[i] for i in order]


def _leaves(msg: Any, prefix: str = "") -> Iterator[tuple[Any, str, str]]:
    """(owner, field name, type) of every field of ``msg``, nested ones included (the
    first element of a sequence of messages stands for all)."""
    for name, field_type in msg.get_fields_and_field_types().items():
        yield msg, name, field_type
        value = getattr(msg, name)
        if hasattr(value, "get_fields_and_field_types"):
            yield from _leaves(value, f"{prefix}{name}.")
        elif field_type.startswith("sequence<") and "/" in field_type and len(value):
            element = value[int(len(value) > 1)]
            yield from _leaves(element, f"{prefix}{name}[].")


def mutate(msg: Any, rng: np.random.Generator, count: int) -> str:
    """Set ``count`` random fields of ``msg`` to hostile values; returns what was done."""
    done = []
    leaves = list(_leaves(msg))
    for _ in range(count):
        owner, name, field_type = leaves[rng.integers(len(leaves))]
        for value in _hostile(field_type, getattr(owner, name), rng):
            try:
                setattr(owner, name, value)
            except (AssertionError, TypeError, ValueError, OverflowError):
                continue
            shown = f"{len(value)} items" if isinstance(value, list) else repr(value)[:40]
            done.append(f"{name} = {shown}")
            break
    return ", ".join(done) or "no field could be set"


def _counters(diagnostics: NodeDiagnostics) -> tuple[int, int, int]:
    return tuple(
        sum(c.values()) for c in (diagnostics.dropped, diagnostics.rejected, diagnostics.errors)
    )


def _finite(msg: Any) -> bool:
    """Whether every float of ``msg`` (nested, sequences included) is finite."""
    for owner, name, field_type in _leaves(msg):
        value = getattr(owner, name)
        if field_type in ("float", "double") and not math.isfinite(value):
            return False
        if (
            field_type in ("sequence<float>", "sequence<double>")
            and not np.isfinite(np.asarray(value, dtype=float)).all()
        ):
            return False
    return True


class _NodeUnderFuzz:
    """One node in this process, its input callbacks and what it answers."""

    def __init__(self, name: str, stream: list[dict[str, Any]]) -> None:
        node_class, self.inputs, answer_topic = NODES[name]
        self.name, self.stream = name, stream
        self.node = node_class()
        self.answers: list[Any] = []
        for pub in self.node.publishers:
            if pub.topic_name.endswith("/" + answer_topic):
                real = pub.publish
                pub.publish = lambda msg, real=real: (self.answers.append(msg), real(msg))
        self.callbacks = {
            sub.topic_name.lstrip("/"): sub.callback
            for sub in self.node.subscriptions
            if sub.topic_name.lstrip("/") in self.inputs
        }

    def send_camera_model(self) -> None:
        """The latched camera_info and pose (sent again to a reconnecting subscriber)."""
        for topic in ("camera/camera_info", "camera/pose"):
            if topic in self.callbacks:
                self.callbacks[topic](self.stream[0][self.inputs[topic]])

    def deliver(self, slot: int) -> None:
        """The valid messages of one slot of the run (the simulator steps after its
        command)."""
        for topic, key in self.inputs.items():
            if topic in ("camera/camera_info", "camera/pose"):
                continue
            msg = copy.deepcopy(self.stream[slot][key])
            if self.name == "traffic_sim":
                msg.slot = self.node.sim.slot + 1  # the command the road waits for
            self.callbacks[topic](msg)
        if self.name == "traffic_sim":
            self.node._tick()

    def mutated(self, rng: np.random.Generator, slots: int) -> tuple[str, Any, str]:
        """(topic, a mutated valid message of one of the first ``slots`` slots, what)."""
        topics = sorted(self.callbacks)
        topic = topics[rng.integers(len(topics))]
        key = self.inputs[topic]
        if key == "echo" and rng.random() < SIGNAL_SHARE:
            key = "signal_echo"
        msg = copy.deepcopy(self.stream[rng.integers(slots)][key])
        if self.name == "traffic_sim":
            msg.slot = self.node.sim.slot + 1  # the command the road waits for, then mutated
        return topic, msg, mutate(msg, rng, int(rng.integers(1, 4)))

    def send(self, topic: str, msg: Any, step: bool) -> tuple[int, ...]:
        """Deliver ``msg`` (and step the simulator with ``step``); how far it moved the
        (dropped, rejected, errors) counters. An exception out of the callback propagates."""
        before = _counters(self.node.diagnostics)
        self.callbacks[topic](msg)
        if step and self.name == "traffic_sim":
            self.node._tick()
        after = _counters(self.node.diagnostics)
        return tuple(a - b for a, b in zip(after, before, strict=True))


def fuzz_node(
    name: str, stream: list[dict[str, Any]], messages: int, seed: int,
    progress: Callable[[int], None] | None = None,
) -> FuzzCounts:  # fmt: skip
    """Fuzz node ``name`` (one of NODES) with ``messages`` mutated messages; needs an rclpy
    context whose parameters give the node seed003 (see :func:`run`)."""
    under = _NodeUnderFuzz(name, stream)
    rng = np.random.default_rng([seed, list(NODES).index(name)])
    counts = FuzzCounts()
    warm = len(stream) - VALID_TAIL
    try:
        under.send_camera_model()
        for slot in range(warm):  # the valid run up to the fuzzing (background, tracks)
            under.deliver(slot)
        for i in range(messages):
            topic, msg, what = under.mutated(rng, warm)
            try:
                dropped, rejected, errors = under.send(topic, msg, i % TICK_EVERY == 0)
            except Exception as exc:  # noqa: BLE001 - counted: the node would have died
                counts.escaped += 1
                _note(counts, f"escaped on {topic} ({what}): {type(exc).__name__}: {exc}")
                dropped = rejected = errors = 0
            counts.messages += 1
            counts.dropped += dropped > 0
            counts.rejected += rejected > 0 and not dropped
            counts.errors += errors > 0
            counts.accepted += not (dropped or errors)
            if errors:
                _note(counts, f"error on {topic} ({what}): {under.node.diagnostics.last_error}")
            if progress is not None:
                progress(1)
        under.answers.clear()
        under.send_camera_model()
        for slot in range(warm, len(stream)):  # valid messages after the fuzzing
            count = len(under.answers)
            under.deliver(slot)
            counts.valid += 1
            fresh = under.answers[count:]
            counts.answered += bool(fresh) and all(_finite(m) for m in fresh)
    finally:
        under.node.destroy_node()
    return counts


def _note(counts: FuzzCounts, text: str) -> None:
    if len(counts.failures) < 5:
        counts.failures.append(text[:300])


def run(
    messages: int, seed: int = 0, nodes: list[str] | None = None,
    progress: Callable[[int], None] | None = None, log_level: str = "warn",
) -> dict[str, FuzzCounts]:  # fmt: skip
    """Fuzz every node of ``nodes`` (default: all) with ``messages`` messages each; the
    nodes log at ``log_level``."""
    scenario = load_named_scenario(SCENARIO, scenarios_dir())
    stream = valid_stream(scenario, WARMUP_SLOTS + VALID_TAIL, seed)
    params = {"/**": {"ros__parameters": {"scenario": SCENARIO}}}
    params.update({n: {"ros__parameters": p} for n, p in PARAMETERS.items()})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.param.yaml"
        path.write_text(yaml.safe_dump(params))
        args = ["--ros-args", "--params-file", str(path), "--log-level", log_level]
        with rclpy.init(args=args):
            return {
                name: fuzz_node(name, stream, messages, seed, progress)
                for name in (nodes or list(NODES))
            }
