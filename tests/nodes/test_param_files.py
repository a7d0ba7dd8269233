"""Every node's config/<node>.param.yaml lists exactly the parameters the node declares
(the files are the documentation of the parameters: nothing hidden, nothing stale), and
the node starts with the file's values."""

import importlib

import pytest
import rclpy
import yaml

from tests.ros_helpers import REPO

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
