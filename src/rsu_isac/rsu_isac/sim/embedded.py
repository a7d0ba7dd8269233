"""Embedded traffic engine: straight multi-lane road, both directions, IDM car following,
Poisson arrivals per lane with an entry queue (numpy, no external simulator).

Each lane is a 1-D road of length L = x_max - x_min; a vehicle's lane coordinate s runs
from 0 (entry) to L (exit) in the lane's driving direction. Intelligent Driver Model
(Treiber, Hennecke, Helbing, Phys. Rev. E 62, 2000):
    dv/dt = a [1 - (v / v0)^4 - (s*(v, dv) / gap)^2],
    s* = s0 + max(0, v T + v dv / (2 sqrt(a b))),
integrated ballistically per slot (positions with the mean of old and new speed).
With car_following = none vehicles keep their desired speed and never wait (004's
"we ignore any congestion").
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from rsu_isac.core.scenario import Scenario
from rsu_isac.sim.traffic import (
    CLASS_CODES,
    CLASS_SIZES_M,
    ArrivalLog,
    VehicleStates,
    sample_classes,
    sample_speeds,
)

IDM_DELTA = 4.0


@dataclass
class _Waiting:
    arrival_s: float
    desired_mps: float
    vehicle_class: str


class EmbeddedTraffic:
    """Numpy traffic engine; see the module docstring."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.scenario = scenario
        self.arrivals = ArrivalLog()
        self._rng = np.random.default_rng(seed)
        self._dt = scenario.slot_s
        self._time = 0.0
        self._next_id = 1
        road = scenario.road
        self._length = road.length_m
        self._lane_y = np.array([lane.y_m for lane in road.lanes])
        self._lane_dir = np.array([lane.direction for lane in road.lanes], dtype=float)
        n_lanes = len(road.lanes)
        self._queues: list[deque[_Waiting]] = [deque() for _ in range(n_lanes)]
        # per-vehicle arrays
        self._id = np.zeros(0, dtype=np.int64)
        self._cls = np.zeros(0, dtype=np.int8)
        self._lane = np.zeros(0, dtype=np.int32)
        self._s = np.zeros(0)
        self._v = np.zeros(0)
        self._v0 = np.zeros(0)
        self._len = np.zeros(0)
        self._wid = np.zeros(0)
        self._place_initial_vehicles()
        traffic = scenario.traffic
        self._rate = traffic.arrival_rate_per_lane_per_s if traffic.arrivals == "poisson" else 0.0
        self._next_arrival = (
            self._rng.exponential(1.0 / self._rate, size=n_lanes)
            if self._rate > 0
            else np.full(n_lanes, np.inf)
        )

    # -- public interface -------------------------------------------------------------
    @property
    def time_s(self) -> float:
        return self._time

    @property
    def entry_queue_length(self) -> int:
        return sum(len(q) for q in self._queues)

    def step(self) -> None:
        end = self._time + self._dt
        self._draw_arrivals(end)
        self._move()
        self._time = end
        self._admit_waiting()
        keep = self._s <= self._length
        if not np.all(keep):
            self._select(keep)

    def vehicles(self) -> VehicleStates:
        direction = self._lane_dir[self._lane]
        road = self.scenario.road
        x = np.where(direction > 0, road.x_min_m + self._s, road.x_max_m - self._s)
        return VehicleStates(
            vehicle_id=self._id.copy(),
            vehicle_class=self._cls.copy(),
            lane=self._lane.copy(),
            x_m=x,
            y_m=self._lane_y[self._lane],
            vx_mps=direction * self._v,
            vy_mps=np.zeros_like(self._v),
            heading_rad=np.where(direction > 0, 0.0, np.pi),
            length_m=self._len.copy(),
            width_m=self._wid.copy(),
        )

    def close(self) -> None:
        """Nothing to release."""

    # -- internals --------------------------------------------------------------------
    def _place_initial_vehicles(self) -> None:
        initial = self.scenario.traffic.initial_vehicles
        if not initial:
            return
        speeds = sample_speeds(self._rng, self.scenario.traffic.speed, len(initial))
        road = self.scenario.road
        for vehicle, speed in zip(initial, speeds, strict=True):
            direction = road.lanes[vehicle.lane].direction
            s = vehicle.x_m - road.x_min_m if direction > 0 else road.x_max_m - vehicle.x_m
            self._append(vehicle.lane, s, speed, speed, vehicle.vehicle_class)

    def _append(self, lane: int, s: float, v: float, v0: float, vehicle_class: str) -> None:
        length, width = CLASS_SIZES_M[vehicle_class]
        self._id = np.append(self._id, self._next_id)
        self._next_id += 1
        self._cls = np.append(self._cls, np.int8(CLASS_CODES[vehicle_class]))
        self._lane = np.append(self._lane, np.int32(lane))
        self._s = np.append(self._s, s)
        self._v = np.append(self._v, v)
        self._v0 = np.append(self._v0, v0)
        self._len = np.append(self._len, length)
        self._wid = np.append(self._wid, width)

    def _select(self, keep: np.ndarray) -> None:
        for name in ("_id", "_cls", "_lane", "_s", "_v", "_v0", "_len", "_wid"):
            setattr(self, name, getattr(self, name)[keep])

    def _draw_arrivals(self, end: float) -> None:
        traffic = self.scenario.traffic
        for lane, queue in enumerate(self._queues):
            while self._next_arrival[lane] <= end:
                t = float(self._next_arrival[lane])
                speed = float(sample_speeds(self._rng, traffic.speed, 1)[0])
                cls = sample_classes(self._rng, traffic.class_probabilities, 1)[0]
                queue.append(_Waiting(t, speed, cls))
                self.arrivals.add(t, lane)
                self._next_arrival[lane] += self._rng.exponential(1.0 / self._rate)

    def _move(self) -> None:
        if self._s.size == 0:
            return
        if self.scenario.traffic.car_following.model == "none":
            self._s = self._s + self._v * self._dt
            return
        accel = self._idm_acceleration()
        v_new = np.maximum(self._v + accel * self._dt, 0.0)
        self._s = self._s + 0.5 * (self._v + v_new) * self._dt
        self._v = v_new

    def _leaders(self) -> np.ndarray:
        """Index of the vehicle ahead in the same lane, -1 for the first."""
        order = np.lexsort((self._s, self._lane))  # by lane, then position
        leader = np.full(self._s.size, -1)
        same_lane = self._lane[order[1:]] == self._lane[order[:-1]]
        leader[order[:-1][same_lane]] = order[1:][same_lane]
        return leader

    def _idm_acceleration(self) -> np.ndarray:
        cf = self.scenario.traffic.car_following
        v, v0 = self._v, self._v0
        free = 1.0 - (v / v0) ** IDM_DELTA
        leader = self._leaders()
        has = leader >= 0
        interaction = np.zeros_like(v)
        lead = leader[has]
        gap = self._s[lead] - self._s[has] - 0.5 * (self._len[lead] + self._len[has])
        gap = np.maximum(gap, 0.1)
        dv = v[has] - v[lead]
        desired = cf.min_gap_m + np.maximum(
            0.0,
            v[has] * cf.time_headway_s
            + v[has] * dv / (2.0 * np.sqrt(cf.max_accel_mps2 * cf.comfort_decel_mps2)),
        )
        interaction[has] = (desired / gap) ** 2
        return cf.max_accel_mps2 * (free - interaction)

    def _admit_waiting(self) -> None:
        """Let queued vehicles enter where there is room (always, without car following)."""
        cf = self.scenario.traffic.car_following
        for lane, queue in enumerate(self._queues):
            while queue:
                head = queue[0]
                length = CLASS_SIZES_M[head.vehicle_class][0]
                in_lane = self._lane == lane
                if cf.model == "none":
                    s_entry = head.desired_mps * (self._time - head.arrival_s)
                    speed = head.desired_mps
                else:
                    s_entry = 0.0
                    speed = head.desired_mps
                    if np.any(in_lane):
                        last = np.flatnonzero(in_lane)[np.argmin(self._s[in_lane])]
                        rear_gap = self._s[last] - 0.5 * (self._len[last] + length)
                        speed = min(speed, float(self._v[last]))
                        if rear_gap < cf.min_gap_m + speed * cf.time_headway_s:
                            break
                queue.popleft()
                self._append(lane, s_entry, speed, head.desired_mps, head.vehicle_class)
