"""The neighbouring co-channel cells of a scenario (``interference.neighbours``): which
sub-bands each one occupies slot by slot, and the cross-link interference (CLI, 001 eq.
(15), (21)) its downlink puts on the road and on the RSUs' receivers.

Each cell's bands are independent two-state Markov chains (busy / idle) with stationary busy
share ``band_load`` and ``persistence`` the probability of keeping the state into the next
slot, so that what an RSU heard in the last slot predicts the next one. A busy band carries
P_j / n of the cell's power; at a point at distance d it arrives with the scenario's path
loss alpha^2(d), the band's gain factor (core.interference) and, at a vehicle, a Rayleigh
power |g|^2 ~ Exp(1) per slot (a beam aimed elsewhere through a fading channel).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from rsu_isac.core.interference import scenario_band_factors
from rsu_isac.core.scenario import Scenario
from rsu_isac.core.units import dbm_to_watt


class NeighbourCells:
    """Band occupancy and CLI of the scenario's neighbouring cells (module docstring)."""

    def __init__(self, scenario: Scenario, rng: np.random.Generator) -> None:
        config = scenario.interference
        self.scenario = scenario
        self._rng = rng
        self.num_bands = config.num_bands
        cells = config.neighbours
        self.position_xy = np.array([c.position_m for c in cells], dtype=float).reshape(-1, 2)
        self.band_power_w = np.array(
            [float(dbm_to_watt(c.power_dbm)) / config.num_bands for c in cells]
        )
        self.load = np.array([c.band_load for c in cells])
        self.stay = np.array([c.persistence for c in cells])
        self.factors = scenario_band_factors(scenario)
        self.busy = rng.random((len(cells), self.num_bands)) < self.load[:, None]

    def step(self) -> None:
        """Advance every band's chain one slot."""
        if not len(self.load):
            return
        load, stay = self.load[:, None], self.stay[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            rise = np.where(load < 1.0, load * (1.0 - stay) / (1.0 - load), 1.0)
        keep = np.where(load >= 1.0, 1.0, stay)
        draw = self._rng.random(self.busy.shape)
        self.busy = np.where(self.busy, draw < keep, draw < rise)

    def _mean_power_w(self, points_xy: NDArray) -> NDArray[np.float64]:
        """(J, P, n) mean power of each cell at each point per band [W]."""
        ch = self.scenario.radio.channel
        d = np.linalg.norm(self.position_xy[:, None, :] - points_xy[None, :, :], axis=-1)
        gain = ch.amplitude(np.maximum(d, ch.reference_distance_m)) ** 2
        on = self.busy * self.band_power_w[:, None] * self.factors[None, :]  # (J, n)
        return gain[:, :, None] * on[:, None, :]

    def at_vehicles(self, position_xy: NDArray) -> NDArray[np.float64]:
        """(K, n) CLI at each vehicle per band this slot [W] (with its Rayleigh draws)."""
        xy = np.asarray(position_xy, dtype=float).reshape(-1, 2)
        if not len(self.load):
            return np.zeros((len(xy), self.num_bands))
        fading = self._rng.exponential(1.0, (len(self.load), len(xy), 1))
        return np.sum(self._mean_power_w(xy) * fading, axis=0)

    def at_receivers(self, rsu_xy: NDArray) -> NDArray[np.float64]:
        """(R, n) mean CLI each RSU's receiver hears per band this slot [W] (what it can
        measure of the neighbours' occupancy)."""
        xy = np.asarray(rsu_xy, dtype=float).reshape(-1, 2)
        if not len(self.load):
            return np.zeros((len(xy), self.num_bands))
        return np.sum(self._mean_power_w(xy), axis=0)
