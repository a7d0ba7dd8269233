"""The common ``main`` of every node: die with the runner that started it
(:func:`rsu_isac.platform.process.die_with_parent`), keep freed memory in the heap
(:mod:`rsu_isac.platform.allocator`), init, build (parameter errors end the process with one line
naming the parameter, exit status 2), spin until shut down or until the node sets ``done``,
then ``close()`` if it has one."""

from __future__ import annotations

import sys
from collections.abc import Callable

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.node import Node

from rsu_isac.nodes.params import ParameterError
from rsu_isac.platform.allocator import keep_heap_memory
from rsu_isac.platform.process import die_with_parent


def run_node(make_node: Callable[[], Node], name: str, args: list[str] | None) -> None:
    die_with_parent()
    keep_heap_memory()
    try:
        context = rclpy.init(args=args)
    except _rclpy.RCLError as exc:  # e.g. a missing or malformed --params-file
        print(f"{name}: cannot start: {str(exc).splitlines()[0]}", file=sys.stderr)
        sys.exit(2)
    try:
        with context:
            try:
                node = make_node()
            except ParameterError as exc:
                print(f"{name}: {exc}", file=sys.stderr)
                sys.exit(2)
            executor = SingleThreadedExecutor()
            executor.add_node(node)
            try:
                while rclpy.ok() and not getattr(node, "done", False):
                    executor.spin_once(timeout_sec=0.05)
            finally:
                close = getattr(node, "close", None)
                if close is not None:
                    close()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
