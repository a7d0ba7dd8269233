"""`rsu-isac sim` end to end on real DDS: every node of the graph in its own process, 200
slots in lockstep, clean shutdown, report and plots. Every slot after the first is served
by the policy's own command and every vehicle of the scenario is tracked."""

import json
import subprocess
import sys

import pytest

from tests.ros_helpers import REPO

pytestmark = pytest.mark.ros


def run_sim(out, *args: str) -> dict:
    """``rsu-isac sim ... --out out`` in a subprocess; its report."""
    result = subprocess.run(
        [sys.executable, "-m", "rsu_isac.cli", "sim", *args, "--out", str(out)],
        cwd=REPO,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((out / "report.json").read_text())


def assert_clean_exit(out, nodes: int) -> None:
    """One log per node without a traceback, and no node process left (the runner's are
    the only ones started with __node:=)."""
    logs = sorted((out / "logs").glob("*.log"))
    assert len(logs) == nodes, [p.name for p in logs]
    for log in logs:
        assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
    left = subprocess.run(
        ["pgrep", "-af", "rsu_isac.nodes.*__node:="], capture_output=True, text=True, check=False
    )
    assert left.stdout.strip() == "", left.stdout


def test_rsu_isac_sim_runs_200_slots_in_lockstep(tmp_path):
    out = tmp_path / "run"
    report = run_sim(
        out, "--scenario", "seed000", "--abstraction", "measurement", "--duration", "4.0"
    )
    assert report["slots_scored"] == 200 and report["late_or_lost_commands"] == 0, report
    assert report["sum_rate_bps_hz"] > 20.0  # the headless loop reaches ~25 here
    assert report["misalignment_rate"] < 0.02  # only slot 1, before any track
    assert report["angle_rmse_deg"] < 1e-3 and report["range_rmse_m"] < 0.1
    assert set(report["node_latency_ms"]) == {
        "/traffic_sim",
        "/rsu0/radar_processing",
        "/rsu0/ekf_tracker",
        "/beamforming_policy",
    }
    assert report["dropped_messages"] == {}, report
    for plot in ("rates", "tracks", "aoi_energy", "beams"):
        assert (out / f"{plot}.png").stat().st_size > 5000
    assert report["tracked_vehicle_share"] == 1.0  # from slot 2 on
    assert_clean_exit(out, 4)


def test_rsu_isac_sim_with_the_camera_schedule(tmp_path):
    """The graph with camera_semantics and aoi_scheduler (threshold schedule) on seed003:
    six nodes up, lockstep holds, the camera is charged for what it processed, no
    traceback, every node process gone."""
    out = tmp_path / "run"
    report = run_sim(
        out, "--scenario", "seed003", "--abstraction", "measurement", "--duration", "1.6",
        "--camera-period", "2", "--aoi-policy", "threshold",
    )  # fmt: skip
    assert report["slots_scored"] == 80 and report["late_or_lost_commands"] == 0, report
    assert {"/rsu0/camera_semantics", "/rsu0/aoi_scheduler"} <= set(report["node_latency_ms"])
    assert report["energy_comp_j_per_slot"] > 0.0, report
    assert 0.0 <= report["mean_misalignment_probability"] <= 0.1, report
    assert report["dropped_messages"] == {}, report
    assert_clean_exit(out, 6)
