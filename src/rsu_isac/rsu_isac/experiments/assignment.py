"""004's schemes side by side (``rsu-isac experiment 004-throughput-vs-k``, 004 Fig. 7 and
the complexity claim of Sec. VI-C): K vehicles placed uniformly on seed004's two-way highway
(``beamforming.context.random_vehicles``), both RSUs serving them with the power the
policies give communication; per-vehicle throughput log2(1 + SINR) with every beam of both
RSUs interfering, and the wall time of each scheme's decision on this machine.

Schemes: the distance, greedy (Algorithm 2) and heuristic (Algorithm 3) assignments, each
with FP + PGD beams, and the Bi-LSTM of ``learning.bilstm`` (assignment and beams from the
networks; its rate and time the means over the networks of the training seeds given).
The channel is the scenario's line of sight, known exactly here: the comparison isolates
the decision."""

from __future__ import annotations

import time
from functools import partial

import numpy as np

from rsu_isac.beamforming.assignment import ASSIGNMENTS, assign, precode_all, system_sinr
from rsu_isac.beamforming.context import PredictedVehicles, RadioContext, random_vehicles
from rsu_isac.beamforming.policies import Policy, precoder_for
from rsu_isac.core.scenario import Scenario


def decisions(
    scenario: Scenario, vehicles: PredictedVehicles, schemes=ASSIGNMENTS, bilstm=()
) -> dict[str, tuple[float, float]]:
    """Per scheme (and ``bilstm`` if networks (``learning.bilstm.BilstmNets``) are given):
    (mean throughput per vehicle [bit/s/Hz], decision time [ms]) for ``vehicles``, known
    exactly."""
    context = RadioContext(scenario)
    rows = context.channel_rows(vehicles)
    theta, ranges = context.polar(vehicles)
    power = context.max_power_w * (1.0 - Policy.sensing_fraction)
    deciders = {
        scheme: partial(_fp_pgd_decision, scheme, rows, theta, ranges, context.transmitters, power)
        for scheme in schemes
    }
    if bilstm:
        from rsu_isac.learning.bilstm import decide

        deciders |= {
            f"bilstm{i}": partial(decide, nets, context, vehicles, rows, power)
            for i, nets in enumerate(bilstm)
        }
    out = {}
    for name, decider in deciders.items():
        started = time.perf_counter()
        assignment, placed = decider()
        spent_ms = (time.perf_counter() - started) * 1e3
        out[name] = (float(np.mean(np.log2(1.0 + system_sinr(rows, assignment, placed)))), spent_ms)
    if bilstm:
        runs = [out.pop(f"bilstm{i}") for i in range(len(bilstm))]
        out["bilstm"] = tuple(np.mean(runs, axis=0).tolist())
    return out


def _fp_pgd_decision(scheme: str, rows, theta, ranges, tx, power_w: float):
    """(assignment, {RSU: beams}) of assignment ``scheme`` with FP + PGD beams."""
    precoder = precoder_for("fp_pgd", "equal")
    assignment = assign(scheme, rows, theta, ranges, tx, precoder, power_w)
    return assignment, precode_all(rows, assignment, tx, precoder, power_w)


def placement(
    scenario: Scenario, num_vehicles: int, seed: int, schemes=ASSIGNMENTS, bilstm=()
) -> dict[str, tuple[float, float]]:
    """:func:`decisions` for ``num_vehicles`` vehicles placed with ``seed``."""
    vehicles = random_vehicles(np.random.default_rng(seed), scenario, num_vehicles)
    return decisions(scenario, vehicles, schemes, bilstm)
