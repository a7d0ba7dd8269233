"""``rsu-isac bench graph``: the ROS graph in lockstep as fast as it goes (real_time_factor
0), one process per node as ``rsu-isac sim`` starts it, for the cases of the real-time
issue; per case the steady-state slots per second (and real-time factor), the loop latency
from the echo leaving traffic_sim to the next command reaching it (p50 / p99), and each
node's time per slot (p50 / p99) split into compute (the core's share) and the rest
(message conversion, checks, publishing). Printed, never asserted: the numbers depend on
the machine and its load."""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from rsu_isac.core.scenario import load_named_scenario, load_scenario
from rsu_isac.platform.machine import machine_description
from rsu_isac.platform.paths import scenarios_dir
from rsu_isac.runtime.bringup import run_graph
from rsu_isac.runtime.graph import GraphOptions

DENSE_VEHICLES = 50  # the K = 50, N = 64 case: the urban scenario holding 50 vehicles
DENSE_SPACING_M = 12.0  # a car every 12 m per lane
GOAL_SLOTS_PER_S = 50.0  # the real-time issue's goal for every case: one slot per 20 ms


@dataclass(frozen=True)
class GraphCase:
    name: str
    scenario: str  # a scenario name, or DENSE for the generated K = 50 one
    abstraction: str


CASES = (
    GraphCase("seed000, signal level (K = 3, N = 32)", "seed000", "signal"),
    GraphCase("seed004, measurement level (K ~ 19, N = 32, 2 RSUs)", "seed004", "measurement"),
    GraphCase(
        f"urban, {DENSE_VEHICLES} vehicles, measurement level (N = 64)", "DENSE", "measurement"
    ),
)


def dense_scenario(folder: Path) -> Path:
    """The urban scenario stretched to hold DENSE_VEHICLES vehicles from the first slot on,
    evenly spaced over its four lanes, written as ``urban_dense.yaml`` into ``folder``."""
    spec = yaml.safe_load((scenarios_dir() / "urban.yaml").read_text())
    lanes = len(spec["road"]["lanes"])
    per_lane = math.ceil(DENSE_VEHICLES / lanes)
    length = per_lane * DENSE_SPACING_M
    spec["name"] = "urban_dense"
    spec["road"]["x_min_m"], spec["road"]["x_max_m"] = -length / 2, length / 2
    spec["traffic"]["initial_vehicles"] = [
        {
            "x_m": -length / 2 + DENSE_SPACING_M * (i // lanes + 0.5),
            "lane": i % lanes,
            "vehicle_class": "car",
        }
        for i in range(DENSE_VEHICLES)
    ]
    path = folder / "urban_dense.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def run_case(case: GraphCase, duration_s: float, folder: Path) -> dict[str, object]:
    """One lockstep run of ``case``; the row of the table (and the run's report)."""
    if case.scenario == "DENSE":
        arg = str(dense_scenario(folder))
        scenario = load_scenario(Path(arg))
    else:
        arg, scenario = case.scenario, load_named_scenario(case.scenario, scenarios_dir())
    options = GraphOptions(
        scenario=scenario,
        scenario_arg=arg,
        abstraction=case.abstraction,
        duration_s=duration_s,
        camera_period_slots=0,
    )
    out = folder / scenario.name
    summary = run_graph(options, out, {"case": case.name})
    rate = summary.get("steady_slots_per_s", math.nan)
    latency = summary.get("node_latency_ms", {})
    loop = latency.get("/traffic_sim", {})
    return {
        "case": case.name,
        "status": summary["status"] if summary["valid"] else "invalid",
        "slots_per_s": rate,
        "real_time_factor": rate * scenario.slot_s,
        "goal_slots_per_s": GOAL_SLOTS_PER_S,
        "loop_ms_p50": loop.get("loop_p50", math.nan),
        "loop_ms_p99": loop.get("loop_p99", math.nan),
        "nodes": latency,
        "slots": summary["slots_scored"],
    }


def run_cases(duration_s: float) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="rsu_isac_bench_graph_") as tmp:
        return [run_case(case, duration_s, Path(tmp)) for case in CASES]


def print_rows(rows: list[dict[str, object]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=True, width=200)
    summary = Table(title=f"rsu-isac bench graph ({machine_description()})")
    for column in ("case", "slots/s", "x real time", "echo -> command p50 / p99 ms", "goal"):
        summary.add_column(column)
    for r in rows:
        summary.add_row(
            f"{r['case']} [{r['status']}]",
            f"{r['slots_per_s']:.1f}",
            f"{r['real_time_factor']:.2f}",
            f"{r['loop_ms_p50']:.1f} / {r['loop_ms_p99']:.1f}",
            f">= {r['goal_slots_per_s']:g} slots/s, p99 <= 20 ms",
        )
    console.print(summary)
    nodes = Table(
        title="per node and slot, ms (p50 / p99): all = compute + conversion and publishing"
    )
    for column in ("case", "node", "all", "compute", "slowest share"):
        nodes.add_column(column)
    for r in rows:
        for node, t in r["nodes"].items():
            compute = t.get("compute_p50", math.nan)
            nodes.add_row(
                r["case"].split(",")[0],
                node,
                f"{t['p50']:.2f} / {t['p99']:.2f}",
                f"{compute:.2f} / {t.get('compute_p99', math.nan):.2f}",
                "compute" if compute >= t["p50"] - compute else "conversion",
            )
    console.print(nodes)


def to_json(rows: list[dict[str, object]]) -> str:
    return json.dumps({"machine": machine_description(), "cases": rows}, indent=2)
