"""Downlink communication channels, SINR, rates, fairness and energy efficiency.

Channel convention: ``H`` has one row per vehicle k holding h_k^H (shape (K, N)), so that
``H @ w`` is the complex amplitude h_k^H w that beam w delivers to each vehicle. Every
model folds the transmit array gain sqrt(N) into h_k (E-bar of 000 eq. (10), kappa' of 004
eq. (8)), so that with unit-norm beams the received power is p |h_k^H w|^2.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rsu_isac.core.array import HALF_WAVELENGTH, steering_vector
from rsu_isac.core.units import db_to_linear


def pathloss_amplitude(
    range_m: ArrayLike,
    reference_gain_db: float,
    reference_distance_m: float = 1.0,
    exponent: float = 2.0,
) -> NDArray[np.float64]:
    """Large-scale amplitude alpha = sqrt(alpha0 (d/d0)^-rho).

    000 (after eq. (10)) with reference gain alpha0 [dB], distance d0 and exponent rho; 004
    eq. (9) (power gain alpha~ d^-2 at d0 = 1 m) is the case exponent = 2, d0 = 1.
    """
    d = np.asarray(range_m, dtype=float)
    gain = db_to_linear(reference_gain_db) * (d / reference_distance_m) ** (-exponent)
    return np.sqrt(gain)


def los_channel(
    theta_rad: ArrayLike,
    amplitude: ArrayLike,
    num_antennas: int,
    spacing_wavelengths: float = HALF_WAVELENGTH,
) -> NDArray[np.complex128]:
    """Line-of-sight rows h_k^H = sqrt(N) alpha_k a^H(theta_k) (000 eq. (10)-(11)), (K, N)."""
    a = steering_vector(theta_rad, num_antennas, spacing_wavelengths)
    return np.sqrt(num_antennas) * np.asarray(amplitude)[..., np.newaxis] * a.conj()


def multipath_channel(
    path_gains: ArrayLike,
    path_delays_s: ArrayLike,
    path_angles_rad: ArrayLike,
    carrier_frequency_hz: float,
    num_antennas: int,
    spacing_wavelengths: float = HALF_WAVELENGTH,
) -> NDArray[np.complex128]:
    """Geometric multipath rows of 003 eq. (2), (K, N).

    h_k = sqrt(N) sum_l alpha_{l,k} exp(-j 2 pi f_c tau_{l,k}) a(theta_{l,k}); the path
    arrays have shape (K, L). The sqrt(N) keeps the array-gain convention of this module.
    """
    gains = np.asarray(path_gains, dtype=complex)
    phases = np.exp(-2j * np.pi * carrier_frequency_hz * np.asarray(path_delays_s, dtype=float))
    a = steering_vector(path_angles_rad, num_antennas, spacing_wavelengths)  # (K, L, N)
    h = np.sqrt(num_antennas) * np.einsum("kl,kln->kn", gains * phases, a)
    return h.conj()


def rayleigh_channel(
    rng: np.random.Generator, amplitude: ArrayLike, num_antennas: int
) -> NDArray[np.complex128]:
    """Rayleigh-fading rows (001): h_k ~ CN(0, alpha_k^2 I_N), (K, N).

    E|h_k^H w|^2 = alpha_k^2 for a unit-norm w, and ||h_k||^2 = N alpha_k^2 on average, the
    same array gain as :func:`los_channel`.
    """
    amp = np.asarray(amplitude, dtype=float)[..., np.newaxis]
    shape = (*amp.shape[:-1], num_antennas)
    noise = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return amp * noise / np.sqrt(2.0)


def beam_gains(channel_rows: ArrayLike, weights: ArrayLike) -> NDArray[np.float64]:
    """|h_k^H w_b|^2 for every vehicle k and beam b: (K, N) x (N, B) -> (K, B)."""
    return np.abs(np.asarray(channel_rows) @ np.asarray(weights)) ** 2


def sinr(
    gains: ArrayLike,
    powers_w: ArrayLike,
    noise_w: float,
    serving_beam: ArrayLike,
    interference_mask: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Per-vehicle SINR with multi-user interference (000 eq. (11), 004 eq. (10), 003 eq. (1)).

    SINR_k = p_s g_{k,s} / (sum_{b != s, mask} p_b g_{k,b} + sigma^2), s = serving_beam[k].

    Args:
        gains: (K, B) beam gains |h_k^H w_b|^2 (see :func:`beam_gains`).
        powers_w: (B,) transmit power per beam [W].
        noise_w: receiver noise power sigma^2 [W] (or (K,) per vehicle: noise plus
            cross-link interference, core.interference).
        serving_beam: (K,) index of the beam serving each vehicle, -1 for none (SINR 0).
        interference_mask: optional (K, B) booleans, which beams interfere at which vehicle
            (default: all; 004 counts only the serving RSU's own beams).
    """
    return sinr_and_interference(gains, powers_w, noise_w, serving_beam, interference_mask)[0]


def sinr_and_interference(
    gains: ArrayLike,
    powers_w: ArrayLike,
    noise_w: float,
    serving_beam: ArrayLike,
    interference_mask: ArrayLike | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(:func:`sinr`, the multi-user interference of its denominator
    sum_{b != s, mask} p_b g_{k,b} [W]) per vehicle; arguments as :func:`sinr`."""
    g = np.asarray(gains, dtype=float)
    if g.shape[1] == 0:  # no beam: nobody served, no interference
        return np.zeros(g.shape[0]), np.zeros(g.shape[0])
    received = g * np.asarray(powers_w, dtype=float)[np.newaxis, :]
    serving = np.asarray(serving_beam, dtype=int)
    rows = np.arange(g.shape[0])
    served = serving >= 0
    mask = (
        np.ones_like(g, dtype=bool)
        if interference_mask is None
        else np.array(interference_mask, dtype=bool, copy=True)
    )
    mask[rows[served], serving[served]] = False
    interference = np.sum(received * mask, axis=1)
    signal = np.where(served, received[rows, np.where(served, serving, 0)], 0.0)
    return signal / (interference + noise_w), interference


def rate_bps_hz(sinr_linear: ArrayLike) -> NDArray[np.float64]:
    """Spectral efficiency log2(1 + SINR) [bit/s/Hz] (000 eq. (12))."""
    return np.log2(1.0 + np.asarray(sinr_linear, dtype=float))


def jain_fairness(rates: ArrayLike) -> float:
    """Jain's fairness index (sum R)^2 / (K sum R^2), in [1/K, 1] (000 eq. (21)).

    000 prints a factor 2 in the numerator, which would put the index in [2/K, 2]; we use
    Jain's original definition (Jain, Chiu, Hawe, DEC-TR-301, 1984). Defined as 1 when
    every rate is zero (all equal).
    """
    r = np.asarray(rates, dtype=float)
    total_sq = float(np.sum(r**2))
    if r.size == 0 or total_sq == 0.0:
        return 1.0
    return float(np.sum(r) ** 2 / (r.size * total_sq))


def energy_efficiency_bit_per_j(
    sum_rate_bps_hz: ArrayLike,
    bandwidth_hz: float,
    transmit_power_w: ArrayLike,
    pa_efficiency: float,
    circuit_power_w: float,
) -> NDArray[np.float64]:
    """Energy efficiency B R / (P_tx / eta_PA + P_c) [bit/J] (001, Sec. "Performance
    metrics": throughput per consumed power with PA efficiency and circuit power)."""
    consumed = np.asarray(transmit_power_w, dtype=float) / pa_efficiency + circuit_power_w
    return bandwidth_hz * np.asarray(sum_rate_bps_hz, dtype=float) / consumed


def estimated_channel(
    rng: np.random.Generator, rows: ArrayLike, amplitude: ArrayLike, error_db: float
) -> NDArray[np.complex128]:
    """A pilot-based estimate of ``rows`` (K, N): h_k + e_k with e_k ~ CN(0, eps alpha_k^2 I),
    eps = 10^(error_db / 10) the estimate's mean squared error per element relative to the
    channel's mean power alpha_k^2 (its NMSE; a Rayleigh channel's E|h_kn|^2 = alpha_k^2)."""
    h = np.asarray(rows)
    amp = np.asarray(amplitude, dtype=float)[..., np.newaxis]
    noise = rng.standard_normal(h.shape) + 1j * rng.standard_normal(h.shape)
    return h + np.sqrt(db_to_linear(error_db) / 2.0) * amp * noise
