"""004 Fig. 11: the root PCRB over time on 004's highway for N = 16, 32, 64 antennas, with
the measured error beside it (``rsu-isac experiment 004-rcrb``).

The closed loop of ``rsu-isac eval`` on seed004 from an empty road (measurement-level radar,
004's FP + PGD beams with the PCRB constraint (37), distance assignment) for
RUN_SLOTS slots; per RSU and window of WINDOW_SLOTS slots, core.track_metrics.
tracking_summary of the confirmed tracks: root PCRB and RMSE of the range (004's RCRB is the
range's) and angle, each track-slot's error over its own bound for 004's bound (evolution
noise E of eq. (25)) and for the bound with E = 0 (traffic that moves as the model predicts,
as seed004's does), and the share of gross errors. One run per (N, seed) is kept beside the
agents (``platform.store.agents_dir``) and read by every window's cell."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rsu_isac.core.scenario import load_named_scenario, with_antennas
from rsu_isac.core.track_metrics import ERROR_COLUMNS, tracking_summary
from rsu_isac.loop.closed_loop import EvalConfig, run_slots
from rsu_isac.platform.paths import scenarios_dir
from rsu_isac.platform.store import agents_dir, locked

RUN_SLOTS = 500  # 10 s of traffic from an empty road (004 Fig. 11's span is similar)
WINDOW_SLOTS = 50
POLICY = "fp_pgd"


def error_rows(antennas: int, seed: int, slots: int, root: Path | None = None) -> np.ndarray:
    """Rows (slot, RSU index, then core.track_metrics.tracking_errors' columns) of every
    confirmed track of the run with ``antennas`` and ``seed``; computed once and kept."""
    folder = (root or agents_dir()) / "004-rcrb" / f"{POLICY}-N{antennas}-seed{seed}"
    path = folder / f"errors-{slots}.npy"
    with locked(folder):
        if path.is_file():
            return np.load(path)
        scenario = with_antennas(load_named_scenario("seed004", scenarios_dir()), antennas)
        config = EvalConfig(
            policy=POLICY, abstraction="measurement", slots=slots, seed=seed, genie=False
        )
        _, records = run_slots(scenario, config)
        names = [rsu.name for rsu in scenario.rsus]
        rows = [
            np.column_stack([np.full(len(e), n), np.full(len(e), names.index(rsu)), e])
            for n, record in enumerate(records)
            for rsu, e in record["errors"].items()
        ]
        out = np.concatenate(rows) if rows else np.zeros((0, 2 + ERROR_COLUMNS))
        np.save(path, out)
        return out


def window_cell(antennas: int, rsu: str, start_slot: int, seed: int, quick: bool) -> dict:
    """core.track_metrics.tracking_summary of RSU ``rsu``'s confirmed tracks in slots
    [start, start + window)."""
    slots, window = (20, 10) if quick else (RUN_SLOTS, WINDOW_SLOTS)
    rows = error_rows(antennas, seed, slots)
    index = [r.name for r in load_named_scenario("seed004", scenarios_dir()).rsus].index(rsu)
    mine = (rows[:, 1] == index) & (rows[:, 0] >= start_slot) & (rows[:, 0] < start_slot + window)
    return tracking_summary(rows[mine, 2:])
