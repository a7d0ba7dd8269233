"""Message types for bags: the rosbags type store of ROS 2 Kilted plus our interface
package's definitions, and the rclpy classes to publish them."""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path

from ament_index_python.packages import get_package_share_directory
from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

INTERFACES = "rsu_isac_interfaces"


@cache
def typestore() -> Typestore:
    """Kilted's standard types plus every message of rsu_isac_interfaces (read from the
    installed .msg files, so the definitions stored in a bag are the ones we run)."""
    store = get_typestore(Stores.ROS2_KILTED)
    msg_dir = Path(get_package_share_directory(INTERFACES)) / "msg"
    types = {}
    for path in sorted(msg_dir.glob("*.msg")):
        types.update(get_types_from_msg(path.read_text(), f"{INTERFACES}/msg/{path.stem}"))
    store.register(types)
    return store


def message_class(msgtype: str):
    """The rclpy class of 'pkg/msg/Name'."""
    package, _, name = msgtype.split("/")
    return getattr(importlib.import_module(f"{package}.msg"), name)


def type_name(msg_class) -> str:
    """'pkg/msg/Name' of an rclpy message class."""
    module = msg_class.__module__.split(".")[0]
    return f"{module}/msg/{msg_class.__name__}"
