"""Tracker accuracy against the PCRB and multi-target scores on a Poisson highway
(``rsu-isac tracking-accuracy``, ``rsu-isac tracking-highway``).

Monte Carlo (000 setting, one vehicle): the truth moves in a straight line along the road
and receives 000's evolution noise each slot (sigma_theta, sigma_d on its polar position,
sigma_v on its speed, Sec. IV-A); the RSU illuminates the tracker's one-slot prediction with
an MRT beam at P_max (an isotropic element in the first slot) and gets the measurement-level
detection of ``rsu_isac.sim.radar_echo`` (variances from the echo SINR, 000 eq. (7)-(9),
angle CRLB eq. (15)). The bound is the PCRB recursion of 004 eq. (25), (35)-(36) along the
true trajectory with the polar model's Jacobians and the variances each slot reported,
averaged over runs.

Highway (004 setting): the simulator's Poisson traffic seen by RSU 0 through its
measurement-level detections with the isotropic sensing beam, optionally with a share of
the detections dropped at random; scores of ``rsu_isac.core.track_metrics``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace

import numpy as np
from numpy.typing import NDArray

from rsu_isac.core.array import steering_vector
from rsu_isac.core.bounds import pcrb_update, predict_covariance
from rsu_isac.core.ekf import PolarModel, ProcessNoise, initiate
from rsu_isac.core.geometry import to_cartesian, to_polar
from rsu_isac.core.scenario import Scenario
from rsu_isac.core.track_metrics import TrackScorer
from rsu_isac.core.tracker import CONFIRMED, Tracker, TrackerConfig, road_side
from rsu_isac.sim.radar_echo import Targets, synthesize_measurements
from rsu_isac.sim.world import SimConfig, Simulator

STEADY_FRACTION = 0.5  # the last half of the horizon counts as steady state
CONFIRMATION_GOAL_SLOTS = 5  # issue bar: confirmed within 5 slots of entering


@dataclass(frozen=True)
class MonteCarloResult:
    motion_model: str
    runs: int
    sensing_noise_dbm: float
    median_echo_snr_db: float
    rmse_angle_deg: NDArray[np.float64]  # per slot, over runs
    rmse_range_m: NDArray[np.float64]
    sqrt_pcrb_angle_deg: NDArray[np.float64]
    sqrt_pcrb_range_m: NDArray[np.float64]
    steady_angle_ratio: float  # sqrt(mean MSE / mean PCRB) over the steady slots
    steady_range_ratio: float
    steady_measurement_angle_ratio: float  # the raw detections' RMSE / sqrt(PCRB)
    steady_measurement_range_ratio: float

    def summary(self) -> dict[str, object]:
        out = asdict(self)
        steady = slice(int(len(self.rmse_angle_deg) * (1 - STEADY_FRACTION)), None)
        for key in ("rmse_angle_deg", "rmse_range_m", "sqrt_pcrb_angle_deg", "sqrt_pcrb_range_m"):
            out[f"steady_{key}"] = float(np.sqrt(np.mean(np.asarray(out.pop(key))[steady] ** 2)))
        return out


def _truth_step(rng, scenario: Scenario, noise: ProcessNoise, rel_xy, speed, side):
    """One slot of straight-line motion plus 000's evolution noise (see the module doc)."""
    rel_xy = rel_xy + np.array([speed * scenario.slot_s, 0.0])
    polar = to_polar((0.0, 0.0), rel_xy, (0.0, 0.0))
    theta = np.clip(polar.theta_rad + rng.normal(0.0, noise.angle_std_rad), 1e-3, np.pi - 1e-3)
    d = polar.range_m + rng.normal(0.0, noise.range_std_m)
    return to_cartesian((0.0, 0.0), theta, d, side), speed + rng.normal(0.0, noise.velocity_std_mps)


@dataclass(frozen=True)
class _Run:
    """Per-slot squared errors of one run (NaN where the slot has none)."""

    filtered: NDArray[np.float64]  # (slots, 2): angle, range of the track
    measured: NDArray[np.float64]  # (slots, 2): of the raw detection
    bound: NDArray[np.float64]  # (slots, 2): PCRB diagonal
    snr_db: list[float]


def _monte_carlo_run(
    scenario: Scenario, config: TrackerConfig, run_seed: np.random.SeedSequence
) -> _Run:
    radio = scenario.radio
    n_t = radio.array.num_tx_antennas
    noise = ProcessNoise.from_config(scenario.tracking, scenario.slot_s)
    bound_model = PolarModel(noise)
    e = np.diag(noise.polar_variances(scenario.slot_s))[None]
    side = road_side(scenario, 0)
    start = scenario.traffic.initial_vehicles[0]
    rel = np.array([start.x_m, scenario.road.lanes[start.lane].y_m]) - scenario.rsus[0].position_m
    omni = np.zeros((1, n_t), dtype=complex)
    omni[0, 0] = 1.0
    power = np.array([radio.max_power_w])
    truth_rng, radar_rng = (np.random.default_rng(s) for s in run_seed.spawn(2))
    speed = truth_rng.uniform(scenario.traffic.speed.min_mps, scenario.traffic.speed.max_mps)
    tracker = Tracker(config, noise, (0.0, 0.0), side, seed=0)
    out = _Run(*(np.full((scenario.horizon_slots, 2), np.nan) for _ in range(3)), [])
    bound, x_prev, beam = None, None, omni
    for n in range(scenario.horizon_slots):
        rel, speed = _truth_step(truth_rng, scenario, noise, rel, speed, side)
        truth = to_polar((0.0, 0.0), rel, (speed, 0.0))
        x_true = np.array([[truth.theta_rad, truth.range_m, speed]])
        targets = Targets.build(
            scenario, (0, 0), (0, 0), rel[None], np.array([[speed, 0.0]]), [scenario.radar.kappa]
        )
        meas = synthesize_measurements(radar_rng, scenario, targets, beam, power).detections
        tracker.step((n + 1) * scenario.slot_s, meas)
        # PCRB along the true trajectory (polar model Jacobians, reported variances)
        if len(meas):
            out.snr_db.append(float(meas.snr_db[0]))
            z_var = np.array(
                [
                    meas.azimuth_variance_rad2,
                    meas.range_variance_m2,
                    meas.radial_velocity_variance_m2ps2,
                ]
            ).T
            out.measured[n] = [
                (meas.azimuth_rad[0] - truth.theta_rad) ** 2,
                (meas.range_m[0] - truth.range_m) ** 2,
            ]
            if bound is None:
                _, bound = initiate(
                    bound_model,
                    bound_model.measure(x_true),
                    z_var,
                    side,
                    np.zeros(1),
                    np.full(1, config.initial_speed_std_mps**2),
                )
            else:
                g = bound_model.transition_jacobian(x_prev, scenario.slot_s)
                h = bound_model.measurement_jacobian(x_true)
                bound = pcrb_update(bound, g, e, h, z_var[:, :, None] * np.eye(3))
        elif bound is not None:
            g = bound_model.transition_jacobian(x_prev, scenario.slot_s)
            bound = predict_covariance(bound, g, e)
        x_prev = x_true
        view = tracker.view()
        beam = omni
        if len(view) and bound is not None:
            best = int(np.argmax(view.hits * (view.misses == 0)))  # the updated track
            out.filtered[n] = [
                (view.polar[best, 0] - truth.theta_rad) ** 2,
                (view.polar[best, 1] - truth.range_m) ** 2,
            ]
            out.bound[n] = [bound[0, 0, 0], bound[0, 1, 1]]
            beam = steering_vector(view.predicted_polar[best, 0], n_t)[None]
    return out


def single_vehicle_monte_carlo(
    scenario: Scenario,
    motion_model: str,
    runs: int,
    seed: int,
    sensing_noise_dbm: float | None = None,
) -> MonteCarloResult:
    """RMSE of the posterior angle and range over ``runs`` runs vs sqrt(PCRB), per slot."""
    if sensing_noise_dbm is not None:
        radio = replace(scenario.radio, sensing_noise_dbm=sensing_noise_dbm)
        scenario = replace(scenario, radio=radio)
    config = TrackerConfig(motion_model=motion_model)
    results = [
        _monte_carlo_run(scenario, config, s) for s in np.random.SeedSequence(seed).spawn(runs)
    ]
    filtered = np.stack([r.filtered for r in results])  # (runs, slots, 2)
    valid = ~np.isnan(filtered[..., 0]).all(axis=0)
    mse = np.nanmean(filtered, axis=0)[valid]
    mse_meas = np.nanmean(np.stack([r.measured for r in results]), axis=0)[valid]
    mean_bound = np.nanmean(np.stack([r.bound for r in results]), axis=0)[valid]
    steady = slice(int(valid.sum() * (1 - STEADY_FRACTION)), None)

    def ratio(a, i):
        return float(np.sqrt(np.mean(a[steady, i]) / np.mean(mean_bound[steady, i])))

    snrs = [s for r in results for s in r.snr_db]
    return MonteCarloResult(
        motion_model=motion_model,
        runs=runs,
        sensing_noise_dbm=scenario.radio.sensing_noise_dbm,
        median_echo_snr_db=float(np.median(snrs)) if snrs else float("nan"),
        rmse_angle_deg=np.degrees(np.sqrt(mse[:, 0])),
        rmse_range_m=np.sqrt(mse[:, 1]),
        sqrt_pcrb_angle_deg=np.degrees(np.sqrt(mean_bound[:, 0])),
        sqrt_pcrb_range_m=np.sqrt(mean_bound[:, 1]),
        steady_angle_ratio=ratio(mse, 0),
        steady_range_ratio=ratio(mse, 1),
        steady_measurement_angle_ratio=ratio(mse_meas, 0),
        steady_measurement_range_ratio=ratio(mse_meas, 1),
    )


@dataclass(frozen=True)
class HighwayResult:
    scenario: str
    engine: str
    motion_model: str
    confirm_hits: int
    drop_probability: float
    slots: int
    seed: int
    mean_vehicles: float
    purity: float
    id_switches_per_1000_track_slots: float
    vehicles_seen: int
    confirmed_within_5_slots: float  # share of vehicles
    max_confirmation_latency_slots: float
    position_rmse_m: float  # confirmed tracks vs the vehicle of their last detection
    prediction_angle_rmse_deg: float  # one-slot prediction vs the next slot's truth
    prediction_range_rmse_m: float
    update_ms_p50: float
    update_ms_p99: float


def highway(
    scenario: Scenario,
    motion_model: str,
    slots: int,
    seed: int,
    drop_probability: float = 0.0,
    engine: str = "embedded",
    warmup_slots: int = 50,
    confirm_hits: int = TrackerConfig.confirm_hits,
) -> HighwayResult:
    """Track the simulator's traffic at RSU 0 for ``slots`` slots (after ``warmup_slots`` of
    traffic without tracking, so that the road is filled). The road stays lit by the
    isotropic sensing pattern (no beams, so no recovery sweeps): the tracker alone is
    measured."""
    drop_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    sim = Simulator(
        scenario,
        SimConfig(
            engine=engine,
            abstraction="measurement",
            seed=seed,
            camera_period_slots=0,
            beam_recovery=False,
        ),
    )
    config = TrackerConfig(motion_model=motion_model, confirm_hits=confirm_hits)
    tracker = Tracker.for_scenario(scenario, 0, config, seed)
    scorer = TrackScorer()
    times, counts, sq_pos, sq_pred = [], [], [], []
    predicted: dict[int, NDArray] = {}  # vehicle id -> its track's (theta, d) one slot ahead
    rsu = scenario.rsus[0].position_m
    try:
        for _ in range(warmup_slots):
            sim.step()
        for n in range(slots):
            out = sim.step()
            meas = out.echoes[0].measurements
            vehicle_ids = out.vehicles.vehicle_id[meas.vehicle_index]
            keep = drop_rng.random(len(vehicle_ids)) >= drop_probability
            t0 = time.perf_counter()
            result = tracker.step(out.time_s, meas.detections.subset(keep))
            times.append(time.perf_counter() - t0)
            view = tracker.view()
            confirmed = view.track_id[view.status == CONFIRMED]
            scorer.add(n, vehicle_ids, vehicle_ids[keep], result.detection_track_id, confirmed)
            counts.append(len(out.vehicles))
            truth = to_polar(rsu, out.vehicles.position_xy, out.vehicles.velocity_xy)
            truth_polar = np.stack([truth.theta_rad, truth.range_m], axis=-1)
            for row, vid in enumerate(out.vehicles.vehicle_id.tolist()):
                if vid in predicted:
                    sq_pred.append((predicted[vid] - truth_polar[row]) ** 2)
            held = np.isin(result.detection_track_id, confirmed)
            rows = np.searchsorted(view.track_id, result.detection_track_id[held])
            truth_rows = meas.vehicle_index[keep][held]
            sq_pos.extend(
                np.sum((view.position_xy[rows] - out.vehicles.position_xy[truth_rows]) ** 2, 1)
            )
            predicted = dict(
                zip(vehicle_ids[keep][held].tolist(), view.predicted_polar[rows, :2], strict=True)
            )
    finally:
        sim.close()
    latency = scorer.confirmation_latency_slots(slots - 1, CONFIRMATION_GOAL_SLOTS)
    ms = np.asarray(times) * 1e3
    pred_rmse = np.sqrt(np.mean(sq_pred, axis=0)) if sq_pred else np.full(2, np.nan)
    return HighwayResult(
        scenario=scenario.name,
        engine=engine,
        motion_model=motion_model,
        confirm_hits=confirm_hits,
        drop_probability=drop_probability,
        slots=slots,
        seed=seed,
        mean_vehicles=float(np.mean(counts)),
        purity=scorer.purity,
        id_switches_per_1000_track_slots=scorer.switches_per_1000_track_slots,
        vehicles_seen=int(latency.size),
        confirmed_within_5_slots=(
            float(np.mean(latency <= CONFIRMATION_GOAL_SLOTS)) if latency.size else float("nan")
        ),
        max_confirmation_latency_slots=float(latency.max()) if latency.size else float("nan"),
        position_rmse_m=float(np.sqrt(np.mean(sq_pos))) if sq_pos else float("nan"),
        prediction_angle_rmse_deg=float(np.degrees(pred_rmse[0])),
        prediction_range_rmse_m=float(pred_rmse[1]),
        update_ms_p50=float(np.percentile(ms, 50)),
        update_ms_p99=float(np.percentile(ms, 99)),
    )
