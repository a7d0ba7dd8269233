"""The experiments: ``experiment NAME`` (the registry of :mod:`rsu_isac.experiments.registry`,
whose names are also commands of their own), ``results`` (docs/RESULTS.md) and
``traffic-stats``."""

from __future__ import annotations

import argparse
import json
import sys

from rsu_isac.cli.common import print_table, valid_choices, writable_dir_error


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


def _cmd_experiment(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from rsu_isac.experiments import harness
    from rsu_isac.experiments.registry import EXPERIMENTS, QUICK_SEEDS

    if args.list or not args.name:
        print_table(
            "experiments (rsu-isac experiment NAME [--quick] [--seeds N] [--workers N])",
            ["name", "paper figure", "seeds", "full run, 2 cores, --workers 2"],
            [(e.name, e.figure, str(e.seeds), e.runtime) for e in EXPERIMENTS.values()],
        )
        return 0 if args.list else 2
    if not valid_choices("experiment", {"NAME": (args.name, tuple(EXPERIMENTS))}):
        return 2
    experiment = EXPERIMENTS[args.name]
    count = args.seeds or (QUICK_SEEDS if args.quick else experiment.seeds)
    out = Path(args.out or f"runs/experiments/{experiment.name}{'-quick' if args.quick else ''}")
    problem = writable_dir_error(out, "--out")
    if count < 1 or args.workers < 1:
        problem = "--seeds and --workers must be >= 1"
    if problem:
        print(f"rsu-isac experiment: {problem}", file=sys.stderr)
        return 2
    seeds = list(range(args.seed, args.seed + count))
    cells = len(experiment.grid(args.quick)) * len(seeds)
    try:
        with tqdm(total=cells, desc=experiment.name, unit="cell") as bar:
            result = harness.run(
                experiment, seeds, out, args.quick, args.workers, args.ray_address, bar.update
            )
    except KeyboardInterrupt:
        print(
            f"rsu-isac experiment: interrupted; the finished cells are kept in "
            f"{out / 'cells.jsonl'}: run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    print((out / "table.md").read_text(), end="")
    for line in json.loads((out / "manifest.json").read_text())["comparison"]:
        print(line)
    print(
        f"{result.ran} cells run, {result.skipped} already done, {result.wall_s:.1f} s; "
        f"{out}/cells.csv, table.md, figure.png, manifest.json"
    )
    return 0


def _cmd_results(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rsu_isac.experiments.results import build

    results = Path(args.results)
    if not results.is_dir():
        print(f"rsu-isac results: no experiment outputs at {results}", file=sys.stderr)
        return 2
    page = Path(args.page)
    page.write_text(build(results))
    print(f"wrote {page} from {results}")
    return 0


def _experiment_flags(parser) -> None:
    parser.add_argument("--quick", action="store_true", help="small version (< 1 min)")
    parser.add_argument("--seeds", type=int, help="number of seeds (default: per experiment)")
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--out", help="output folder (default runs/experiments/NAME)")
    parser.add_argument("--workers", type=int, default=1, help="1: in process; N: local Ray")
    parser.add_argument(
        "--ray-address", help="run on this Ray cluster (e.g. 10.0.0.5:6379, or 'auto')"
    )


def add_commands(sub) -> None:
    """``experiment``, ``results``, the experiments' own names (aliases of ``experiment
    NAME``) and ``traffic-stats``."""
    from rsu_isac.experiments.registry import EXPERIMENTS

    experiment = sub.add_parser(
        "experiment",
        help="run a registered experiment: CSV, table with 95 %% CIs, figure, manifest",
        description="Run the cells (setting x seed) of an experiment in this process "
        "(--workers 1), as local Ray tasks (--workers N) or on a Ray cluster "
        "(--ray-address); re-running with the same --out skips finished cells.",
    )
    experiment.add_argument("name", nargs="?", help="experiment name (see --list)")
    experiment.add_argument("--list", action="store_true", help="list the experiments")
    _experiment_flags(experiment)
    experiment.set_defaults(func=_cmd_experiment)
    for name, registered in EXPERIMENTS.items():
        alias = sub.add_parser(name, help=f"= rsu-isac experiment {name} ({registered.figure})")
        _experiment_flags(alias)
        alias.set_defaults(func=_cmd_experiment, name=name, list=False)

    results = sub.add_parser(
        "results", help="rebuild docs/RESULTS.md from the experiment outputs in docs/results/"
    )
    results.add_argument("--results", default="docs/results", help="experiment outputs")
    results.add_argument("--page", default="docs/RESULTS.md", help="the page to write")
    results.set_defaults(func=_cmd_results)

    stats = sub.add_parser(
        "traffic-stats",
        help="run a traffic engine and compare with Little's law and Poisson arrivals",
    )
    stats.add_argument("--scenario", default="dense_city", help="scenario name")
    stats.add_argument("--engine", default="embedded", help="embedded or sumo")
    stats.add_argument("--seed", type=int, default=1, help="random seed")
    stats.add_argument("--seconds", type=float, default=300.0, help="simulated duration [s]")
    stats.set_defaults(func=_cmd_traffic_stats)
