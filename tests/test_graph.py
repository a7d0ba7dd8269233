"""The one graph description: what `rsu-isac sim` starts is what the launch files start."""

import ast
from pathlib import Path
from xml.etree import ElementTree

import pytest

from rsu_isac.core.scenario import load_named_scenario, scenario_names
from rsu_isac.platform.paths import config_dir, scenarios_dir
from rsu_isac.runtime.graph import GraphOptions, node_environment, node_graph
from rsu_isac.runtime.launch_support import (
    ARGUMENTS,
    REAL_SENSOR_DEFAULTS,
    graph_options,
    remapping_rules,
)
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
    # the radar of each RSU at (0, +-30) m processes out to the highway's far corner
    # (+-30, -+5) m: sqrt(30^2 + 35^2) = 46.1 m
    assert specs[2].overrides["max_range_m"] == pytest.approx(46.098, abs=1e-3)
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
    declared = [
        n for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "declared_arguments"
    ]  # fmt: skip
    assert len(declared) == 1


def test_rsu_launch_serves_real_sensors_by_default():
    """Best-effort drivers and the wall clock; the simulator's and the replay's graphs keep
    reliable sensor streams on /clock."""
    assert "REAL_SENSOR_DEFAULTS" in (REPO / "launch" / "rsu.launch.py").read_text()
    values = {n: REAL_SENSOR_DEFAULTS.get(n, d) for n, (d, _) in ARGUMENTS.items()}
    options = graph_options(values, config_dir())
    nodes = {spec.name: spec for spec in node_graph("rsu", options)}
    assert nodes["radar_processing"].overrides["sensor_qos"] == "best_effort"
    assert not any(spec.overrides["use_sim_time"] for spec in nodes.values())
    simulated = graph_options({n: d for n, (d, _) in ARGUMENTS.items()}, config_dir())
    for spec in node_graph("sim", simulated):
        assert spec.overrides.get("use_sim_time", True)
        assert spec.overrides.get("sensor_qos", "reliable") == "reliable"


def test_node_processes_get_one_blas_and_openmp_thread_and_the_dds_profile_unless_told(
    monkeypatch,
):
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "FASTDDS_DEFAULT_PROFILES_FILE"):
        monkeypatch.delenv(name, raising=False)
    env = node_environment()
    assert env["OPENBLAS_NUM_THREADS"] == env["OMP_NUM_THREADS"] == "1"
    assert Path(env["FASTDDS_DEFAULT_PROFILES_FILE"]) == config_dir() / "fastdds.xml"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    monkeypatch.setenv("FASTDDS_DEFAULT_PROFILES_FILE", "/elsewhere.xml")
    assert node_environment() == {
        "OPENBLAS_NUM_THREADS": "2",
        "OMP_NUM_THREADS": "4",
        "FASTDDS_DEFAULT_PROFILES_FILE": "/elsewhere.xml",
    }


def test_dds_profile_segment_holds_the_frames_in_flight():
    """The default participant's shared-memory segment holds what the simulator of the
    largest shipped setting keeps in flight: two radar frames (keep-last-2) per receiving
    RSU and two camera frames, as float32 pairs / BGR bytes."""
    ns = {"f": "http://www.eprosima.com"}
    root = ElementTree.parse(config_dir() / "fastdds.xml").getroot()
    profile = root.find("f:profiles/f:participant[@is_default_profile='true']", ns)
    used = [e.text for e in profile.findall("f:rtps/f:userTransports/f:transport_id", ns)]
    assert profile.find("f:rtps/f:useBuiltinTransports", ns).text == "false"
    kinds = {
        d.find("f:transport_id", ns).text: d
        for d in root.findall("f:profiles/f:transport_descriptors/f:transport_descriptor", ns)
    }
    shm = [kinds[t] for t in used if kinds[t].find("f:type", ns).text == "SHM"]
    assert len(shm) == 1 and "UDPv4" in {kinds[t].find("f:type", ns).text for t in used}
    segment = int(shm[0].find("f:segment_size", ns).text)
    in_flight = 0
    for name in scenario_names(scenarios_dir()):
        sc = load_named_scenario(name, scenarios_dir())
        wf, cam = sc.radar.waveform, sc.camera
        frame = sc.radio.array.num_rx_antennas * wf.num_symbols * wf.num_subcarriers * 8
        receivers = len(sc.receivers())
        in_flight = max(in_flight, 2 * receivers * frame + 2 * cam.width_px * cam.height_px * 3)
    assert segment >= in_flight


def test_remapping_rules_and_radar_pose():
    assert remapping_rules(" /beamforming/command:=/v2x/beams ; a:=b;") == [
        ("/beamforming/command", "/v2x/beams"),
        ("a", "b"),
    ]
    for bad, why in (("x", "not 'from:=to'"), ("a:=b c", "Invalid topic name"), (":=/x", "")):
        with pytest.raises(ValueError, match=f"launch argument 'remappings': '{bad}': {why}"):
            remapping_rules(bad)
    values = {n: d for n, (d, _) in ARGUMENTS.items()}
    values["scenario"] = "seed004"
    radars = [s for s in node_graph("sim", graph_options(values, config_dir()))
              if s.name == "radar_processing"]  # fmt: skip
    sc = load_named_scenario("seed004", scenarios_dir())
    positions = [list(rsu.position_m) for rsu in sc.rsus]
    assert [r.overrides["array_position_m"] for r in radars] == positions
    assert [r.overrides["road_side"] for r in radars] == [-1, 1]  # the road between the RSUs
