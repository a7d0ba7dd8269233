"""beamforming_policy: tracks -> beams of the next slot (docs/architecture.md).

One node for all RSUs of the scenario (004's digital twin): it subscribes ``<rsu>/tracks``
of every receiving RSU, and once every RSU has reported slot n (or a later slot arrives)
fuses their confirmed and coasting tracks (core.fusion), asks the selected policy of
:mod:`rsu_isac.beamforming.policies` for the beams of slot n + 1 and publishes them on
``beamforming/command`` (BeamformingCommand) with RViz arrows on ``beamforming/markers``.
With no track it sweeps sensing beams over the road. Malformed track messages are logged,
counted on /diagnostics and dropped. Slots pass a :class:`~rsu_isac.nodes.stream_gate.
StreamGate`: one stray slot number is dropped, a stream that restarts (a looped bag, a new
simulator) restarts the policy's slot count (logged at WARN). Beyond ``max_vehicles`` fused
vehicles, the nearest are served (the solvers' time grows with K).

With a ``deadline_s`` (a real RSU: the slot), the policy decides in a worker thread; a
decision not ready by then is replaced by the last beams re-pointed at the new predictions
(beamforming.fallback), and so is every decision while the late one still runs; each such
slot counts as ``deadline_misses`` on /diagnostics. Without one (the default: lockstep
simulation, where the road waits and the results must not depend on the machine's speed)
the node decides inline. The RViz markers are built only while someone subscribes.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as DecisionTimeout

import numpy as np
from geometry_msgs.msg import Point
from rclpy.node import Node
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

from rsu_isac.beamforming.assignment import ASSIGNMENTS
from rsu_isac.beamforming.context import (
    MAX_COAST_SERVE_SLOTS,
    PredictedVehicles,
    RadioContext,
    servable,
)
from rsu_isac.beamforming.fallback import repointed
from rsu_isac.beamforming.policies import (
    POWER_SPLITS,
    SENSING_FRACTION,
    create_policy,
    policy_names,
)
from rsu_isac.core.beams import KIND_COMMUNICATION, BeamSet
from rsu_isac.core.fusion import merge_positions
from rsu_isac.core.geometry import echo_position, to_cartesian
from rsu_isac.core.scenario import Scenario
from rsu_isac.core.tracker import road_side
from rsu_isac.nodes.convert import MalformedMessageError, beamset_to_msg
from rsu_isac.nodes.diagnostics import NodeDiagnostics
from rsu_isac.nodes.params import ParameterError, declare, declare_scenario
from rsu_isac.nodes.qos import RELIABLE
from rsu_isac.nodes.runner import run_node
from rsu_isac.nodes.stream_gate import StreamGate, Verdict
from rsu_isac_interfaces.msg import BeamformingCommand, TrackArray

ROAD_FRAME = "road"
BEAM_MARKER_LENGTH_M = 20.0


def predicted_from_msgs(
    messages: list[TrackArray], scenario: Scenario, gate_m: float, max_coast_slots: int
) -> tuple[PredictedVehicles, int]:
    """Fused vehicles (the servable tracks, beamforming.context.servable) of several RSUs'
    track messages at their one-slot predictions (predicted angle and half path of the
    track's RSU's echo, back to the road frame by core.geometry.echo_position), and how
    many tracks were rejected (NaN fields, a negative range, an unknown RSU index)."""
    positions, ids, velocities, floors, source_rsu = [], [], [], [], []
    rejected = 0
    for msg in messages:
        keep = servable(
            [t.status for t in msg.tracks], [t.misses for t in msg.tracks], max_coast_slots
        )
        live = [t for t, k in zip(msg.tracks, keep, strict=True) if k]
        values = np.array(
            [
                [
                    t.predicted_azimuth_rad,
                    t.predicted_range_m,
                    t.velocity.x,
                    t.velocity.y,
                    t.azimuth_fisher_floor,
                ]
                for t in live
            ],
            dtype=float,
        ).reshape(-1, 5)
        rsu = np.array([t.rsu_index for t in live], dtype=np.int64)
        valid = np.isfinite(values).all(axis=1) & (values[:, 1] >= 0) & (rsu < len(scenario.rsus))
        rejected += int(np.sum(~valid))
        values, rsu = values[valid], rsu[valid]
        xy = np.zeros((len(values), 2))
        for r in np.unique(rsu).tolist():
            mine = rsu == r
            xy[mine] = echo_position(
                scenario.rsus[r].position_m,
                scenario.rsus[scenario.illuminator(r)].position_m,
                values[mine, 0],
                values[mine, 1],
                road_side(scenario, r),
            )
        positions.append(xy)
        velocities.append(values[:, 2:4])
        ids.append(np.array([t.id for t in live], dtype=np.int64)[valid])
        floors.append(values[:, 4])
        source_rsu.append(rsu)
    fused_ids, fused_xy, source = merge_positions(positions, ids, gate_m)
    vehicles = PredictedVehicles(
        fused_ids,
        fused_xy,
        np.concatenate(velocities)[source],
        np.concatenate(floors)[source],
        np.concatenate(source_rsu)[source],
    )
    return vehicles, rejected


def beam_markers(
    beams: BeamSet, rsu_xy: np.ndarray, sides: np.ndarray, stamp, frame_id: str
) -> MarkerArray:
    """An arrow per beam from its RSU along its target angle towards the road (``sides``:
    core.tracker.road_side of each RSU), length ~ sqrt(power)."""
    markers = [Marker(action=Marker.DELETEALL, ns="beams")]
    scale = BEAM_MARKER_LENGTH_M / max(math.sqrt(float(beams.powers_w.max(initial=0.0))), 1e-12)
    start = rsu_xy[beams.rsu_index]
    ends = to_cartesian(
        start, beams.target_angle_rad, scale * np.sqrt(beams.powers_w), sides[beams.rsu_index]
    )
    for i in range(len(beams)):
        m = Marker(ns="beams", id=i, type=Marker.ARROW, action=Marker.ADD)
        m.header.stamp, m.header.frame_id = stamp, frame_id
        m.points = [
            Point(x=float(start[i, 0]), y=float(start[i, 1])),
            Point(x=float(ends[i, 0]), y=float(ends[i, 1])),
        ]
        m.scale.x, m.scale.y, m.scale.z = 0.3, 0.8, 0.8
        comm = beams.kind[i] == KIND_COMMUNICATION
        m.color = ColorRGBA(r=0.2 if comm else 1.0, g=0.5, b=1.0 if comm else 0.2, a=0.8)
        markers.append(m)
    return MarkerArray(markers=markers)


class BeamformingPolicy(Node):
    """Tracks of every RSU in, one command for the next slot out."""

    def __init__(self) -> None:
        super().__init__("beamforming_policy")
        self.scenario = declare_scenario(self)
        name = declare(
            self, "policy", "predictive_mrt", "beamforming policy", choices=policy_names()
        )
        checkpoint = declare(
            self, "checkpoint", "", "learned policy's checkpoint folder; empty = the shipped one"
        )
        try:
            self.policy = self._create_policy(name, checkpoint)
        except ParameterError:
            raise
        except ValueError as exc:  # a checkpoint that does not fit, an option it cannot take
            raise ParameterError(f"parameter 'policy' ({name}): {exc}") from None
        self.fusion_gate_m = declare(
            self, "fusion_gate_m", 3.0, "tracks of two RSUs closer than this are one [m]", 0.1, 50.0
        )
        self.max_coast_serve_slots = declare(
            self,
            "max_coast_serve_slots",
            MAX_COAST_SERVE_SLOTS,
            "serve a coasting track at most this many missed slots",
            0,
            1000,
        )
        self.max_vehicles = declare(
            self,
            "max_vehicles",
            64,
            "vehicles served per slot at most; beyond, the nearest to an RSU",
            1,
            4096,
        )
        self.deadline_s = declare(
            self,
            "deadline_s",
            0.0,
            "longest wait for a decision [s], then the last beams re-pointed; 0 = wait (lockstep)",
            0.0,
            10.0,
        )
        self._worker = ThreadPoolExecutor(max_workers=1) if self.deadline_s > 0 else None
        self._pending: Future | None = None
        self._last_beams = BeamSet.empty(self.scenario.radio.array.num_tx_antennas)
        self.rsu_xy = np.array([r.position_m for r in self.scenario.rsus])
        self.rsu_sides = np.array([road_side(self.scenario, i) for i in range(len(self.rsu_xy))])
        receivers = [self.scenario.rsus[i].name for i in self.scenario.receivers()]
        self._num_receivers = len(receivers)
        self._receivers = receivers
        self._latest: dict[str, TrackArray] = {}
        self._decided_slot = -1
        self._slot_gate = StreamGate.for_slots()
        self.diagnostics = NodeDiagnostics(self)
        self._command_pub = self.create_publisher(
            BeamformingCommand, "beamforming/command", RELIABLE
        )
        self._markers_pub = self.create_publisher(MarkerArray, "beamforming/markers", RELIABLE)
        for rsu in receivers:
            self.diagnostics.subscribe(
                TrackArray,
                f"{rsu}/tracks",
                lambda msg, rsu=rsu: self._on_tracks(rsu, msg),
                RELIABLE,
            )

    def _create_policy(self, name: str, checkpoint: str):
        return create_policy(
            name,
            RadioContext(self.scenario),
            checkpoint=checkpoint or None,
            assignment=declare(
                self, "assignment", "distance", "vehicle-to-RSU assignment", choices=ASSIGNMENTS
            ),
            power_split=declare(
                self,
                "power_split",
                "equal",
                "power split of MRT / ZF (crb: equal angle CRLB)",
                choices=POWER_SPLITS,
            ),
            sensing_fraction=declare(
                self,
                "sensing_fraction",
                SENSING_FRACTION,
                "power share of the sensing beam (002's sensing power ratio)",
                0.0,
                1.0,
            ),
            user_sinr_share=declare(
                self,
                "user_sinr_share",
                0.0,
                "isac_ocs: share of its SINR each user keeps under the sensing beam (0: 002's "
                "follower, no user constraint)",
                0.0,
                0.999,
            ),
            sweep_beams=declare(self, "sweep_beams", 16, "angles of the sensing sweep", 1, 1024),
            constant_modulus=declare(
                self, "constant_modulus", False, "phase-shifter beams, 003 eq. (9b)"
            ),
        )

    def _on_tracks(self, rsu: str, msg: TrackArray) -> None:
        """Decide once per slot, when every receiving RSU has reported it."""
        slot = int(msg.slot)
        verdict = self._slot_gate.check(slot)
        if verdict is Verdict.DROP:
            raise MalformedMessageError(f"slot {self._slot_gate.describe(slot)}")
        if verdict is Verdict.RESET:
            self.get_logger().warning(
                f"slots restarted at {slot} (decided up to {self._decided_slot}): "
                "the track streams start over"
            )
            self._latest.clear()
            self._decided_slot = -1
        self._latest[rsu] = msg
        if slot <= self._decided_slot or len(self._latest) < self._num_receivers:
            return
        if min(int(m.slot) for m in self._latest.values()) < slot:
            return
        started = time.perf_counter()
        vehicles, rejected = predicted_from_msgs(
            [self._latest[r] for r in self._receivers],  # fusion order: RSU order
            self.scenario,
            self.fusion_gate_m,
            self.max_coast_serve_slots,
        )
        if rejected:
            self.diagnostics.reject(
                f"{rsu}/tracks",
                rejected,
                "tracks with NaN fields, a negative range or an unknown RSU index are not served",
            )
        if len(vehicles) > self.max_vehicles:
            self.diagnostics.reject(
                f"{rsu}/tracks",
                len(vehicles) - self.max_vehicles,
                f"{len(vehicles)} vehicles, max_vehicles = {self.max_vehicles}: the farthest "
                "are not served",
            )
            vehicles = vehicles.nearest(self.max_vehicles, self.rsu_xy)
        decided = time.perf_counter()
        beams = self._decide(vehicles, slot + 1, started)
        solve_s = time.perf_counter() - decided
        self._last_beams = beams
        self._decided_slot = slot
        command = beamset_to_msg(
            beams,
            msg.header.stamp,
            slot + 1,
            self.policy.name,
            ROAD_FRAME,
            self.scenario.radio.max_power_w,
            solve_s,
        )
        self._command_pub.publish(command)
        if self._markers_pub.get_subscription_count():
            self._markers_pub.publish(
                beam_markers(beams, self.rsu_xy, self.rsu_sides, msg.header.stamp, ROAD_FRAME)
            )
        self.diagnostics.record(time.perf_counter() - started, compute=solve_s)

    def _decide(self, vehicles: PredictedVehicles, slot: int, started: float) -> BeamSet:
        """The policy's beams for ``slot``; with a deadline, the fallback when they are not
        ready ``deadline_s`` after ``started`` (or the last decision still runs)."""
        if self._worker is None:
            return self.policy.decide(vehicles, slot)
        if self._pending is None or self._pending.done():
            self._pending = self._worker.submit(self.policy.decide, vehicles, slot)
            left = self.deadline_s - (time.perf_counter() - started)
            try:
                return self._pending.result(timeout=max(left, 0.0))
            except DecisionTimeout:
                pass
        self.diagnostics.count("deadline_misses")
        return repointed(self._last_beams, vehicles, self.policy.context)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.shutdown(wait=False, cancel_futures=True)


def main(args: list[str] | None = None) -> None:
    run_node(BeamformingPolicy, "beamforming_policy", args)


if __name__ == "__main__":
    main()
