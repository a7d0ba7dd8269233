"""Helpers shared by the command groups: one-line errors for bad choices and scenarios,
and wide tables."""

from __future__ import annotations

import sys
from pathlib import Path


def valid_choices(command: str, checks: dict[str, tuple[str, tuple[str, ...]]]) -> bool:
    """Whether every flag's value is one of its valid ones; else one line naming the flag
    and the valid values (the caller exits with 2)."""
    for flag, (value, valid) in checks.items():
        if value not in valid:
            print(
                f"rsu-isac {command}: {flag} '{value}' unknown; valid: {', '.join(valid)}",
                file=sys.stderr,
            )
            return False
    return True


def print_table(title: str, columns, rows) -> None:
    """A rich table of string cells on a wide console (the experiments print these)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console(soft_wrap=True, width=220).print(table)


def scenario_or_exit(name: str, command: str):
    """The scenario ``name`` (or .yaml path); a bad one ends the command with exit 2."""
    from rsu_isac.core.scenario import resolve_scenario
    from rsu_isac.core.schema import SchemaError
    from rsu_isac.platform.paths import scenarios_dir

    try:
        return resolve_scenario(name, scenarios_dir())
    except SchemaError as exc:
        print(f"rsu-isac {command}: {exc}", file=sys.stderr)
        sys.exit(2)


def writable_dir_error(path: Path, flag: str) -> str | None:
    """Why ``path`` cannot take a run's output (checked before the run starts), or None;
    the folder is created."""
    if path.exists() and not path.is_dir():
        return f"{flag} {path} is a file, not a folder"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".rsu_isac_write_test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        return f"{flag} {path} is not writable: {exc.strerror}"
    return None
