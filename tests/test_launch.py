"""The launch files run as users run them: the upstream ``ros2 launch`` (installed from
``../shared/ros2-tools``; skipped without it) through ``rsu-isac exec``. The graph comes up,
tracks and commands flow, SIGINT stops every node cleanly, and the launch ends by itself
when the simulated duration is over or a node cannot start."""

import os
import signal
import subprocess
import sys

import pytest
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy

from rsu_isac_interfaces.msg import BeamformingCommand, CollectivePerception, TrackArray
from tests.ros_helpers import REPO, spin_until

TOOLS = REPO / ".venv" / "opt" / "ros2-tools" / "setup.sh"
pytestmark = [
    pytest.mark.ros,
    pytest.mark.skipif(
        not TOOLS.is_file(),
        reason="the upstream ros2 CLI is not installed: bash ../shared/ros2-tools/install.sh .venv",
    ),
]
FAILURES = ("Traceback", "RCLError", "process has died", "exception")


def ros2_launch(*arguments: str) -> subprocess.Popen:
    """``ros2 launch rsu_isac <arguments>`` in its own process group (SIGINT reaches launch
    as Ctrl-C would), output merged."""
    command = f"source {TOOLS} && exec {sys.executable} -m rsu_isac.cli exec -- ros2 launch "
    return subprocess.Popen(
        ["bash", "-c", command + " ".join(["rsu_isac", *arguments])],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def finished(process: subprocess.Popen, timeout_s: float) -> str:
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        raise AssertionError(f"the launch did not end within {timeout_s:g} s:\n{output}") from None
    return output


def graph_delivers(
    process: subprocess.Popen,
    timeout_s: float,
    commands_wanted: int = 20,
    tracks_topic: str = "/rsu0/tracks",
    command_topic: str = "/beamforming/command",
    cpm_topic: str | None = None,
):
    """Whether, within ``timeout_s``, a vehicle stack's reliable subscriber gets confirmed
    tracks on ``tracks_topic``, ``commands_wanted`` beamforming commands on
    ``command_topic`` (and CPMs with objects on ``cpm_topic``); and how many publishers the
    tracks' topic had then."""
    rclpy.init()
    node = rclpy.create_node("launch_probe")
    tracks: list[TrackArray] = []
    commands: list[BeamformingCommand] = []
    cpms: list[CollectivePerception] = []
    reliable = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
    node.create_subscription(TrackArray, tracks_topic, tracks.append, reliable)
    node.create_subscription(BeamformingCommand, command_topic, commands.append, reliable)
    if cpm_topic:
        node.create_subscription(CollectivePerception, cpm_topic, cpms.append, reliable)
    try:
        delivered = spin_until(
            node,
            lambda: (
                len(commands) >= commands_wanted
                and any(t.status == 1 for a in tracks for t in a.tracks)
                and (not cpm_topic or any(c.perceived_objects for c in cpms))
            ),
            timeout_s,
            process,
        )
        return delivered, node.count_publishers(tracks_topic)
    finally:
        node.destroy_node()
        rclpy.shutdown()


def test_sim_launch_delivers_tracks_commands_and_cpms_and_ends_with_its_duration():
    """sim.launch.py on seed003 with the camera nodes (aoi_policy:=threshold), under
    namespace:=site_a (every topic of the stack under /site_a, /clock global) with the
    commands remapped: while it runs, a vehicle stack's subscriber gets tracks, commands and
    CPMs; at the end of the simulated duration the simulator exits and the launch shuts the
    other five nodes down cleanly. (Ctrl-C ends the replay and best-effort launches below,
    cleanly as well.)"""
    process = ros2_launch(
        "sim.launch.py", "scenario:=seed003", "aoi_policy:=threshold", "camera_period_slots:=1",
        "abstraction:=measurement", "duration:=3", "real_time_factor:=1",
        "namespace:=site_a", "remappings:=/site_a/beamforming/command:=/v2x/beams",
        "v2x_share:=0.5",
    )  # fmt: skip
    try:
        flowing, _ = graph_delivers(
            process, 90.0, tracks_topic="/site_a/rsu0/tracks", command_topic="/v2x/beams",
            cpm_topic="/site_a/rsu0/cpm",
        )  # fmt: skip
    finally:
        output = finished(process, 90.0)
    assert flowing, output[-3000:]
    assert "simulated 3 s (150 slots); stopping" in output, output[-3000:]
    assert output.count("process has finished cleanly") == 6, output[-3000:]
    assert not any(word in output for word in FAILURES), output[-3000:]


def test_a_best_effort_driver_feeding_rsu_launch_gets_tracks_and_commands():
    """rsu.launch.py (real sensors: best-effort sensor subscriptions) fed the sample bag's
    echoes and clock by a best-effort publisher, as a radar driver publishes."""
    stack = ros2_launch("rsu.launch.py", "abstraction:=measurement", "use_sim_time:=true")
    driver = subprocess.Popen(
        [sys.executable, "-m", "rsu_isac.cli", "bag", "play", str(REPO / "bags" /
         "seed000_measurement"), "--qos", "best_effort", "--loop", "--topics", "/clock",
         "/rsu0/radar/echo"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        flowing, _ = graph_delivers(stack, 90.0)
    finally:
        driver.send_signal(signal.SIGINT)
        driver.communicate(timeout=30)
        if stack.poll() is None:
            os.killpg(stack.pid, signal.SIGINT)
    output = finished(stack, 60.0)
    assert flowing, output[-3000:]
    assert not any(word in output for word in FAILURES), output[-3000:]


def test_a_looped_replay_plays_only_the_inputs_and_keeps_the_policy_deciding():
    """The sample bag (100 slots, with the tracks and commands of the run that recorded it)
    looped through replay.launch.py: the stack's tracks are the only ones on /rsu0/tracks,
    and commands keep coming after the first pass (the policy's slot window restarts)."""
    bag = REPO / "bags" / "seed000_measurement"
    process = ros2_launch(
        "replay.launch.py", f"bag:={bag}", "loop:=true", "abstraction:=measurement"
    )
    try:
        flowing, publishers = graph_delivers(process, 120.0, commands_wanted=250)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
    output = finished(process, 60.0)
    assert flowing and publishers == 1, (publishers, output[-3000:])
    assert not any(word in output for word in FAILURES), output[-3000:]


def test_a_node_that_cannot_start_ends_the_launch():
    output = finished(ros2_launch("sim.launch.py", "policy:=bogus"), 120.0)
    assert "parameter 'policy' = 'bogus' is not allowed" in output, output[-3000:]
    assert "[beamforming_policy-3]: process has died" in output
    assert "was required: shutting down launched system" in output
