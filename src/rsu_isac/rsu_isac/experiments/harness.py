"""One harness for every experiment (``rsu-isac experiment NAME``).

An experiment is a grid of settings, each run once per seed: a *cell* (setting x seed) is a
pure function of its setting and seed, so cells run in any order, in this process or as Ray
tasks on this machine's cores or on a cluster, and give the same numbers. Into its output
folder an experiment writes

- ``cells.jsonl``: every finished cell as it finishes (a re-run with the same folder skips
  them: resumable after Ctrl-C or a failure);
- ``cells.csv``: every cell, one row per setting x seed in grid order (byte-identical
  whatever the worker count);
- ``table.md``: per setting the mean of each metric over the seeds and its 95 % confidence
  interval (Student t);
- ``figure.png``; ``manifest.json``: command line, git commit, seeds, quick or full, package
  versions, machine, worker count, wall time of this invocation and of the last one that
  ran cells, compute time of all cells (resumed ones included), cells run and skipped.
"""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

SIGNIFICANT_DIGITS = 10  # cell values as stored: BLAS summation order stays below this
# what describes the invocation that computed the cells (kept when outputs are rewritten)
RUN_KEYS = ("command", "git_commit", "workers", "ray_address", "packages", "machine", "run_wall_s")
PACKAGES = ("numpy", "scipy", "cvxpy", "torch", "opencv-python-headless", "ray", "rsu_isac")

Setting = dict[str, Any]
Metrics = dict[str, float]


@dataclass(frozen=True)
class Experiment:
    """A registered experiment (see :mod:`rsu_isac.experiments.registry`)."""

    name: str
    figure: str  # the paper figure or claim it stands for
    claim: str  # what the paper (or the bar) says, with the paper's own numbers
    grid: Callable[[bool], list[Setting]]  # quick -> the settings
    cell: Callable[[Setting, int, bool], Metrics]  # (setting, seed, quick) -> metrics
    metrics: tuple[str, ...]  # what the table shows, in order
    x: str  # the setting plotted along the figure's x axis
    plotted: tuple  # metrics in the figure: one panel each; a tuple of them shares a panel
    seeds: int = 3  # default number of seeds
    runtime: str = ""  # full run measured on the 2-core machine with --workers 2
    compare: Callable[[list[dict[str, Any]]], list[str]] = field(default=lambda rows: [])
    notes: str = ""  # our setting and why ours differs (no numbers: those come from the runs)
    overlay: bool = False  # the plotted metrics as lines of one panel (schemes compared)
    log_y: bool = False


def cell_key(setting: Setting, seed: int) -> str:
    return json.dumps({"setting": setting, "seed": seed}, sort_keys=True)


def _stored(value: float) -> float:
    """A metric as stored: finite values to SIGNIFICANT_DIGITS, anything else NaN."""
    value = float(value)
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}") if math.isfinite(value) else math.nan


def run_cell(
    experiment: Experiment, setting: Setting, seed: int, quick: bool
) -> tuple[dict, float]:
    """One cell's row (its setting, seed and metrics as stored) and its compute time [s]."""
    started = time.perf_counter()
    metrics = experiment.cell(setting, seed, quick)
    row = {**setting, "seed": seed, **{k: _stored(v) for k, v in metrics.items()}}
    return row, time.perf_counter() - started


@dataclass
class RunResult:
    rows: list[dict[str, Any]]  # every cell, sorted
    ran: int
    skipped: int
    wall_s: float  # this invocation
    compute_s: float | None  # all cells' compute time, earlier invocations' included


def run(
    experiment: Experiment,
    seeds: Sequence[int],
    out: Path,
    quick: bool = False,
    workers: int = 1,
    ray_address: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Run the cells of ``experiment`` not yet in ``out`` and write its outputs there.
    ``workers`` 1 runs in this process; more run as local Ray tasks, and ``ray_address``
    runs them on that Ray cluster."""
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    done_path = out / "cells.jsonl"
    done, seconds = _finished(done_path, quick, experiment.metrics)
    todo = [
        (setting, seed)
        for setting in experiment.grid(quick)
        for seed in seeds
        if cell_key(setting, seed) not in done
    ]
    skipped = len(experiment.grid(quick)) * len(seeds) - len(todo)
    if progress is not None and skipped:
        progress(skipped)
    with done_path.open("a") as log:

        def keep(result: tuple[dict, float]) -> None:
            row, spent = result
            done[_key_of(row)] = row
            seconds[_key_of(row)] = spent
            log.write(json.dumps({"quick": quick, "row": row, "seconds": spent}) + "\n")
            log.flush()
            if progress is not None:
                progress(1)

        if workers <= 1 and ray_address is None:
            for setting, seed in todo:
                keep(run_cell(experiment, setting, seed, quick))
        else:
            _run_on_ray(experiment, todo, quick, workers, ray_address, keep)
    keys = [cell_key(s, seed) for s in experiment.grid(quick) for seed in seeds]
    spent = [seconds.get(k) for k in keys]
    compute_s = None if None in spent else sum(spent)
    result = RunResult(
        [done[k] for k in keys], len(todo), skipped, time.monotonic() - started, compute_s
    )
    _write_outputs(experiment, result, seeds, out, quick, workers, ray_address)
    return result


def _finished(
    path: Path, quick: bool, metrics: Sequence[str]
) -> tuple[dict[str, dict], dict[str, float]]:
    """The cells already in ``path`` (of the same quick / full kind, with every one of
    ``metrics``: a cell from before a metric was added runs again) and their compute times
    where recorded."""
    done, seconds = {}, {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:  # a line cut off by Ctrl-C: that cell runs again
                continue
            if entry["quick"] == quick and set(metrics) <= set(entry["row"]):
                done[_key_of(entry["row"])] = entry["row"]
                if "seconds" in entry:
                    seconds[_key_of(entry["row"])] = entry["seconds"]
    return done, seconds


def _key_of(row: dict) -> str:
    """The cell key of a stored row (its setting is every non-metric column before seed)."""
    names = list(row)
    setting = {k: row[k] for k in names[: names.index("seed")]}
    return cell_key(setting, row["seed"])


def _run_on_ray(experiment, todo, quick, workers, ray_address, keep) -> None:
    import ray

    if ray_address is None:  # a new local instance, never a cluster found on the machine
        ray.init(address="local", num_cpus=workers, include_dashboard=False, log_to_driver=False)
    else:
        ray.init(address=ray_address, log_to_driver=False)
    try:
        remote = ray.remote(num_cpus=1)(run_cell)
        pending = [remote.remote(experiment, setting, seed, quick) for setting, seed in todo]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            keep(ray.get(ready[0]))
    finally:
        ray.shutdown()


def confidence_interval(values: Sequence[float]) -> tuple[float, float]:
    """(mean, half-width of the 95 % confidence interval, Student t) of finite values;
    the half-width is NaN for fewer than two."""
    v = np.asarray([x for x in values if math.isfinite(x)], dtype=float)
    if v.size == 0:
        return math.nan, math.nan
    if v.size == 1:
        return float(v[0]), math.nan
    from scipy import stats  # a second to import: only where intervals are computed

    half = stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size)
    return float(v.mean()), float(half)


def summary_rows(experiment: Experiment, rows: list[dict], quick: bool) -> list[dict]:
    """Per setting (grid order): the setting, the seed count and (mean, CI) per metric."""
    out = []
    for setting in experiment.grid(quick):
        mine = [r for r in rows if all(r[k] == v for k, v in setting.items())]
        entry = {**setting, "seeds": len(mine)}
        for metric in experiment.metrics:
            entry[metric] = confidence_interval([r.get(metric, math.nan) for r in mine])
        out.append(entry)
    return out


def _format(mean: float, half: float) -> str:
    if not math.isfinite(mean):
        return "n/a"
    text = f"{mean:.4g}"
    return text if not math.isfinite(half) else f"{text} ± {half:.2g}"


def markdown_table(experiment: Experiment, summary: list[dict]) -> str:
    settings = [k for k in summary[0] if k not in experiment.metrics and k != "seeds"]
    head = [*settings, "seeds", *experiment.metrics]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for entry in summary:
        cells = [str(entry[k]) for k in settings] + [str(entry["seeds"])]
        cells += [_format(*entry[m]) for m in experiment.metrics]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_csv(rows: list[dict], path: Path) -> None:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: repr(v) if isinstance(v, float) else v for k, v in row.items()})
    path.write_text(buffer.getvalue())


def plot(experiment: Experiment, summary: list[dict], path: Path) -> None:
    """Mean and 95 % CI over the seeds against the x setting: one panel per plotted metric
    (or tuple of metrics), a line per combination of the other settings; with ``overlay``,
    every plotted metric in one panel (colour: metric, line style: the other settings)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [p if isinstance(p, tuple) else (p,) for p in experiment.plotted]
    if experiment.overlay:
        panels = [experiment.plotted]
    width = max(4.6 * len(panels), 8.0)
    fig, axes = plt.subplots(1, len(panels), figsize=(width, 3.8), squeeze=False)
    others = [k for k in summary[0] if k not in (experiment.x, "seeds", *experiment.metrics)]
    categories = list(dict.fromkeys(e[experiment.x] for e in summary))  # non-numeric x axis
    series: dict[str, list[dict]] = {}
    for entry in summary:
        series.setdefault(", ".join(f"{k} {entry[k]}" for k in others), []).append(entry)
    for ax, metrics in zip(axes[0], panels, strict=True):
        for i, (setting_label, entries) in enumerate(series.items()):
            for j, metric in enumerate(metrics):
                overlaid = len(metrics) > 1
                label = ", ".join(p for p in (setting_label, metric if overlaid else "") if p)
                xs = [e[experiment.x] for e in entries]
                means = np.array([e[metric][0] for e in entries], dtype=float)
                halves = np.nan_to_num(np.array([e[metric][1] for e in entries], dtype=float))
                numeric = all(isinstance(x, int | float) for x in xs)
                positions = xs if numeric else [categories.index(x) for x in xs]
                style = (
                    {"color": f"C{j}", "linestyle": ("-", "--", ":", "-.")[i % 4]}
                    if overlaid
                    else {"color": f"C{i}"}
                )
                ax.errorbar(
                    positions, means, yerr=halves, marker="o", capsize=3,
                    label=label or None, **style,
                )  # fmt: skip
                if not numeric:
                    ax.set_xticks(range(len(categories)), [str(x) for x in categories], rotation=20)
        ax.set_xlabel(experiment.x)
        ax.set_title(metrics[0] if len(metrics) == 1 else "", fontsize=9)
        ax.grid(alpha=0.3)
        if experiment.log_y:
            ax.set_yscale("log")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6)
    fig.suptitle(
        f"{experiment.name} ({experiment.figure}): mean and 95 % CI over seeds", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _write_outputs(experiment, result, seeds, out, quick, workers, ray_address) -> None:
    write_csv(result.rows, out / "cells.csv")
    summary = summary_rows(experiment, result.rows, quick)
    (out / "table.md").write_text(markdown_table(experiment, summary))
    plot(experiment, summary, out / "figure.png")
    from rsu_isac.platform.machine import machine_description

    manifest = {
        "experiment": experiment.name,
        "figure": experiment.figure,
        "command": "rsu-isac " + " ".join(sys.argv[1:]),
        "git_commit": _git_commit(),
        "seeds": list(seeds),
        "quick": quick,
        "workers": workers,
        "ray_address": ray_address,
        "packages": _versions(),
        "machine": machine_description(),
        "wall_s": round(result.wall_s, 1),
        "run_wall_s": round(result.wall_s, 1),
        "compute_s": None if result.compute_s is None else round(result.compute_s, 1),
        "cells_run": result.ran,
        "cells_skipped": result.skipped,
        "comparison": experiment.compare(summary_as_dicts(summary)),
    }
    previous = out / "manifest.json"
    if not result.ran and previous.exists():  # outputs rewritten from finished cells only:
        old = json.loads(previous.read_text())  # the run that computed them stays described
        for key in RUN_KEYS:
            manifest[key] = old.get(key, old.get("wall_s") if key == "run_wall_s" else None)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def summary_as_dicts(summary: list[dict]) -> list[dict]:
    """The summary with (mean, CI) pairs as {"mean": , "ci95": } (JSON-friendly)."""
    return [
        {k: {"mean": v[0], "ci95": v[1]} if isinstance(v, tuple) else v for k, v in e.items()}
        for e in summary
    ]


def _git_commit() -> str:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
        return result.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out
