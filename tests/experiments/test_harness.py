"""The experiment harness: every registered experiment runs in its small version, finished
cells are skipped, and a Ray cluster given by address runs the cells and writes the numbers
one process writes."""

import contextlib
import io
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from rsu_isac.experiments import harness
from rsu_isac.experiments.registry import EXPERIMENTS


def test_confidence_interval_against_the_t_table():
    mean, half = harness.confidence_interval([1.0, 2.0, 3.0, math.nan])
    # t(0.975, 2 dof) = 4.303 (statistical tables); sd 1, n 3
    assert mean == 2.0 and half == pytest.approx(4.303 / math.sqrt(3), rel=1e-3)
    assert math.isnan(harness.confidence_interval([5.0])[1])


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_experiment_runs_its_quick_version(tmp_path, name):
    experiment = EXPERIMENTS[name]
    started = time.monotonic()
    result = harness.run(experiment, [3], tmp_path, quick=True)  # one seed keeps CI short
    assert time.monotonic() - started < 120  # "under a minute" on an idle box
    grid = experiment.grid(True)
    assert len(result.rows) == len(grid) and result.ran == len(result.rows)
    lines = (tmp_path / "cells.csv").read_text().splitlines()
    assert len(lines) == 1 + len(result.rows)
    assert lines[0].split(",")[: len(grid[0]) + 1] == [*grid[0], "seed"]
    table = (tmp_path / "table.md").read_text()
    assert all(m in table for m in experiment.metrics)
    assert (tmp_path / "figure.png").stat().st_size > 5000
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["seeds"] == [3] and manifest["quick"] is True
    assert {"git_commit", "packages", "machine", "wall_s", "command"} <= set(manifest)


def test_finished_cells_are_skipped(tmp_path):
    experiment = EXPERIMENTS["radar-false-alarms"]
    first = harness.run(experiment, [0], tmp_path, quick=True)
    again = harness.run(experiment, [0, 1], tmp_path, quick=True)
    assert again.skipped == first.ran and again.ran == first.ran
    assert again.rows[0] == first.rows[0]
    # a cell written before a metric joined the experiment runs again
    cells = tmp_path / "cells.jsonl"
    lines = cells.read_text().splitlines()
    old = json.loads(lines[0])
    old["row"] = {k: v for k, v in old["row"].items() if k != experiment.metrics[-1]}
    cells.write_text("\n".join([json.dumps(old), *lines[1:]]) + "\n")
    rerun = harness.run(experiment, [0, 1], tmp_path, quick=True)
    assert rerun.ran == 1 and rerun.skipped == 2 * first.ran - 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_ray_cluster_given_by_address_runs_the_cells_as_one_process_does(tmp_path):
    """A Ray head started here (`ray start --head`, another port, two CPUs) stands in for a
    cluster; its cells.csv is byte-identical to the one a single process writes (the worker
    count does not change a number)."""
    port = _free_port()
    ray = os.path.join(os.path.dirname(sys.executable), "ray")
    head = subprocess.Popen(
        [ray, "start", "--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
         "--disable-usage-stats", "--block"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env={**os.environ, "RAY_AUTH_MODE": "disabled"},  # as the driver: no token file needed
    )  # fmt: skip
    started = threading.Event()

    def watch() -> None:  # `ray start` says so once the head takes connections
        for line in head.stdout:
            if "Ray runtime started" in line:
                started.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        assert started.wait(90), "the Ray head did not start"
        result = harness.run(
            EXPERIMENTS["radar-false-alarms"], [0, 1], tmp_path / "cluster", quick=True,
            ray_address=f"127.0.0.1:{port}",
        )  # fmt: skip
        assert result.ran == 2
        manifest = json.loads((tmp_path / "cluster" / "manifest.json").read_text())
        assert manifest["ray_address"] == f"127.0.0.1:{port}"
        harness.run(EXPERIMENTS["radar-false-alarms"], [0, 1], tmp_path / "one", quick=True)
        one = (tmp_path / "one" / "cells.csv").read_bytes()
        assert one == (tmp_path / "cluster" / "cells.csv").read_bytes()
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait(timeout=10)


def test_the_results_page_takes_its_numbers_from_the_outputs(tmp_path):
    from rsu_isac.experiments.results import build

    harness.run(EXPERIMENTS["radar-resolution"], [0, 1], tmp_path / "radar-resolution", True)
    page = build(tmp_path)
    table = (tmp_path / "radar-resolution" / "table.md").read_text().rstrip()
    assert table in page
    assert (
        "rsu-isac experiment radar-resolution --out docs/results/radar-resolution --quick" in page
    )
    assert "Not run yet: `rsu-isac experiment aoi-energy --out docs/results/aoi-energy`" in page


def test_the_command_lists_the_experiments_and_refuses_unknown_ones():
    from rsu_isac.cli import main  # this test runs inside the ROS environment: no re-exec

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(["experiment", "--list"]) == 0
        assert main(["experiment", "nope"]) == 2
    assert all(name in out.getvalue() for name in EXPERIMENTS)
    assert err.getvalue().startswith("rsu-isac experiment: NAME 'nope'")
