"""Where computed results are kept between runs - trained agents, held-out evaluations,
the closed-loop runs an experiment's cells share - and the file lock that lets one process
at a time compute what is kept in a folder.

The folder is ``$RSU_ISAC_AGENTS``, else ``runs/agents`` of the repository (not in git),
else ``~/.cache/rsu_isac/agents``.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rsu_isac.platform.workspace import find_workspace


def agents_dir() -> Path:
    """Where trained agents and their evaluations are kept."""
    if "RSU_ISAC_AGENTS" in os.environ:
        return Path(os.environ["RSU_ISAC_AGENTS"])
    workspace = find_workspace()
    if workspace is not None:
        return workspace.root / "runs" / "agents"
    return Path.home() / ".cache" / "rsu_isac" / "agents"


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s file lock (made if missing): one process at a time computes what
    is kept there."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
