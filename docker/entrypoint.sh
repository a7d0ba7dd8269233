#!/bin/bash
# Source ROS and the workspace, then run the command (default: the simulator launch).
set -e
source /opt/ros/kilted/setup.bash
source /ws/install/setup.bash
exec "$@"
