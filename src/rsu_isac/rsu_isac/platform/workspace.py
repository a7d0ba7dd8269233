"""Find the built colcon workspace and the environment a ROS 2 process needs.

``rsu-isac`` must work from a plain shell, without ``source install/setup.bash``. The
interface package's type-support libraries are found by the dynamic loader
(``LD_LIBRARY_PATH``) and by the ament index (``AMENT_PREFIX_PATH``), and both are read
when the process starts. So the CLI computes the environment here and, when it is not yet
in force, re-executes itself once with it (:func:`reexec_with_ros_environment`).

Where the workspace is: ``$RSU_ISAC_WS`` if set, else the repository this package was
installed from (editable install by ``scripts/setup.sh``), else none (a stock ROS 2 install
where the user has already sourced ``setup.bash``: then nothing needs doing).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

# Fast DDS profile of every process (config/fastdds.xml: large shared-memory segments)
DDS_PROFILES_VARIABLE = "FASTDDS_DEFAULT_PROFILES_FILE"
DDS_PROFILES_FILE = "fastdds.xml"

INTERFACES_PACKAGE = "rsu_isac_interfaces"
_REEXEC_MARK = "RSU_ISAC_ENV_READY"


@dataclass(frozen=True)
class Workspace:
    """A repository checkout with its colcon ``install/`` tree."""

    root: Path

    @property
    def install(self) -> Path:
        return self.root / "install"

    @property
    def interfaces_prefix(self) -> Path:
        return self.install / INTERFACES_PACKAGE

    @property
    def package_prefix(self) -> Path:
        """colcon's install of rsu_isac: its ament index entry, launch files and node
        executables (the Python modules run from the editable source tree)."""
        return self.install / "rsu_isac"

    @property
    def interfaces_built(self) -> bool:
        return (self.interfaces_prefix / "share" / INTERFACES_PACKAGE / "package.xml").is_file()


def find_workspace() -> Workspace | None:
    """The workspace to use, or None when the ROS environment comes from elsewhere."""
    env_root = os.environ.get("RSU_ISAC_WS")
    if env_root:
        return Workspace(Path(env_root).resolve())
    # src/rsu_isac/rsu_isac/workspace.py -> repository root is three levels up
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "src" / INTERFACES_PACKAGE / "package.xml").is_file():
            return Workspace(parent)
    return None


def _python_site_dir(prefix: Path) -> Path:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return prefix / "lib" / version / "site-packages"


def _prepend(value: str | None, *paths: Path) -> str:
    parts = [str(p) for p in paths]
    if value:
        parts += [p for p in value.split(os.pathsep) if p and p not in parts]
    return os.pathsep.join(parts)


def ros_environment(workspace: Workspace, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment in which ``workspace``'s packages import and load in a new process.

    Mirrors what ``install/setup.bash`` would set for the interface package, on top of
    the venv's ROS wheels (whose prefix is ``sys.prefix``).
    """
    env = dict(os.environ if base is None else base)
    venv_prefix = Path(sys.prefix)
    # rsu_isac's own prefix only in the ament index (``ros2 launch rsu_isac ...`` finds its
    # launch files and executables there): on the Python path the colcon-installed copy of
    # rsu_isac would shadow the editable source tree that the venv runs.
    prefixes = [workspace.interfaces_prefix]
    env["AMENT_PREFIX_PATH"] = _prepend(
        env.get("AMENT_PREFIX_PATH"), workspace.package_prefix, *prefixes, venv_prefix
    )
    env["LD_LIBRARY_PATH"] = _prepend(
        env.get("LD_LIBRARY_PATH"), *(p / "lib" for p in prefixes), venv_prefix / "lib"
    )
    env["PYTHONPATH"] = _prepend(env.get("PYTHONPATH"), *(_python_site_dir(p) for p in prefixes))
    env.setdefault("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    env.setdefault(DDS_PROFILES_VARIABLE, str(workspace.root / "config" / DDS_PROFILES_FILE))
    env[_REEXEC_MARK] = "1"
    return env


def reexec_with_ros_environment(argv: list[str]) -> None:
    """Re-execute this process once with :func:`ros_environment` in force.

    Returns normally (without re-executing) when the environment is already set, when no
    workspace is known, or when the interfaces are not built (``doctor`` then reports it).
    """
    if os.environ.get(_REEXEC_MARK) == "1":
        return
    workspace = find_workspace()
    if workspace is None or not workspace.interfaces_built:
        return
    env = ros_environment(workspace)
    os.execve(sys.executable, [sys.executable, "-m", "rsu_isac.cli", *argv], env)
