"""Radar echo synthesis with the beams the RSU actually commanded (closed loop).

Two abstractions (docs/architecture.md):

* signal level: the OFDM ISAC frame per receive antenna, frequency domain,
  Y[m, l, n] = sum_k c_k b_m(theta_rx,k) exp(-j 2 pi n df tau_k) exp(j 2 pi mu_k l T) s[l, n]
               + z[m, l, n],
  with c_k = sqrt(N_t N_r) beta_k a^H(theta_tx,k) x, x = sum_b sqrt(p_b) w_b the composite
  transmit beam (000 eq. (2), 004 eq. (3)) and s a known QPSK reference common to the beams;
  targets are the vehicles and the scenario's clutter patches (002).
* measurement level: the papers' noisy (delay, Doppler, angle) of each vehicle with the
  echo SINR of 000 eq. (7), variances eq. (8)-(9) and the angle CRLB eq. (15).

Bistatic geometry (002's transmit and receive RSUs) generalises the monostatic one: delay
(d_tx + d_rx) / c, Doppler (v_r,tx + v_r,rx) f_c / c, reflection kappa / (d_tx + d_rx).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from rsu_isac.core.array import steering_vector
from rsu_isac.core.bounds import crlb_angle_covariance_rad2, crlb_angle_rad2
from rsu_isac.core.geometry import echo_polar, to_polar
from rsu_isac.core.interference import sensing_disturbance_w
from rsu_isac.core.radar import (
    doppler_shift_hz,
    echo_complex_gain,
    echo_sinr,
    radial_velocity_from_doppler_mps,
    radial_velocity_variance_m2ps2,
    range_from_delay_m,
    range_variance_m2,
    reflection_coefficient,
    round_trip_delay_s,
    variance_from_sinr,
)
from rsu_isac.core.radar_dsp import Detections
from rsu_isac.core.scenario import Scenario
from rsu_isac.core.units import linear_to_db


@dataclass(frozen=True)
class Targets:
    """Point reflectors seen by one transmit/receive RSU pair."""

    theta_tx_rad: NDArray[np.float64]
    theta_rx_rad: NDArray[np.float64]
    delay_s: NDArray[np.float64]
    doppler_hz: NDArray[np.float64]
    reflection: NDArray[np.complex128]  # beta_k

    @staticmethod
    def build(scenario: Scenario, tx_xy, rx_xy, positions, velocities, kappa) -> Targets:
        """Geometry of reflectors at ``positions`` (K, 2) moving at ``velocities`` (K, 2) with
        fading factors ``kappa`` (K,)."""
        tx = to_polar(tx_xy, positions, velocities)
        echo = echo_polar(rx_xy, tx_xy, positions, velocities)  # half the path, its rate
        fc = scenario.radio.carrier_frequency_hz
        return Targets(
            theta_tx_rad=tx.theta_rad,
            theta_rx_rad=echo.theta_rad,
            delay_s=round_trip_delay_s(echo.range_m),
            doppler_hz=doppler_shift_hz(echo.radial_velocity_mps, fc),
            reflection=reflection_coefficient(1.0, echo.range_m) * np.asarray(kappa, dtype=complex),
        )


@dataclass(frozen=True)
class OfdmFrame:
    samples: NDArray[np.complex64]  # (N_r, L, N_sc)
    tx_symbols: NDArray[np.complex64]  # (L, N_sc)


QPSK = np.exp(1j * (np.pi / 4 + np.pi / 2 * np.arange(4))).astype(np.complex64)


def qpsk(rng: np.random.Generator, shape: tuple[int, ...]) -> NDArray[np.complex64]:
    """Unit-modulus QPSK symbols."""
    return QPSK[rng.integers(0, 4, size=shape)]


@dataclass(frozen=True)
class OfdmDraws:
    """The random part of one OFDM echo: the known symbols and the receiver noise (scaled
    to the sensing noise power), independent of the beams, so drawn ahead of them."""

    symbols: NDArray[np.complex64]  # (L, N_sc)
    noise: NDArray[np.complex64]  # (N_r, L, N_sc)

    @staticmethod
    def draw(rng: np.random.Generator, scenario: Scenario) -> OfdmDraws:
        """Symbols, then noise, from ``rng`` (the order the echo has always drawn them)."""
        wf, radio = scenario.radar.waveform, scenario.radio
        shape = (radio.array.num_rx_antennas, wf.num_symbols, wf.num_subcarriers)
        symbols = qpsk(rng, shape[1:])
        noise = rng.standard_normal((*shape, 2), dtype=np.float32).view(np.complex64)[..., 0]
        return OfdmDraws(symbols, np.float32(np.sqrt(radio.sensing_noise_w / 2.0)) * noise)


def synthesize_ofdm_echo(
    rng: np.random.Generator,
    scenario: Scenario,
    targets: Targets,
    weights: NDArray[np.complex128],
    powers_w: NDArray[np.float64],
    draws: OfdmDraws | None = None,
) -> OfdmFrame:
    """Signal-level echo (see the module docstring) for beams ``weights`` (B, N_t), with
    ``draws`` drawn ahead (default: now, from ``rng``)."""
    radio, wf = scenario.radio, scenario.radar.waveform
    nt, nr = radio.array.num_tx_antennas, radio.array.num_rx_antennas
    spacing = radio.array.spacing_wavelengths
    composite = weights.T @ np.sqrt(powers_w) if len(powers_w) else np.zeros(nt, complex)
    illumination = steering_vector(targets.theta_tx_rad, nt, spacing).conj() @ composite
    amplitude = np.sqrt(nt * nr) * targets.reflection * illumination  # c_k
    n = np.arange(wf.num_subcarriers)
    l_idx = np.arange(wf.num_symbols)
    delay = np.exp(-2j * np.pi * wf.subcarrier_spacing_hz * np.outer(targets.delay_s, n))
    doppler = np.exp(2j * np.pi * wf.symbol_interval_s * np.outer(targets.doppler_hz, l_idx))
    delay, doppler = delay.astype(np.complex64), doppler.astype(np.complex64)
    b = (steering_vector(targets.theta_rx_rad, nr, spacing) * amplitude[:, None]).astype(
        np.complex64
    )  # (K, N_r)
    slow_fast = doppler[:, :, None] * delay[:, None, :]  # (K, L, N_sc)
    clean = np.tensordot(b, slow_fast, axes=(0, 0))  # (N_r, L, N_sc): sum over targets
    if draws is None:
        draws = OfdmDraws.draw(rng, scenario)
    clean *= draws.symbols
    clean += draws.noise
    return OfdmFrame(clean, draws.symbols)


@dataclass(frozen=True)
class Measurements:
    """Measurement-level detections of one RSU: the same estimates a radar processor
    reports, plus which vehicle (simulator side only) and which beam each one is."""

    detections: Detections
    vehicle_index: NDArray[np.int64]  # into the vehicles given
    beam_index: NDArray[np.int64]  # illuminating beam


@dataclass(frozen=True)
class EchoBounds:
    """Per vehicle: the beam that illuminates it, its echo's post-processing SNR and the
    measurement variances of delay and Doppler (000 eq. (8)-(9)) and angle (CRLB, eq. (15))."""

    beam_index: NDArray[np.int64]
    snr_db: NDArray[np.float64]
    delay_variance_s2: NDArray[np.float64]
    doppler_variance_hz2: NDArray[np.float64]
    angle_variance_rad2: NDArray[np.float64]

    @property
    def range_variance_m2(self) -> NDArray[np.float64]:
        """CRLB of the range, 000 eq. (16)."""
        return range_variance_m2(self.delay_variance_s2)


def echo_bounds(
    scenario: Scenario,
    targets: Targets,
    weights: NDArray[np.complex128],
    powers_w: NDArray[np.float64],
) -> EchoBounds:
    """:class:`EchoBounds` of ``targets`` under beams ``weights`` (B, N_t) with at least one
    beam. Each vehicle is illuminated by the beam with the largest p_b |a^H(theta) w_b|^2;
    SINR by 000 eq. (7) with the other beams' echoes as interference."""
    radio, radar = scenario.radio, scenario.radar
    nt, nr = radio.array.num_tx_antennas, radio.array.num_rx_antennas
    spacing = radio.array.spacing_wavelengths
    a = steering_vector(targets.theta_tx_rad, nt, spacing)
    lit_power = np.abs(a.conj() @ weights.T) ** 2 * powers_w[None, :]  # (K, B)
    lit = np.argmax(lit_power, axis=1)  # beam illuminating each vehicle
    owner = np.argmax(lit_power, axis=0)  # vehicle each beam illuminates most
    # noise plus the transceiver's residual SI (001, core.interference) where counted
    noise = sensing_disturbance_w(
        radio.sensing_noise_w, float(np.sum(powers_w)), scenario.interference.self_interference_db
    )
    sinr_k = echo_sinr(
        targets.theta_tx_rad,
        targets.reflection,
        weights.T,
        powers_w,
        nr,
        noise,
        spacing,
        serving_beam=lit,
        beam_reflection=targets.reflection[owner],
    )
    gain = echo_complex_gain(nt, nr, powers_w[lit], targets.reflection, radar.matched_filter_gain)
    return EchoBounds(
        beam_index=lit,
        snr_db=linear_to_db(radar.matched_filter_gain * np.maximum(sinr_k, 1e-300)),
        delay_variance_s2=variance_from_sinr(radar.delay_coefficient_s, sinr_k),
        doppler_variance_hz2=variance_from_sinr(radar.doppler_coefficient_hz, sinr_k),
        angle_variance_rad2=crlb_angle_rad2(
            targets.theta_rx_rad, gain, weights[lit], nr, noise, spacing
        ),
    )


def synthesize_measurements(
    rng: np.random.Generator,
    scenario: Scenario,
    targets: Targets,
    weights: NDArray[np.complex128],
    powers_w: NDArray[np.float64],
    max_range_m: float | None = None,
) -> Measurements:
    """Noisy (delay, Doppler, angle) of the vehicles whose post-processing SNR reaches the
    detection threshold. Each vehicle is illuminated by the beam with the largest
    p_b |a^H(theta) w_b|^2; SINR by 000 eq. (7), delay/Doppler variances eq. (8)-(9), angle
    variance the CRLB of eq. (15). Like the signal-level processing, which measures delay
    in range bins and Doppler in Doppler bins, a radar reports only ranges within [0,
    ``max_range_m``] (its instrumented range; default the unambiguous range c / (2 Delta f))
    and Doppler shifts within the unambiguous +-1 / (2 T): a noisy estimate outside is a
    miss (near the detection threshold the delay's standard deviation of eq. (8) reaches
    tens of metres)."""
    radio, radar = scenario.radio, scenario.radar
    if targets.delay_s.size == 0 or len(powers_w) == 0:
        none = np.zeros(0, dtype=np.int64)
        return Measurements(Detections.empty(), none, none)
    b = echo_bounds(scenario, targets, weights, powers_w)
    detected = (b.snr_db >= radar.waveform.detection_threshold_db) & np.isfinite(
        b.angle_variance_rad2
    )
    idx = np.flatnonzero(detected)
    fc = radio.carrier_frequency_hz
    delay = targets.delay_s[idx] + rng.normal(0.0, np.sqrt(b.delay_variance_s2[idx]))
    doppler = targets.doppler_hz[idx] + rng.normal(0.0, np.sqrt(b.doppler_variance_hz2[idx]))
    theta = targets.theta_rx_rad[idx] + rng.normal(0.0, np.sqrt(b.angle_variance_rad2[idx]))
    theta = np.clip(theta, 0, np.pi)
    max_delay = (
        1.0 / radar.waveform.subcarrier_spacing_hz
        if max_range_m is None
        else float(round_trip_delay_s(max_range_m))
    )
    inside = (delay >= 0.0) & (delay <= max_delay)
    inside &= np.abs(doppler) <= 0.5 / radar.waveform.symbol_interval_s
    idx, delay, doppler, theta = idx[inside], delay[inside], doppler[inside], theta[inside]
    detections = Detections(
        range_m=range_from_delay_m(delay),
        radial_velocity_mps=radial_velocity_from_doppler_mps(doppler, fc),
        azimuth_rad=theta,
        delay_s=delay,
        doppler_hz=doppler,
        snr_db=b.snr_db[idx],
        range_variance_m2=b.range_variance_m2[idx],
        radial_velocity_variance_m2ps2=radial_velocity_variance_m2ps2(
            b.doppler_variance_hz2[idx], fc
        ),
        azimuth_variance_rad2=b.angle_variance_rad2[idx],
    )
    return Measurements(detections, idx, b.beam_index[idx])


def strongest_per_vehicle(parts: Sequence[Measurements]) -> Measurements:
    """Several dwells' measurements of the same vehicles merged: each detected vehicle once,
    by its highest-SNR detection, in vehicle order."""
    detections = Detections(
        *(
            np.concatenate([getattr(p.detections, f.name) for p in parts])
            for f in fields(Detections)
        )
    )
    vehicle = np.concatenate([p.vehicle_index for p in parts])
    beam = np.concatenate([p.beam_index for p in parts])
    order = np.lexsort((-detections.snr_db, vehicle))  # by vehicle, strongest first
    first = order[np.r_[True, vehicle[order][1:] != vehicle[order][:-1]]] if order.size else order
    return Measurements(detections.subset(first), vehicle[first], beam[first])


def covariance_crlb_rad2(
    scenario: Scenario,
    position_xy: NDArray[np.float64],
    weights: NDArray[np.complex128],
    powers_w: NDArray[np.float64],
    rsu: int,
    cli_w: float = 0.0,
) -> NDArray[np.float64]:
    """001's sensing metric: the angle CRLB of each vehicle at ``position_xy`` (K, 2) as a
    target of monostatic RSU ``rsu`` transmitting ``weights`` (B, N_t) at ``powers_w``,
    from the FIM of the transmit covariance R_x = sum_b p_b w_b w_b^H (core.bounds.
    crlb_angle_covariance_rad2, 001 eq. (6)-(7)); the echo's gain as the simulated one
    (kappa / (2 d), E, xi), its disturbance the sensing noise plus residual SI of the
    transmitted power and ``cli_w`` (the neighbours' power heard at the RSU, 001 eq. (10))."""
    sc = scenario
    radio = sc.radio
    xy = np.asarray(sc.rsus[rsu].position_m, dtype=float)
    k = len(position_xy)
    if k == 0 or len(powers_w) == 0:
        return np.full(k, np.inf)
    targets = Targets.build(
        sc, xy, xy, position_xy, np.zeros_like(position_xy), np.full(k, sc.radar.kappa)
    )
    nt, nr = radio.array.num_tx_antennas, radio.array.num_rx_antennas
    gain = echo_complex_gain(nt, nr, 1.0, targets.reflection, sc.radar.matched_filter_gain)
    covariance = np.einsum("bn,b,bm->nm", weights, powers_w, weights.conj())
    disturbance = (
        sensing_disturbance_w(
            radio.sensing_noise_w, float(np.sum(powers_w)), sc.interference.self_interference_db
        )
        + cli_w
    )
    return crlb_angle_covariance_rad2(
        targets.theta_tx_rad, gain, covariance, nr, disturbance, radio.array.spacing_wavelengths
    )
