"""The ``rsu-isac`` command, one module per command group: ``run`` (sim, replay, eval),
``bag``, ``experiments`` (the measurement campaigns), ``learning`` (train) and ``tools``
(doctor, bench, fuzz, exec).

Works from any shell: before running a sub-command it re-executes itself once with the
workspace's ROS environment (see :mod:`rsu_isac.platform.workspace`), so nothing has to be
sourced.
"""

from __future__ import annotations

import argparse
import signal
import sys

from rsu_isac import __version__
from rsu_isac.cli import bag, experiments, learning, run, tools
from rsu_isac.platform.allocator import keep_heap_memory
from rsu_isac.platform.workspace import reexec_with_ros_environment


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rsu-isac",
        description="Roadside-unit ISAC stack: simulation, evaluation and diagnostics. "
        "Runs without sourcing ROS: it sets up the workspace environment itself.",
    )
    parser.add_argument("--version", action="version", version=f"rsu-isac {__version__}")
    sub = parser.add_subparsers(dest="command_name", metavar="COMMAND", required=True)
    for group in (run, bag, experiments, learning, tools):
        group.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    # `rsu-isac bag info | head`: a closed pipe ends the command quietly, as it does a shell
    # tool, instead of a BrokenPipeError traceback
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    argv = sys.argv[1:] if argv is None else argv
    reexec_with_ros_environment(argv)  # first: the parser imports the experiment registry
    args = build_parser().parse_args(argv)
    keep_heap_memory()
    return args.func(args)
