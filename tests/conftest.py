"""Test-session set-up shared by every test.

ROS tests start real nodes on DDS. Each pytest run gets its own ``ROS_DOMAIN_ID`` (so two
runs on one machine never see each other's topics) and keeps discovery on this host.
Set before any rclpy context exists; child processes inherit it.
"""

import atexit
import os
import random
import shutil
import tempfile

os.environ.setdefault("ROS_DOMAIN_ID", str(random.SystemRandom().randint(1, 101)))
# trained agents of the tests' quick experiments: fresh per run, never the user's runs/agents
os.environ["RSU_ISAC_AGENTS"] = tempfile.mkdtemp(prefix="rsu_isac_agents_")
atexit.register(shutil.rmtree, os.environ["RSU_ISAC_AGENTS"], ignore_errors=True)
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
