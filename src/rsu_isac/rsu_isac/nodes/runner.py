"""The common ``main`` of every node: die with the runner that started it
(:func:`rsu_isac.platform.process.die_with_parent`), keep freed memory in the heap
(:mod:`rsu_isac.platform.allocator`), init, build (parameter errors end the process with one
line naming the parameter, exit status 2), spin until the node sets ``done`` or a SIGINT or
SIGTERM arrives, then ``close()`` if it has one.

The signals only set a flag that the spin loop reads between callbacks (rclpy's own handlers
are off): a KeyboardInterrupt raised in the middle of a callback would leave the node's
state half-updated and its ``close()`` - the last diagnostics, the acknowledged last
samples - on a context that rclpy has already shut down. Later stop signals are ignored
(Ctrl-C and launch both send one), and the shutdown has SHUTDOWN_DEADLINE_S: a node stuck
past it prints every thread's stack and exits (faulthandler) rather than waiting for a
SIGKILL."""

from __future__ import annotations

import faulthandler
import sys
from collections.abc import Callable

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from rsu_isac.nodes.params import ParameterError
from rsu_isac.platform.allocator import keep_heap_memory
from rsu_isac.platform.process import die_with_parent, stop_requests

SHUTDOWN_DEADLINE_S = 4.0  # from leaving the spin loop to the end of the process (launch: 5 s)


def run_node(make_node: Callable[[], Node], name: str, args: list[str] | None) -> None:
    stop = stop_requests()
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
            # a shutdown that hangs (in DDS, past every Python signal handler) prints where
            # and ends the process instead of waiting for launch's SIGKILL
            faulthandler.dump_traceback_later(SHUTDOWN_DEADLINE_S, exit=True)
            close = getattr(node, "close", None)
            if close is not None:
                close()
