"""What a policy knows: the scenario's radio and geometry, and the predicted vehicles.

A policy never sees the true channel. Without pilots it estimates each vehicle's
line-of-sight channel from the RSU (core.channel.los_channel with the scenario's path-loss
model) at the position the tracker predicts for the next slot. Where the scenario has pilots
(``radio.channel.pilots``, 001's Rayleigh scenarios) a track whose vehicle's pilot the RSU
heard (the vehicle within PILOT_GATE_M of the track's prediction) carries the pilot
estimate of its channel (core.channel.estimated_channel) instead; the RSUs' measured
cross-link interference per sub-band comes with the vehicles too (core.interference).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from rsu_isac.core.channel import los_channel
from rsu_isac.core.geometry import to_polar
from rsu_isac.core.scenario import Scenario
from rsu_isac.core.tracker import COASTING, CONFIRMED

MAX_COAST_SERVE_SLOTS = 2  # default: serve a coasting track at most this many slots
PILOT_GATE_M = 5.0  # a pilot belongs to the track predicted within this distance


def servable(status: NDArray, misses: NDArray, max_coast_slots: int) -> NDArray[np.bool_]:
    """Tracks a policy serves: confirmed ones, and coasting ones missed at most
    ``max_coast_slots`` slots in a row. A longer-missed track is more often a vehicle the
    radar no longer resolves, or one that has gone, than one that needs a beam: on the
    seed004 highway (signal level, 200 slots) serving up to 0 / 1 / 2 / 4 / 10 missed slots
    gives 18.6 / 17.0 / 15.9 / 14.3 / 12.7 bit/s/Hz at 27 / 13 / 8 / 6 / 3 % of vehicles
    unserved or misaligned (genie 18.3 bit/s/Hz, every vehicle served;
    ``rsu-isac eval --scenario seed004 --slots 200 --abstraction signal --seed 0
    --max-coast-serve-slots K``)."""
    status = np.asarray(status)
    return (status == CONFIRMED) | ((status == COASTING) & (np.asarray(misses) <= max_coast_slots))


@dataclass(frozen=True)
class PredictedVehicles:
    """Vehicles as the policy sees them for the next slot (arrays over K vehicles)."""

    track_id: NDArray[np.int64]
    position_xy: NDArray[np.float64]  # (K, 2) road frame [m]
    velocity_xy: NDArray[np.float64]  # (K, 2) [m/s]
    # (K,) 004's Lambda of (37): angle Fisher information [1/rad^2] the next echo must carry
    # (core.bounds.angle_fisher_floor, from the tracker)
    angle_fisher_floor: NDArray[np.float64] | None = None
    source_rsu: NDArray[np.int64] | None = None  # (K,) RSU whose frame that angle is in
    # (R, K, N) pilot estimate of each vehicle's channel rows h_k^H [sqrt(W)], NaN where
    # no pilot was matched; None where the scenario has no pilots
    channel_estimate: NDArray[np.complex128] | None = None
    # (R, n) cross-link interference each RSU heard per sub-band in the last slot [W]
    band_interference_w: NDArray[np.float64] | None = None

    def __len__(self) -> int:
        return int(self.track_id.size)

    @staticmethod
    def empty() -> PredictedVehicles:
        return PredictedVehicles(np.zeros(0, np.int64), np.zeros((0, 2)), np.zeros((0, 2)))

    def nearest(self, count: int, rsu_xy: NDArray) -> PredictedVehicles:
        """The ``count`` vehicles nearest to any RSU of ``rsu_xy`` (R, 2) (the strongest
        channels), in their original order; all of them when there are no more."""
        if len(self) <= count:
            return self
        distance = np.linalg.norm(self.position_xy[:, None] - rsu_xy[None], axis=-1).min(axis=1)
        return self.subset(np.sort(np.argsort(distance, kind="stable")[:count]))

    def subset(self, index: NDArray) -> PredictedVehicles:
        """The vehicles at ``index`` (an index array), in that order."""
        optional = [
            None if a is None else a[index] for a in (self.angle_fisher_floor, self.source_rsu)
        ]
        estimate = None if self.channel_estimate is None else self.channel_estimate[:, index]
        return PredictedVehicles(
            self.track_id[index],
            self.position_xy[index],
            self.velocity_xy[index],
            *optional,
            estimate,
            self.band_interference_w,
        )

    def with_radio(
        self,
        heard_w: NDArray[np.float64],
        pilots: tuple[NDArray[np.float64], NDArray[np.complex128]] | None,
    ) -> PredictedVehicles:
        """These vehicles with the RSUs' heard interference ``heard_w`` (R, n) and, from
        ``pilots`` = (positions (J, 2) of the vehicles whose pilots were heard, their
        estimated rows (R, J, N)), each one's estimate: the pilot nearest its predicted
        position within PILOT_GATE_M, each pilot for at most one vehicle (nearest first)."""
        estimate = None
        if pilots is not None:
            xy, rows = pilots
            estimate = np.full((rows.shape[0], len(self), rows.shape[2]), np.nan, complex)
            if len(self) and len(xy):
                d = np.linalg.norm(self.position_xy[:, None] - xy[None], axis=-1)
                taken = np.zeros(len(xy), dtype=bool)
                for flat in np.argsort(d, axis=None, kind="stable"):
                    k, j = np.unravel_index(flat, d.shape)
                    if d[k, j] > PILOT_GATE_M:
                        break
                    if np.isnan(estimate[0, k, 0]) and not taken[j]:
                        estimate[:, k] = rows[:, j]
                        taken[j] = True
        return replace(self, channel_estimate=estimate, band_interference_w=heard_w)


@dataclass(frozen=True)
class RadioContext:
    """Per-scenario constants of every policy."""

    scenario: Scenario

    @property
    def transmitters(self) -> NDArray[np.int64]:
        """Indices of the RSUs that transmit (monostatic or transmit role)."""
        return np.array(self.scenario.transmitters())

    @property
    def rsu_xy(self) -> NDArray[np.float64]:
        """(R, 2) positions of the RSUs [m]."""
        return np.array([r.position_m for r in self.scenario.rsus], dtype=float)

    @property
    def num_antennas(self) -> int:
        return self.scenario.radio.array.num_tx_antennas

    @property
    def max_power_w(self) -> float:
        return self.scenario.radio.max_power_w

    @property
    def noise_w(self) -> float:
        return self.scenario.radio.comm_noise_w

    def polar(self, vehicles: PredictedVehicles) -> tuple[NDArray, NDArray]:
        """(theta (R, K), range (R, K)) from every RSU."""
        out = [
            to_polar(r.position_m, vehicles.position_xy, vehicles.velocity_xy)
            for r in self.scenario.rsus
        ]
        return np.array([p.theta_rad for p in out]), np.array([p.range_m for p in out])

    def channel_rows(self, vehicles: PredictedVehicles) -> NDArray[np.complex128]:
        """Estimated rows h_k^H / sigma (R, K, N): a vehicle's pilot estimate where it has
        one, else LoS with path loss at the predicted position; divided by the noise
        amplitude (unit noise, as the precoders expect)."""
        radio = self.scenario.radio
        theta, d = self.polar(vehicles)
        rows = los_channel(
            theta, radio.channel.amplitude(d), self.num_antennas, radio.array.spacing_wavelengths
        )
        if vehicles.channel_estimate is not None:
            known = np.isfinite(vehicles.channel_estimate[..., :1])
            rows = np.where(known, vehicles.channel_estimate, rows)
        return rows / np.sqrt(self.noise_w)


def random_vehicles(rng: np.random.Generator, scenario: Scenario, k: int) -> PredictedVehicles:
    """``k`` vehicles placed uniformly along the road, each on a random lane at the lane's
    mean speed: a snapshot of 004's highway (assignment comparisons, Bi-LSTM training)."""
    lanes = scenario.road.lanes
    lane = rng.integers(0, len(lanes), k)
    x = rng.uniform(scenario.road.x_min_m, scenario.road.x_max_m, k)
    y = np.array([lanes[i].y_m for i in lane])
    speed = np.array([lanes[i].direction for i in lane]) * scenario.traffic.speed.mean_mps
    return PredictedVehicles(
        np.arange(1, k + 1), np.stack([x, y], -1), np.stack([speed, np.zeros(k)], -1)
    )
