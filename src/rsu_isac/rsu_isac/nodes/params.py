"""Parameter declaration with descriptors (description, range, choices) and start-up
validation whose errors name the parameter and what is allowed.

Every parameter is read-only after start-up (the descriptor says so): the nodes build their
solvers, trackers and simulators from the values once, so a ``ros2 param set`` that reported
success would change nothing. The set is refused instead ("parameter ... cannot be set
because it is read-only"); restart the node (or the launch) with the new value."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rclpy.node import Node

from rsu_isac.core.radar import RF_SNR_RANGE_DB, with_rf_snr
from rsu_isac.core.scenario import Scenario, resolve_scenario, scenario_names
from rsu_isac.core.schema import SchemaError
from rsu_isac.platform.paths import scenarios_dir


class ParameterError(ValueError):
    """A node parameter is invalid; the message names it and the allowed values."""


def declare(
    node: Node,
    name: str,
    default: Any,
    description: str,
    low: float | None = None,
    high: float | None = None,
    choices: Sequence[str] | None = None,
) -> Any:
    """Declare ``name`` and return its value, checked against [low, high] or ``choices``."""
    descriptor = ParameterDescriptor(description=description, read_only=True)
    if choices is not None:
        descriptor.additional_constraints = "one of: " + ", ".join(choices)
    elif low is not None and high is not None:
        if isinstance(default, bool):
            pass
        elif isinstance(default, int):
            descriptor.integer_range = [IntegerRange(from_value=int(low), to_value=int(high))]
        else:
            descriptor.floating_point_range = [
                FloatingPointRange(from_value=float(low), to_value=float(high))
            ]
    try:
        value = node.declare_parameter(name, default, descriptor).value
    except (InvalidParameterTypeException, InvalidParameterValueException) as exc:
        raise ParameterError(f"parameter '{name}': {exc}") from None
    if choices is not None and value not in choices:
        raise ParameterError(
            f"parameter '{name}' = {value!r} is not allowed; allowed: {', '.join(choices)}"
        )
    numeric = not isinstance(value, bool | str)
    if low is not None and high is not None and numeric and not low <= value <= high:
        raise ParameterError(
            f"parameter '{name}' = {value!r} is out of range: allowed [{low}, {high}]"
        )
    return value


def declare_scenario(node: Node) -> Scenario:
    """Declare the ``scenario`` parameter (a name in config/scenarios or a path to a scenario
    .yaml) and ``rf_snr_db`` and load the scenario at that RF SNR (``core.radar.with_rf_snr``,
    as ``rsu-isac eval --rf-snr-db``); an unknown name, a bad file or an SNR out of range is a
    ParameterError."""
    names = scenario_names(scenarios_dir())
    value = declare(
        node, "scenario", "seed000", f"scenario name ({', '.join(names)}) or path to a .yaml file"
    )
    rf_snr_db = declare(
        node,
        "rf_snr_db",
        math.nan,
        "echo SNR of the scenario's reference vehicle [dB] (003 Fig. 5's RF SNR; sets the "
        f"sensing noise), in [{RF_SNR_RANGE_DB[0]:g}, {RF_SNR_RANGE_DB[1]:g}]; NaN: the "
        "scenario's sensing noise",
    )
    try:
        scenario = resolve_scenario(value, scenarios_dir())
    except SchemaError as exc:
        raise ParameterError(f"parameter 'scenario': {exc}") from None
    if math.isnan(rf_snr_db):
        return scenario
    try:
        return with_rf_snr(scenario, rf_snr_db)
    except ValueError as exc:
        raise ParameterError(f"parameter 'rf_snr_db': {exc}") from None
