"""SUMO traffic engine, in-process through libsumo.

The road is built from plain node/edge XML with SUMO's ``netconvert`` (one edge per
driving direction, one SUMO lane per scenario lane, coordinates kept as given); demand is
one ``<flow period="exp(lambda)">`` per lane (Poisson arrivals), a vType distribution with
the scenario's class mix and IDM car following. SUMO reports the front-bumper position and
a compass heading in degrees (0 = north, clockwise); we convert to the body centre and to
radians counter-clockwise from +x. Static per-vehicle values (class, size, lane) are read
once, when the vehicle departs.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from rsu_isac.core.scenario import VEHICLE_CLASSES, Scenario
from rsu_isac.sim.traffic import (
    CLASS_CODES,
    CLASS_SIZES_M,
    ArrivalLog,
    VehicleStates,
    sample_speeds,
)

EDGE_FOR_DIRECTION = {1: "road_pos", -1: "road_neg"}


class SumoConfigError(ValueError):
    """The scenario cannot be expressed in SUMO; the message says which key and why."""


def _lanes_by_direction(scenario: Scenario) -> dict[int, list[int]]:
    """Scenario lane indices of each direction, in SUMO lane order (index 0 = rightmost:
    lowest y when driving +x, highest y when driving -x). Checks adjacency."""
    road = scenario.road
    groups: dict[int, list[int]] = {}
    for direction in (1, -1):
        lanes = [i for i, lane in enumerate(road.lanes) if lane.direction == direction]
        lanes.sort(key=lambda i: direction * road.lanes[i].y_m)
        ys = np.array([road.lanes[i].y_m for i in lanes])
        if ys.size > 1 and not np.allclose(np.abs(np.diff(ys)), road.lane_width_m):
            raise SumoConfigError(
                f"key 'road.lanes': SUMO needs the lanes of one direction side by side, "
                f"lane_width_m ({road.lane_width_m:g}) apart; direction {direction:+d} has "
                f"y = {ys.tolist()}"
            )
        if lanes:
            groups[direction] = lanes
    return groups


def _network_xml(scenario: Scenario, groups: dict[int, list[int]]) -> tuple[str, str]:
    road = scenario.road
    nodes, edges = ["<nodes>"], ["<edges>"]
    for direction, lanes in groups.items():
        y = float(np.mean([road.lanes[i].y_m for i in lanes]))
        start, end = (road.x_min_m, road.x_max_m) if direction > 0 else (road.x_max_m, road.x_min_m)
        edge = EDGE_FOR_DIRECTION[direction]
        nodes.append(f'  <node id="{edge}_a" x="{start!r}" y="{y!r}"/>')
        nodes.append(f'  <node id="{edge}_b" x="{end!r}" y="{y!r}"/>')
        edges.append(
            f'  <edge id="{edge}" from="{edge}_a" to="{edge}_b" numLanes="{len(lanes)}" '
            f'width="{road.lane_width_m!r}" speed="{scenario.traffic.speed.max_mps!r}" '
            'spreadType="center"/>'
        )
    return "\n".join([*nodes, "</nodes>"]), "\n".join([*edges, "</edges>"])


def build_network(scenario: Scenario, cache_dir: Path) -> Path:
    """netconvert the scenario's road into ``cache_dir`` (reused while the road is the same)."""
    import sumo

    groups = _lanes_by_direction(scenario)
    nodes, edges = _network_xml(scenario, groups)
    key = hashlib.sha256((nodes + edges).encode()).hexdigest()[:16]
    net = cache_dir / f"road_{key}.net.xml"
    if net.is_file():
        return net
    cache_dir.mkdir(parents=True, exist_ok=True)
    (cache_dir / f"road_{key}.nod.xml").write_text(nodes)
    (cache_dir / f"road_{key}.edg.xml").write_text(edges)
    netconvert = Path(sumo.SUMO_HOME) / "bin" / "netconvert"
    result = subprocess.run(
        [
            str(netconvert),
            "--node-files",
            str(cache_dir / f"road_{key}.nod.xml"),
            "--edge-files",
            str(cache_dir / f"road_{key}.edg.xml"),
            "--output-file",
            str(net),
            "--offset.disable-normalization",
            "true",
            "--no-turnarounds",
            "true",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"netconvert failed: {result.stderr.strip()}")
    return net


def _routes_xml(scenario: Scenario, groups: dict[int, list[int]], rng: np.random.Generator) -> str:
    """Demand: class mix, one Poisson flow per lane, and the initial vehicles at t = 0 (at
    their given positions, without SUMO's insertion gap checks, as the embedded engine)."""
    traffic = scenario.traffic
    cf = traffic.car_following
    speed = traffic.speed
    lines = ["<routes>"]
    for cls in VEHICLE_CLASSES:
        length, width = CLASS_SIZES_M[cls]
        # speed factors are relative to the edge speed limit, which is the maximum speed
        top = speed.max_mps
        factor = (
            f"normc({speed.mean_mps / top!r},{speed.std_mps / top!r},{speed.min_mps / top!r},1)"
        )
        lines.append(
            f'  <vType id="{cls}" length="{length!r}" '
            f'width="{width!r}" minGap="{cf.min_gap_m!r}" maxSpeed="100" '
            f'speedFactor="{factor}" carFollowModel="IDM" accel="{cf.max_accel_mps2!r}" '
            f'decel="{cf.comfort_decel_mps2!r}" tau="{cf.time_headway_s!r}" delta="4" '
            'lcStrategic="-1" lcCooperative="0" lcSpeedGain="0" lcKeepRight="0"/>'
        )
    mix = " ".join(VEHICLE_CLASSES)
    probabilities = " ".join(repr(p) for p in traffic.class_probabilities)
    lines.append(f'  <vTypeDistribution id="mix" vTypes="{mix}" probabilities="{probabilities}"/>')
    for direction in groups:
        edge = EDGE_FOR_DIRECTION[direction]
        lines.append(f'  <route id="r_{edge}" edges="{edge}"/>')
    road = scenario.road
    speeds = sample_speeds(rng, speed, len(traffic.initial_vehicles))
    for n, (vehicle, v) in enumerate(zip(traffic.initial_vehicles, speeds, strict=True)):
        direction = road.lanes[vehicle.lane].direction
        centre = vehicle.x_m - road.x_min_m if direction > 0 else road.x_max_m - vehicle.x_m
        front = centre + CLASS_SIZES_M[vehicle.vehicle_class][0] / 2
        lines.append(
            f'  <vehicle id="init{n}" type="{vehicle.vehicle_class}" '
            f'route="r_{EDGE_FOR_DIRECTION[direction]}" depart="0" '
            f'departLane="{groups[direction].index(vehicle.lane)}" departPos="{front!r}" '
            f'departSpeed="{float(v)!r}" speedFactor="{float(v) / speed.max_mps!r}" '
            'insertionChecks="none"/>'
        )
    for direction, lanes in groups.items():
        edge = EDGE_FOR_DIRECTION[direction]
        if traffic.arrivals == "poisson" and traffic.arrival_rate_per_lane_per_s > 0:
            for sumo_lane, lane in enumerate(lanes):
                lines.append(
                    f'  <flow id="lane{lane}" type="mix" route="r_{edge}" begin="0" '
                    f'end="1e9" period="exp({traffic.arrival_rate_per_lane_per_s!r})" '
                    f'departLane="{sumo_lane}" departSpeed="desired" departPos="base"/>'
                )
    lines.append("</routes>")
    return "\n".join(lines)


class SumoTraffic:
    """libsumo traffic engine; see the module docstring."""

    def __init__(self, scenario: Scenario, seed: int, cache_dir: Path | None = None) -> None:
        import libsumo

        traffic = scenario.traffic
        if traffic.car_following.model != "idm":
            raise SumoConfigError(
                "key 'traffic.car_following.model': the SUMO engine needs 'idm' (SUMO cannot "
                "ignore congestion); use --engine embedded for this scenario"
            )
        if traffic.arrivals == "poisson" and traffic.speed.distribution != "truncated_normal":
            raise SumoConfigError(
                "key 'traffic.speed.distribution': SUMO flows draw speeds from a truncated "
                "normal (speedFactor normc); use truncated_normal or --engine embedded"
            )
        self.scenario = scenario
        self.arrivals = ArrivalLog()
        self._sumo = libsumo
        self._workdir = tempfile.TemporaryDirectory(prefix="rsu_isac_sumo_")
        cache = cache_dir or Path(tempfile.gettempdir()) / "rsu_isac_sumo_nets"
        self._groups = _lanes_by_direction(scenario)
        self._sumo_lane_to_lane = {
            (EDGE_FOR_DIRECTION[d], i): lane
            for d, lanes in self._groups.items()
            for i, lane in enumerate(lanes)
        }
        net = build_network(scenario, cache)
        routes = Path(self._workdir.name) / "demand.rou.xml"
        routes.write_text(_routes_xml(scenario, self._groups, np.random.default_rng(seed)))
        libsumo.start(
            [
                "sumo",
                "-n",
                str(net),
                "-r",
                str(routes),
                "--step-length",
                repr(scenario.slot_s),
                "--seed",
                str(seed % 2**31),
                "--no-step-log",
                "true",
                "--no-warnings",
                "true",
                "--begin",
                "0",
                "--collision.action",
                "warn",
                "--default.speeddev",
                "0",
            ]
        )
        self._static: dict[str, tuple[int, int, int, float, float]] = {}
        self._next_id = 1
        self._sumo.simulationStep(0.0)  # insert the initial vehicles at t = 0
        self._register_departures()

    @property
    def time_s(self) -> float:
        return float(self._sumo.simulation.getTime())

    @property
    def entry_queue_length(self) -> int:
        return len(self._sumo.simulation.getPendingVehicles())

    def step(self) -> None:
        self._sumo.simulationStep()
        self._register_departures()
        for veh in self._sumo.simulation.getArrivedIDList():
            self._static.pop(veh, None)

    def _register_departures(self) -> None:
        vehicle = self._sumo.vehicle
        for veh in self._sumo.simulation.getDepartedIDList():
            type_id = vehicle.getTypeID(veh)
            lane = self._sumo_lane_to_lane[(vehicle.getRoadID(veh), vehicle.getLaneIndex(veh))]
            self._static[veh] = (
                self._next_id,
                CLASS_CODES[type_id],
                lane,
                vehicle.getLength(veh),
                vehicle.getWidth(veh),
            )
            self._next_id += 1
            if not veh.startswith("init"):
                desired = vehicle.getDeparture(veh) - vehicle.getDepartDelay(veh)
                self.arrivals.add(desired, lane)

    def vehicles(self) -> VehicleStates:
        vehicle = self._sumo.vehicle
        ids = list(self._static)
        k = len(ids)
        static = np.array([self._static[v] for v in ids], dtype=float).reshape(k, 5)
        front = np.array([vehicle.getPosition(v) for v in ids], dtype=float).reshape(k, 2)
        compass = np.array([vehicle.getAngle(v) for v in ids], dtype=float)
        speed = np.array([vehicle.getSpeed(v) for v in ids], dtype=float)
        heading = np.angle(np.exp(1j * np.radians(90.0 - compass)))
        length = static[:, 3]
        centre = front - 0.5 * length[:, None] * np.stack([np.cos(heading), np.sin(heading)], -1)
        return VehicleStates(
            vehicle_id=static[:, 0].astype(np.int64),
            vehicle_class=static[:, 1].astype(np.int8),
            lane=static[:, 2].astype(np.int32),
            x_m=centre[:, 0],
            y_m=centre[:, 1],
            vx_mps=speed * np.cos(heading),
            vy_mps=speed * np.sin(heading),
            heading_rad=heading,
            length_m=length,
            width_m=static[:, 4],
        )

    def close(self) -> None:
        self._sumo.close()
        self._workdir.cleanup()
