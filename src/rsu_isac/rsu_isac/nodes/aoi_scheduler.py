"""aoi_scheduler: tracks -> camera schedule and AoI state (docs/architecture.md).

Subscribes ``tracks`` (TrackArray of the camera's RSU); publishes ``aoi/schedule``
(AoiSchedule: camera on/off for the next slot, the scheduled tracks and their regions) and
``aoi/state`` (AoiState: per track AoI, beta_k, P_misa of 003 eq. (6)-(7), E_comp, E_sweep,
E_total of eq. (3)-(5), the mean misalignment of (9e)). Everything else is
:class:`rsu_isac.scheduling.scheduler.AoiScheduler`. Malformed track arrays are logged,
counted on /diagnostics and dropped; slots pass a :class:`~rsu_isac.nodes.stream_gate.
StreamGate` (a stray slot is dropped, a restarted stream starts a fresh scheduler, logged at
WARN).
"""

from __future__ import annotations

import time

from rclpy.node import Node

from rsu_isac.nodes.convert import MalformedMessageError, aoi_inputs_from_msg, schedule_to_msgs
from rsu_isac.nodes.diagnostics import NodeDiagnostics
from rsu_isac.nodes.params import ParameterError, declare, declare_scenario
from rsu_isac.nodes.qos import RELIABLE
from rsu_isac.nodes.runner import run_node
from rsu_isac.nodes.stream_gate import StreamGate, Verdict
from rsu_isac.scheduling.lstm_expert import load_expert
from rsu_isac.scheduling.scheduler import EXPERT_POLICIES, SCHEDULER_POLICIES, AoiScheduler
from rsu_isac_interfaces.msg import AoiSchedule, AoiState, TrackArray

ROAD_FRAME = "road"


class AoiSchedulerNode(Node):
    """Tracks in, camera schedule and AoI state out."""

    def __init__(self) -> None:
        super().__init__("aoi_scheduler")
        self.scenario = declare_scenario(self)
        policy = declare(self, "policy", "threshold", "camera schedule", choices=SCHEDULER_POLICIES)
        risk = declare(
            self,
            "risk_threshold",
            0.0,
            "threshold: P_misa that triggers the camera; 0 = Gamma_misa of the scenario",
            0.0,
            1.0,
        )
        checkpoint = declare(
            self,
            "lstm_checkpoint",
            "",
            "temporal expert of the lstm / hmoe policies; empty = the shipped RL-H-MoE's",
        )
        seed = declare(
            self, "seed", -1, "Bernoulli draws of lstm / hmoe; -1 = the scenario's", -1, 2**31
        )
        expert = None
        if policy in EXPERT_POLICIES:
            try:
                expert = load_expert(
                    checkpoint or None,
                    self.scenario.aoi.max_aoi_slots,
                    self.scenario.seed if seed < 0 else seed,
                )
            except ValueError as exc:
                raise ParameterError(f"parameter 'lstm_checkpoint': {exc}") from None
        self._new_scheduler = lambda: AoiScheduler(self.scenario, policy, risk or None, expert)
        self.scheduler = self._new_scheduler()
        self._slot_gate = StreamGate.for_slots()
        self.diagnostics = NodeDiagnostics(self)
        self._schedule_pub = self.create_publisher(AoiSchedule, "aoi/schedule", RELIABLE)
        self._state_pub = self.create_publisher(AoiState, "aoi/state", RELIABLE)
        self.diagnostics.subscribe(TrackArray, "tracks", self._on_tracks, RELIABLE)

    def _on_tracks(self, msg: TrackArray) -> None:
        started = time.perf_counter()
        tracks = aoi_inputs_from_msg(msg)
        verdict = self._slot_gate.check(int(msg.slot))
        if verdict is Verdict.DROP:
            raise MalformedMessageError(f"slot {self._slot_gate.describe(int(msg.slot))}")
        if verdict is Verdict.RESET:
            self.get_logger().warning(f"slots restarted at {msg.slot}: a fresh scheduler")
            self.scheduler = self._new_scheduler()
        schedule = self.scheduler.decide(tracks, int(msg.slot))
        plan, state = schedule_to_msgs(schedule, msg.header.stamp, ROAD_FRAME)
        self._schedule_pub.publish(plan)
        self._state_pub.publish(state)
        self.diagnostics.record(time.perf_counter() - started)


def main(args: list[str] | None = None) -> None:
    run_node(AoiSchedulerNode, "aoi_scheduler", args)


if __name__ == "__main__":
    main()
