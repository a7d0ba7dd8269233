"""Benchmarks: speed figures printed, not asserted (``rsu-isac bench``).

Each suite is a list of :class:`Case` (a name, a goal in ms, and a zero-argument callable
prepared with fixed, seeded inputs). Timings are the median and 90th percentile of
``repeat`` batches, each batch averaging enough calls to last about 20 ms.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from rsu_isac.platform.machine import machine_description


@dataclass(frozen=True)
class Case:
    name: str
    goal_ms: float
    run: Callable[[], object]
    close: Callable[[], None] | None = None  # releases what ``run`` built (e.g. libsumo)


@dataclass(frozen=True)
class Timing:
    suite: str
    name: str
    median_ms: float
    p90_ms: float
    goal_ms: float

    @property
    def meets_goal(self) -> bool:
        return self.median_ms <= self.goal_ms


def core_cases() -> list[Case]:
    """Core physics at the sizes of the core issue: SINR/rate for K=50, N=64; CRLB, K=50."""
    from rsu_isac.core.array import steering_vector
    from rsu_isac.core.bounds import crlb_angle_rad2
    from rsu_isac.core.channel import beam_gains, los_channel, rate_bps_hz, sinr
    from rsu_isac.core.radar import echo_complex_gain, reflection_coefficient

    rng = np.random.default_rng(0)
    k, n = 50, 64
    theta = rng.uniform(0.2, np.pi - 0.2, k)
    channel = los_channel(theta, rng.uniform(1e-4, 1e-3, k), n)
    weights = steering_vector(theta + rng.normal(0, 0.01, k), n)  # (K, N)
    beams = np.ascontiguousarray(weights.T)
    powers = np.full(k, 10.0 / k)
    serving = np.arange(k)
    gain = echo_complex_gain(n, n, powers, reflection_coefficient(10 + 10j, 20.0), 10.0)

    def sinr_and_rate() -> object:
        return rate_bps_hz(sinr(beam_gains(channel, beams), powers, 1e-11, serving))

    def crlb() -> object:
        return crlb_angle_rad2(theta, gain, weights, n, 1e-11)

    return [
        Case("SINR + rate, K=50 vehicles, N=64 antennas", 0.2, sinr_and_rate),
        Case("angle CRLB, K=50 vehicles, N_t=N_r=64", 0.2, crlb),
    ]


def _road_with_vehicles(count: int):
    """The urban scenario stretched to hold ``count`` vehicles from the first slot on
    (evenly spaced over its four lanes) and fed by its Poisson arrivals."""
    import dataclasses

    from rsu_isac.core.scenario import InitialVehicle, load_named_scenario
    from rsu_isac.platform.paths import scenarios_dir

    sc = load_named_scenario("urban", scenarios_dir())
    lanes = len(sc.road.lanes)
    length = count / lanes * sc.traffic.speed.mean_mps / sc.traffic.arrival_rate_per_lane_per_s
    road = dataclasses.replace(sc.road, x_min_m=-length / 2, x_max_m=length / 2)
    spacing = length / (count / lanes)
    initial = tuple(
        InitialVehicle(
            x_m=-length / 2 + spacing * (i // lanes + 0.5), lane=i % lanes, vehicle_class="car"
        )
        for i in range(count)
    )
    traffic = dataclasses.replace(sc.traffic, initial_vehicles=initial)
    return dataclasses.replace(sc, road=road, traffic=traffic)


def sim_cases() -> list[Case]:
    """Simulator at the sizes of the simulator issue: traffic steps/s for ~50 and ~200
    vehicles per engine; echo synthesis and camera rendering per slot."""
    from rsu_isac.core.scenario import load_named_scenario
    from rsu_isac.platform.paths import scenarios_dir
    from rsu_isac.sim.traffic import ENGINES, create_engine
    from rsu_isac.sim.world import SimConfig, Simulator

    cases = []
    for engine in ENGINES:
        for count in (50, 200):
            holder: dict[str, object] = {}

            def run(engine=engine, count=count, holder=holder) -> object:
                if "engine" not in holder:
                    holder["engine"] = create_engine(_road_with_vehicles(count), engine, 0)
                eng = holder["engine"]
                eng.step()
                return eng.vehicles()

            def close(holder=holder) -> None:
                if "engine" in holder:
                    holder.pop("engine").close()

            cases.append(Case(f"traffic step, {engine}, ~{count} vehicles", 20.0, run, close))
    sc = load_named_scenario("seed004", scenarios_dir())
    for abstraction in ("signal", "measurement"):
        config = SimConfig(
            abstraction=abstraction, seed=0, camera_period_slots=0, beam_recovery=False
        )
        sim = Simulator(sc, config)
        for _ in range(150):  # fill the highway (about 20 vehicles)
            sim.step()
        vehicles = sim.engine.vehicles()
        cases.append(
            Case(
                f"radar echo, {abstraction} level, seed004 (~{len(vehicles)} vehicles, "
                f"N_r=32, 64x128 OFDM)",
                20.0,
                lambda sim=sim, vehicles=vehicles: sim.echo((0, 0), vehicles),
                sim.close,
            )
        )
    from rsu_isac.sim.camera import mast_camera, render

    camera = mast_camera(sc)
    cases.append(Case("camera render 640x480, seed004", 20.0, lambda: render(camera, sc, vehicles)))
    return cases


def radar_cases() -> list[Case]:
    """Radar processing of one signal-level echo with about 20 vehicles, N_RA = 32."""
    from rsu_isac.core.radar_dsp import FrameGeometry, ProcessingConfig, process_frame
    from rsu_isac.core.scenario import load_named_scenario
    from rsu_isac.platform.paths import scenarios_dir
    from rsu_isac.sim.world import SimConfig, Simulator

    sc = load_named_scenario("seed004", scenarios_dir())
    config = SimConfig(abstraction="signal", seed=0, camera_period_slots=0, beam_recovery=False)
    sim = Simulator(sc, config)  # the isotropic pattern lights the road: no recovery beams
    for _ in range(150):
        out = sim.step()
    sim.close()
    frame = out.echoes[0].frame
    geometry = FrameGeometry.from_scenario(sc)
    k = len(out.vehicles)
    reach = sc.max_echo_range_m(0)  # the instrumented range the graph gives the node

    def case(method: str, max_range_m: float) -> Case:
        config = ProcessingConfig(angle_method=method, max_range_m=max_range_m)
        extent = f"range <= {max_range_m:.0f} m" if max_range_m else "all 128 range bins"
        return Case(
            f"radar processing, {method}, K={k} vehicles, N_RA=32, 64x128 OFDM, {extent}",
            5.0,
            lambda: process_frame(frame.samples, frame.tx_symbols, geometry, config),
        )

    return [case("matched_filter", 0.0), case("matched_filter", reach), case("music", reach)]


def tracker_cases() -> list[Case]:
    """Tracker update (association, EKF, life cycle, PCRB) and the track snapshot with its
    one-slot prediction, per slot, for 50 vehicles on a four-lane road 200 m long (a vehicle
    leaving at one end comes back at the other, so births and deletions happen too)."""
    from rsu_isac.core.ekf import MOTION_MODELS, ProcessNoise
    from rsu_isac.core.geometry import to_polar
    from rsu_isac.core.radar_dsp import Detections
    from rsu_isac.core.tracker import Tracker, TrackerConfig

    rng = np.random.default_rng(0)
    k, slot_s, rsu = 50, 0.02, np.array([0.0, 30.0])
    y = np.array([2.5, 6.0, -2.5, -6.0])[np.arange(k) % 4]
    x0 = rng.uniform(-100.0, 100.0, k)
    v = np.sign(y) * rng.uniform(25.0, 35.0, k)
    var = np.array([1e-8, 1e-4, 1e-3])  # angle [rad^2], range [m^2], v_r [(m/s)^2]

    def detections(t: float) -> Detections:
        pos = np.stack([(x0 + v * t + 100.0) % 200.0 - 100.0, y], axis=-1)
        polar = to_polar(rsu, pos, np.stack([v, np.zeros(k)], axis=-1))
        z = np.stack([polar.theta_rad, polar.range_m, polar.radial_velocity_mps], axis=-1)
        z = z + rng.normal(0.0, np.sqrt(var), z.shape)
        zeros = np.zeros(k)
        return Detections(
            z[:, 1],
            z[:, 2],
            z[:, 0],
            zeros,
            zeros,
            zeros + 40.0,
            *(np.full(k, s) for s in var[[1, 2, 0]]),
        )

    cases = []
    for model in MOTION_MODELS:
        tracker = Tracker(
            TrackerConfig(motion_model=model),
            ProcessNoise(np.deg2rad(0.02), 0.2, 0.5, slot_s),
            tuple(rsu),
            -1.0,
            seed=0,
        )
        clock = {"t": 0.0}

        def run(tracker=tracker, clock=clock) -> object:
            clock["t"] += slot_s
            tracker.step(clock["t"], detections(clock["t"]))
            return tracker.view()

        for _ in range(20):
            run()
        cases.append(Case(f"tracker step + view, {model} model, 50 vehicles", 3.0, run))
    return cases


def learning_cases() -> list[Case]:
    """The RL environment's step (seed000, K = 3, N = 32, measurement level, EKF in the loop,
    genie off, reward included) in this process and as two subprocess environments stepped
    together (the 2-core box's throughput: 2 steps per call), and one decision of the shipped
    PPO policy in the headless loop. Goal: 2,000 env steps/s on 2 cores, i.e. 1 ms per call
    of each environment case; a decision within the 20 ms slot."""
    from stable_baselines3.common.vec_env import SubprocVecEnv

    from rsu_isac.beamforming.context import PredictedVehicles, RadioContext
    from rsu_isac.beamforming.policies import create_policy
    from rsu_isac.learning.env import BeamformingEnv, EnvConfig

    env = BeamformingEnv(EnvConfig())
    env.reset(seed=0)
    zero = np.zeros(env.action_space.shape, np.float32)

    def step() -> object:
        out = env.step(zero)
        if out[3]:
            env.reset()
        return out

    vector = SubprocVecEnv([lambda: BeamformingEnv(EnvConfig()) for _ in range(2)])
    vector.seed(0)
    vector.reset()
    zeros = np.zeros((2, *zero.shape), np.float32)
    policy = create_policy("ppo", RadioContext(env.run_scenario))
    vehicles = PredictedVehicles(
        np.arange(3), np.array([[-5.0, 10.0], [-15.0, 10.0], [-25.0, 10.0]]), np.full((3, 2), 12.0)
    )
    return [
        Case("env step, seed000 K=3 N=32, one process", 1.0, step, env.close),
        Case(
            "2 subprocess envs stepped together (2 env steps)",
            1.0,
            lambda: vector.step(zeros),
            vector.close,
        ),
        Case(
            "ppo decision (shipped checkpoint), K=3, N=32", 20.0, lambda: policy.decide(vehicles, 1)
        ),
    ]


SUITES: dict[str, Callable[[], list[Case]]] = {
    "core": core_cases,
    "sim": sim_cases,
    "radar": radar_cases,
    "tracker": tracker_cases,
    "learning": learning_cases,
}


def time_case(case: Case, repeat: int = 15, batch_s: float = 0.02) -> tuple[float, float]:
    """(median, p90) of the per-call time in ms over ``repeat`` batches."""
    case.run()  # warm-up (imports, caches)
    start = time.perf_counter()
    calls = 0
    while time.perf_counter() - start < batch_s:
        case.run()
        calls += 1
    per_batch = max(calls, 1)
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(per_batch):
            case.run()
        samples.append((time.perf_counter() - t0) / per_batch * 1e3)
    return float(np.median(samples)), float(np.percentile(samples, 90))


def run_suites(names: list[str], repeat: int) -> list[Timing]:
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        raise ValueError(f"unknown benchmark suite '{unknown[0]}'; valid: {', '.join(SUITES)}")
    timings = []
    for suite in names:
        for case in SUITES[suite]():
            try:
                median, p90 = time_case(case, repeat)
            finally:
                if case.close is not None:
                    case.close()
            timings.append(Timing(suite, case.name, median, p90, case.goal_ms))
    return timings


def print_table(timings: list[Timing]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"rsu-isac bench ({machine_description()})")
    for column in ("suite", "case", "median ms", "p90 ms", "goal ms", "meets goal"):
        table.add_column(column)
    for t in timings:
        table.add_row(
            t.suite,
            t.name,
            f"{t.median_ms:.4f}",
            f"{t.p90_ms:.4f}",
            f"{t.goal_ms:g}",
            "yes" if t.meets_goal else "NO",
        )
    Console(soft_wrap=True, width=200).print(table)


def to_json(timings: list[Timing]) -> str:
    return json.dumps(
        {
            "machine": machine_description(),
            "timings": [asdict(t) | {"meets_goal": t.meets_goal} for t in timings],
        },
        indent=2,
    )
