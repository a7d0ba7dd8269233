"""Vehicle-to-RSU assignment compared in the 004 setting (``rsu-isac assignment``): K
vehicles placed uniformly on seed004's two-way highway, both RSUs precoding their vehicles
with the same precoder, per-vehicle throughput log2(1 + SINR) with every beam of both RSUs
interfering (004's Fig. 7/8 compare the same three assignments, with their FP beamformer).
The channel is the scenario's line of sight, known exactly here: the comparison isolates
the assignment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rsu_isac.beamforming.assignment import ASSIGNMENTS, assign, precode_all, system_sinr
from rsu_isac.beamforming.context import RadioContext, random_vehicles
from rsu_isac.beamforming.policies import precoder_for
from rsu_isac.core.scenario import Scenario


@dataclass(frozen=True)
class AssignmentRow:
    num_vehicles: int
    method: str
    per_vehicle_rate_bps_hz: float  # mean over seeds of the mean rate per vehicle
    std_over_seeds: float
    seeds: int


def compare(
    scenario: Scenario, num_vehicles: int, seeds: int, precoder: str = "fp_pgd", seed: int = 0
) -> list[AssignmentRow]:
    context = RadioContext(scenario)
    precode = precoder_for(precoder, "equal")
    rates = {m: [] for m in ASSIGNMENTS}
    for s in np.random.SeedSequence(seed).spawn(seeds):
        vehicles = random_vehicles(np.random.default_rng(s), scenario, num_vehicles)
        rows = context.channel_rows(vehicles)
        theta, ranges = context.polar(vehicles)
        tx = context.transmitters
        for method in ASSIGNMENTS:
            assignment = assign(method, rows, theta, ranges, tx, precode, context.max_power_w)
            placed = precode_all(rows, assignment, tx, precode, context.max_power_w)
            rates[method].append(
                float(np.mean(np.log2(1.0 + system_sinr(rows, assignment, placed))))
            )
    return [
        AssignmentRow(num_vehicles, m, float(np.mean(r)), float(np.std(r)), seeds)
        for m, r in rates.items()
    ]
