"""What every traffic engine produces, and the pieces the engines share.

An engine advances the road by one slot per :meth:`TrafficEngine.step` and reports
:class:`VehicleStates` (one array per quantity, one entry per vehicle on the road) in the
road frame. Engines are deterministic given the scenario and the seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from rsu_isac.core.scenario import VEHICLE_CLASSES, Scenario, SpeedConfig

# Class codes match rsu_isac_interfaces/VehicleState CLASS_* constants.
CLASS_CODES = {"car": 1, "truck": 2, "bus": 3}
# Body (length, width) [m] per class: typical EU passenger car, rigid truck, city bus.
CLASS_SIZES_M = {"car": (4.5, 1.8), "truck": (12.0, 2.5), "bus": (12.0, 2.55)}


@dataclass(frozen=True)
class VehicleStates:
    """Ground truth of every vehicle on the road (arrays of equal length)."""

    vehicle_id: NDArray[np.int64]
    vehicle_class: NDArray[np.int8]  # CLASS_CODES values
    lane: NDArray[np.int32]  # index into scenario.road.lanes
    x_m: NDArray[np.float64]  # body centre
    y_m: NDArray[np.float64]
    vx_mps: NDArray[np.float64]
    vy_mps: NDArray[np.float64]
    heading_rad: NDArray[np.float64]
    length_m: NDArray[np.float64]
    width_m: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.vehicle_id.size)

    @property
    def position_xy(self) -> NDArray[np.float64]:
        return np.stack([self.x_m, self.y_m], axis=-1)

    @property
    def velocity_xy(self) -> NDArray[np.float64]:
        return np.stack([self.vx_mps, self.vy_mps], axis=-1)

    def as_array(self) -> NDArray[np.float64]:
        """(K, 10) float array of every field, for hashing and comparisons."""
        return np.stack([np.asarray(getattr(self, f), dtype=float) for f in FIELDS], axis=-1)


FIELDS = tuple(f for f in VehicleStates.__dataclass_fields__)


@dataclass
class ArrivalLog:
    """Arrival (demand) times per lane: when a vehicle wanted to enter, whether or not it
    could at once (it may wait in the entry queue)."""

    times_s: list[float] = field(default_factory=list)
    lanes: list[int] = field(default_factory=list)

    def add(self, time_s: float, lane: int) -> None:
        self.times_s.append(time_s)
        self.lanes.append(lane)

    def inter_arrival_times_s(self, lane: int) -> NDArray[np.float64]:
        times = np.sort([t for t, ln in zip(self.times_s, self.lanes, strict=True) if ln == lane])
        return np.diff(times)


class TrafficEngine(Protocol):
    """Interface of the traffic engines (embedded numpy, SUMO through libsumo)."""

    scenario: Scenario
    arrivals: ArrivalLog

    @property
    def time_s(self) -> float: ...

    @property
    def entry_queue_length(self) -> int:
        """Vehicles that arrived but wait for a gap to enter the road."""
        ...

    def step(self) -> None:
        """Advance by one slot (scenario.slot_s)."""
        ...

    def vehicles(self) -> VehicleStates: ...

    def close(self) -> None: ...


def sample_speeds(rng: np.random.Generator, speed: SpeedConfig, count: int) -> NDArray[np.float64]:
    """Desired speeds [m/s]: uniform on [min, max], or a normal truncated to [min, max]
    (rejection sampling, exact)."""
    if speed.distribution == "uniform":
        return rng.uniform(speed.min_mps, speed.max_mps, size=count)
    out = np.empty(count)
    filled = 0
    while filled < count:
        draw = rng.normal(speed.mean_mps, speed.std_mps, size=2 * (count - filled) + 4)
        keep = draw[(draw >= speed.min_mps) & (draw <= speed.max_mps)][: count - filled]
        out[filled : filled + keep.size] = keep
        filled += keep.size
    return out


def sample_classes(rng: np.random.Generator, probabilities: tuple[float, ...], count: int):
    """Vehicle class names drawn with the scenario's class mix."""
    return [
        VEHICLE_CLASSES[i] for i in rng.choice(len(VEHICLE_CLASSES), size=count, p=probabilities)
    ]


def create_engine(scenario: Scenario, engine: str, seed: int) -> TrafficEngine:
    """The traffic engine called ``engine`` ('embedded' or 'sumo')."""
    if engine == "embedded":
        from rsu_isac.sim.embedded import EmbeddedTraffic

        return EmbeddedTraffic(scenario, seed)
    if engine == "sumo":
        from rsu_isac.sim.sumo_engine import SumoTraffic

        return SumoTraffic(scenario, seed)
    raise ValueError(f"unknown traffic engine '{engine}'; valid engines: embedded, sumo")


ENGINES = ("embedded", "sumo")
