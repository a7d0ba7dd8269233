"""``rsu-isac doctor``: check that the platform pieces the stack needs are in place.

Each check returns a :class:`Check` with a status and, when it is not OK, the exact fix.
Required checks (ROS middleware, interfaces) make the command fail; optional backends
(SUMO, cvxpy solvers, torch) are reported but only warn.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from rsu_isac.platform.workspace import INTERFACES_PACKAGE, find_workspace

SETUP_HINT = "run `make setup` in the repository root"


@dataclass(frozen=True)
class Check:
    """Outcome of one check."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def check_rclpy() -> Check:
    """rclpy imports and a node can be created on the configured RMW."""
    try:
        import rclpy
        from rclpy.utilities import get_rmw_implementation_identifier
    except Exception as exc:  # noqa: BLE001 - any import failure is the finding
        return Check(
            "rclpy",
            False,
            f"import failed: {exc}",
            f"install the ROS 2 Kilted wheels: {SETUP_HINT}",
        )
    context = rclpy.Context()
    try:
        rclpy.init(context=context)
        node = rclpy.create_node("rsu_isac_doctor", context=context)
        rmw = get_rmw_implementation_identifier()
        node.destroy_node()
    except Exception as exc:  # noqa: BLE001
        return Check(
            "rclpy",
            False,
            f"cannot create a node: {exc}",
            "install ros-kilted-rmw-fastrtps-cpp and set "
            f"RMW_IMPLEMENTATION=rmw_fastrtps_cpp ({SETUP_HINT})",
        )
    finally:
        if context.ok():
            rclpy.shutdown(context=context)
    return Check("rclpy", True, f"node created on {rmw}")


def check_interfaces() -> Check:
    """The interface package imports and its type support loads."""
    workspace = find_workspace()
    where = f" in {workspace.install}" if workspace else ""
    if workspace is not None and not workspace.interfaces_built:
        return Check(
            INTERFACES_PACKAGE, False, f"not built{where}", f"build it with colcon: {SETUP_HINT}"
        )
    try:
        from rclpy.type_support import check_for_type_support

        msgs = importlib.import_module(f"{INTERFACES_PACKAGE}.msg")
        names = sorted(n for n in dir(msgs) if n[0].isupper())
        for name in names:
            check_for_type_support(getattr(msgs, name))
    except Exception as exc:  # noqa: BLE001
        return Check(
            INTERFACES_PACKAGE,
            False,
            f"cannot load{where}: {exc}",
            "run through `rsu-isac ...` (it sets up the environment) or "
            f"source install/setup.bash; if that fails, {SETUP_HINT}",
        )
    return Check(INTERFACES_PACKAGE, True, f"{len(names)} message types load{where}")


def check_torch() -> Check:
    """torch imports and is the CPU build (a CUDA build costs GBs and is not used)."""
    try:
        torch = importlib.import_module("torch")
    except Exception as exc:  # noqa: BLE001
        return Check(
            "torch",
            False,
            f"import failed: {exc}",
            f"pip install torch==2.13.0 before other packages ({SETUP_HINT})",
            required=False,
        )
    cuda = torch.version.cuda
    if cuda is not None:
        return Check(
            "torch",
            False,
            f"{torch.__version__} is a CUDA {cuda} build",
            "pip uninstall torch && pip install torch==2.13.0 (the CPU build)",
            required=False,
        )
    return Check("torch", True, f"{torch.__version__} (CPU build)", required=False)


def check_sumo() -> Check:
    """SUMO runs in-process through libsumo."""
    try:
        libsumo = importlib.import_module("libsumo")
        version = libsumo.getVersion()[1]
    except Exception as exc:  # noqa: BLE001
        return Check(
            "sumo",
            False,
            f"libsumo unavailable: {exc}",
            f"pip install eclipse-sumo libsumo sumolib ({SETUP_HINT})",
            required=False,
        )
    return Check("sumo", True, f"{version} in-process through libsumo", required=False)


def check_cvxpy() -> Check:
    """cvxpy with the Clarabel (SOCP) and SCS (SDP) solvers."""
    try:
        cvxpy = importlib.import_module("cvxpy")
    except Exception as exc:  # noqa: BLE001
        return Check(
            "cvxpy",
            False,
            f"import failed: {exc}",
            f"pip install cvxpy clarabel scs ({SETUP_HINT})",
            required=False,
        )
    installed = set(cvxpy.installed_solvers())
    missing = {"CLARABEL", "SCS"} - installed
    if missing:
        return Check(
            "cvxpy",
            False,
            f"solvers missing: {', '.join(sorted(missing))}",
            "pip install clarabel scs",
            required=False,
        )
    return Check("cvxpy", True, f"{cvxpy.__version__} with CLARABEL, SCS", required=False)


CHECKS: tuple[Callable[[], Check], ...] = (
    check_rclpy,
    check_interfaces,
    check_torch,
    check_sumo,
    check_cvxpy,
)


def run_checks() -> list[Check]:
    """Run every check, in order."""
    return [check() for check in CHECKS]


def report(checks: list[Check]) -> int:
    """Print one line per check (with the fix where one is needed); exit status."""
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    for check in checks:
        if check.ok:
            mark = "[green]OK  [/green]"
        elif check.required:
            mark = "[red]FAIL[/red]"
        else:
            mark = "[yellow]WARN[/yellow]"
        console.print(f"{mark} {check.name:<20} {check.detail}")
        if not check.ok:
            console.print(f"     fix: {check.fix}")
    failed = [c.name for c in checks if c.required and not c.ok]
    if failed:
        console.print(
            f"[red]doctor: {len(failed)} required check(s) failed: {', '.join(failed)}[/red]"
        )
        return 1
    console.print("[green]doctor: all required checks passed[/green]")
    return 0
