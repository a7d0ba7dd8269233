"""The RSU stack fed from a recorded bag: ``rsu-isac bag play`` publishes the recorded
inputs of the stack - echoes, and camera frames with an ``aoi_policy`` - never the tracks,
detections and commands the recording run made, with /clock on the bag's timeline, and the
stack tracks and decides beams as it would live. The launch ends when the bag has been
played (unless ``loop:=true``) or a node exits.

    ros2 launch rsu_isac replay.launch.py bag:=bags/seed000_measurement scenario:=seed000
"""

from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction

from rsu_isac.runtime.launch_support import declared_arguments, launch_nodes, replay_player

CONFIG = Path(get_package_share_directory("rsu_isac")) / "config"


def generate_launch_description() -> LaunchDescription:
    arguments = declared_arguments()
    play = [
        DeclareLaunchArgument("bag", description="bag directory to replay"),
        DeclareLaunchArgument("rate", default_value="1.0", description="playback rate"),
        DeclareLaunchArgument("loop", default_value="false", description="replay in a loop"),
        OpaqueFunction(function=lambda context: replay_player(context, CONFIG)),
    ]
    nodes = OpaqueFunction(function=lambda context: launch_nodes("rsu", context, CONFIG))
    return LaunchDescription([*arguments, *play, nodes])
