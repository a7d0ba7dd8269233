"""Message types for bags: the rosbags type store of ROS 2 Kilted plus our interface
package's definitions, and the rclpy classes to publish them."""

from __future__ import annotations

import importlib
import re
from functools import cache
from pathlib import Path

from ament_index_python import get_resources
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


_MSGTYPE = re.compile(r"([a-z][a-z0-9_]*)/msg/([A-Z][A-Za-z0-9]*)")


@cache
def interface_packages() -> frozenset[str]:
    """The interface packages installed in the ROS environment (the ament index's
    ``rosidl_interfaces`` resources): the only modules a bag may make us import."""
    return frozenset(get_resources("rosidl_interfaces"))


def message_class(msgtype: str):
    """The rclpy class of 'pkg/msg/Name'. The name comes from a bag, i.e. from anyone:
    only a message of an installed interface package is imported; anything else is a
    ValueError naming the type."""
    match = _MSGTYPE.fullmatch(msgtype)
    if match is None:
        raise ValueError(f"message type {msgtype!r} is not of the form package/msg/Name")
    package, name = match.groups()
    if package not in interface_packages():
        raise ValueError(f"message type {msgtype}: '{package}' is no installed interface package")
    module = importlib.import_module(f"{package}.msg")
    if not hasattr(module, name):
        raise ValueError(f"message type {msgtype}: {package} has no message {name}")
    return getattr(module, name)


def type_name(msg_class) -> str:
    """'pkg/msg/Name' of an rclpy message class."""
    module = msg_class.__module__.split(".")[0]
    return f"{module}/msg/{msg_class.__name__}"
