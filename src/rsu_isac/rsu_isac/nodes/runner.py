"""The common ``main`` of every node: die with the runner that started it
(:func:`rsu_isac.platform.process.die_with_parent`), keep freed memory in the heap
(:mod:`rsu_isac.platform.allocator`), init, build (parameter errors end the process with one
line naming the parameter, exit status 2), spin until the node sets ``done`` or a SIGINT or
SIGTERM arrives, then ``close()`` if it has one.

The signals only set a flag that the spin loop reads between callbacks (rclpy's own handlers
are off): a KeyboardInterrupt raised in the middle of a callback would leave the node's
state half-updated and its ``close()`` - the last diagnostics, the acknowledged last
samples - on a context that rclpy has already shut down."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from rsu_isac.nodes.params import ParameterError
from rsu_isac.platform.allocator import keep_heap_memory
from rsu_isac.platform.process import die_with_parent

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_node(make_node: Callable[[], Node], name: str, args: list[str] | None) -> None:
    stop: list[int] = []
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda signum, _frame: stop.append(signum))
    die_with_parent()
    keep_heap_memory()
    try:
        context = rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    except _rclpy.RCLError as exc:  # e.g. a missing or malformed --params-file
        print(f"{name}: cannot start: {str(exc).splitlines()[0]}", file=sys.stderr)
        sys.exit(2)
    with context:
        try:
            node = make_node()
        except ParameterError as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            sys.exit(2)
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        try:
            while rclpy.ok() and not stop and not getattr(node, "done", False):
                executor.spin_once(timeout_sec=0.05)
        except ExternalShutdownException:
            pass
        finally:
            close = getattr(node, "close", None)
            if close is not None:
                close()
