"""The RSU stack fed from a recorded bag: ``ros2 bag play`` publishes the recorded echoes
(and /clock), the stack tracks and decides beams as it would live.

    ros2 launch rsu_isac replay.launch.py bag:=bags/seed000_measurement scenario:=seed000
"""

from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess, OpaqueFunction
from launch.conditions import IfCondition, UnlessCondition
from launch.substitutions import LaunchConfiguration

from rsu_isac.runtime.launch_support import declared_arguments, launch_nodes

CONFIG = Path(get_package_share_directory("rsu_isac")) / "config"


def generate_launch_description() -> LaunchDescription:
    arguments = declared_arguments()
    play = [
        DeclareLaunchArgument("bag", description="bag directory to replay"),
        DeclareLaunchArgument("rate", default_value="1.0", description="playback rate"),
        DeclareLaunchArgument("loop", default_value="false", description="replay in a loop"),
        ExecuteProcess(
            cmd=["ros2", "bag", "play", LaunchConfiguration("bag"), "--clock",
                 "--rate", LaunchConfiguration("rate")],
            condition=UnlessCondition(LaunchConfiguration("loop")),
            output="screen",
        ),
        ExecuteProcess(
            cmd=["ros2", "bag", "play", LaunchConfiguration("bag"), "--clock",
                 "--rate", LaunchConfiguration("rate"), "--loop"],
            condition=IfCondition(LaunchConfiguration("loop")),
            output="screen",
        ),
    ]  # fmt: skip
    nodes = OpaqueFunction(function=lambda context: launch_nodes("rsu", context, CONFIG))
    return LaunchDescription([*arguments, *play, nodes])
