"""True channels of the simulated road and the score of the commanded beams on them.

The simulator draws each vehicle's channel from the scenario's model (line of sight with
path loss, geometric multipath with persistent scatterers, or Rayleigh fading per slot),
then evaluates the beams the RSU actually commanded: each vehicle is matched to one
communication beam (Hungarian assignment on the beam gains; one data stream per beam) and
gets the SINR of core.channel.sinr with every other beam, of every RSU, as interference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from rsu_isac.core.array import steering_vector
from rsu_isac.core.beams import KIND_COMMUNICATION, BeamSet
from rsu_isac.core.channel import (
    beam_gains,
    jain_fairness,
    los_channel,
    multipath_channel,
    pathloss_amplitude,
    rate_bps_hz,
    rayleigh_channel,
    sinr,
)
from rsu_isac.core.geometry import to_polar
from rsu_isac.core.scenario import Scenario
from rsu_isac.core.units import SPEED_OF_LIGHT_MPS, db_to_linear
from rsu_isac.sim.traffic import VehicleStates

NLOS_ANGLE_SPREAD_RAD = np.radians(30.0)
NLOS_EXTRA_PATH_M = (5.0, 60.0)


@dataclass(frozen=True)
class LinkScore:
    """Per-vehicle link quality of one slot on the true channel."""

    vehicle_id: NDArray[np.int64]
    beam_index: NDArray[np.int64]  # serving beam, -1 if none
    rsu_index: NDArray[np.int64]  # serving RSU, -1 if none
    sinr: NDArray[np.float64]  # linear
    rate_bps_hz: NDArray[np.float64]
    beam_gain: NDArray[np.float64]  # |a^H(theta_true) w|^2 of the serving beam, in [0, 1]
    misaligned: NDArray[np.bool_]
    sum_rate_bps_hz: float
    jain_fairness: float


class ChannelModel:
    """Draws the true channel rows h_k^H of every vehicle from every RSU."""

    def __init__(self, scenario: Scenario, rng: np.random.Generator) -> None:
        self.scenario = scenario
        self._rng = rng
        self._scatterers: dict[int, tuple[NDArray, NDArray, NDArray]] = {}

    def rows(self, vehicles: VehicleStates) -> NDArray[np.complex128]:
        """(R, K, N) channel rows for the R RSUs and K vehicles."""
        radio = self.scenario.radio
        n = radio.array.num_tx_antennas
        out = np.empty((len(self.scenario.rsus), len(vehicles), n), dtype=complex)
        for r, rsu in enumerate(self.scenario.rsus):
            polar = to_polar(rsu.position_m, vehicles.position_xy, vehicles.velocity_xy)
            out[r] = self._rows_from(polar.theta_rad, polar.range_m, vehicles.vehicle_id, r)
        return out

    def _rows_from(self, theta, range_m, ids, rsu: int) -> NDArray[np.complex128]:
        radio = self.scenario.radio
        ch = radio.channel
        n, spacing = radio.array.num_tx_antennas, radio.array.spacing_wavelengths
        amplitude = pathloss_amplitude(
            range_m, ch.reference_gain_db, ch.reference_distance_m, ch.pathloss_exponent
        )
        if ch.model == "los_pathloss":
            return los_channel(theta, amplitude, n, spacing)
        if ch.model == "rayleigh":
            return rayleigh_channel(self._rng, amplitude, n)
        gains, delays, angles = self._multipath_paths(theta, range_m, amplitude, ids, rsu)
        return multipath_channel(gains, delays, angles, radio.carrier_frequency_hz, n, spacing)

    def _multipath_paths(self, theta, range_m, amplitude, ids, rsu: int):
        """LoS plus num_paths-1 scattered paths whose angle offsets, extra lengths and phases
        stay with the vehicle (drawn when it is first seen by this RSU)."""
        ch = self.scenario.radio.channel
        extra = ch.num_paths - 1
        offsets = np.empty((ids.size, extra))
        lengths = np.empty((ids.size, extra))
        phases = np.empty((ids.size, extra))
        for i, vid in enumerate(ids.tolist()):
            key = vid * 64 + rsu
            if key not in self._scatterers:
                self._scatterers[key] = (
                    self._rng.uniform(-NLOS_ANGLE_SPREAD_RAD, NLOS_ANGLE_SPREAD_RAD, extra),
                    self._rng.uniform(*NLOS_EXTRA_PATH_M, extra),
                    self._rng.uniform(0, 2 * np.pi, extra),
                )
            offsets[i], lengths[i], phases[i] = self._scatterers[key]
        nlos = np.sqrt(db_to_linear(ch.nlos_power_ratio_db))
        gains = np.column_stack([amplitude, nlos * amplitude[:, None] * np.exp(1j * phases)])
        delays = np.column_stack([range_m, range_m[:, None] + lengths]) / SPEED_OF_LIGHT_MPS
        angles = np.column_stack([theta, np.clip(theta[:, None] + offsets, 0.0, np.pi)])
        return gains, delays, angles


def score_link(
    scenario: Scenario,
    vehicles: VehicleStates,
    channel_rows: NDArray[np.complex128],
    beams: BeamSet,
    misalignment_gain: float,
) -> LinkScore:
    """Score ``beams`` on the true ``channel_rows`` (R, K, N) of ``vehicles``."""
    k = len(vehicles)
    noise = scenario.radio.comm_noise_w
    if k == 0:
        empty = np.zeros(0)
        return LinkScore(
            np.zeros(0, int),
            np.zeros(0, int),
            np.zeros(0, int),
            empty,
            empty,
            empty,
            np.zeros(0, bool),
            0.0,
            1.0,
        )
    # gains[k, b] = |h_{rsu_b, k}^H w_b|^2
    gains = np.empty((k, len(beams)))
    for r in np.unique(beams.rsu_index):
        cols = np.flatnonzero(beams.rsu_index == r)
        gains[:, cols] = beam_gains(channel_rows[r], beams.weights[cols].T)
    serving = np.full(k, -1)
    comm = np.flatnonzero(beams.kind == KIND_COMMUNICATION)
    if comm.size:
        utility = np.log(gains[:, comm] * beams.powers_w[comm] + 1e-300)
        rows, cols = linear_sum_assignment(utility, maximize=True)
        serving[rows] = comm[cols]
    sinr_k = sinr(gains, beams.powers_w, noise, serving)
    rates = rate_bps_hz(sinr_k)
    served = serving >= 0
    alignment = np.zeros(k)
    rsu_of = np.full(k, -1)
    rsu_of[served] = beams.rsu_index[serving[served]]
    for r, rsu in enumerate(scenario.rsus):
        mine = np.flatnonzero(rsu_of == r)
        if mine.size:
            polar = to_polar(rsu.position_m, vehicles.position_xy[mine], vehicles.velocity_xy[mine])
            a = steering_vector(
                polar.theta_rad, beams.weights.shape[1], scenario.radio.array.spacing_wavelengths
            )
            alignment[mine] = np.abs(np.sum(a.conj() * beams.weights[serving[mine]], -1)) ** 2
    return LinkScore(
        vehicle_id=vehicles.vehicle_id.copy(),
        beam_index=serving,
        rsu_index=rsu_of,
        sinr=sinr_k,
        rate_bps_hz=rates,
        beam_gain=alignment,
        misaligned=~served | (alignment < misalignment_gain),
        sum_rate_bps_hz=float(rates.sum()),
        jain_fairness=jain_fairness(rates),
    )
