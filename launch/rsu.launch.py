"""The RSU stack alone (radar_processing and ekf_tracker per RSU, beamforming_policy), for
real sensors or another simulator publishing <rsu>/radar/echo and /clock.

    ros2 launch rsu_isac rsu.launch.py scenario:=seed004 policy:=maxmin_socp
"""

from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction

from rsu_isac.runtime.launch_support import ARGUMENTS, launch_nodes

CONFIG = Path(get_package_share_directory("rsu_isac")) / "config"


def generate_launch_description() -> LaunchDescription:
    arguments = [
        DeclareLaunchArgument(name, default_value=default, description=text)
        for name, (default, text) in ARGUMENTS.items()
    ]
    nodes = OpaqueFunction(function=lambda context: launch_nodes("rsu", context, CONFIG))
    return LaunchDescription([*arguments, nodes])
