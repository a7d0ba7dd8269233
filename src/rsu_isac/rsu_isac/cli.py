"""The ``rsu-isac`` command.

Works from any shell: before running a sub-command it re-executes itself once with the
workspace's ROS environment (see :mod:`rsu_isac.workspace`), so nothing has to be sourced.
"""

from __future__ import annotations

import argparse
import os
import sys

from rsu_isac import __version__
from rsu_isac.allocator import keep_heap_memory
from rsu_isac.workspace import reexec_with_ros_environment


def _cmd_doctor(_args: argparse.Namespace) -> int:
    from rsu_isac.doctor import report, run_checks

    return report(run_checks())


def _cmd_exec(args: argparse.Namespace) -> int:
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        print(
            "rsu-isac exec: give a command to run, e.g. `rsu-isac exec -- pytest`", file=sys.stderr
        )
        return 2
    try:
        os.execvp(command[0], command)
    except FileNotFoundError:
        print(f"rsu-isac exec: command not found: {command[0]}", file=sys.stderr)
        return 127


def _cmd_bench(args: argparse.Namespace) -> int:
    from rsu_isac.bench import SUITES, print_table, run_suites, to_json

    try:
        timings = run_suites(args.suites or list(SUITES), args.repeat)
    except ValueError as exc:
        print(f"rsu-isac bench: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(to_json(timings))
    else:
        print_table(timings)
    return 0


def _cmd_traffic_stats(args: argparse.Namespace) -> int:
    import json

    from rsu_isac.core.scenario import load_named_scenario
    from rsu_isac.core.schema import SchemaError
    from rsu_isac.paths import scenarios_dir
    from rsu_isac.sim.stats import traffic_stats

    try:
        scenario = load_named_scenario(args.scenario, scenarios_dir())
        result = traffic_stats(scenario, args.engine, args.seed, args.seconds)
    except (SchemaError, ValueError) as exc:
        print(f"rsu-isac traffic-stats: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result.as_dict(), indent=2))
    return 0


def _cmd_radar_accuracy(args: argparse.Namespace) -> int:
    import json

    from rsu_isac.experiments import radar_accuracy as ra

    rows = ra.table(args.snr, args.trials, args.seed)
    pfa = ra.false_alarms_per_cell(args.fa_frames, args.seed, args.pfa)
    ideal = ra.albersheim_snr_db(0.99, args.pfa)
    resolution = {
        m: ra.resolution_rate(m, args.trials // 5 or 1, args.seed)
        for m in ("matched_filter", "music")
    }
    if args.plot:
        ra.plot(rows, args.plot)
    if args.json:
        print(
            json.dumps(
                {
                    "resolution_one_beamwidth": resolution,
                    "rows": rows,
                    "false_alarms_per_cell": pfa,
                    "configured_pfa": args.pfa,
                    "ideal_snr_db_for_pd_099": ideal,
                },
                indent=2,
            )
        )
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"radar processing vs CRB ({args.trials} trials per row, seed "
        f"{args.seed}, 32x64x128 frames, design Pfa 1e-4 per cell)"
    )
    for column in (
        "method",
        "SNR dB",
        "Pd",
        "range RMSE/CRB",
        "Doppler RMSE/CRB",
        "angle RMSE/CRB",
        "range RMSE m",
        "velocity RMSE m/s",
        "angle RMSE deg",
    ):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["method"],
            f"{r['snr_db']:g}",
            f"{r['detection_probability']:.3f}",
            f"{r['range_rmse_over_crb']:.2f}",
            f"{r['doppler_rmse_over_crb']:.2f}",
            f"{r['angle_rmse_over_crb']:.2f}",
            f"{r['range_rmse_m']:.4f}",
            f"{r['velocity_rmse_mps']:.4f}",
            f"{r['angle_rmse_deg']:.4f}",
        )
    console = Console(soft_wrap=True, width=200)
    console.print(table)
    console.print(
        f"false alarms per cell at configured Pfa {args.pfa:g}: {pfa:.3g} "
        f"({args.fa_frames} noise-only frames). An ideal single-look detector needs "
        f"{ra.albersheim_snr_db(0.99, 1e-4):.1f} dB for Pd 0.99 at the table's Pfa 1e-4 and "
        f"{ideal:.1f} dB at Pfa {args.pfa:g} (Albersheim)."
    )
    console.print(
        f"two vehicles one beamwidth apart in one range-Doppler cell (30 dB, "
        f"{args.trials // 5 or 1} trials): resolved by the matched filter in "
        f"{resolution['matched_filter']:.0%}, by MUSIC in {resolution['music']:.0%}"
    )
    return 0


def _valid_choices(command: str, checks: dict[str, tuple[str, tuple[str, ...]]]) -> bool:
    """Whether every flag's value is one of its valid ones; else one line naming the flag
    and the valid values (the caller exits with 2)."""
    for flag, (value, valid) in checks.items():
        if value not in valid:
            print(
                f"rsu-isac {command}: {flag} '{value}' unknown; valid: {', '.join(valid)}",
                file=sys.stderr,
            )
            return False
    return True


def _print_table(title: str, columns, rows) -> None:
    """A rich table of string cells on a wide console (the experiments print these)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console(soft_wrap=True, width=220).print(table)


def _scenario_or_exit(name: str, command: str):
    """The scenario ``name`` (or .yaml path); a bad one ends the command with exit 2."""
    from rsu_isac.core.scenario import resolve_scenario
    from rsu_isac.core.schema import SchemaError
    from rsu_isac.paths import scenarios_dir

    try:
        return resolve_scenario(name, scenarios_dir())
    except SchemaError as exc:
        print(f"rsu-isac {command}: {exc}", file=sys.stderr)
        sys.exit(2)


def _cmd_tracking_accuracy(args: argparse.Namespace) -> int:
    import json

    from tqdm import tqdm

    from rsu_isac.experiments import tracking_accuracy as ta

    scenario = _scenario_or_exit(args.scenario, "tracking-accuracy")
    jobs = [(m, n) for n in args.sensing_noise_dbm for m in args.models]
    results = [
        ta.single_vehicle_monte_carlo(scenario, m, args.runs, args.seed, n)
        for m, n in tqdm(jobs, desc="Monte Carlo", unit="setting", disable=args.json)
    ]
    if args.plot:
        ta.plot(results, args.plot, scenario.slot_s)
    if args.json:
        print(json.dumps([r.summary() for r in results], indent=2))
        return 0
    columns = (
        "model",
        "sensing noise dBm",
        "echo SNR dB",
        "angle RMSE deg",
        "sqrt PCRB deg",
        "angle RMSE/sqrt PCRB",
        "range RMSE m",
        "sqrt PCRB m",
        "range RMSE/sqrt PCRB",
        "raw detections angle / range",
    )
    rows = []
    for r in results:
        s = r.summary()
        rows.append(
            (
                r.motion_model,
                f"{r.sensing_noise_dbm:g}",
                f"{r.median_echo_snr_db:.1f}",
                f"{s['steady_rmse_angle_deg']:.3g}",
                f"{s['steady_sqrt_pcrb_angle_deg']:.3g}",
                f"{r.steady_angle_ratio:.3f}",
                f"{s['steady_rmse_range_m']:.3g}",
                f"{s['steady_sqrt_pcrb_range_m']:.3g}",
                f"{r.steady_range_ratio:.3f}",
                f"{r.steady_measurement_angle_ratio:.3f} / {r.steady_measurement_range_ratio:.3f}",
            )
        )
    title = (
        f"EKF vs PCRB, {scenario.name}, one vehicle, {args.runs} runs, seed {args.seed} "
        f"(steady state = last {ta.STEADY_FRACTION:.0%} of {scenario.horizon_slots} slots)"
    )
    _print_table(title, columns, rows)
    return 0


def _cmd_tracking_highway(args: argparse.Namespace) -> int:
    import dataclasses
    import json

    from tqdm import tqdm

    from rsu_isac.experiments import tracking_accuracy as ta

    scenario = _scenario_or_exit(args.scenario, "tracking-highway")
    jobs = [(m, p) for p in args.drop for m in args.models]
    results = [
        ta.highway(
            scenario, m, args.slots, args.seed, p, args.engine, confirm_hits=args.confirm_hits
        )
        for m, p in tqdm(jobs, desc="highway", unit="run", disable=args.json)
    ]
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in results], indent=2))
        return 0
    columns = (
        "model",
        "dropped",
        "vehicles (mean)",
        "purity",
        "id switches /1000 track-slots",
        "vehicles",
        "confirmed <= 5 slots",
        "max latency slots",
        "position RMSE m",
        "prediction RMSE deg / m",
        "update ms p50 / p99",
    )
    rows = [
        (
            r.motion_model,
            f"{r.drop_probability:.0%}",
            f"{r.mean_vehicles:.1f}",
            f"{r.purity:.4f}",
            f"{r.id_switches_per_1000_track_slots:.3f}",
            str(r.vehicles_seen),
            f"{r.confirmed_within_5_slots:.1%}",
            f"{r.max_confirmation_latency_slots:g}",
            f"{r.position_rmse_m:.2g}",
            f"{r.prediction_angle_rmse_deg:.2g} / {r.prediction_range_rmse_m:.2g}",
            f"{r.update_ms_p50:.2f} / {r.update_ms_p99:.2f}",
        )
        for r in results
    ]
    title = (
        f"multi-target tracking, {scenario.name} ({args.engine}), RSU 0, {args.slots} slots, "
        f"seed {args.seed}, measurement-level detections, confirmation {args.confirm_hits} of 6"
    )
    _print_table(title, columns, rows)
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    import dataclasses
    import json

    from tqdm import tqdm

    from rsu_isac.closed_loop import EvalConfig, evaluate
    from rsu_isac.core.ekf import MOTION_MODELS
    from rsu_isac.scheduling.scheduler import SCHEDULER_POLICIES
    from rsu_isac.sim.traffic import ENGINES
    from rsu_isac.sim.world import ABSTRACTIONS

    scenario = _scenario_or_exit(args.scenario, "eval")
    if not _valid_choices(
        "eval",
        {
            "--abstraction": (args.abstraction, ABSTRACTIONS),
            "--aoi-policy": (args.aoi_policy, SCHEDULER_POLICIES),
            "--engine": (args.engine, ENGINES),
            "--motion-model": (args.motion_model, MOTION_MODELS),
        },
    ):
        return 2
    config = EvalConfig(
        policy=args.policy,
        slots=args.slots,
        seed=args.seed,
        abstraction=args.abstraction,
        engine=args.engine,
        assignment=args.assignment,
        power_split=args.power_split,
        aoi_policy=args.aoi_policy,
        max_power_dbm=args.pmax_dbm,
        motion_model=args.motion_model,
        rf_snr_db=args.rf_snr_db,
        lstm_checkpoint=args.lstm_checkpoint,
    )
    if args.max_coast_serve_slots is not None:
        config = dataclasses.replace(config, max_coast_serve_slots=args.max_coast_serve_slots)
    with tqdm(total=args.slots, desc=f"eval {args.policy}", unit="slot", disable=args.json) as bar:
        try:
            result = evaluate(scenario, config, progress=lambda n: bar.update(1))
        except ValueError as exc:
            print(f"rsu-isac eval: {exc}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps(result))
    else:
        width = max(len(k) for k in result)
        for key, value in result.items():
            text = f"{value:.6g}" if isinstance(value, float) else str(value)
            print(f"{key:<{width}}  {text}")
    return 0


def _cmd_assignment(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console
    from rich.table import Table
    from tqdm import tqdm

    from rsu_isac.experiments.assignment import compare

    scenario = _scenario_or_exit(args.scenario, "assignment")
    rows = [
        r
        for k in tqdm(args.vehicles, desc="assignment", unit="K", disable=args.json)
        for r in compare(scenario, k, args.seeds, args.precoder, args.seed)
    ]
    if args.json:
        print(json.dumps([r.__dict__ for r in rows], indent=2))
        return 0
    table = Table(
        title=f"per-vehicle throughput by assignment, {scenario.name}, precoder {args.precoder}, "
        f"{args.seeds} seeds from seed {args.seed} (exact LoS channel)"
    )
    for column in ("K", "distance", "greedy", "heuristic", "ordering"):
        table.add_column(column)
    for k in args.vehicles:
        mine = {r.method: r for r in rows if r.num_vehicles == k}
        cells = [
            f"{mine[m].per_vehicle_rate_bps_hz:.4f} +- {mine[m].std_over_seeds:.3f}"
            for m in ("distance", "greedy", "heuristic")
        ]
        order = " > ".join(sorted(mine, key=lambda m: -mine[m].per_vehicle_rate_bps_hz))
        table.add_row(str(k), *cells, order)
    Console(soft_wrap=True, width=200).print(table)
    return 0


def _cmd_camera_accuracy(args: argparse.Namespace) -> int:
    import json

    from tqdm import tqdm

    from rsu_isac.experiments.camera_accuracy import measure

    scenario = _scenario_or_exit(args.scenario, "camera-accuracy")
    slots = round(args.duration / scenario.slot_s)
    with tqdm(total=slots, desc="camera-accuracy", unit="slot", disable=args.json) as bar:
        result = measure(scenario, args.duration, args.period, args.seed, lambda: bar.update(1))
    if args.json:
        print(json.dumps(result.__dict__))
        return 0
    title = (
        f"camera detections vs ground truth, {scenario.name}, {args.duration:g} s, a frame "
        f"every {args.period} slots, seed {args.seed}, whole road processed"
    )
    _print_table(
        title, ["quantity", "value"], [(k, f"{v:.4g}") for k, v in result.__dict__.items()]
    )
    return 0


def _cmd_aoi_energy(args: argparse.Namespace) -> int:
    import json

    from tqdm import tqdm

    from rsu_isac.experiments.aoi_energy import WARMUP_SLOTS, plot, run
    from rsu_isac.scheduling.scheduler import SCHEDULER_POLICIES

    scenario = _scenario_or_exit(args.scenario, "aoi-energy")
    if not all(
        _valid_choices("aoi-energy", {"--policies": (p, SCHEDULER_POLICIES)}) for p in args.policies
    ):
        return 2
    if args.warmup_slots is None:
        args.warmup_slots = WARMUP_SLOTS
    if args.warmup_slots < 0:
        print("rsu-isac aoi-energy: --warmup-slots must be >= 0", file=sys.stderr)
        return 2
    total = len(args.policies) * len(args.snr_db) * (args.slots + args.warmup_slots)
    with tqdm(total=total, desc="aoi-energy", unit="slot", disable=args.json) as bar:
        rows = [
            run(scenario, policy, snr, args.slots, args.seed, lambda n: bar.update(1),
                args.warmup_slots)
            for policy in args.policies
            for snr in args.snr_db
        ]  # fmt: skip
    if args.plot:
        plot(rows, args.mae_snr_db, scenario.slot_s, args.plot)
    if args.json:
        print(
            json.dumps(
                [{k: v for k, v in r.__dict__.items() if k != "angle_mae_deg"} for r in rows]
            )
        )
        return 0
    columns = ["policy", "RF SNR dB", "E model J", "E measured J", "E_comp J", "mean P_misa",
               "misaligned", "camera slots", "camera ms", "sum rate"]  # fmt: skip
    table = [
        (r.policy, f"{r.rf_snr_db:g}", f"{r.energy_model_j:.1f}", f"{r.energy_measured_j:.1f}",
         f"{r.energy_comp_j:.1f}", f"{r.mean_misalignment_probability:.3f}",
         f"{r.misalignment_rate:.3f}", f"{r.camera_on_share:.2f}", f"{r.camera_ms_p50:.1f}",
         f"{r.sum_rate_bps_hz:.2f}")
        for r in rows
    ]  # fmt: skip
    title = (
        f"AoI scheduling energy, {scenario.name}, {args.slots} slots after "
        f"{args.warmup_slots} of warm-up, seed {args.seed}, "
        "predictive_mrt, measurement-level radar, rendered camera"
    )
    _print_table(title, columns, table)
    return 0


def _cmd_policy_timing(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console
    from rich.table import Table

    from rsu_isac.bench import machine_description
    from rsu_isac.experiments.policy_timing import solve_times_ms

    rows = solve_times_ms(tuple(args.vehicles), tuple(args.antennas), args.repeats)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    table = Table(
        title=f"precoder solve time (ms), median of {args.repeats} ({machine_description()})"
    )
    table.add_column("policy")
    sizes = [(n, k) for n in args.antennas for k in args.vehicles]
    for n, k in sizes:
        table.add_column(f"N={n} K={k}")
    for name in dict.fromkeys(r["policy"] for r in rows):
        cells = {(r["N"], r["K"]): r["median_ms"] for r in rows if r["policy"] == name}
        table.add_row(name, *("not run" if cells[s] is None else f"{cells[s]:.2f}" for s in sizes))
    Console(soft_wrap=True, width=220).print(table)
    return 0


def _cmd_sim(args: argparse.Namespace) -> int:
    import json
    import time
    from pathlib import Path

    from tqdm import tqdm

    from rsu_isac.beamforming.policies import POLICIES
    from rsu_isac.bench import machine_description
    from rsu_isac.bringup import run_graph
    from rsu_isac.graph import GraphOptions
    from rsu_isac.scheduling.scheduler import SCHEDULER_POLICIES
    from rsu_isac.sim.traffic import ENGINES
    from rsu_isac.sim.world import ABSTRACTIONS

    scenario = _scenario_or_exit(args.scenario, "sim")
    if not _valid_choices(
        "sim",
        {
            "--policy": (args.policy, POLICIES),
            "--engine": (args.engine, ENGINES),
            "--abstraction": (args.abstraction, ABSTRACTIONS),
            **({"--aoi-policy": (args.aoi_policy, SCHEDULER_POLICIES)} if args.aoi_policy else {}),
        },
    ):
        return 2
    if args.aoi_policy and args.camera_period < 1:
        print(
            "rsu-isac sim: --aoi-policy needs camera frames (--camera-period >= 1)", file=sys.stderr
        )
        return 2
    options = GraphOptions(
        scenario=scenario,
        scenario_arg=args.scenario,
        policy=args.policy,
        engine=args.engine,
        abstraction=args.abstraction,
        duration_s=args.duration,
        seed=args.seed,
        camera_period_slots=args.camera_period,
        aoi_policy=args.aoi_policy,
    )
    out = Path(args.out)
    meta = {
        "command": "rsu-isac " + " ".join(sys.argv[1:]),
        "scenario": scenario.name,
        "policy": args.policy,
        "engine": args.engine,
        "abstraction": args.abstraction,
        "aoi_policy": args.aoi_policy or "none",
        "duration_s": args.duration,
        "seed": args.seed if args.seed >= 0 else scenario.seed,
        "machine": machine_description(),
    }
    total = round(args.duration / scenario.slot_s)
    started = time.monotonic()
    with tqdm(total=total, desc=f"sim {scenario.name} / {args.policy}", unit="slot") as bar:
        try:
            summary = run_graph(
                options,
                out,
                meta,
                progress=bar.update,
                record=Path(args.record) if args.record else None,
            )
        except (RuntimeError, FileExistsError) as exc:
            print(f"rsu-isac sim: {exc}", file=sys.stderr)
            return 1
    summary["wall_clock_s"] = round(time.monotonic() - started, 1)
    (out / "report.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(
        f"sum rate {summary['sum_rate_bps_hz']:.3f} bit/s/Hz, Jain {summary['jain_fairness']:.3f}, "
        f"angle RMSE {summary['angle_rmse_deg']:.3g} deg (sqrt PCRB "
        f"{summary['sqrt_pcrb_angle_deg']:.3g}), late commands {summary['late_or_lost_commands']}"
    )
    plots = ", ".join(p.name for p in sorted(out.glob("*.png")))
    print(f"report: {out / 'report.json'}, plots: {plots}")
    return 0


def _cmd_replay(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rsu_isac.bench import machine_description
    from rsu_isac.bringup import run_replay
    from rsu_isac.graph import GraphOptions

    scenario = _scenario_or_exit(args.scenario, "replay")
    options = GraphOptions(scenario=scenario, scenario_arg=args.scenario, policy=args.policy)
    meta = {
        "command": "rsu-isac " + " ".join(sys.argv[1:]),
        "scenario": scenario.name,
        "policy": args.policy,
        "machine": machine_description(),
    }
    try:
        summary = run_replay(options, Path(args.bag), Path(args.out), meta, args.rate)
    except (RuntimeError, FileNotFoundError, ValueError) as exc:
        print(f"rsu-isac replay: {exc}", file=sys.stderr)
        return 1
    print(
        f"replayed {args.bag}: tracked share {summary['tracked_vehicle_share']:.3f}, angle RMSE "
        f"{summary['angle_rmse_deg']:.3g} deg, range RMSE {summary['range_rmse_m']:.3g} m; "
        f"report {Path(args.out) / 'report.json'}"
    )
    return 0


def _bag_record(path, args: argparse.Namespace) -> int:
    """Record topics of a running graph (all, or --topics) for --duration wall seconds or
    until Ctrl-C; message types are taken from the graph."""
    import time

    import rclpy

    from rsu_isac.bags.record import BagRecorder, discover_topics

    with rclpy.init():
        probe = rclpy.create_node("rsu_isac_bag_probe")
        deadline = time.monotonic() + args.wait
        while True:  # DDS discovery takes a few seconds
            rclpy.spin_once(probe, timeout_sec=0.1)
            try:
                topics = discover_topics(probe, args.topics)
                break
            except ValueError as exc:
                if time.monotonic() > deadline:
                    print(f"rsu-isac bag: {exc}", file=sys.stderr)
                    return 1
        try:
            recorder = BagRecorder(path, topics)
        except FileExistsError as exc:
            print(f"rsu-isac bag: {exc}", file=sys.stderr)
            return 1
        end = time.monotonic() + args.duration if args.duration > 0 else float("inf")
        try:
            while time.monotonic() < end:
                rclpy.spin_once(recorder, timeout_sec=0.1)
        except KeyboardInterrupt:
            pass
        finally:
            recorder.close()
    print(f"recorded {sum(recorder.counts.values())} messages on {len(topics)} topics to {path}")
    return 0


def _cmd_bag(args: argparse.Namespace) -> int:
    from pathlib import Path

    import rclpy

    from rsu_isac.bags.play import BagPlayer

    path = Path(args.bag)
    if args.bag_command == "record":
        return _bag_record(path, args)
    if args.bag_command == "info":
        from rosbags.highlevel import AnyReader

        if not path.exists():
            print(f"rsu-isac bag: no bag at {path}", file=sys.stderr)
            return 1
        with AnyReader([path]) as reader:
            print(f"{path}: {reader.message_count} messages, {reader.duration * 1e-9:.3f} s")
            for c in sorted(reader.connections, key=lambda c: c.topic):
                print(f"  {c.topic:<32} {c.msgtype:<44} {c.msgcount}")
        return 0
    with rclpy.init():
        try:
            player = BagPlayer(path, args.topics, args.qos)
        except (FileNotFoundError, ValueError) as exc:
            print(f"rsu-isac bag: {exc}", file=sys.stderr)
            return 1
        try:
            while True:
                player.play(args.rate, spin=lambda: rclpy.spin_once(player, timeout_sec=0))
                if not args.loop:
                    break
        except KeyboardInterrupt:
            pass
        finally:
            player.close()
    print(f"published {player.published} messages from {path}")
    return 0


def _add_run_commands(sub) -> None:
    """The closed loop on ROS (sim) and headless (eval)."""
    sim = sub.add_parser(
        "sim",
        help="run the full node graph on ROS in lockstep and write a report (main command)",
        description="Start traffic_sim, radar_processing, ekf_tracker and beamforming_policy "
        "(one process each, from the same graph description as launch/sim.launch.py), run the "
        "simulated duration in lockstep, stop cleanly and write report.json and PNG plots.",
    )
    sim.add_argument("--scenario", default="seed000", help="scenario name or .yaml path")
    sim.add_argument("--policy", default="predictive_mrt", help="beamforming policy")
    sim.add_argument("--engine", default="embedded", help="embedded or sumo")
    sim.add_argument("--abstraction", default="signal", help="signal or measurement")
    sim.add_argument("--duration", type=float, default=10.0, help="simulated seconds")
    sim.add_argument("--seed", type=int, default=-1, help="random seed (-1: the scenario's)")
    sim.add_argument("--out", default="runs/latest", help="report directory")
    sim.add_argument("--record", metavar="BAG", help="also record the run into this MCAP bag")
    sim.add_argument(
        "--camera-period", type=int, default=5, help="a camera frame every N slots (0: none)"
    )
    sim.add_argument(
        "--aoi-policy",
        default="",
        help="add camera_semantics and aoi_scheduler with this camera schedule "
        "(radar_only, vision_only, threshold, lstm); default: radar only, no camera nodes",
    )
    sim.set_defaults(func=_cmd_sim)

    replay = sub.add_parser(
        "replay", help="play a bag into the stack (no simulator) and report its tracks"
    )
    replay.add_argument("--bag", required=True, help="bag directory")
    replay.add_argument("--scenario", default="seed000", help="scenario the bag was recorded in")
    replay.add_argument("--policy", default="predictive_mrt", help="beamforming policy")
    replay.add_argument("--rate", type=float, default=1.0, help="playback rate (1 = real time)")
    replay.add_argument("--out", default="runs/replay", help="report directory")
    replay.set_defaults(func=_cmd_replay)

    bag = sub.add_parser("bag", help="record, inspect or play rosbag2 bags (MCAP, sqlite3)")
    bag.add_argument("bag_command", choices=("info", "play", "record"))
    bag.add_argument("bag", help="bag directory")
    bag.add_argument("--rate", type=float, default=1.0, help="play: rate factor (0 = max)")
    bag.add_argument("--loop", action="store_true", help="play: start over at the end")
    bag.add_argument("--topics", nargs="+", help="play / record: only these topics")
    bag.add_argument(
        "--duration", type=float, default=0.0, help="record: wall seconds (0: until Ctrl-C)"
    )
    bag.add_argument(
        "--wait", type=float, default=10.0, help="record: seconds to wait for the topics"
    )
    bag.add_argument(
        "--qos", default="reliable", choices=("reliable", "best_effort"), help="play: QoS"
    )
    bag.set_defaults(func=_cmd_bag)

    evaluation = sub.add_parser(
        "eval",
        help="headless closed loop (traffic, radar, tracker, policy, link): one JSON summary",
        description="Run the closed loop without ROS for N slots and print sum rate, genie "
        "sum rate, fairness, tracking RMSE vs PCRB, energy, misalignment and policy time.",
    )
    evaluation.add_argument("--scenario", default="seed000", help="scenario name")
    evaluation.add_argument("--policy", default="predictive_mrt", help="beamforming policy")
    evaluation.add_argument("--slots", type=int, default=500, help="slots to run")
    evaluation.add_argument("--seed", type=int, default=0, help="random seed")
    evaluation.add_argument("--abstraction", default="measurement", help="signal or measurement")
    evaluation.add_argument("--engine", default="embedded", help="embedded or sumo")
    evaluation.add_argument("--assignment", default="distance", help="distance, greedy, heuristic")
    evaluation.add_argument("--power-split", default="equal", help="equal or water_filling")
    evaluation.add_argument("--aoi-policy", default="radar_only", help="camera schedule")
    evaluation.add_argument(
        "--rf-snr-db",
        type=float,
        default=None,
        help="set the sensing noise so that the reference vehicle's echo SNR is this (003 Fig. 5)",
    )
    evaluation.add_argument(
        "--lstm-checkpoint", default=None, help="temporal expert of --aoi-policy lstm"
    )
    evaluation.add_argument("--motion-model", default="cartesian", help="EKF state")
    evaluation.add_argument("--pmax-dbm", type=float, help="power budget (default: scenario's)")
    evaluation.add_argument(
        "--max-coast-serve-slots",
        type=int,
        help="serve a coasting track at most this many missed slots (default 2)",
    )
    evaluation.add_argument("--json", action="store_true", help="print one JSON object")
    evaluation.set_defaults(func=_cmd_eval)


def _add_camera_commands(sub) -> None:
    """The camera and AoI-scheduling experiment commands."""
    cam = sub.add_parser("camera-accuracy", help="camera detection error and time per frame")
    cam.add_argument("--scenario", default="seed003", help="scenario name")
    cam.add_argument("--duration", type=float, default=60.0, help="simulated seconds")
    cam.add_argument("--period", type=int, default=5, help="a camera frame every N slots")
    cam.add_argument("--seed", type=int, default=0, help="random seed")
    cam.add_argument("--json", action="store_true", help="print JSON")
    cam.set_defaults(func=_cmd_camera_accuracy)

    aoi = sub.add_parser("aoi-energy", help="camera-schedule energy vs RF SNR (003 Fig. 4-5)")
    aoi.add_argument("--scenario", default="seed003", help="scenario name")
    aoi.add_argument("--policies", nargs="+", default=["radar_only", "vision_only", "threshold"])
    aoi.add_argument("--snr-db", type=float, nargs="+", default=[0, 5, 10, 15, 20])
    aoi.add_argument("--slots", type=int, default=250, help="steady-state slots per run")
    aoi.add_argument(
        "--warmup-slots",
        type=int,
        default=None,
        help="slots run before the averages (default: the camera's background window, 150)",
    )
    aoi.add_argument("--seed", type=int, default=0, help="random seed")
    aoi.add_argument("--mae-snr-db", type=float, default=10.0, help="SNR of the MAE plot")
    aoi.add_argument("--plot", default=None, help="write the two-panel figure here (PNG)")
    aoi.add_argument("--json", action="store_true", help="print JSON")
    aoi.set_defaults(func=_cmd_aoi_energy)


def _add_evaluation_commands(sub) -> None:
    """The closed-loop evaluation and tracking experiment commands."""
    from rsu_isac.core.ekf import MOTION_MODELS

    tracking = sub.add_parser(
        "tracking-accuracy",
        help="EKF RMSE vs PCRB over time, one vehicle, Monte Carlo (000 setting)",
    )
    tracking.add_argument("--scenario", default="seed000", help="scenario name")
    tracking.add_argument("--runs", type=int, default=200, help="Monte-Carlo runs")
    tracking.add_argument("--seed", type=int, default=1, help="random seed")
    tracking.add_argument("--models", nargs="+", default=list(MOTION_MODELS), choices=MOTION_MODELS)
    tracking.add_argument(
        "--sensing-noise-dbm",
        type=float,
        nargs="+",
        default=[-80.0, 45.0],
        help="echo noise levels [dBm] (the scenario prints -80; 45 gives ~30 dB echo SNR)",
    )
    tracking.add_argument("--json", action="store_true", help="print JSON")
    tracking.add_argument("--plot", metavar="PNG", help="also plot RMSE and sqrt(PCRB) over time")
    tracking.set_defaults(func=_cmd_tracking_accuracy)

    assignment = sub.add_parser(
        "assignment", help="vehicle-to-RSU assignment compared (004 Fig. 7/8 analogue)"
    )
    assignment.add_argument("--scenario", default="seed004", help="scenario name")
    assignment.add_argument(
        "--vehicles", type=int, nargs="+", default=[4, 10, 20, 50], help="K values"
    )
    assignment.add_argument("--seeds", type=int, default=20, help="random placements per K")
    assignment.add_argument("--seed", type=int, default=0, help="first seed")
    assignment.add_argument("--precoder", default="fp_pgd", help="precoder of both RSUs")
    assignment.add_argument("--json", action="store_true", help="print JSON")
    assignment.set_defaults(func=_cmd_assignment)

    timing = sub.add_parser("policy-timing", help="precoder solve time vs K and N")
    timing.add_argument("--vehicles", type=int, nargs="+", default=[3, 8, 20, 50])
    timing.add_argument("--antennas", type=int, nargs="+", default=[32, 64])
    timing.add_argument("--repeats", type=int, default=5)
    timing.add_argument("--json", action="store_true", help="print JSON")
    timing.set_defaults(func=_cmd_policy_timing)

    highway = sub.add_parser(
        "tracking-highway",
        help="multi-target tracking scores (purity, id switches, confirmation latency)",
    )
    highway.add_argument("--scenario", default="seed004", help="scenario name")
    highway.add_argument("--engine", default="embedded", help="embedded or sumo")
    highway.add_argument("--slots", type=int, default=5000, help="slots to track")
    highway.add_argument("--seed", type=int, default=1, help="random seed")
    highway.add_argument("--models", nargs="+", default=list(MOTION_MODELS), choices=MOTION_MODELS)
    highway.add_argument(
        "--drop", type=float, nargs="+", default=[0.0, 0.3], help="detection drop probabilities"
    )
    highway.add_argument(
        "--confirm-hits", type=int, default=2, help="M of the M-of-N confirmation (window 6)"
    )
    highway.add_argument("--json", action="store_true", help="print JSON")
    highway.set_defaults(func=_cmd_tracking_highway)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rsu-isac",
        description="Roadside-unit ISAC stack: simulation, evaluation and diagnostics. "
        "Runs without sourcing ROS: it sets up the workspace environment itself.",
    )
    parser.add_argument("--version", action="version", version=f"rsu-isac {__version__}")
    sub = parser.add_subparsers(dest="command_name", metavar="COMMAND", required=True)

    doctor = sub.add_parser(
        "doctor", help="check ROS middleware, interfaces, torch and optional backends"
    )
    doctor.set_defaults(func=_cmd_doctor)

    bench = sub.add_parser(
        "bench",
        help="print speed figures of the core, simulator and nodes' algorithms",
        description="Time fixed, seeded workloads and print median/p90 per call against "
        "the issue goals (figures, not pass/fail tests).",
    )
    bench.add_argument("suites", nargs="*", metavar="SUITE", help="suites to run (default: all)")
    bench.add_argument("--repeat", type=int, default=15, help="timed batches per case")
    bench.add_argument("--json", action="store_true", help="print JSON instead of a table")
    bench.set_defaults(func=_cmd_bench)

    stats = sub.add_parser(
        "traffic-stats",
        help="run a traffic engine and compare with Little's law and Poisson arrivals",
    )
    stats.add_argument("--scenario", default="dense_city", help="scenario name")
    stats.add_argument("--engine", default="embedded", help="embedded or sumo")
    stats.add_argument("--seed", type=int, default=1, help="random seed")
    stats.add_argument("--seconds", type=float, default=300.0, help="simulated duration [s]")
    stats.set_defaults(func=_cmd_traffic_stats)

    accuracy = sub.add_parser(
        "radar-accuracy",
        help="radar processing: RMSE vs CRB over SNR, Pd, false alarms, MF vs MUSIC",
    )
    accuracy.add_argument(
        "--snr",
        type=float,
        nargs="+",
        default=[10, 13, 16, 20, 30, 40],
        help="post-processing SNRs [dB]",
    )
    accuracy.add_argument("--trials", type=int, default=200, help="Monte-Carlo trials per row")
    accuracy.add_argument("--seed", type=int, default=1, help="random seed")
    accuracy.add_argument(
        "--pfa",
        type=float,
        default=1e-3,
        help="false-alarm probability for the false-alarm measurement",
    )
    accuracy.add_argument("--fa-frames", type=int, default=10, help="noise-only frames")
    accuracy.add_argument("--json", action="store_true", help="print JSON")
    accuracy.add_argument("--plot", metavar="PNG", help="also write RMSE/CRB and Pd plots here")
    accuracy.set_defaults(func=_cmd_radar_accuracy)

    _add_run_commands(sub)
    _add_evaluation_commands(sub)
    _add_camera_commands(sub)

    run = sub.add_parser(
        "exec",
        help="run a command inside the workspace's ROS environment",
        description="Run COMMAND with the ROS environment of the built workspace, "
        "e.g. `rsu-isac exec -- python -m pytest tests`.",
    )
    run.add_argument("command", nargs=argparse.REMAINDER, help="command and its arguments")
    run.set_defaults(func=_cmd_exec)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    reexec_with_ros_environment(argv)
    keep_heap_memory()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
