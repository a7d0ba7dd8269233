"""Radar measurement model of the RSU's echo: delay, Doppler, echo SINR and the
SINR-dependent measurement variances (000 eq. (2)-(9), 004 eq. (3)-(17)).

The echo of vehicle k after matched filtering (004 eq. (12)) is the N_r-vector
r_k = c_k b(theta_k) a^H(theta_k) w_k + z, with c_k = E sqrt(p_k) beta_k xi, array gain
E = sqrt(N_t N_r), reflection coefficient beta_k = kappa / (2 d_k) and matched-filter gain
xi (000 notation; G in 004).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rsu_isac.core.array import HALF_WAVELENGTH, steering_vector
from rsu_isac.core.channel import sinr
from rsu_isac.core.scenario import Scenario
from rsu_isac.core.units import SPEED_OF_LIGHT_MPS


def round_trip_delay_s(range_m: ArrayLike) -> NDArray[np.float64]:
    """tau = 2 d / c (000 eq. (6), 004 eq. (13))."""
    return 2.0 * np.asarray(range_m, dtype=float) / SPEED_OF_LIGHT_MPS


def doppler_shift_hz(radial_velocity_mps: ArrayLike, carrier_frequency_hz: float):
    """mu = 2 v_r f_c / c (004 eq. (14); 000 eq. (6) writes v cos(theta) = v_r for a vehicle
    moving along the array axis)."""
    return (
        2.0
        * np.asarray(radial_velocity_mps, dtype=float)
        * carrier_frequency_hz
        / (SPEED_OF_LIGHT_MPS)
    )


def range_from_delay_m(delay_s: ArrayLike) -> NDArray[np.float64]:
    """Inverse of :func:`round_trip_delay_s`."""
    return np.asarray(delay_s, dtype=float) * SPEED_OF_LIGHT_MPS / 2.0


def radial_velocity_from_doppler_mps(doppler_hz: ArrayLike, carrier_frequency_hz: float):
    """Inverse of :func:`doppler_shift_hz`."""
    return np.asarray(doppler_hz, dtype=float) * SPEED_OF_LIGHT_MPS / (2.0 * carrier_frequency_hz)


def range_variance_m2(delay_variance_s2: ArrayLike) -> NDArray[np.float64]:
    """var(d) = (c/2)^2 var(tau): the range CRLB of 000 eq. (16) from the delay variance."""
    return (SPEED_OF_LIGHT_MPS / 2.0) ** 2 * np.asarray(delay_variance_s2, dtype=float)


def radial_velocity_variance_m2ps2(doppler_variance_hz2: ArrayLike, carrier_frequency_hz: float):
    """var(v_r) = (c / (2 f_c))^2 var(mu)."""
    scale = SPEED_OF_LIGHT_MPS / (2.0 * carrier_frequency_hz)
    return scale**2 * np.asarray(doppler_variance_hz2, dtype=float)


def reflection_coefficient(fading_factor: complex, range_m: ArrayLike) -> NDArray[np.complex128]:
    """beta = kappa / (2 d) (000 after eq. (2); 004 after eq. (3), there with rho)."""
    return fading_factor / (2.0 * np.asarray(range_m, dtype=float))


def echo_sinr(
    theta_rad: ArrayLike,
    reflection: ArrayLike,
    weights: ArrayLike,
    powers_w: ArrayLike,
    num_rx_antennas: int,
    noise_w: float,
    spacing_wavelengths: float = HALF_WAVELENGTH,
    serving_beam: ArrayLike | None = None,
    beam_reflection: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Echo SINR of each vehicle's sub-echo (000 eq. (7)).

    SINR_k = E^2 p_s |beta_k|^2 |a^H(theta_k) f_s|^2
             / (sum_{i != s} E^2 p_i |beta_i|^2 |a^H(theta_k) f_i|^2 + sigma_z^2),
    with E^2 = N_t N_r, s the beam illuminating vehicle k and beta_i the reflection of the
    vehicle beam i is pointed at. By default beam k (column k of ``weights``, (N_t, B))
    serves vehicle k and beta_i = beta_i, as in 000; ``serving_beam`` (K,) and
    ``beam_reflection`` (B,) cover beams shared by several vehicles. Without interference
    this is 004's SNR behind eq. (16)-(17) with kappa = E and |eta|^2 = |a^H f|^2.
    """
    w = np.asarray(weights)
    num_tx = w.shape[0]
    beta = np.asarray(reflection)
    serving = np.arange(beta.size) if serving_beam is None else np.asarray(serving_beam)
    beam_beta = beta if beam_reflection is None else np.asarray(beam_reflection)
    a = steering_vector(theta_rad, num_tx, spacing_wavelengths)  # (K, N_t)
    pattern = np.abs(a.conj() @ w) ** 2  # (K, B): |a^H(theta_k) f_i|^2
    array_gain = num_tx * num_rx_antennas
    gains = pattern * array_gain * np.abs(beam_beta)[np.newaxis, :] ** 2
    rows = np.arange(beta.size)
    # the serving beam's echo comes from vehicle k itself: |beta_k|^2
    gains[rows, serving] = pattern[rows, serving] * array_gain * np.abs(beta) ** 2
    return sinr(gains, powers_w, noise_w, serving)


def variance_from_sinr(coefficient: float, sinr_linear: ArrayLike) -> NDArray[np.float64]:
    """Measurement variance alpha^2 / SINR (000 eq. (8)-(9) with alpha_tau, alpha_mu; 004
    eq. (16)-(17) with rho_nu, rho_mu and SNR = G kappa^2 |beta|^2 |eta|^2 / sigma_e^2)."""
    with np.errstate(divide="ignore"):
        return coefficient**2 / np.asarray(sinr_linear, dtype=float)


def matched_filter_echo(
    theta_rad: ArrayLike,
    complex_gain: ArrayLike,
    weights: ArrayLike,
    num_rx_antennas: int,
    spacing_wavelengths: float = HALF_WAVELENGTH,
) -> NDArray[np.complex128]:
    """Noise-free matched-filter output c b(theta) a^H(theta) w (004 eq. (12)), (..., N_r).

    ``weights`` is (..., N_t): the beam that illuminated each vehicle; ``complex_gain`` is
    c = E sqrt(p) beta xi.
    """
    w = np.asarray(weights)
    a = steering_vector(theta_rad, w.shape[-1], spacing_wavelengths)
    b = steering_vector(theta_rad, num_rx_antennas, spacing_wavelengths)
    illumination = np.sum(a.conj() * w, axis=-1)
    return (np.asarray(complex_gain) * illumination)[..., np.newaxis] * b


def echo_complex_gain(
    num_tx_antennas: int,
    num_rx_antennas: int,
    power_w: ArrayLike,
    reflection: ArrayLike,
    matched_filter_gain: float,
) -> NDArray[np.complex128]:
    """c = E sqrt(p) beta xi with E = sqrt(N_t N_r) (000 eq. (2), (15))."""
    array_gain = np.sqrt(num_tx_antennas * num_rx_antennas)
    return (
        array_gain * np.sqrt(np.asarray(power_w, dtype=float)) * reflection * (matched_filter_gain)
    )


def reference_echo_snr(scenario, noise_w: float) -> float:
    """Echo SINR (000 eq. (7), before the matched-filter gain) of a reference vehicle abeam
    of the first RSU on the nearest lane, with the whole power on one beam at it: the "RF
    SNR" by which 003 Fig. 5 grades the radar (linear)."""
    radio, rsu = scenario.radio, scenario.rsus[0]
    distance = min(abs(lane.y_m - rsu.position_m[1]) for lane in scenario.road.lanes)
    theta = np.pi / 2
    n_t, spacing = radio.array.num_tx_antennas, radio.array.spacing_wavelengths
    beam = steering_vector(theta, n_t, spacing)[:, None]
    beta = reflection_coefficient(scenario.radar.kappa, [distance])
    return float(
        echo_sinr(
            [theta], beta, beam, [radio.max_power_w], radio.array.num_rx_antennas, noise_w, spacing
        )[0]
    )


RF_SNR_RANGE_DB = (-50.0, 80.0)  # what with_rf_snr accepts: far beyond 003's 0-20 dB


def with_rf_snr(scenario: Scenario, snr_db: float) -> Scenario:
    """The scenario with the sensing noise that gives its reference vehicle the echo SNR
    ``snr_db`` (:func:`reference_echo_snr`): 003 Fig. 5's RF SNR axis."""
    low, high = RF_SNR_RANGE_DB
    if not low <= snr_db <= high:
        raise ValueError(f"RF SNR {snr_db:g} dB is out of range: allowed [{low:g}, {high:g}] dB")
    unit_noise_snr = reference_echo_snr(scenario, 1.0)  # signal power over 1 W of noise
    noise_dbm = 10.0 * np.log10(unit_noise_snr) + 30.0 - snr_db
    return replace(scenario, radio=replace(scenario.radio, sensing_noise_dbm=noise_dbm))


def detection_limits(scenario: Scenario) -> tuple[float, float]:
    """(largest range [m], largest radial speed [m/s]) any radar of the scenario measures
    unambiguously: c / (2 Delta f) and lambda / (4 T), the range and Doppler spans of the
    OFDM frame."""
    wf = scenario.radar.waveform
    reach = float(range_from_delay_m(1.0 / wf.subcarrier_spacing_hz))
    speed = float(
        abs(radial_velocity_from_doppler_mps(0.5 / wf.symbol_interval_s,
                                             scenario.radio.carrier_frequency_hz))
    )  # fmt: skip
    return reach, speed
