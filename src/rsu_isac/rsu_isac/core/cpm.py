"""Collective perception: which tracked objects the RSU tells the vehicles about, and when.

The RSU's message to the vehicles is shaped on ETSI TS 103 324 (Collective Perception
Service): every ``period_s`` (T_GenCpm, 100 ms at the fastest) the generator checks each
confirmed or coasting track and includes it when it is new, when it has moved more than
``position_change_m`` (4 m), changed speed by more than ``speed_change_mps`` (0.5 m/s) or
its direction of travel by more than ``heading_change_deg`` (4 deg) since it was last
included, or when ``max_interval_s`` (1 s, T_GenCpmMax) has passed since then - the
standard's inclusion rules for vehicles (type-A objects). A CPM is sent when at least one
object is due, carrying only those. The rest of the message - confidences, existence,
age - comes from the track (the ``ekf_tracker`` node fills it, nodes.convert).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

CONFIDENCE_95_SIGMAS = 1.96  # ETSI confidences are 95 % half-widths of a normal error


@dataclass(frozen=True)
class CpmConfig:
    """The inclusion rules (TS 103 324's values by default)."""

    period_s: float = 0.1  # T_GenCpm
    position_change_m: float = 4.0
    speed_change_mps: float = 0.5
    heading_change_deg: float = 4.0
    max_interval_s: float = 1.0  # T_GenCpmMax


class CpmGenerator:
    """Remembers what was last sent of each object and decides the next inclusion."""

    def __init__(self, config: CpmConfig) -> None:
        self.config = config
        # object id -> (time [s], position (2,), velocity (2,)) when last included
        self._sent: dict[int, tuple[float, NDArray, NDArray]] = {}
        self._next_s: float | None = None

    def reset(self) -> None:
        self._sent.clear()
        self._next_s = None

    def due(
        self, time_s: float, object_id: NDArray, position_xy: NDArray, velocity_xy: NDArray
    ) -> NDArray[np.bool_] | None:
        """At ``time_s``: None when no generation check is due yet, else which of the
        objects (ids (T,), road-frame positions and velocities (T, 2)) the CPM includes
        (all false: no CPM now). Objects no longer given are forgotten: one that comes back
        is new again."""
        c = self.config
        if self._next_s is not None and time_s < self._next_s - 1e-9:
            return None
        self._next_s = time_s + c.period_s
        ids = np.asarray(object_id).tolist()
        self._sent = {i: v for i, v in self._sent.items() if i in set(ids)}
        include = np.zeros(len(ids), dtype=bool)
        for k, oid in enumerate(ids):
            last = self._sent.get(oid)
            include[k] = last is None or self._changed(time_s, last, position_xy[k], velocity_xy[k])
            if include[k]:
                self._sent[oid] = (time_s, np.array(position_xy[k]), np.array(velocity_xy[k]))
        return include

    def _changed(self, time_s: float, last, position: NDArray, velocity: NDArray) -> bool:
        c = self.config
        then, last_position, last_velocity = last
        speed, last_speed = np.hypot(*velocity), np.hypot(*last_velocity)
        turn = np.angle(complex(*velocity) * np.conj(complex(*last_velocity)))
        return bool(
            time_s - then >= c.max_interval_s - 1e-9
            or np.hypot(*(position - last_position)) > c.position_change_m
            or abs(speed - last_speed) > c.speed_change_mps
            or abs(np.degrees(turn)) > c.heading_change_deg
        )
