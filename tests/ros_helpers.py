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


class InProcess:
    """A node built in this process: its subscription callbacks by topic (as the executor
    calls them: contained, see NodeDiagnostics.subscribe) and what it publishes, by topic."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.published: dict[str, list] = {}
        for pub in node.publishers:
            topic = pub.topic_name.lstrip("/")
            sent = self.published.setdefault(topic, [])
            real = pub.publish
            pub.publish = lambda msg, sent=sent, real=real: (sent.append(msg), real(msg))
        self.callbacks = {s.topic_name.lstrip("/"): s.callback for s in node.subscriptions}

    def send(self, topic: str, msg) -> None:
        self.callbacks[topic](msg)


@contextmanager
def in_process(node_class, **parameters):
    """``node_class()`` in a fresh rclpy context whose ``-p`` overrides are ``parameters``."""
    args = ["--ros-args"]
    for key, value in parameters.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        args += ["-p", f"{key}:={text}"]
    with rclpy.init(args=args):
        node = node_class()
        try:
            yield InProcess(node)
        finally:
            node.destroy_node()
