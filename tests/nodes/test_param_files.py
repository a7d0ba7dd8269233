"""Every node's config/<node>.param.yaml lists exactly the parameters the node declares
(the files are the documentation of the parameters: nothing hidden, nothing stale), and
the node starts with the file's values."""

import importlib
import math

import pytest
import rclpy
import yaml

from tests.ros_helpers import REPO, in_process

pytestmark = pytest.mark.ros
BUILT_IN = {"use_sim_time", "start_type_description_service"}  # every rclpy node has them
NODES = {
    "traffic_sim": "TrafficSim",
    "radar_processing": "RadarProcessing",
    "ekf_tracker": "EkfTracker",
    "camera_semantics": "CameraSemantics",
    "aoi_scheduler": "AoiSchedulerNode",
    "beamforming_policy": "BeamformingPolicy",
}


@pytest.mark.parametrize("name", sorted(NODES))
def test_param_file_matches_the_declared_parameters(name):
    path = REPO / "config" / f"{name}.param.yaml"
    listed = set(yaml.safe_load(path.read_text())[name]["ros__parameters"])
    node_class = getattr(importlib.import_module(f"rsu_isac.nodes.{name}"), NODES[name])
    with rclpy.init(args=["--ros-args", "--params-file", str(path)]):
        node = node_class()
        try:
            declared = set(node._parameters) - BUILT_IN
            missing, stale = sorted(declared - listed), sorted(listed - declared)
            assert declared == listed, f"{path.name}: missing {missing}, stale {stale}"
        finally:
            node.destroy_node()


def test_rf_snr_db_sets_the_sensing_noise_of_eval_and_refuses_out_of_range():
    from rsu_isac.core.radar import reference_echo_snr
    from rsu_isac.nodes.aoi_scheduler import AoiSchedulerNode
    from rsu_isac.nodes.params import ParameterError

    with in_process(AoiSchedulerNode, scenario="seed003", rf_snr_db=10.0) as node:
        scenario = node.node.scenario
    snr = reference_echo_snr(scenario, scenario.radio.sensing_noise_w)
    assert 10.0 * math.log10(snr) == pytest.approx(10.0, abs=1e-9)
    refused = pytest.raises(ParameterError, match=r"'rf_snr_db': RF SNR 200 dB is out of range")
    with refused, in_process(AoiSchedulerNode, scenario="seed003", rf_snr_db=200.0):
        pass
