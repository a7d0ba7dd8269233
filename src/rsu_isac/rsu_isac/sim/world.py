"""The simulated road, slot by slot: traffic, true channels, link score, radar echoes,
camera frames and the vehicles' own reports, with the beams last commanded (and the
recovery sweep's beams for the vehicles they missed). Used by the ``traffic_sim`` node and
by the headless closed loop; ROS-free."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from rsu_isac.core.array import steering_vector
from rsu_isac.core.beams import KIND_SENSING, BeamSet
from rsu_isac.core.camera_model import PinholeCamera
from rsu_isac.core.channel import estimated_channel
from rsu_isac.core.geometry import to_polar
from rsu_isac.core.scenario import Scenario
from rsu_isac.core.v2x import VehicleReports
from rsu_isac.sim.camera import mast_camera, render
from rsu_isac.sim.interference import NeighbourCells
from rsu_isac.sim.link import ChannelModel, LinkScore, score_link
from rsu_isac.sim.radar_echo import (
    Measurements,
    OfdmDraws,
    OfdmFrame,
    Targets,
    strongest_per_vehicle,
    synthesize_measurements,
    synthesize_ofdm_echo,
)
from rsu_isac.sim.traffic import TrafficEngine, VehicleStates, create_engine
from rsu_isac.sim.v2x import ReportSource

Abstraction = Literal["signal", "measurement"]
ABSTRACTIONS: tuple[Abstraction, ...] = ("signal", "measurement")


@dataclass(frozen=True)
class SimConfig:
    engine: str = "embedded"
    abstraction: Abstraction = "signal"
    seed: int = 0
    camera_period_slots: int = 5  # 0 = no camera
    misalignment_gain: float = 0.5  # beam gain below which a vehicle counts as misaligned
    # a vehicle misaligned in a slot is swept for, as 003's E_recovery (eq. (5)) pays for:
    # the echoes of that slot carry :func:`recovery_beams`
    beam_recovery: bool = True


@dataclass(frozen=True)
class Echo:
    """What one receiving RSU gets in a slot (one of frame / measurements is set)."""

    rsu_index: int
    frame: OfdmFrame | None
    measurements: Measurements | None


@dataclass(frozen=True)
class SlotOutput:
    slot: int
    time_s: float
    vehicles: VehicleStates
    entry_queue_length: int
    link: LinkScore
    echoes: list[Echo]
    image: NDArray[np.uint8] | None
    reports: VehicleReports  # vehicles' own reports heard this slot (every RSU hears them)


@dataclass(frozen=True)
class _Prepared:
    """What :meth:`Simulator.prepare` draws for the next slot."""

    vehicles: VehicleStates
    rows: NDArray[np.complex128]  # (R, K, N) true channel
    draws: list[OfdmDraws | None]
    cli_w: NDArray[np.float64]  # (K, n) cross-link interference at the vehicles
    heard_w: NDArray[np.float64]  # (R, n) cross-link interference at the RSUs
    estimate: NDArray[np.complex128] | None  # (R, K, N) pilot estimate, None without pilots


def omni_beams(scenario: Scenario) -> BeamSet:
    """Before any command: each transmitting RSU radiates its full power from one element
    (an isotropic sensing pattern, gain 1/N in every direction)."""
    n = scenario.radio.array.num_tx_antennas
    tx = scenario.transmitters()
    weights = np.zeros((len(tx), n), dtype=complex)
    weights[:, 0] = 1.0
    return BeamSet(
        weights,
        np.full(len(tx), scenario.radio.max_power_w),
        np.array(tx),
        np.full(len(tx), KIND_SENSING),
        np.zeros(len(tx), int),
        np.full(len(tx), np.pi / 2),
    )


def recovery_beams(
    scenario: Scenario, vehicles: VehicleStates, misaligned: NDArray[np.bool_]
) -> BeamSet:
    """The outcome of an exhaustive beam sweep for each ``misaligned`` vehicle (003 Sec. II-B:
    beam failure recovery, E_recovery of eq. (5)): from every transmitting RSU, the beam of
    the N_t-beam DFT codebook (cos theta_i = -1 + (2 i + 1) / N_t) nearest the vehicle's true
    angle, at full power. The echoes of the slot the failure happened in carry them (see
    :meth:`Simulator.echo`), so the RSU's tracker finds the vehicle again."""
    n = scenario.radio.array.num_tx_antennas
    spacing = scenario.radio.array.spacing_wavelengths
    lost = np.flatnonzero(misaligned)
    tx = scenario.transmitters()
    if lost.size == 0 or not tx:
        return BeamSet.empty(n)
    angles = []
    for r in tx:
        rsu = scenario.rsus[r]
        theta = to_polar(
            rsu.position_m, vehicles.position_xy[lost], vehicles.velocity_xy[lost]
        ).theta_rad
        codeword = np.clip(np.floor((np.cos(theta) + 1.0) * n / 2.0), 0, n - 1)
        angles.append(np.arccos(-1.0 + (2.0 * codeword + 1.0) / n))
    angle = np.concatenate(angles)
    return BeamSet(
        steering_vector(angle, n, spacing),
        np.full(angle.size, scenario.radio.max_power_w),
        np.repeat(tx, lost.size),
        np.full(angle.size, KIND_SENSING),
        np.zeros(angle.size, int),
        angle,
    )


class Simulator:
    """Closed-loop road simulator; call :meth:`apply` with new beams, :meth:`step` per slot."""

    def __init__(self, scenario: Scenario, config: SimConfig) -> None:
        if config.abstraction not in ABSTRACTIONS:
            raise ValueError(
                f"unknown sensor abstraction '{config.abstraction}'; valid: signal, measurement"
            )
        self.scenario = scenario
        self.config = config
        # children 0-3 as before the pilots and neighbours came (runs stay the same)
        seeds = np.random.SeedSequence(config.seed).spawn(6)
        traffic_seq, channel_seq, radar_seq, v2x_seq, pilot_seq, neighbour_seq = seeds
        self.engine: TrafficEngine = create_engine(
            scenario, config.engine, int(traffic_seq.generate_state(1)[0])
        )
        self._channel = ChannelModel(scenario, np.random.default_rng(channel_seq))
        self._radar_rng = np.random.default_rng(radar_seq)
        self.reports = ReportSource(scenario.v2x, np.random.default_rng(v2x_seq))
        self._pilot_rng = np.random.default_rng(pilot_seq)
        self.neighbours = NeighbourCells(scenario, np.random.default_rng(neighbour_seq))
        self._heard = self.neighbours.at_receivers(scenario.rsu_positions_m)
        self._cli = np.zeros((0, scenario.interference.num_bands))
        self._estimate_now: NDArray[np.complex128] | None = None
        self.mast_camera: PinholeCamera = mast_camera(scenario)
        # the camera that renders every camera_period_slots (None: only capture() renders)
        self.camera: PinholeCamera | None = (
            self.mast_camera if config.camera_period_slots > 0 else None
        )
        self.beams = omni_beams(scenario)
        self.slot = 0
        self._next: _Prepared | None = None

    def apply(self, beams: BeamSet) -> None:
        """Beams to use from the next slot on."""
        self.beams = beams

    def prepare(self) -> None:
        """Do now what the next :meth:`step` needs and the beams do not change: the traffic
        step, the true channel and, at the signal level, each echo's symbols and noise
        (drawn in the order :meth:`step` draws them, so the run stays the same). A node
        calls it while it waits for the next command; :meth:`step` calls it otherwise.
        ``slot`` and the current slot's vehicles stay those of the last step."""
        if self._next is not None:
            return
        self.engine.step()
        vehicles = self.engine.vehicles()
        signal = self.config.abstraction == "signal"
        draws = [
            OfdmDraws.draw(self._radar_rng, self.scenario) if signal else None
            for _ in self._receivers()
        ]
        rows = self._channel.rows(vehicles)
        self.neighbours.step()
        self._next = _Prepared(
            vehicles,
            rows,
            draws,
            self.neighbours.at_vehicles(vehicles.position_xy),
            self.neighbours.at_receivers(self.scenario.rsu_positions_m),
            self._estimate(vehicles, rows),
        )

    def _estimate(self, vehicles: VehicleStates, rows: NDArray) -> NDArray | None:
        """The pilot estimate of ``rows`` (core.channel.estimated_channel), None without
        pilots."""
        ch = self.scenario.radio.channel
        if not ch.pilots:
            return None
        ranges = np.linalg.norm(
            vehicles.position_xy[None, :, :] - self.scenario.rsu_positions_m[:, None, :], axis=-1
        )
        return estimated_channel(self._pilot_rng, rows, ch.amplitude(ranges), ch.csi_error_db)

    def pilot_estimate(self) -> tuple[VehicleStates, NDArray[np.complex128]] | None:
        """The next slot's vehicles and the RSUs' pilot estimate of their channel (R, K, N)
        (block fading: the pilots open the slot the beams are for); None where the scenario
        has no pilots. Draws the next slot (:meth:`prepare`) if not yet drawn."""
        self.prepare()
        prepared = self._next
        return None if prepared.estimate is None else (prepared.vehicles, prepared.estimate)

    @property
    def current_pilot_estimate(self) -> NDArray[np.complex128] | None:
        """The pilot estimate (R, K, N) of the current slot's channel (its vehicles'
        order), None without pilots: what a genie that knows the vehicles gets."""
        return self._estimate_now

    def step(self) -> SlotOutput:
        self.prepare()
        prepared = self._next
        vehicles, self._rows, draws = prepared.vehicles, prepared.rows, prepared.draws
        self._cli, self._heard = prepared.cli_w, prepared.heard_w
        self._estimate_now = prepared.estimate
        self._next = None
        self.slot += 1
        self._vehicles = vehicles
        link = self.score(self.beams)
        recovery = (
            recovery_beams(self.scenario, vehicles, link.misaligned)
            if self.config.beam_recovery
            else None
        )
        echoes = [
            self.echo(pair, vehicles, recovery, draw)
            for pair, draw in zip(self._receivers(), draws, strict=True)
        ]
        image = None
        if self.camera is not None and self.slot % self.config.camera_period_slots == 0:
            image = self.capture()
        return SlotOutput(
            self.slot,
            self.engine.time_s,
            vehicles,
            self.engine.entry_queue_length,
            link,
            echoes,
            image,
            self.reports.step(self.engine.time_s, vehicles),
        )

    @property
    def true_rows(self) -> NDArray[np.complex128]:
        """The current slot's true channel rows (RSUs, K vehicles, N) that :meth:`score` uses
        (for training losses that need the true channel, never for a policy's decision)."""
        return self._rows

    def capture(self) -> NDArray[np.uint8]:
        """A frame of the mast camera now (for a camera triggered on demand, as by an AoI
        schedule, rather than every ``camera_period_slots``)."""
        return render(self.mast_camera, self.scenario, self._vehicles)

    def score(self, beams: BeamSet) -> LinkScore:
        """Score ``beams`` on the true channel of the current slot (what :meth:`step` does
        with the applied beams; also for a genie's beams)."""
        return score_link(
            self.scenario,
            self._vehicles,
            self._rows,
            beams,
            self.config.misalignment_gain,
            self._cli,
        )

    @property
    def heard_interference_w(self) -> NDArray[np.float64]:
        """(R, n) cross-link interference each RSU's receiver heard per band this slot [W]
        (the neighbours' occupancy an RSU can measure)."""
        return self._heard

    def close(self) -> None:
        self.engine.close()

    def _receivers(self) -> list[tuple[int, int]]:
        """(receiving RSU, illuminating RSU) pairs: monostatic RSUs hear their own beams, a
        receive RSU those of the transmit RSU (002)."""
        return [(i, self.scenario.illuminator(i)) for i in self.scenario.receivers()]

    def echo(
        self,
        pair: tuple[int, int],
        vehicles: VehicleStates,
        recovery: BeamSet | None = None,
        draws: OfdmDraws | None = None,
    ) -> Echo:
        """The echo the receiving RSU of ``pair`` = (receiver, illuminator) gets from
        ``vehicles`` with the current beams and the illuminator's ``recovery`` sweep beams
        (signal level: with ``draws`` drawn ahead by :meth:`prepare`, else drawn now).
        In the OFDM frame the sweep beams simply add (the processing separates echoes in
        range, Doppler and angle); at the measurement level each is a dwell of its own (000's
        SINR of eq. (7) would count them as each other's interference, which the beams of a
        sequential sweep are not) and a vehicle keeps its strongest detection."""
        rx, tx = pair
        sc = self.scenario
        mine = self.beams.rsu_index == tx
        weights, powers = self.beams.weights[mine], self.beams.powers_w[mine]
        if recovery is None:
            recovery = BeamSet.empty(weights.shape[1])
        sweep = recovery.rsu_index == tx
        sweep_weights, sweep_powers = recovery.weights[sweep], recovery.powers_w[sweep]
        rx_xy, tx_xy = sc.rsus[rx].position_m, sc.rsus[tx].position_m
        kappa = np.full(len(vehicles), sc.radar.kappa)
        if self.config.abstraction == "measurement":
            targets = Targets.build(
                sc, tx_xy, rx_xy, vehicles.position_xy, vehicles.velocity_xy, kappa
            )
            reach = sc.max_echo_range_m(rx)  # the instrumented range the radar node gets
            dwells = [synthesize_measurements(self._radar_rng, sc, targets, weights, powers, reach)]
            for j, (w, p) in enumerate(zip(sweep_weights, sweep_powers, strict=True)):
                found = synthesize_measurements(
                    self._radar_rng, sc, targets, w[None], p[None], reach
                )
                dwells.append(replace(found, beam_index=found.beam_index + len(powers) + j))
            return Echo(rx, None, strongest_per_vehicle(dwells))
        clutter_xy = np.array([c.position_m for c in sc.clutter]).reshape(-1, 2)
        clutter_kappa = np.array([complex(*c.reflection) for c in sc.clutter])
        positions = np.vstack([vehicles.position_xy, clutter_xy])
        velocities = np.vstack([vehicles.velocity_xy, np.zeros_like(clutter_xy)])
        targets = Targets.build(
            sc, tx_xy, rx_xy, positions, velocities, np.concatenate([kappa, clutter_kappa])
        )
        frame = synthesize_ofdm_echo(
            self._radar_rng,
            sc,
            targets,
            np.vstack([weights, sweep_weights]),
            np.concatenate([powers, sweep_powers]),
            draws,
        )
        return Echo(rx, frame, None)
