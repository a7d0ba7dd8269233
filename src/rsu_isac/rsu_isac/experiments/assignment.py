"""004's schemes side by side (``rsu-isac experiment 004-throughput-vs-k``, 004 Fig. 7 and
the complexity claim of Sec. VI-C): K vehicles placed uniformly on seed004's two-way highway
(``beamforming.context.random_vehicles``), both RSUs serving them with the power the
policies give communication; per-vehicle throughput log2(1 + SINR) with every beam of both
RSUs interfering, and the wall time of each scheme's decision on this machine.

Schemes: the distance, greedy (Algorithm 2) and heuristic (Algorithm 3) assignments, each
with FP + PGD beams (the Bi-LSTM of ``learning.bilstm`` joins once its checkpoint ships).
The channel is the scenario's line of sight, known exactly here: the comparison isolates
the decision."""

from __future__ import annotations

import time

import numpy as np

from rsu_isac.beamforming.assignment import ASSIGNMENTS, assign, precode_all, system_sinr
from rsu_isac.beamforming.context import RadioContext, random_vehicles
from rsu_isac.beamforming.policies import Policy, precoder_for
from rsu_isac.core.scenario import Scenario


def placement(
    scenario: Scenario, num_vehicles: int, seed: int, schemes=ASSIGNMENTS
) -> dict[str, tuple[float, float]]:
    """Per scheme: (mean throughput per vehicle [bit/s/Hz], decision time [ms]) on the
    placement drawn with ``seed``."""
    context = RadioContext(scenario)
    precoder = precoder_for("fp_pgd", "equal")
    vehicles = random_vehicles(np.random.default_rng(seed), scenario, num_vehicles)
    rows = context.channel_rows(vehicles)
    theta, ranges = context.polar(vehicles)
    tx = context.transmitters
    power = context.max_power_w * (1.0 - Policy.sensing_fraction)
    out = {}
    for scheme in schemes:
        started = time.perf_counter()
        assignment = assign(scheme, rows, theta, ranges, tx, precoder, power)
        placed = precode_all(rows, assignment, tx, precoder, power)
        spent_ms = (time.perf_counter() - started) * 1e3
        rate = float(np.mean(np.log2(1.0 + system_sinr(rows, assignment, placed))))
        out[scheme] = (rate, spent_ms)
    return out
