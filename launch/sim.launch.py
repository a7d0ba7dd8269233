"""The full closed loop on the simulator: traffic_sim, and per RSU radar_processing and
ekf_tracker, and one beamforming_policy (the graph of rsu_isac.runtime.graph, the same one
``rsu-isac sim`` starts).

    ros2 launch rsu_isac sim.launch.py scenario:=seed004 policy:=zf abstraction:=measurement
    ros2 launch rsu_isac sim.launch.py record:=true   # also records every topic (MCAP)
"""

from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration

from rsu_isac.runtime.launch_support import declared_arguments, launch_nodes

CONFIG = Path(get_package_share_directory("rsu_isac")) / "config"


def generate_launch_description() -> LaunchDescription:
    arguments = declared_arguments()
    record = [
        DeclareLaunchArgument("record", default_value="false", description="record a bag"),
        DeclareLaunchArgument("bag", default_value="rsu_isac_bag", description="bag directory"),
        ExecuteProcess(
            cmd=["ros2", "bag", "record", "--all", "--storage", "mcap", "--output",
                 LaunchConfiguration("bag")],
            condition=IfCondition(LaunchConfiguration("record")),
            output="screen",
        ),
    ]  # fmt: skip
    nodes = OpaqueFunction(function=lambda context: launch_nodes("sim", context, CONFIG))
    return LaunchDescription([*arguments, *record, nodes])
