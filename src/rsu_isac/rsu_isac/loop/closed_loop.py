"""The headless closed loop (no ROS): the same core pieces the nodes run, wired in one
process - traffic -> radar echo -> radar processing -> EKF tracker per RSU -> policy ->
link score - for fast evaluation (``rsu-isac eval``) and for the RL environments.

Per slot n: the simulator moves the traffic and scores the beams decided at slot n-1 on
the true channel; each receiving RSU's echo is processed (signal level: core.radar_dsp;
measurement level: the detections as they come) and tracked, after the vehicles' own
reports heard in the last slot (core.v2x; the ekf_tracker node's order); the confirmed tracks of all
RSUs are fused into one list of vehicles with their one-slot predictions, and the policy
decides the beams of slot n+1. The genie runs the same policy on the true vehicle states of
slot n and is scored on the same true channel.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from rsu_isac.beamforming.context import (
    MAX_COAST_SERVE_SLOTS,
    PredictedVehicles,
    RadioContext,
    servable,
)
from rsu_isac.beamforming.policies import SENSING_FRACTION, Policy, create_policy
from rsu_isac.core.aoi import sweep_energy_j
from rsu_isac.core.array import beam_pattern
from rsu_isac.core.beams import BeamSet
from rsu_isac.core.channel import energy_efficiency_bit_per_j
from rsu_isac.core.fusion import merge_positions
from rsu_isac.core.geometry import to_polar
from rsu_isac.core.interference import self_interference_w, to_db_or_none
from rsu_isac.core.radar import detection_limits, with_rf_snr
from rsu_isac.core.radar_dsp import (
    FrameGeometry,
    ProcessingConfig,
    process_frame,
    screen_detections,
)
from rsu_isac.core.scenario import Scenario, with_v2x_share
from rsu_isac.core.track_metrics import (
    ERROR_COLUMNS,
    tracked_vehicles,
    tracking_errors,
    tracking_summary,
)
from rsu_isac.core.tracker import (
    CONFIRMED,
    MAX_TRACKER_DETECTIONS,
    TENTATIVE,
    Tracker,
    TrackerConfig,
    TrackView,
)
from rsu_isac.core.v2x import VehicleReports
from rsu_isac.perception.camera_detector import CameraDetector, DetectorConfig, Region
from rsu_isac.scheduling.lstm_expert import load_expert
from rsu_isac.scheduling.scheduler import (
    EXPERT_POLICIES,
    SCHEDULER_POLICIES,
    AoiScheduler,
    Schedule,
    TrackAoiInputs,
)
from rsu_isac.sim.radar_echo import covariance_crlb_rad2
from rsu_isac.sim.traffic import VehicleStates
from rsu_isac.sim.world import Echo, SimConfig, Simulator, SlotOutput

FUSION_GATE_M = 3.0  # tracks of two RSUs closer than this are one vehicle


@dataclass(frozen=True)
class EvalConfig:
    policy: str = "predictive_mrt"
    slots: int = 500
    seed: int = 0
    abstraction: str = "measurement"
    engine: str = "embedded"
    assignment: str = "distance"
    power_split: str = "equal"
    constant_modulus: bool = False  # phase-shifter beams, 003 eq. (9b)
    sensing_fraction: float = SENSING_FRACTION  # power share of the sensing beam (002 rho_s)
    user_sinr_share: float = 0.0  # isac_ocs: SINR share users keep under the sensing beam
    aoi_policy: str = "radar_only"
    rf_snr_db: float | None = None  # None: the scenario's sensing noise (core.radar)
    v2x_share: float | None = None  # share of vehicles sending reports; None: the scenario's
    aoi_risk_threshold: float | None = None  # None: Gamma_misa of the scenario
    lstm_checkpoint: str | None = None  # temporal expert of ``lstm``/``hmoe``; None: shipped
    max_power_dbm: float | None = None  # None: the scenario's
    motion_model: str = "cartesian"
    max_coast_serve_slots: int = MAX_COAST_SERVE_SLOTS
    checkpoint: str | None = None  # a learned policy's checkpoint (None: the one it ships)
    genie: bool = True  # also score the policy on the true states (off while training)


def scenario_as_run(scenario: Scenario, config: EvalConfig) -> Scenario:
    """``scenario`` with the run's ``rf_snr_db``, ``v2x_share`` and ``max_power_dbm``
    applied."""
    if config.rf_snr_db is not None:
        scenario = with_rf_snr(scenario, config.rf_snr_db)
    if config.v2x_share is not None:
        scenario = with_v2x_share(scenario, config.v2x_share)
    if config.max_power_dbm is not None:
        scenario = replace(
            scenario, radio=replace(scenario.radio, max_power_dbm=config.max_power_dbm)
        )
    return scenario


def _detections(echo: Echo, scenario: Scenario, processing: ProcessingConfig):
    """The detections the tracker gets, screened as the nodes screen them: a
    measurement-level echo to the radar node's instrumented range and detection cap, and
    every frame to the tracker node's unambiguous spans and cap
    (core.radar_dsp.screen_detections)."""
    reach, speed = detection_limits(scenario)
    if echo.measurements is not None:
        instrumented = processing.max_range_m or reach
        found = screen_detections(
            echo.measurements.detections, instrumented, processing.max_detections
        )
    else:
        geometry = FrameGeometry.from_scenario(scenario)
        found = process_frame(echo.frame.samples, echo.frame.tx_symbols, geometry, processing)
    return screen_detections(found, reach, MAX_TRACKER_DETECTIONS, speed)


def truth_vehicles(vehicles: VehicleStates) -> PredictedVehicles:
    """The true vehicle states as a policy's input (the genie's, and 000's true-state
    ablation)."""
    return PredictedVehicles(
        vehicles.vehicle_id.astype(np.int64), vehicles.position_xy, vehicles.velocity_xy
    )


@dataclass(frozen=True)
class Sensed:
    """One slot as the RSU knows it after sensing: the simulator's output (truth and the
    link score of the beams applied), every RSU's tracks and the vehicles for the next
    slot."""

    out: SlotOutput
    views: list[TrackView]
    predicted: PredictedVehicles
    camera_energy_j: float  # E_comp of 003 eq. (4) of the camera run this slot
    camera_s: float  # its processing time


class ClosedLoop:
    """One closed-loop run; :meth:`step` advances one slot and returns its metrics.
    :meth:`sense` and :meth:`act` are its two halves, for a caller (an RL environment) that
    decides the beams itself. ``policy`` replaces the one ``config.policy`` names, ``expert``
    the temporal expert of the ``lstm`` / ``hmoe`` AoI policies that ``config.lstm_checkpoint``
    loads (anything with LstmExpert's ``schedule``)."""

    def __init__(
        self,
        scenario: Scenario,
        config: EvalConfig,
        policy: Policy | None = None,
        expert: object | None = None,
    ) -> None:
        if config.aoi_policy not in SCHEDULER_POLICIES:
            raise ValueError(
                f"unknown AoI policy '{config.aoi_policy}'; valid: {', '.join(SCHEDULER_POLICIES)}"
            )
        scenario = scenario_as_run(scenario, config)
        self.scenario = scenario
        self._transmitters = RadioContext(scenario).transmitters
        self.config = config

        def named() -> Policy:
            return create_policy(
                config.policy,
                RadioContext(scenario),
                checkpoint=config.checkpoint,
                assignment=config.assignment,
                power_split=config.power_split,
                constant_modulus=config.constant_modulus,
                sensing_fraction=config.sensing_fraction,
                user_sinr_share=config.user_sinr_share,
            )

        self.policy = policy or named()
        # the genie's own instance: a learned policy remembers its last beams (its state)
        self.genie_policy = named() if config.genie and policy is None else self.policy
        self.sim = Simulator(
            scenario,
            SimConfig(
                engine=config.engine,
                abstraction=config.abstraction,
                seed=config.seed,
                camera_period_slots=0,
            ),
        )
        tracker_config = TrackerConfig(motion_model=config.motion_model)
        receivers = scenario.receivers()
        self.trackers = {
            i: Tracker.for_scenario(scenario, i, tracker_config, config.seed) for i in receivers
        }
        self.processing = {  # each radar out to its road's farthest echo, as graph.py's
            i: ProcessingConfig(max_range_m=scenario.max_echo_range_m(i)) for i in receivers
        }
        self.slot = 0
        if expert is None and config.aoi_policy in EXPERT_POLICIES:
            expert = load_expert(config.lstm_checkpoint, scenario.aoi.max_aoi_slots, config.seed)
        self.scheduler = AoiScheduler(
            scenario, config.aoi_policy, config.aoi_risk_threshold, expert
        )
        self.camera_rsu = receivers[0]  # the mast camera sits on the first receiving RSU
        self.camera = (
            CameraDetector(self.sim.mast_camera, scenario.road, DetectorConfig())
            if config.aoi_policy != "radar_only"
            else None
        )
        self._schedule: Schedule | None = None  # decided last slot for this one
        self._heard = VehicleReports.empty()  # vehicles' reports heard in the last slot

    @property
    def schedule(self) -> Schedule | None:
        """The camera schedule decided for the next slot (None before the first decision)."""
        return self._schedule

    def close(self) -> None:
        self.sim.close()

    def _predicted(self, views: list[TrackView]) -> PredictedVehicles:
        live = [servable(v.status, v.misses, self.config.max_coast_serve_slots) for v in views]
        ids, positions, source = merge_positions(
            [v.predicted_position_xy[m] for v, m in zip(views, live, strict=True)],
            [v.track_id[m] for v, m in zip(views, live, strict=True)],
            FUSION_GATE_M,
        )

        def stacked(values) -> np.ndarray:
            return np.concatenate([v for v in values])[source]

        return PredictedVehicles(
            ids,
            positions,
            stacked(v.velocity_xy[m] for v, m in zip(views, live, strict=True)),
            stacked(v.angle_fisher_floor[m] for v, m in zip(views, live, strict=True)),
            stacked(np.full(int(m.sum()), r) for r, m in zip(self.trackers, live, strict=True)),
        )

    def _tracking_errors(
        self, views: list[TrackView], vehicles: VehicleStates
    ) -> dict[str, np.ndarray]:
        """Per RSU (by name), the confirmed tracks' errors against the truth with both PCRBs
        (core.track_metrics.BOUND_NAMES)."""
        rows = {}
        for r, view in zip(self.trackers, views, strict=True):
            ok = view.status == CONFIRMED
            bounds = [
                np.diagonal(b[ok], axis1=1, axis2=2)[:, :2]
                for b in (view.pcrb_polar, view.deterministic_pcrb_polar)
            ]
            rows[self.scenario.rsus[r].name] = tracking_errors(
                self.scenario.rsus[r].position_m,
                view.polar[ok],
                np.hstack(bounds),
                view.position_xy[ok],
                vehicles.position_xy,
                vehicles.velocity_xy,
                self.scenario.rsus[self.scenario.illuminator(r)].position_m,
            )
        return rows

    def _camera(self, time_s: float) -> tuple[float, float]:
        """Run the camera on last slot's schedule (its regions; whole-road scans included);
        returns (E_comp of eq. (4), processing time [s]). Every frame feeds the background
        model."""
        if self.camera is None:
            return 0.0, 0.0
        schedule = self._schedule
        image = self.sim.capture()
        if schedule is None or not schedule.camera_on:
            self.camera.observe(image)
            return 0.0, 0.0
        started = time.perf_counter()
        regions = [
            Region(tuple(c), float(r))
            for c, r in zip(schedule.region_centres_xy, schedule.region_radii_m, strict=True)
        ]
        found = self.camera.detect(image, regions)
        spent = time.perf_counter() - started
        self.trackers[self.camera_rsu].camera_update(time_s, found.position_xy, found.covariance)
        return schedule.energy_comp_j, spent

    def sense(self) -> Sensed:
        """Advance the road one slot (scoring the beams applied) and track it."""
        out = self.sim.step()
        self.slot = out.slot
        for tracker in self.trackers.values():  # heard last slot: fused before this frame
            if len(self._heard):
                tracker.report_update(self._heard)
        self._heard = out.reports
        for echo in out.echoes:
            detections = _detections(echo, self.scenario, self.processing[echo.rsu_index])
            self.trackers[echo.rsu_index].step(out.time_s, detections)
        energy_comp, camera_s = self._camera(out.time_s)
        views = [t.view() for t in self.trackers.values()]  # once per slot, for all uses
        pilots = self.sim.pilot_estimate() if self.scenario.radio.channel.pilots else None
        predicted = self._predicted(views).with_radio(
            self.sim.heard_interference_w,
            None if pilots is None else (pilots[0].position_xy, pilots[1]),
        )
        return Sensed(out, views, predicted, energy_comp, camera_s)

    def act(self, sensed: Sensed, beams: BeamSet) -> None:
        """Apply ``beams`` from the next slot on; the AoI scheduler decides the camera."""
        self.sim.apply(beams)
        camera_view = sensed.views[list(self.trackers).index(self.camera_rsu)]
        self._schedule = self.scheduler.decide(
            TrackAoiInputs.from_view(camera_view, camera_view.status != TENTATIVE), sensed.out.slot
        )

    def step(self) -> dict[str, float]:
        sensed = self.sense()
        out, views = sensed.out, sensed.views
        isac = self.isac_metrics(out, self.sim.beams)  # the beams this slot was scored on
        genie_rate = math.nan
        if self.config.genie:
            estimate = self.sim.current_pilot_estimate
            known = truth_vehicles(out.vehicles).with_radio(
                self.sim.heard_interference_w,
                None if estimate is None else (out.vehicles.position_xy, estimate),
            )
            genie = self.genie_policy.decide(known, out.slot)
            genie_rate = self.sim.score(genie).sum_rate_bps_hz
        started = time.perf_counter()
        beams = self.policy.decide(sensed.predicted, out.slot + 1)
        policy_ms = (time.perf_counter() - started) * 1e3
        self.act(sensed, beams)
        link = out.link
        errors = self._tracking_errors(views, out.vehicles)
        angle_err = np.concatenate(list(errors.values()))[:, 0]
        serving_xy = np.concatenate([v.position_xy[v.status != TENTATIVE] for v in views])
        untracked = int(np.sum(~tracked_vehicles(out.vehicles.position_xy, serving_xy)))
        return {
            **isac,
            "genie_sum_rate_bps_hz": genie_rate,
            "jain_fairness": link.jain_fairness,
            "misaligned": float(np.sum(link.misaligned)),
            "vehicles": float(len(out.vehicles)),
            "untracked": float(untracked),
            "energy_comp_j": sensed.camera_energy_j,
            "energy_sweep_j": sweep_energy_j(link.misaligned, self.scenario.aoi.recovery_energy_j),
            # eq. (5) over the tracks, and P_misa = 1 for a vehicle no track covers
            "energy_sweep_model_j": self._schedule.energy_sweep_j
            + untracked * self.scenario.aoi.recovery_energy_j,
            "mean_misalignment_probability": self._schedule.mean_misalignment,
            "camera_ms": sensed.camera_s * 1e3,
            "angle_mae_deg": float(np.degrees(np.mean(np.sqrt(angle_err))))
            if len(angle_err)
            else float("nan"),
            "policy_ms": policy_ms,
            "errors": errors,
        }

    def isac_metrics(self, out: SlotOutput, beams: BeamSet) -> dict[str, float]:
        """001's metrics of the slot ``out`` whose link was scored with ``beams``: sum rate
        (SE), transmit power, energy efficiency (eq. (13)-(14): B R / (P_tx / eta_PA + P_c),
        P_c per transmitting RSU), the mean root angle CRLB of the vehicles from the transmit
        covariance (eq. (6)-(7)) [deg] and the interference terms (:meth:`_interference`)."""
        link = out.link
        transmit_w = float(beams.powers_w.sum())
        crlb = self._covariance_crlb(out.vehicles.position_xy, beams)
        radio = self.scenario.radio
        return {
            "sum_rate_bps_hz": link.sum_rate_bps_hz,
            "transmit_power_w": transmit_w,
            "energy_efficiency_bit_per_j": float(
                energy_efficiency_bit_per_j(
                    link.sum_rate_bps_hz,
                    radio.bandwidth_hz,
                    transmit_w,
                    radio.pa_efficiency,
                    radio.circuit_power_w * len(self._transmitters),
                )
            ),
            "crlb_angle_deg": float(np.degrees(np.mean(np.sqrt(crlb))))
            if len(crlb)
            else float("nan"),
            "beam_gain_db": self._beam_gain_db(out.vehicles.position_xy, beams),
            **self._interference(link, beams),
        }

    def _beam_gain_db(self, position_xy: np.ndarray, beams: BeamSet) -> float:
        """001 Fig. 7's beam-pattern gain towards the targets: N a^H R_x a / tr(R_x) at each
        vehicle's angle from the RSU nearest it (0 dB: isotropic, 10 log10 N: all power at
        it), averaged over the vehicles (linear) [dB]; NaN without vehicles."""
        if not len(position_xy):
            return float("nan")
        tx = self._transmitters
        xy = self.scenario.rsu_positions_m[tx]
        nearest = tx[np.argmin(np.linalg.norm(position_xy[:, None] - xy[None], axis=-1), axis=1)]
        n = self.scenario.radio.array.num_tx_antennas
        spacing = self.scenario.radio.array.spacing_wavelengths
        gains = np.zeros(len(position_xy))
        for r in np.unique(nearest):
            mine = nearest == r
            own = beams.rsu_index == r
            total = float(beams.powers_w[own].sum())
            if total <= 0:
                continue
            at = position_xy[mine]
            theta = to_polar(self.scenario.rsus[r].position_m, at, np.zeros_like(at)).theta_rad
            pattern = beam_pattern(theta, beams.weights[own].T, spacing) @ beams.powers_w[own]
            gains[mine] = n * pattern / total
        return float(10.0 * np.log10(max(np.mean(gains), 1e-30)))

    def _interference(self, link, beams: BeamSet) -> dict[str, float]:
        """001's interference terms of the slot as interference-to-noise ratios (linear):
        MI and CLI at the served vehicles (mean over them, over the band's noise) and the
        residual SI at the transmitting RSUs' receivers (mean over them, over the echo's
        noise; 0 where the scenario counts no SI)."""
        served = link.beam_index >= 0
        suppression = self.scenario.interference.self_interference_db
        tx_power = np.bincount(beams.rsu_index, beams.powers_w, len(self.scenario.rsus))
        si = (
            float(np.mean(self_interference_w(tx_power[self._transmitters], suppression)))
            / self.scenario.radio.sensing_noise_w
            if suppression is not None
            else 0.0
        )
        return {
            "si_inr": si,
            "mi_inr": float(np.mean(link.mi_inr[served])) if served.any() else 0.0,
            "cli_inr": float(np.mean(link.cli_inr[served])) if served.any() else 0.0,
        }

    def _covariance_crlb(self, position_xy: np.ndarray, beams: BeamSet) -> np.ndarray:
        """Per vehicle, 001's angle CRLB (sim.radar_echo.covariance_crlb_rad2) under the
        beams of the slot, the smallest over the monostatic RSUs (none for 002's bistatic
        pair: inf)."""
        best = np.full(len(position_xy), np.inf)
        heard = self.sim.heard_interference_w
        for r in self.scenario.receivers():
            if self.scenario.rsus[r].role != "monostatic":
                continue
            mine = beams.rsu_index == r
            crlb = covariance_crlb_rad2(
                self.scenario,
                position_xy,
                beams.weights[mine],
                beams.powers_w[mine],
                r,
                float(np.sum(heard[r])),
            )
            best = np.minimum(best, crlb)
        return best


def run_slots(
    scenario: Scenario, config: EvalConfig, progress: Callable[[int], None] | None = None
) -> tuple[Scenario, list[dict[str, object]]]:
    """Run ``config.slots`` slots; the scenario as run (with ``max_power_dbm`` and
    ``rf_snr_db`` applied) and the per-slot records of :meth:`ClosedLoop.step`.
    ``progress(n)`` is called after slot n."""
    loop = ClosedLoop(scenario, config)
    records = []
    try:
        for n in range(config.slots):
            records.append(loop.step())
            if progress is not None:
                progress(n + 1)
    finally:
        loop.close()
    return loop.scenario, records


def summarize(records: list[dict[str, object]]) -> dict[str, float]:
    """Link, tracking and energy metrics over the records of :func:`run_slots`."""
    rsus = list(records[0]["errors"]) if records else []
    per_rsu = {rsu: np.concatenate([r["errors"][rsu] for r in records]) for rsu in rsus}
    pooled = np.concatenate(list(per_rsu.values())) if per_rsu else np.zeros((0, ERROR_COLUMNS))
    policy_ms = np.array([r["policy_ms"] for r in records])

    def mean(key: str) -> float:
        return float(np.mean([r[key] for r in records]))

    vehicle_slots = sum(r["vehicles"] for r in records)
    return {
        "sum_rate_bps_hz": mean("sum_rate_bps_hz"),
        "genie_sum_rate_bps_hz": mean("genie_sum_rate_bps_hz"),
        "jain_fairness": mean("jain_fairness"),
        # 001 eq. (13)-(14): B R / (P_tx / eta_PA + P_c), P_c per transmitting RSU, per slot
        "energy_efficiency_mbit_per_j": mean("energy_efficiency_bit_per_j") / 1e6,
        "transmit_power_w": mean("transmit_power_w"),
        # 001's sensing and interference metrics (CRLB eq. (6)-(7); SI, MI, CLI of eq. (15)
        # as INR [dB], null where there is none of that kind)
        "crlb_angle_deg": float(np.nanmean([r["crlb_angle_deg"] for r in records]))
        if any(np.isfinite(r["crlb_angle_deg"]) for r in records)
        else None,
        "beam_gain_db": float(np.nanmean([r["beam_gain_db"] for r in records]))
        if any(np.isfinite(r["beam_gain_db"]) for r in records)
        else None,
        "si_inr_db": to_db_or_none(mean("si_inr")),
        "mi_inr_db": to_db_or_none(mean("mi_inr")),
        "cli_inr_db": to_db_or_none(mean("cli_inr")),
        **tracking_summary(pooled),
        "energy_j_per_slot": mean("energy_comp_j") + mean("energy_sweep_j"),
        "energy_comp_j_per_slot": mean("energy_comp_j"),
        "energy_sweep_j_per_slot": mean("energy_sweep_j"),
        "energy_model_j_per_slot": mean("energy_comp_j") + mean("energy_sweep_model_j"),
        "mean_misalignment_probability": mean("mean_misalignment_probability"),
        "misalignment_rate": (
            sum(r["misaligned"] for r in records) / vehicle_slots if vehicle_slots else 0.0
        ),
        # vehicle-slots with a confirmed or coasting track within TRUTH_GATE_M
        "tracked_share": (
            1.0 - sum(r["untracked"] for r in records) / vehicle_slots if vehicle_slots else 1.0
        ),
        "mean_vehicles": mean("vehicles"),
        "policy_ms_p50": float(np.percentile(policy_ms, 50)),
        "policy_ms_p99": float(np.percentile(policy_ms, 99)),
        "tracking_per_rsu": {rsu: tracking_summary(rows) for rsu, rows in per_rsu.items()},
    }


def channel_knowledge(scenario: Scenario) -> str:
    """What the policies knew of the channel in a run of ``scenario`` (001's channel
    knowledge; beamforming.context)."""
    ch = scenario.radio.channel
    if ch.pilots:
        return f"pilot estimates at {ch.csi_error_db:g} dB NMSE (line of sight where none)"
    return "line-of-sight estimates at the tracks' predicted positions"


def evaluate(
    scenario: Scenario, config: EvalConfig, progress: Callable[[int], None] | None = None
) -> dict[str, object]:
    """Run ``config.slots`` slots and return the summary of ``rsu-isac eval``."""
    ran, records = run_slots(scenario, config, progress)
    return {
        "scenario": ran.name,
        "policy": config.policy,
        "assignment": config.assignment,
        "power_split": config.power_split,
        "constant_modulus": config.constant_modulus,
        "sensing_fraction": config.sensing_fraction,
        "user_sinr_share": config.user_sinr_share,
        "aoi_policy": config.aoi_policy,
        "abstraction": config.abstraction,
        "engine": config.engine,
        "slots": config.slots,
        "seed": config.seed,
        "max_power_dbm": ran.radio.max_power_dbm,
        "rf_snr_db": config.rf_snr_db,
        "v2x_share": ran.v2x.equipped_share,
        "channel_knowledge": channel_knowledge(ran),
        **summarize(records),
    }
