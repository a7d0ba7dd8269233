"""True channels of the simulated road and the score of the commanded beams on them.

The simulator draws each vehicle's channel from the scenario's model (line of sight with
path loss, geometric multipath with persistent scatterers, or Rayleigh fading per slot),
then evaluates the beams the RSU actually commanded: each vehicle is matched to one
communication beam (Hungarian assignment on the beam gains; one data stream per beam) and
gets the SINR of core.channel.sinr with every other beam, of every RSU, as interference;
with 001's sub-bands and neighbouring cells, per band (core.interference.band_link), the
beams of other bands not interfering and the neighbours' cross-link interference added.
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
    rayleigh_channel,
)
from rsu_isac.core.geometry import to_polar
from rsu_isac.core.interference import band_link, band_masks, scenario_band_factors
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
    # |a^H(theta_true) w|^2 of the serving beam, in [0, 1]; on a Rayleigh channel (no line of
    # sight) the share of the channel's energy it captures, |h^H w|^2 / ||h||^2
    beam_gain: NDArray[np.float64]
    misaligned: NDArray[np.bool_]
    sum_rate_bps_hz: float
    jain_fairness: float
    # per vehicle, mean over its serving beam's bands of MI and CLI over the band's noise
    # (001's interference terms; 0 for an unserved vehicle)
    mi_inr: NDArray[np.float64] | None = None
    cli_inr: NDArray[np.float64] | None = None


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
        amplitude = ch.amplitude(range_m)
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
    cli_w: NDArray[np.float64] | None = None,
) -> LinkScore:
    """Score ``beams`` on the true ``channel_rows`` (R, K, N) of ``vehicles``, with the
    cross-link interference ``cli_w`` (K, n bands) [W] at the vehicles (default none)."""
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
            empty,
            empty,
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
    config = scenario.interference
    masks = band_masks(
        np.zeros(len(beams), np.int64) if beams.band_mask is None else beams.band_mask,
        config.num_bands,
    )
    factors = scenario_band_factors(scenario)
    bands = band_link(gains, beams.powers_w, masks, noise, serving, factors, cli_w)
    rates = bands.rates_bps_hz
    # with several bands, the SINR of one band with the same rate, 2^rate - 1
    sinr_k = bands.sinr[:, 0] if config.num_bands == 1 else 2.0**rates - 1.0
    served = serving >= 0
    alignment = np.zeros(k)
    rsu_of = np.full(k, -1)
    rsu_of[served] = beams.rsu_index[serving[served]]
    rayleigh = scenario.radio.channel.model == "rayleigh"
    for r, rsu in enumerate(scenario.rsus):
        mine = np.flatnonzero(rsu_of == r)
        if mine.size and rayleigh:  # no line of sight: the share of |h|^2 the beam captures
            h = channel_rows[r, mine]
            captured = np.abs(np.sum(h * beams.weights[serving[mine]], -1)) ** 2
            alignment[mine] = captured / np.maximum(np.sum(np.abs(h) ** 2, -1), 1e-300)
        elif mine.size:
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
        mi_inr=bands.per_vehicle(bands.mi_w) / bands.noise_w,
        cli_inr=bands.per_vehicle(bands.cli_w) / bands.noise_w,
    )
