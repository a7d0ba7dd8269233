"""The policies behind one interface: predicted vehicles -> BeamSet (beams, powers, RSU of
each beam). ``create_policy(name, context, ...)`` builds one; unknown names fail with the
list of valid ones.

Each transmitting RSU serves the vehicles the assignment gives it with the policy's
precoder and keeps ``sensing_fraction`` of its power for a sensing beam that sweeps the
road (one codebook angle per slot), so that vehicles entering coverage are illuminated
and detected; with no vehicle at all it sweeps at full power.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from rsu_isac.beamforming.assignment import ASSIGNMENTS, Precoder, assign
from rsu_isac.beamforming.context import PredictedVehicles, RadioContext
from rsu_isac.beamforming.precoders import (
    FractionalProgram,
    MaxMinSocp,
    equal_power,
    mrt,
    water_filling,
    wmmse,
    zero_forcing,
)
from rsu_isac.core.array import steering_vector
from rsu_isac.core.beams import KIND_COMMUNICATION, KIND_SENSING, BeamSet

POWER_SPLITS = ("equal", "water_filling")


def static_codebook(g: NDArray, power_w: float) -> NDArray:
    """001's static baseline: the fixed DFT codebook (N orthogonal beams, uniform in
    cos(theta)); each vehicle gets the codebook beam with the largest gain, equal power."""
    n = g.shape[1]
    cos_grid = -1.0 + (2.0 * np.arange(n) + 1.0) / n
    codebook = steering_vector(np.arccos(cos_grid), n)  # (N beams, N)
    best = np.argmax(np.abs(g @ codebook.T), axis=1)
    return equal_power(codebook[best].T, power_w)


def _maxmin(cache: dict[tuple[int, int], MaxMinSocp]) -> Precoder:
    def precode(g: NDArray, power_w: float) -> NDArray:
        key = g.shape
        if key not in cache:
            cache[key] = MaxMinSocp(*key)
        return cache[key].solve(g, power_w)[0]

    return precode


def precoder_for(name: str, power_split: str) -> Precoder:
    """The per-RSU precoder of policy ``name``."""
    split = {
        "equal": lambda g, d, p: equal_power(d, p),
        "water_filling": water_filling,
    }[power_split]
    if name == "static":
        return static_codebook
    if name == "predictive_mrt":
        return lambda g, p: split(g, mrt(g), p)
    if name == "zf":
        return lambda g, p: split(g, zero_forcing(g), p)
    if name == "maxmin_socp":
        return _maxmin({})
    if name == "wmmse":
        return wmmse
    if name == "fp_pgd":
        program = FractionalProgram()
        return lambda g, p: program.solve(g, p)[0]
    raise ValueError(f"unknown policy '{name}'; valid: {', '.join(POLICIES)}")


POLICIES = ("static", "predictive_mrt", "zf", "maxmin_socp", "wmmse", "fp_pgd")


@dataclass
class Policy:
    """A named policy with its assignment method and power split."""

    name: str
    context: RadioContext
    assignment: str = "distance"
    power_split: str = "equal"
    sensing_fraction: float = 0.05
    sweep_beams: int = 16
    precoder: Callable = field(init=False)

    def __post_init__(self) -> None:
        if self.assignment not in ASSIGNMENTS:
            raise ValueError(
                f"unknown assignment '{self.assignment}'; valid: {', '.join(ASSIGNMENTS)}"
            )
        if self.power_split not in POWER_SPLITS:
            raise ValueError(
                f"unknown power split '{self.power_split}'; valid: {', '.join(POWER_SPLITS)}"
            )
        self.precoder = precoder_for(self.name, self.power_split)
        self._sweep = self._sweep_angles()

    def _sweep_angles(self) -> NDArray[np.float64]:
        """(R, S) sensing angles per RSU covering the road's span as seen from it."""
        sc = self.context.scenario
        corners = np.array(
            [(x, lane.y_m) for x in (sc.road.x_min_m, sc.road.x_max_m) for lane in sc.road.lanes]
        )
        out = []
        for rsu in sc.rsus:
            rel = corners - np.asarray(rsu.position_m)
            cos = rel[:, 0] / np.hypot(rel[:, 0], rel[:, 1])
            out.append(np.arccos(np.linspace(cos.max(), cos.min(), self.sweep_beams)))
        return np.array(out)

    def decide(self, vehicles: PredictedVehicles, slot: int) -> BeamSet:
        """Beams of the next slot for the predicted ``vehicles``."""
        ctx = self.context
        tx = ctx.transmitters
        budget = ctx.max_power_w
        weights, powers, rsu_of, kinds, tracks, angles = [], [], [], [], [], []
        if len(vehicles):
            rows = ctx.channel_rows(vehicles)
            theta, ranges = ctx.polar(vehicles)
            comm_power = budget * (1.0 - self.sensing_fraction)
            assignment = assign(self.assignment, rows, ranges, tx, self.precoder, comm_power)
            for r in tx.tolist():
                mine = np.flatnonzero(assignment == r)
                if not mine.size:
                    continue
                w = self.precoder(rows[r, mine], comm_power)  # (N, K_r)
                norms = np.linalg.norm(w, axis=0)
                weights.append((w / np.maximum(norms, 1e-300)).T)
                powers.append(norms**2)
                rsu_of.append(np.full(mine.size, r))
                kinds.append(np.full(mine.size, KIND_COMMUNICATION))
                tracks.append(vehicles.track_id[mine])
                angles.append(theta[r, mine])
        sensing = self.sensing_fraction if len(vehicles) else 1.0
        if sensing > 0:
            sweep = self._sweep[tx, slot % self.sweep_beams]
            weights.append(steering_vector(sweep, ctx.num_antennas))
            powers.append(np.full(tx.size, budget * sensing))
            rsu_of.append(tx)
            kinds.append(np.full(tx.size, KIND_SENSING))
            tracks.append(np.zeros(tx.size, np.int64))
            angles.append(sweep)
        return BeamSet(
            np.concatenate(weights).astype(complex),
            np.concatenate(powers),
            np.concatenate(rsu_of).astype(np.int64),
            np.concatenate(kinds).astype(np.int64),
            np.concatenate(tracks).astype(np.int64),
            np.concatenate(angles),
        )


def create_policy(name: str, context: RadioContext, **options) -> Policy:
    """Policy ``name`` (one of POLICIES) with options (assignment, power_split,
    sensing_fraction, sweep_beams)."""
    if name not in POLICIES:
        raise ValueError(f"unknown policy '{name}'; valid: {', '.join(POLICIES)}")
    return Policy(name, context, **options)
