"""The ``rsu-isac`` command.

Works from any shell: before running a sub-command it re-executes itself once with the
workspace's ROS environment (see :mod:`rsu_isac.workspace`), so nothing has to be sourced.
"""

from __future__ import annotations

import argparse
import os
import sys

from rsu_isac import __version__
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
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
