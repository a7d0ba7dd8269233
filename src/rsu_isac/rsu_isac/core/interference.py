"""001's interference and spectrum model: sub-bands, multi-user interference (MI),
cross-link interference (CLI) and self-interference (SI) as power terms (001 eq. (15),
(21)).

Sub-bands: the scenario's bandwidth B splits into n equal bands of B / n at carriers
f_b = f_c + (b - (n - 1) / 2) Delta_f. A band's path gain scales as (f_c / f_b)^2 (Friis:
the reference gain alpha0 is proportional to the wavelength squared) and its noise is
sigma^2 / n (one noise density). A beam occupies a set of bands (a bitmask, bit b for band
b; 0 means every band) and spreads its power evenly over them. The vehicle k served by
beam s gets on each band b of s

    SINR_kb = c_b (p_s / |m_s|) g_ks
              / (sum_{j != s, b in m_j} c_b (p_j / |m_j|) g_kj + CLI_kb + sigma^2 / n),

MI the first sum of the denominator, and the rate sum_{b in m_s} (1 / n) log2(1 + SINR_kb)
[bit/s/Hz of B] (001 eq. (4)-(5) with the interference of eq. (21)). With one band and no
CLI this is :func:`core.channel.sinr` exactly.

SI: the residual leakage of a full-duplex ISAC transceiver's own transmission into its
receiver after isolation and cancellation, P_SI = P_tx 10^(-S / 10) with S [dB] the total
suppression; it adds to the echo's noise (:func:`sensing_disturbance_w`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rsu_isac.core.channel import sinr_and_interference
from rsu_isac.core.scenario import Scenario
from rsu_isac.core.units import db_to_linear


def band_carriers_hz(carrier_hz: float, num_bands: int, spacing_hz: float) -> NDArray[np.float64]:
    """Carrier of each sub-band, f_c + (b - (n - 1) / 2) Delta_f [Hz], (n,)."""
    return carrier_hz + (np.arange(num_bands) - (num_bands - 1) / 2.0) * spacing_hz


def band_gain_factors(carrier_hz: float, band_carriers: ArrayLike) -> NDArray[np.float64]:
    """Path-gain factor of each band against the carrier, (f_c / f_b)^2 (Friis)."""
    return (carrier_hz / np.asarray(band_carriers, dtype=float)) ** 2


def scenario_band_factors(scenario: Scenario) -> NDArray[np.float64]:
    """:func:`band_gain_factors` of the scenario's sub-bands (``interference``)."""
    carrier, config = scenario.radio.carrier_frequency_hz, scenario.interference
    return band_gain_factors(
        carrier, band_carriers_hz(carrier, config.num_bands, config.band_spacing_hz)
    )


def band_masks(mask_bits: ArrayLike, num_bands: int) -> NDArray[np.bool_]:
    """(B, n) bands of each beam from its bitmask (bit b: band b; 0: every band)."""
    bits = np.asarray(mask_bits, dtype=np.int64)
    on = (bits[:, None] >> np.arange(num_bands)[None, :]) & 1 == 1
    on[bits == 0] = True
    return on


def mask_bits(masks: ArrayLike) -> NDArray[np.int64]:
    """The bitmask of each row of (B, n) booleans (the inverse of :func:`band_masks`)."""
    m = np.asarray(masks, dtype=bool)
    return (m * (1 << np.arange(m.shape[1], dtype=np.int64))[None, :]).sum(axis=1)


def self_interference_w(transmit_power_w: ArrayLike, suppression_db: float) -> NDArray:
    """Residual self-interference P_tx 10^(-S / 10) [W] at the transceiver's receiver."""
    return np.asarray(transmit_power_w, dtype=float) / db_to_linear(suppression_db)


def sensing_disturbance_w(
    noise_w: float, transmit_power_w: float, suppression_db: float | None
) -> float:
    """Noise plus residual SI of an echo [W] (SI none where ``suppression_db`` is None):
    001 eq. (10)'s effective sensing SINR counts the echo against this (the cross-link
    part is added by the caller where it exists)."""
    if suppression_db is None:
        return noise_w
    return noise_w + float(self_interference_w(transmit_power_w, suppression_db))


@dataclass(frozen=True)
class BandLink:
    """Per vehicle k and band b: SINR, whether its serving beam occupies b, and the MI and
    CLI powers [W] there; ``noise_w`` is each band's noise sigma^2 / n."""

    sinr: NDArray[np.float64]  # (K, n), 0 off the serving beam's bands
    on: NDArray[np.bool_]  # (K, n)
    mi_w: NDArray[np.float64]  # (K, n), 0 off the serving beam's bands
    cli_w: NDArray[np.float64]  # (K, n)
    noise_w: float

    @property
    def rates_bps_hz(self) -> NDArray[np.float64]:
        """(K,) sum over the vehicle's bands of (1 / n) log2(1 + SINR) [bit/s/Hz of B]."""
        n = self.sinr.shape[1]
        return np.sum(np.where(self.on, np.log2(1.0 + self.sinr), 0.0), axis=1) / n

    def per_vehicle(self, values: NDArray) -> NDArray[np.float64]:
        """(K,) mean of a (K, n) quantity over each vehicle's own bands (0 if unserved)."""
        count = self.on.sum(axis=1)
        return np.where(count > 0, np.sum(values * self.on, axis=1) / np.maximum(count, 1), 0.0)


def band_link(
    gains: ArrayLike,
    powers_w: ArrayLike,
    masks: ArrayLike,
    noise_w: float,
    serving_beam: ArrayLike,
    gain_factors: ArrayLike,
    cli_w: ArrayLike | None = None,
) -> BandLink:
    """The per-band link of the module docstring.

    Args:
        gains: (K, B) beam gains |h_k^H w_b|^2 at the carrier.
        powers_w: (B,) beam powers [W].
        masks: (B, n) the bands each beam occupies (:func:`band_masks`).
        noise_w: receiver noise over the whole bandwidth sigma^2 [W].
        serving_beam: (K,) serving beam, -1 for none.
        gain_factors: (n,) :func:`band_gain_factors`.
        cli_w: (K, n) cross-link interference at each vehicle per band [W] (default 0).
    """
    g = np.asarray(gains, dtype=float)
    on_band = np.asarray(masks, dtype=bool)
    factors = np.asarray(gain_factors, dtype=float)
    k, n = g.shape[0], factors.size
    serving = np.asarray(serving_beam, dtype=int)
    cli = np.zeros((k, n)) if cli_w is None else np.asarray(cli_w, dtype=float)
    powers = np.asarray(powers_w, dtype=float) / np.maximum(on_band.sum(axis=1), 1)
    band_noise = noise_w / n
    out_sinr, mi = np.zeros((k, n)), np.zeros((k, n))
    on = np.zeros((k, n), dtype=bool)
    served = serving >= 0
    for b in range(n):
        band_gains = g * factors[b]
        here = np.broadcast_to(on_band[:, b], g.shape)
        out_sinr[:, b], mi[:, b] = sinr_and_interference(
            band_gains, powers, band_noise + cli[:, b], serving, here
        )
        on[served, b] = on_band[serving[served], b]
    return BandLink(np.where(on, out_sinr, 0.0), on, np.where(on, mi, 0.0), cli, band_noise)


def to_db_or_none(ratio: float) -> float | None:
    """10 log10 of a power ratio (an INR of 001's Fig. 9 metric); None where it is 0 (no
    interference of that kind), which JSON writes as null."""
    return float(10.0 * np.log10(ratio)) if ratio > 0 else None
