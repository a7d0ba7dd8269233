"""The measurement commands of the components: radar, tracking, assignment, policy timing,
camera and AoI-scheduling experiments, traffic statistics."""

from __future__ import annotations

import argparse
import sys

from rsu_isac.cli.common import print_table, scenario_or_exit, valid_choices


def _cmd_traffic_stats(args: argparse.Namespace) -> int:
    import json

    from rsu_isac.core.scenario import load_named_scenario
    from rsu_isac.core.schema import SchemaError
    from rsu_isac.platform.paths import scenarios_dir
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


def _cmd_tracking_accuracy(args: argparse.Namespace) -> int:
    import json

    from tqdm import tqdm

    from rsu_isac.experiments import tracking_accuracy as ta

    scenario = scenario_or_exit(args.scenario, "tracking-accuracy")
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
    print_table(title, columns, rows)
    return 0


def _cmd_tracking_highway(args: argparse.Namespace) -> int:
    import dataclasses
    import json

    from tqdm import tqdm

    from rsu_isac.experiments import tracking_accuracy as ta

    scenario = scenario_or_exit(args.scenario, "tracking-highway")
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
    print_table(title, columns, rows)
    return 0


def _cmd_assignment(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console
    from rich.table import Table
    from tqdm import tqdm

    from rsu_isac.experiments.assignment import compare

    scenario = scenario_or_exit(args.scenario, "assignment")
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

    scenario = scenario_or_exit(args.scenario, "camera-accuracy")
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
    print_table(title, ["quantity", "value"], [(k, f"{v:.4g}") for k, v in result.__dict__.items()])
    return 0


def _cmd_aoi_energy(args: argparse.Namespace) -> int:
    import json

    from tqdm import tqdm

    from rsu_isac.experiments.aoi_energy import WARMUP_SLOTS, plot, run
    from rsu_isac.scheduling.scheduler import SCHEDULER_POLICIES

    scenario = scenario_or_exit(args.scenario, "aoi-energy")
    if not all(
        valid_choices("aoi-energy", {"--policies": (p, SCHEDULER_POLICIES)}) for p in args.policies
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
    print_table(title, columns, table)
    return 0


def _cmd_policy_timing(args: argparse.Namespace) -> int:
    import json

    from rich.console import Console
    from rich.table import Table

    from rsu_isac.experiments.policy_timing import solve_times_ms
    from rsu_isac.runtime.bench import machine_description

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


def add_commands(sub) -> None:
    """The experiment commands."""
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

    _add_evaluation_commands(sub)
    _add_camera_commands(sub)


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
