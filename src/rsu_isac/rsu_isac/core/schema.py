"""Build frozen dataclasses from plain dicts (parsed YAML) with validation.

Every field of a schema dataclass is required (no hidden defaults) and may carry a
:func:`spec` with its allowed range, unit and meaning. Errors name the full key
(``radio.array.num_tx_antennas``), the offending value and what is allowed, in one line.
Supported field types: ``int``, ``float``, ``str``, ``bool``, ``Literal[...]``, nested
schema dataclasses, fixed tuples ``tuple[float, float]`` and variable ``tuple[X, ...]``.
A dataclass may define ``check(self) -> list[tuple[str, str]]`` for cross-field rules,
returning ``(relative key, message)`` pairs.
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from typing import Any, Literal, TypeVar

import yaml

T = TypeVar("T")


class _Yaml12FloatLoader(yaml.SafeLoader):
    """SafeLoader that also reads ``1e-9`` / ``28.0e9`` as floats (YAML 1.2; PyYAML's
    YAML 1.1 resolver would return strings)."""


_Yaml12FloatLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def load_yaml(text: str) -> Any:
    """Parse YAML text, with YAML 1.2 float syntax; syntax errors become SchemaError."""
    try:
        return yaml.load(text, Loader=_Yaml12FloatLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SchemaError(f"not valid YAML{where}: {problem}") from None


class SchemaError(ValueError):
    """A configuration file does not match its schema; the message names the key."""


def spec(
    low: float | None = None,
    high: float | None = None,
    unit: str = "",
    doc: str = "",
    min_items: int = 0,
) -> Any:
    """Field metadata: inclusive range [low, high], unit, meaning, minimum tuple length."""
    return dataclasses.field(
        metadata={"low": low, "high": high, "unit": unit, "doc": doc, "min_items": min_items}
    )


def _describe(meta: dict[str, Any]) -> str:
    parts = []
    if meta.get("low") is not None or meta.get("high") is not None:
        low = "-inf" if meta.get("low") is None else f"{meta['low']:g}"
        high = "inf" if meta.get("high") is None else f"{meta['high']:g}"
        parts.append(f"allowed [{low}, {high}]")
    if meta.get("unit"):
        parts.append(meta["unit"])
    if meta.get("doc"):
        parts.append(meta["doc"])
    return "; ".join(parts)


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")


def _show(value: Any) -> str:
    """A value for an error message that never echoes arbitrary file content: numbers and
    booleans as they are, short names quoted, any other text only by its length (a path to
    the wrong file, e.g. /etc/shadow, must not print its lines)."""
    if isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, str):
        return repr(value) if _NAME.fullmatch(value) else f"a text of {len(value)} characters"
    return f"a {type(value).__name__}"


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    if typing.get_origin(tp) is tuple:
        return "a list"
    return getattr(tp, "__name__", str(tp))


def _convert(tp: Any, value: Any, key: str, meta: dict[str, Any]) -> Any:  # noqa: PLR0911, PLR0912 - one branch per supported type
    origin = typing.get_origin(tp)
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            options = ", ".join(str(a) for a in allowed)
            raise SchemaError(f"key '{key}': unknown value {_show(value)}; allowed: {options}")
        return value
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, key)
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, list | tuple):
            raise SchemaError(f"key '{key}': expected a list, got {_show(value)}")
        if len(args) == 2 and args[1] is Ellipsis:
            if len(value) < meta.get("min_items", 0):
                raise SchemaError(
                    f"key '{key}': needs at least {meta['min_items']} item(s), got {len(value)}"
                )
            return tuple(_convert(args[0], v, f"{key}[{i}]", meta) for i, v in enumerate(value))
        if len(value) != len(args):
            raise SchemaError(f"key '{key}': expected {len(args)} values, got {len(value)}")
        return tuple(
            _convert(a, v, f"{key}[{i}]", meta)
            for i, (a, v) in enumerate(zip(args, value, strict=True))
        )
    if tp is bool:
        if not isinstance(value, bool):
            raise SchemaError(f"key '{key}': expected true or false, got {_show(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SchemaError(f"key '{key}': expected an integer, got {_show(value)}")
        return _check_range(value, key, meta)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SchemaError(f"key '{key}': expected a number, got {_show(value)}")
        if not math.isfinite(value):
            raise SchemaError(f"key '{key}': must be finite, got {_show(value)}")
        return _check_range(float(value), key, meta)
    if tp is str:
        if not isinstance(value, str):
            raise SchemaError(f"key '{key}': expected a string, got {_show(value)}")
        return value
    raise TypeError(f"schema field '{key}' has unsupported type {tp!r}")


def _check_range(value: float, key: str, meta: dict[str, Any]) -> float:
    low, high = meta.get("low"), meta.get("high")
    if (low is not None and value < low) or (high is not None and value > high):
        raise SchemaError(f"key '{key}' = {value!r} is out of range: {_describe(meta)}")
    return value


def from_dict(cls: type[T], data: Any, prefix: str = "") -> T:
    """Instantiate schema dataclass ``cls`` from ``data``, validating every key."""
    where = f"key '{prefix}'" if prefix else "the file"
    if not isinstance(data, dict):
        raise SchemaError(f"{where}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields), key=str)
    if unknown:
        name = unknown[0]
        shown = (
            f"'{_join(prefix, name)}'"
            if isinstance(name, str) and _NAME.fullmatch(name)
            else (f"({_show(name)})" if not prefix else f"under '{prefix}' ({_show(name)})")
        )
        raise SchemaError(f"unknown key {shown}; allowed keys here: {', '.join(fields)}")
    values = {}
    for name, field in fields.items():
        key = _join(prefix, name)
        meta = dict(field.metadata)
        if name not in data:
            detail = _describe(meta)
            raise SchemaError(
                f"missing key '{key}' ({_type_name(hints[name])}{'; ' + detail if detail else ''})"
            )
        values[name] = _convert(hints[name], data[name], key, meta)
    obj = cls(**values)
    check = getattr(obj, "check", None)
    if check is not None:
        for rel_key, message in check():
            raise SchemaError(f"key '{_join(prefix, rel_key)}': {message}")
    return obj


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
