"""Processes that stop cleanly: child processes that die with their parent (a node process
started by ``rsu-isac sim`` must not outlive the command, even when the command is killed
with SIGKILL and has no chance to stop it: Linux ``prctl(PR_SET_PDEATHSIG)``), and stop
signals that only ask a process to stop."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # <sys/prctl.h>
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
PARENT_PID_VARIABLE = "RSU_ISAC_PARENT_PID"  # set by a runner for the processes it starts


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """When a runner started this process and named itself in PARENT_PID_VARIABLE, ask the
    kernel to send ``sig`` to this process when the runner dies; if it is already gone,
    exit at once. Does nothing otherwise, or off Linux."""
    parent = os.environ.get(PARENT_PID_VARIABLE, "")
    if not parent.isdigit() or not sys.platform.startswith("linux"):
        return
    parent_pid = int(parent)
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig)
    if os.getppid() != parent_pid:
        os._exit(1)


def stop_requests() -> list[int]:
    """Make SIGINT and SIGTERM only note themselves in the returned list (the caller's
    loop reads it: an exception raised in the middle of a callback or of rclpy's C code
    would leave state half-updated), and ignore every later one: Ctrl-C reaches every
    process of the terminal's group and launch sends its own SIGINT after it, and the
    second must not kill a process in the middle of its shutdown (exit -2, seen when
    Python's finalisation had restored the default handler)."""
    stop: list[int] = []

    def on_stop(signum: int, _frame) -> None:
        stop.append(signum)
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)

    for sig in STOP_SIGNALS:
        signal.signal(sig, on_stop)
    return stop
