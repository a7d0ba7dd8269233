"""Test-session set-up shared by every test.

ROS tests start real nodes on DDS. Each pytest run gets its own ``ROS_DOMAIN_ID`` (so two
runs on one machine never see each other's topics) and keeps discovery on this host.
Set before any rclpy context exists; child processes inherit it.
"""

import os
import random

os.environ.setdefault("ROS_DOMAIN_ID", str(random.SystemRandom().randint(1, 101)))
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
