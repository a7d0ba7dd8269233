"""The one graph description: what `rsu-isac sim` starts is what the launch files start."""

import ast

import pytest

from rsu_isac.graph import GraphOptions, node_environment, node_graph
from rsu_isac.launch_support import ARGUMENTS, graph_options
from rsu_isac.paths import config_dir
from tests.ros_helpers import REPO


def test_sim_graph_of_two_rsus():
    values = {name: default for name, (default, _) in ARGUMENTS.items()}
    values["scenario"] = "seed004"
    specs = node_graph("sim", graph_options(values, config_dir()))
    names = [s.fully_qualified_name for s in specs]
    assert names == [
        "/rsu0/radar_processing",
        "/rsu0/ekf_tracker",
        "/rsu1/radar_processing",
        "/rsu1/ekf_tracker",
        "/beamforming_policy",
        "/traffic_sim",
    ]
    for spec in specs:
        assert (config_dir() / spec.params_file).is_file()
        assert spec.overrides.get("use_sim_time", False) == (spec.name != "traffic_sim")
    tracker = specs[3]
    assert tracker.overrides["rsu"] == "rsu1" and tracker.overrides["scenario"] == "seed004"
    args = tracker.ros_args(config_dir())
    assert args[:3] == ["--ros-args", "-r", "__node:=ekf_tracker"]
    assert "__ns:=/rsu1" in args and "use_sim_time:=true" in args


def test_rsu_graph_is_the_sim_graph_without_the_simulator():
    options = GraphOptions(
        scenario=graph_options({n: d for n, (d, _) in ARGUMENTS.items()}, config_dir()).scenario,
        scenario_arg="seed000",
    )
    sim = node_graph("sim", options)
    assert node_graph("rsu", options) == sim[:-1]
    with pytest.raises(ValueError, match="unknown graph 'x'; valid: sim, rsu"):
        node_graph("x", options)


@pytest.mark.parametrize(("file", "graph"), [("sim", "sim"), ("rsu", "rsu"), ("replay", "rsu")])
def test_launch_files_build_their_nodes_from_the_graph_description(file, graph):
    """The launch package is not installed here: check the files' structure instead - each
    declares every shared argument and gets its nodes from launch_nodes(<graph>)."""
    tree = ast.parse((REPO / "launch" / f"{file}.launch.py").read_text())
    calls = [
        n for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "launch_nodes"
    ]  # fmt: skip
    assert len(calls) == 1 and calls[0].args[0].value == graph
    text = ast.unparse(tree)
    assert "for name, (default, text) in ARGUMENTS.items()" in text


def test_node_processes_run_openblas_on_one_thread_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    assert node_environment() == {"OPENBLAS_NUM_THREADS": "1"}
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert node_environment() == {"OPENBLAS_NUM_THREADS": "2"}
