"""Commands about the installation itself: ``doctor``, ``bench``, ``fuzz`` and ``exec``."""

from __future__ import annotations

import argparse
import os
import sys

from rsu_isac.cli.common import valid_choices


def _cmd_doctor(_args: argparse.Namespace) -> int:
    from rsu_isac.runtime.doctor import report, run_checks

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
    from rsu_isac.runtime.bench import SUITES, print_table, run_suites, to_json

    if "graph" in args.suites:
        return _bench_graph(args)
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


def _bench_graph(args: argparse.Namespace) -> int:
    from rsu_isac.runtime.graph_bench import print_rows, run_cases, to_json

    if args.suites != ["graph"]:
        print("rsu-isac bench: run 'graph' on its own (it starts the ROS graph)", file=sys.stderr)
        return 2
    if args.duration <= 0:
        print("rsu-isac bench: --duration must be > 0", file=sys.stderr)
        return 2
    rows = run_cases(args.duration)
    print(to_json(rows)) if args.json else print_rows(rows)
    return 0 if all(r["status"] == "complete" for r in rows) else 1


def _cmd_fuzz(args: argparse.Namespace) -> int:
    import warnings

    from rich.console import Console
    from rich.table import Table
    from tqdm import tqdm

    from rsu_isac.nodes.fuzz import NODES, run

    nodes = args.nodes or list(NODES)
    if not all(valid_choices("fuzz", {"--nodes": (n, tuple(NODES))}) for n in nodes):
        return 2
    if args.messages < 1:
        print("rsu-isac fuzz: --messages must be >= 1", file=sys.stderr)
        return 2
    with (
        warnings.catch_warnings(),
        tqdm(total=args.messages * len(nodes), desc="fuzz", unit="msg") as bar,
    ):
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow in accepted extremes
        counts = run(args.messages, args.seed, nodes, bar.update, log_level=args.log_level)
    table = Table(title=f"fuzzed messages per node (seed {args.seed})")
    columns = ("messages", "accepted", "dropped", "rejected", "errors", "escaped", "crashed")
    for column in ("node", *columns, "valid answered"):
        table.add_column(column)
    for name, c in counts.items():
        cells = [str(getattr(c, k)) for k in columns]
        table.add_row(name, *cells, f"{c.answered}/{c.valid}")
    console = Console(soft_wrap=True, width=200)
    console.print(table)
    for name, c in counts.items():
        for text in c.failures:
            console.print(f"{name}: {text}", markup=False)
    failed = any(c.crashed or c.answered < c.valid for c in counts.values())
    print("crashes: " + str(sum(c.crashed for c in counts.values())))
    return 1 if failed else 0


def add_commands(sub) -> None:
    doctor = sub.add_parser(
        "doctor", help="check ROS middleware, interfaces, torch and optional backends"
    )
    doctor.set_defaults(func=_cmd_doctor)

    bench = sub.add_parser(
        "bench",
        help="print speed figures of the core, simulator and nodes' algorithms",
        description="Time fixed, seeded workloads and print median/p90 per call against "
        "the issue goals (figures, not pass/fail tests). 'graph' (run on its own) starts the "
        "ROS graph in lockstep as fast as it goes and prints slots/s, the echo -> command "
        "latency and each node's time split into compute and conversion.",
    )
    bench.add_argument(
        "suites",
        nargs="*",
        metavar="SUITE",
        help="suites to run: core, sim, radar, tracker, learning (default: all), or graph",
    )
    bench.add_argument("--repeat", type=int, default=15, help="timed batches per case")
    bench.add_argument(
        "--duration", type=float, default=4.0, help="graph: simulated seconds per case"
    )
    bench.add_argument("--json", action="store_true", help="print JSON instead of a table")
    bench.set_defaults(func=_cmd_bench)

    fuzz = sub.add_parser(
        "fuzz",
        help="send every node generated hostile messages; print per-node counts",
        description="Each node runs in this process; seeded mutations of valid messages (NaN, "
        "inf, extremes, wrong lengths, empty and huge arrays, wrong indices and slots) go "
        "through its subscription callbacks, then valid messages must still be answered. "
        "Exit 1 on any crash (an exception the node contained or that escaped it).",
    )
    fuzz.add_argument("--messages", type=int, default=1000, help="messages per node")
    fuzz.add_argument("--seed", type=int, default=0, help="random seed")
    fuzz.add_argument("--nodes", nargs="+", help="only these nodes (default: all)")
    fuzz.add_argument(
        "--log-level", default="fatal", help="the nodes' log level (their drop warnings: warn)"
    )
    fuzz.set_defaults(func=_cmd_fuzz)

    run = sub.add_parser(
        "exec",
        help="run a command inside the workspace's ROS environment",
        description="Run COMMAND with the ROS environment of the built workspace, "
        "e.g. `rsu-isac exec -- python -m pytest tests`.",
    )
    run.add_argument("command", nargs=argparse.REMAINDER, help="command and its arguments")
    run.set_defaults(func=_cmd_exec)
