"""The ``rsu-isac`` command works from a plain shell and ``doctor`` names what is missing."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

RSU_ISAC = Path(sys.prefix) / "bin" / "rsu-isac"
# What `rsu-isac` and the ROS wheels' start-up hook add; a plain shell has none of it.
ROS_VARS = (
    "RSU_ISAC_ENV_READY",
    "AMENT_PREFIX_PATH",
    "LD_LIBRARY_PATH",
    "PYTHONPATH",
    "RSU_ISAC_WS",
    "_ROS_WHEELS_BOOTSTRAP_COMPLETE",
)


def plain_shell_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ROS_VARS}
    env["PATH"] = "/usr/bin:/bin"
    env.update(extra)
    return env


def run(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(RSU_ISAC), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_lists_commands(tmp_path):
    result = run("--help", env=plain_shell_env(), cwd=tmp_path)
    assert result.returncode == 0
    assert "doctor" in result.stdout and "exec" in result.stdout


def test_doctor_is_green_from_a_plain_shell(tmp_path):
    result = run("doctor", env=plain_shell_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("rclpy", "rsu_isac_interfaces", "torch", "sumo", "cvxpy"):
        assert any(line.startswith(f"OK   {name}") for line in result.stdout.splitlines()), (
            f"{name} not OK:\n{result.stdout}"
        )


def test_doctor_names_unbuilt_interfaces(tmp_path):
    result = run("doctor", env=plain_shell_env(RSU_ISAC_WS=str(tmp_path)), cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    failing = [i for i, line in enumerate(lines) if line.startswith("FAIL rsu_isac_interfaces")]
    assert failing, result.stdout
    assert "not built" in lines[failing[0]]
    assert lines[failing[0] + 1].strip().startswith("fix:")
    assert "1 required check(s) failed: rsu_isac_interfaces" in result.stdout


def test_exec_runs_inside_the_ros_environment(tmp_path):
    code = "import rsu_isac_interfaces.msg as m; print(m.Track.__name__)"
    result = run("exec", "--", sys.executable, "-c", code, env=plain_shell_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Track"


def test_bench_prints_figures_for_the_core(tmp_path):
    result = run("bench", "core", "--repeat", "1", "--json", env=plain_shell_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    names = [t["name"] for t in report["timings"]]
    assert any("SINR" in n for n in names) and any("CRLB" in n for n in names)
    assert all(t["median_ms"] > 0 for t in report["timings"])


def test_bench_rejects_unknown_suite(tmp_path):
    result = run("bench", "nope", env=plain_shell_env(), cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown benchmark suite 'nope'; valid: core, sim, radar" in result.stderr


def test_bad_input_files_give_one_line_errors(tmp_path):
    """A bad checkpoint, and a missing or non-mapping parameter file of a node, end with one
    line, not a traceback."""
    env = plain_shell_env()
    (tmp_path / "bad.pt").write_text("not a checkpoint")
    result = run(
        "eval", "--scenario", "seed003", "--aoi-policy", "lstm", "--slots", "3",
        "--lstm-checkpoint", str(tmp_path / "bad.pt"), "--json", env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"rsu-isac eval: cannot load the LSTM temporal expert from {tmp_path}")
    (tmp_path / "list.yaml").write_text("- a\n")
    for params in (tmp_path / "missing.yaml", tmp_path / "list.yaml"):
        node = subprocess.run(  # this test runs inside the ROS environment already
            [sys.executable, "-m", "rsu_isac.nodes.ekf_tracker", "--ros-args",
             "--params-file", str(params)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert node.returncode == 2, node.stderr
        assert "Traceback" not in node.stderr
        assert "ekf_tracker: cannot start: " in node.stderr and str(params) in node.stderr


def test_eval_json_is_strict_json(tmp_path):
    """NaN is not JSON (jq and browsers reject it): a run without AoI writes null."""
    result = run("eval", "--slots", "3", "--json", env=plain_shell_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert summary["slots"] == 3
