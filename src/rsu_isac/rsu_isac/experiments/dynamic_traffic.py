"""004 Figs. 9-10: the schemes on traffic that fills seed004's highway from an empty road
(``rsu-isac experiment 004-dynamic-traffic``).

The embedded simulator runs RUN_S of Poisson traffic at the given arrival rate per
direction from an empty road; every SNAPSHOT_S the vehicles on the road are handed, known
exactly, to every scheme of ``experiments.assignment.decisions`` (distance, greedy and
heuristic assignments with FP + PGD beams, and the Bi-LSTM): total throughput (the sum over
the vehicles of log2(1 + SINR)) per scheme. Decisions are taken on snapshots rather than in
the closed loop of every 20 ms slot: the heuristic costs seconds per decision at K = 50 on
this machine (``004-throughput-vs-k``), 2,000 slots would take hours per run, and on this
highway the tracks' errors (1e-5 rad, 2 cm: docs/tracking.md) are far below what moves a
decision. One run per (rate, seed) is kept beside the agents and read by every time's cell.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from rsu_isac.beamforming.assignment import ASSIGNMENTS
from rsu_isac.beamforming.context import PredictedVehicles
from rsu_isac.core.scenario import Scenario
from rsu_isac.experiments.assignment import decisions
from rsu_isac.platform.store import agents_dir, locked
from rsu_isac.sim.traffic import create_engine

RUN_S = 40.0  # 004 Figs. 9-10
SNAPSHOT_S = 1.0
SCHEMES = (*ASSIGNMENTS, "bilstm")


def with_arrival_rate(scenario: Scenario, rate_per_lane_per_s: float) -> Scenario:
    """``scenario`` with Poisson arrivals at ``rate_per_lane_per_s`` in every lane and an
    empty road at the start."""
    traffic = replace(
        scenario.traffic, arrival_rate_per_lane_per_s=rate_per_lane_per_s, initial_vehicles=()
    )
    return replace(scenario, traffic=traffic)


def throughput_series(
    scenario: Scenario, rate: float, seed: int, bilstm, quick: bool, root: Path | None = None
) -> np.ndarray:
    """Rows (time [s], vehicles, total throughput [bit/s/Hz] of every scheme of SCHEMES) of
    the run with arrival ``rate`` per direction and ``seed``; computed once and kept
    (``quick``: 4 s with a snapshot every 2 s, no heuristic)."""
    run_s, every_s = (4.0, 2.0) if quick else (RUN_S, SNAPSHOT_S)
    name = f"rate{rate:g}-seed{seed}-{run_s:g}s" + ("-quick" if quick else "")
    folder = (root or agents_dir()) / "004-dynamic-traffic" / name
    path = folder / "throughput.npy"
    with locked(folder):
        if path.is_file():
            return np.load(path)
        traffic = with_arrival_rate(scenario, rate)
        engine = create_engine(traffic, "embedded", seed)
        slots_per_snapshot = round(every_s / scenario.slot_s)
        schemes = tuple(s for s in ASSIGNMENTS if not (quick and s == "heuristic"))
        rows = []
        try:
            for n in range(1, round(run_s / every_s) + 1):
                for _ in range(slots_per_snapshot):
                    engine.step()
                truth = engine.vehicles()
                k = len(truth)
                totals = dict.fromkeys(SCHEMES, np.nan if k else 0.0)
                if k:
                    vehicles = PredictedVehicles(
                        truth.vehicle_id, truth.position_xy, truth.velocity_xy
                    )
                    result = decisions(traffic, vehicles, schemes, bilstm)
                    totals |= {
                        s: rate_per_vehicle * k for s, (rate_per_vehicle, _) in result.items()
                    }
                rows.append([n * every_s, k, *totals.values()])
        finally:
            engine.close()
        out = np.array(rows)
        np.save(path, out)
        return out
