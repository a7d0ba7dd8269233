"""The RSU stack alone (radar_processing and ekf_tracker per RSU, beamforming_policy), for
real sensors or another simulator publishing <rsu>/radar/echo and /clock.

    ros2 launch rsu_isac rsu.launch.py scenario:=seed004 policy:=maxmin_socp
"""

from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import OpaqueFunction

from rsu_isac.runtime.launch_support import REAL_SENSOR_DEFAULTS, declared_arguments, launch_nodes

CONFIG = Path(get_package_share_directory("rsu_isac")) / "config"


def generate_launch_description() -> LaunchDescription:
    arguments = declared_arguments(REAL_SENSOR_DEFAULTS)
    nodes = OpaqueFunction(function=lambda context: launch_nodes("rsu", context, CONFIG))
    return LaunchDescription([*arguments, nodes])
