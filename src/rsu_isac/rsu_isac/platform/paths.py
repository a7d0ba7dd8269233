"""Where the stack's data files are: the repository (venv set-up, editable install) or the
package's share directory (colcon install in a ROS 2 workspace)."""

from __future__ import annotations

from pathlib import Path

from rsu_isac.platform.workspace import find_workspace


def share_dir() -> Path:
    """Root holding ``config/`` and ``launch/``."""
    workspace = find_workspace()
    if workspace is not None and (workspace.root / "config").is_dir():
        return workspace.root
    from ament_index_python.packages import get_package_share_directory

    return Path(get_package_share_directory("rsu_isac"))


def config_dir() -> Path:
    return share_dir() / "config"


def scenarios_dir() -> Path:
    return config_dir() / "scenarios"


def shipped_checkpoint(name: str) -> Path:
    """The folder of a checkpoint shipped with the package (``learning/checkpoints/<name>``);
    a location only, so that the layers below ``learning`` find a default expert file."""
    return Path(__file__).resolve().parents[1] / "learning" / "checkpoints" / name
