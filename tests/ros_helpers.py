"""Helpers for tests that run real nodes on DDS: start a node process, spin until a
condition holds (bounded), stop the process cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import rclpy
from rclpy.node import Node

REPO = Path(__file__).resolve().parents[1]


@contextmanager
def node_process(module: str, *ros_args: str):
    """Run ``python -m <module> --ros-args <ros_args>``; SIGINT and wait on exit."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--ros-args", *ros_args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def spin_until(
    node: Node,
    condition: Callable[[], bool],
    timeout_s: float,
    process: subprocess.Popen | None = None,
) -> bool:
    """Spin ``node`` until ``condition()`` holds or ``timeout_s`` passes (no sleeps)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        if process is not None and process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"node process exited with {process.returncode}:\n{output}")
        rclpy.spin_once(node, timeout_sec=0.05)
    return condition()


def publish_until_answered(
    node: Node,
    publish: Callable[[], None],
    answered: Callable[[], bool],
    process: subprocess.Popen | None = None,
    *,
    period_s: float = 0.5,
    timeout_s: float = 30.0,
) -> bool:
    """Call ``publish()`` every ``period_s`` until ``answered()`` holds (bounded).

    The probe's match counts say only that *its* endpoints have matched; the node's reliable,
    volatile endpoints may match a moment later and lose what was sent before. A test that
    needs an answer therefore repeats a message the node may safely see more than once."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        publish()
        if spin_until(node, answered, period_s, process):
            return True
    return answered()
