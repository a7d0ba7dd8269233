"""Fill any ROS 2 message with deterministic non-trivial values, and flatten it for diffs.

Walks the message's ``SLOT_TYPES`` (rosidl type definitions), so a field added to an
interface later is covered without editing the tests.
"""

from __future__ import annotations

import importlib
import random
import string
from typing import Any

import numpy as np
from rosidl_parser import definition as d

from rsu_isac.nodes.fuzz import INT_LIMITS as INT_RANGES


def _message_class(namespaced: d.NamespacedType) -> type:
    module = importlib.import_module(".".join(namespaced.namespaces))
    return getattr(module, namespaced.name)


def _basic(type_name: str, rng: random.Random) -> Any:
    if type_name in INT_RANGES:
        return rng.randint(*INT_RANGES[type_name])
    if type_name == "boolean":
        return rng.random() < 0.5
    if type_name == "float":
        return float(np.float32(rng.uniform(-1e3, 1e3)))  # exactly representable
    if type_name in ("double", "long double"):
        return rng.uniform(-1e6, 1e6)
    raise TypeError(f"unhandled basic type {type_name}")


def _value(slot: d.AbstractType, rng: random.Random) -> Any:
    if isinstance(slot, d.BasicType):
        return _basic(slot.typename, rng)
    if isinstance(slot, d.AbstractGenericString):
        return "".join(rng.choice(string.ascii_letters + " _/") for _ in range(rng.randint(1, 12)))
    if isinstance(slot, d.NamespacedType):
        return fill(_message_class(slot)(), rng)
    if isinstance(slot, d.Array):
        return [_value(slot.value_type, rng) for _ in range(slot.size)]
    if isinstance(slot, d.AbstractSequence):
        return [_value(slot.value_type, rng) for _ in range(rng.randint(2, 5))]
    raise TypeError(f"unhandled slot type {slot!r}")


def fill(msg: Any, rng: random.Random) -> Any:
    """Set every field of ``msg`` (recursively) to a random value drawn from ``rng``."""
    for name, slot in zip(msg.get_fields_and_field_types(), msg.SLOT_TYPES, strict=True):
        setattr(msg, name, _value(slot, rng))
    return msg


def flatten(msg: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a.b[2].c": value}`` for every leaf of ``msg``, with arrays as Python lists."""
    out: dict[str, Any] = {}
    for name in msg.get_fields_and_field_types():
        value = getattr(msg, name)
        key = f"{prefix}{name}"
        if hasattr(value, "get_fields_and_field_types"):
            out.update(flatten(value, key + "."))
        elif isinstance(value, list | tuple) and value and hasattr(value[0], "SLOT_TYPES"):
            for i, item in enumerate(value):
                out.update(flatten(item, f"{key}[{i}]."))
        elif isinstance(value, np.ndarray) or hasattr(value, "tolist"):
            out[key] = list(value.tolist())
        elif isinstance(value, list | tuple):
            out[key] = list(value)
        else:
            out[key] = value
    return out


def all_message_types(package: str = "rsu_isac_interfaces") -> dict[str, type]:
    """Every message class of ``package``, by name."""
    module = importlib.import_module(f"{package}.msg")
    return {n: getattr(module, n) for n in dir(module) if n[0].isupper()}


def filled_messages(seed: int) -> dict[str, Any]:
    """One filled instance of every message type; the same ``seed`` gives the same values."""
    return {
        name: fill(cls(), random.Random(f"{seed}:{name}"))
        for name, cls in sorted(all_message_types().items())
    }
