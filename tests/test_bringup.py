"""`rsu-isac sim` end to end on real DDS: every node of the graph in its own process, 200
slots in lockstep, clean shutdown, report and plots. Every slot after the first is served
by the policy's own command and every vehicle of the scenario is tracked."""

import json
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
import rclpy

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


def test_rsu_isac_sim_runs_100_slots_in_lockstep(tmp_path):
    """The learned Spiking-AC (its shipped checkpoint, snntorch in the policy node) drives the
    graph; the headless loop reaches about the same rate with it as with predictive_mrt."""
    out = tmp_path / "run"
    report = run_sim(
        out, "--scenario", "seed000", "--abstraction", "measurement", "--duration", "2.0",
        "--policy", "spiking_ac",
    )  # fmt: skip
    assert report["slots_scored"] == 100 and report["late_or_lost_commands"] == 0, report
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


def test_rsu_isac_sim_with_rl_h_moe(tmp_path):
    """The graph with camera_semantics and aoi_scheduler running RL-H-MoE (the shipped
    temporal expert schedules the camera, its spatial expert sets the policy's
    constant-modulus phases) on seed003 at RF SNR 10 dB: six nodes up, lockstep holds, the
    camera is charged for what it processed, no traceback, every node process gone. (The
    threshold schedule runs through the launch file's test.)"""
    out = tmp_path / "run"
    report = run_sim(
        out, "--scenario", "seed003", "--abstraction", "measurement", "--duration", "1.6",
        "--camera-period", "2", "--aoi-policy", "hmoe", "--rf-snr-db", "10",
    )  # fmt: skip
    assert report["policy"] == "hmoe" and report["rf_snr_db"] == 10.0, report
    assert report["slots_scored"] == 80 and report["late_or_lost_commands"] == 0, report
    assert {"/rsu0/camera_semantics", "/rsu0/aoi_scheduler"} <= set(report["node_latency_ms"])
    assert report["energy_comp_j_per_slot"] > 0.0, report
    assert 0.0 <= report["mean_misalignment_probability"] <= 1.0, report
    assert report["dropped_messages"] == {} and report["node_errors"] == {}, report
    assert_clean_exit(out, 6)


def test_seed004_with_vehicle_reports_keeps_lockstep_and_equals_the_headless_loop(tmp_path):
    """Two RSUs at the measurement level, every vehicle sending its own reports at an RF SNR
    where the radar alone misses most vehicles: lockstep holds (negative-range detections
    used to drop whole frames: 2 s took ~180 s, 32 late commands, 40 dropped echoes), the
    graph's sum rate is the headless loop's (both trackers fuse a slot's reports before the
    next radar frame), its energy efficiency too, and the CPMs send fewer objects than every
    track at 10 Hz."""
    from rsu_isac.core.scenario import load_named_scenario
    from rsu_isac.loop.closed_loop import EvalConfig, evaluate
    from rsu_isac.platform.paths import scenarios_dir

    out = tmp_path / "run"
    report = run_sim(
        out, "--scenario", "seed004", "--abstraction", "measurement", "--duration", "2.0",
        "--rf-snr-db", "5", "--v2x-share", "1", "--seed", "0",
    )  # fmt: skip
    assert report["slots_scored"] == 100 and report["late_or_lost_commands"] == 0, report
    assert report["dropped_messages"] == {} and report["node_errors"] == {}, report
    assert report["valid"] and report["wall_clock_s"] < 120, report
    headless = evaluate(
        load_named_scenario("seed004", scenarios_dir()),
        EvalConfig(slots=100, seed=0, rf_snr_db=5.0, v2x_share=1.0, genie=False),
    )
    assert report["sum_rate_bps_hz"] == pytest.approx(headless["sum_rate_bps_hz"], rel=1e-6)
    # 001's energy efficiency on the commands the slots were scored with, as eval's
    assert report["energy_efficiency_mbit_per_j"] == pytest.approx(
        headless["energy_efficiency_mbit_per_j"], rel=1e-6
    )
    cpm = report["collective_perception"]
    assert 0 < cpm["objects_per_s"] < cpm["objects_per_s_every_track_at_10_hz"], cpm


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--duration", "0"], "--duration 0 must be in (0, 86400] s"),  # never ended before
        (["--duration", "nan"], "--duration nan must be in"),
        (["--duration", "inf"], "--duration inf must be in"),
        (["--duration", "-1"], "--duration -1 must be in"),
        (["--duration", "1e8"], "--duration 1e+08 must be in"),
        (["--seed", "-5"], "--seed -5 must be -1"),
        (["--camera-period", "-3"], "--camera-period -3 must be in [0, 100000]"),
        (["--rf-snr-db", "200"], "--rf-snr-db 200 must be in [-50, 80] dB"),
        (["--rf-snr-db", "nan"], "--rf-snr-db nan must be in"),
        (["--v2x-share", "1.5"], "--v2x-share 1.5 must be in [0, 1]"),
    ],
)
def test_bad_numbers_are_refused(args, error):
    from rsu_isac.cli import build_parser
    from rsu_isac.cli.run import _sim_arguments_error

    assert _sim_arguments_error(build_parser().parse_args(["sim", *args])).startswith(error)


def test_bad_arguments_are_refused_in_one_line_before_anything_starts(tmp_path):
    for args, error in (
        (["--duration", "0"], "--duration 0 must be in (0, 86400] s"),
        (["--out", "/etc/hostname"], "--out /etc/hostname is a file, not a folder"),
    ):
        command = [sys.executable, "-m", "rsu_isac.cli", "sim", "--out", str(tmp_path), *args]
        result = subprocess.run(
            command, cwd=REPO, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 2
        (line,) = result.stderr.strip().splitlines()
        assert line == f"rsu-isac sim: {error}", line
        assert not (tmp_path / "logs").exists()  # nothing started


class _Sim:
    """``rsu-isac sim --duration 30`` in the background; its stderr (the progress bar) is
    collected by a thread so that a test can wait for scored slots."""

    def __init__(self, out, *args: str) -> None:
        command = [sys.executable, "-m", "rsu_isac.cli", "sim", "--duration", "30"]
        self.process = subprocess.Popen(
            [*command, "--out", str(out), *args],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.chunks: list[bytes] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for chunk in iter(lambda: self.process.stderr.read1(4096), b""):
            self.chunks.append(chunk)

    @property
    def stderr(self) -> str:
        return b"".join(self.chunks).decode(errors="replace")

    def wait_for_slots(self, slots: int = 20) -> None:
        """Until the progress bar has passed ``slots`` scored slots."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and self.process.poll() is None:
            shown = re.findall(r"\| *(\d+)/1500", self.stderr)
            if shown and int(shown[-1]) >= slots:
                return
            time.sleep(0.2)
        raise AssertionError(f"no {slots} slots scored: {self.stderr[-2000:]}")

    def end(self, timeout_s: float = 120) -> str:
        self.process.wait(timeout=timeout_s)
        self.reader.join(timeout=10)
        return self.stderr


@pytest.mark.parametrize("fault", ["sigint", "kill_tracker"])
def test_ctrl_c_and_a_dead_node_end_with_a_partial_report(tmp_path, fault):
    out = tmp_path / "run"
    sim = _Sim(out, "--abstraction", "measurement")
    sim.wait_for_slots()
    if fault == "sigint":
        sim.process.send_signal(signal.SIGINT)
    else:
        subprocess.run(["pkill", "-KILL", "-f", "rsu_isac.nodes.ekf_tracker.*__node:="], check=True)
    stderr = sim.end()
    assert sim.process.returncode == (130 if fault == "sigint" else 1), stderr[-2000:]
    assert "Traceback" not in stderr
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == ("interrupted" if fault == "sigint" else "failed")
    assert not report["valid"] and report["slots_scored"] > 0
    if fault == "kill_tracker":
        assert "/rsu0/ekf_tracker exited early" in report["failure"]
    assert f"partial report of {report['slots_scored']} scored slots" in stderr
    if fault == "sigint":
        assert_clean_exit(out, 4)


def test_a_killed_runner_leaves_no_node_behind(tmp_path):
    sim = _Sim(tmp_path / "run", "--abstraction", "measurement")
    sim.wait_for_slots(1)
    sim.process.kill()
    sim.end(30)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        left = subprocess.run(
            ["pgrep", "-af", "rsu_isac.nodes.*__node:="],
            capture_output=True,
            text=True,
            check=False,
        )
        if not left.stdout.strip():
            return
        time.sleep(0.5)
    raise AssertionError(f"orphans: {left.stdout}")


def test_a_domain_with_nodes_in_it_is_refused(tmp_path):
    """Two runs on one ROS_DOMAIN_ID mixed their topics and both exited 0."""
    with rclpy.init():
        squatter = rclpy.create_node("someone_elses_node")
        sim = _Sim(tmp_path / "run")
        deadline = time.monotonic() + 60
        while sim.process.poll() is None and time.monotonic() < deadline:
            rclpy.spin_once(squatter, timeout_sec=0.1)
        stderr = sim.end(30)
    assert sim.process.returncode == 1, stderr[-2000:]
    assert "already has nodes (/someone_elses_node)" in stderr


def test_what_makes_a_run_invalid():
    from rsu_isac.runtime.bringup import MAX_LATE_SHARE, validity

    clean = {"slots_scored": 500, "late_or_lost_commands": 0, "node_errors": {}}
    assert validity(clean, [], None) == []
    late = {**clean, "late_or_lost_commands": int(MAX_LATE_SHARE * 500) + 1}  # a hung node
    assert "late or lost commands" in validity(late, [], None)[0]
    foreign = ["/traffic_sim on /link/metrics"]  # a second simulator in the domain
    assert "foreign publishers" in validity(clean, foreign, None)[0]
    assert "contained exceptions" in validity({**clean, "node_errors": {"/a": 2}}, [], None)[0]
    assert validity(clean, [], "node /x exited early") == ["node /x exited early"]
