"""002's figures of merit: communication and sensing mutual-information rates, their sum,
and the beam pattern's peaks and nulls (the metrics of 002's Figs. 2 and 5-11; 002's system
model is missing from our copy, so the definitions are the standard MI-based ISAC ones of
its reference [25], written down here once).

* CMI rate of user k: log2(1 + SINR_k) [bit/s/Hz], Gaussian signalling (000 eq. (12)).
* SMI rate of the target: the mutual information per snapshot between the target's
  reflection alpha ~ CN(0, sigma_t^2) and the receive RSU's echo y given the transmitted
  signal with covariance R,

      y = alpha b_t a_t^H x + sum_c beta_c b_c a_c^H x + n,   n ~ CN(0, sigma^2 I),

  with a_* the transmit steering vectors from the transmit RSU and b_* the receive steering
  vectors at the receive RSU (bistatic: different angles at the two ends). Averaging the
  transmit power into each direction (|a^H x|^2 -> a^H R a) makes y Gaussian with
  covariance Q_t + Q, Q = sum_c sigma_c^2 (a_c^H R a_c) b_c b_c^H + sigma^2 I, Q_t =
  sigma_t^2 (a_t^H R a_t) b_t b_t^H, and

      I(y; alpha) = log2 det(Q_t + Q) - log2 det(Q) = log2(1 + SCNR),
      SCNR = sigma_t^2 (a_t^H R a_t) b_t^H Q^-1 b_t          (matrix determinant lemma),

  the SCNR of the best receive filter u = Q^-1 b_t (MVDR); a given filter u reaches
  sigma_t^2 (a_t^H R a_t) |u^H b_t|^2 / u^H Q u, never more.
* S&C MI rate: the sum of the users' CMI rates and the SMI rate (equal weights, the
  unweighted form of [25]'s weighted sum).
* Beam pattern a(theta)^H R a(theta) (transmit power into theta), its gain at each
  intended direction and the null depth between adjacent directions: the pattern's minimum
  between the two, below the smaller of their peaks [dB] (002 Fig. 2's "inter-peak
  isolation").
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rsu_isac.core.array import HALF_WAVELENGTH, steering_vector


def communication_mi(sinr: ArrayLike) -> NDArray[np.float64]:
    """Per-user CMI rate log2(1 + SINR) [bit/s/Hz]."""
    return np.log2(1.0 + np.asarray(sinr, dtype=float))


@dataclass(frozen=True)
class BistaticScene:
    """Where the target and the clutter patches are seen from the two RSUs [rad] (angle to
    each array's axis), their reflection variances [W/W] and the receive noise [W]."""

    target_tx_rad: float
    target_rx_rad: float
    target_variance: float
    clutter_tx_rad: NDArray[np.float64]  # (C,)
    clutter_rx_rad: NDArray[np.float64]  # (C,)
    clutter_variance: NDArray[np.float64]  # (C,)
    noise_w: float
    num_rx_antennas: int
    spacing_wavelengths: float = HALF_WAVELENGTH

    def steering(self, num_tx_antennas: int) -> tuple[NDArray, NDArray, NDArray, NDArray]:
        """(a_t (N_t,), a_c (C, N_t), b_t (N_r,), b_c (C, N_r)): the unit-norm transmit
        steering vectors of the target and the patches and their receive ones."""
        n_r, spacing = self.num_rx_antennas, self.spacing_wavelengths
        return (
            steering_vector(self.target_tx_rad, num_tx_antennas, spacing),
            steering_vector(self.clutter_tx_rad, num_tx_antennas, spacing).reshape(
                -1, num_tx_antennas
            ),
            steering_vector(self.target_rx_rad, n_r, spacing),
            steering_vector(self.clutter_rx_rad, n_r, spacing).reshape(-1, n_r),
        )

    def interference_covariance(self, r: NDArray) -> NDArray[np.complex128]:
        """Q = sum_c sigma_c^2 (a_c^H R a_c) b_c b_c^H + sigma^2 I for transmit covariance
        ``r`` (N_t x N_t)."""
        _, a_c, _, b_c = self.steering(r.shape[0])
        power = np.real(np.einsum("ci,ij,cj->c", a_c.conj(), r, a_c))
        weights = np.asarray(self.clutter_variance, dtype=float) * power
        q = (b_c.T * weights) @ b_c.conj()
        return q + self.noise_w * np.eye(self.num_rx_antennas)

    def target_power(self, r: NDArray) -> float:
        """sigma_t^2 a_t^H R a_t: the target's echo power per unit receive gain."""
        a_t = steering_vector(self.target_tx_rad, r.shape[0], self.spacing_wavelengths)
        return float(self.target_variance * np.real(a_t.conj() @ r @ a_t))

    def receive_steering(self) -> NDArray[np.complex128]:
        return steering_vector(self.target_rx_rad, self.num_rx_antennas, self.spacing_wavelengths)


def sensing_scnr(r: NDArray, scene: BistaticScene, receive_filter: NDArray | None = None) -> float:
    """The target's SCNR at the receive RSU for transmit covariance ``r``: with the MVDR
    filter (``receive_filter`` None) sigma_t^2 (a_t^H R a_t) b_t^H Q^-1 b_t, else that of
    the given filter u, sigma_t^2 (a_t^H R a_t) |u^H b_t|^2 / u^H Q u."""
    q = scene.interference_covariance(np.asarray(r))
    b_t = scene.receive_steering()
    power = scene.target_power(np.asarray(r))
    if receive_filter is None:
        return power * float(np.real(b_t.conj() @ np.linalg.solve(q, b_t)))
    u = np.asarray(receive_filter, dtype=complex)
    return power * float(np.abs(u.conj() @ b_t) ** 2 / np.real(u.conj() @ q @ u))


def sensing_mi(r: NDArray, scene: BistaticScene, receive_filter: NDArray | None = None) -> float:
    """SMI rate log2(1 + SCNR) [bit/s/Hz] (module docstring)."""
    return float(np.log2(1.0 + sensing_scnr(r, scene, receive_filter)))


def sc_mi(cmi: ArrayLike, smi: float) -> float:
    """S&C MI rate: the users' CMI rates plus the SMI rate [bit/s/Hz]."""
    return float(np.sum(cmi) + smi)


def pattern(r: NDArray, theta_rad: ArrayLike, spacing: float = HALF_WAVELENGTH) -> NDArray:
    """Transmit beam pattern a(theta)^H R a(theta) [W per unit-norm direction]."""
    a = steering_vector(theta_rad, np.asarray(r).shape[0], spacing)
    return np.real(np.einsum("...i,ij,...j->...", a.conj(), r, a))


def peaks_and_nulls(
    r: NDArray, directions_rad: ArrayLike, spacing: float = HALF_WAVELENGTH, grid: int = 4001
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(pattern at each intended direction [dB], sorted by angle; null depth between each
    pair of adjacent directions [dB]: the smaller of the two peaks over the pattern's
    minimum between them, on a ``grid``-point angle grid)."""
    angles = np.sort(np.asarray(directions_rad, dtype=float))
    peaks = pattern(r, angles, spacing)
    depths = []
    for (lo, hi), (p_lo, p_hi) in zip(pairwise(angles), pairwise(peaks), strict=True):
        between = pattern(r, np.linspace(lo, hi, grid), spacing)
        depths.append(10 * np.log10(min(p_lo, p_hi) / max(between.min(), 1e-300)))
    return 10 * np.log10(np.maximum(peaks, 1e-300)), np.array(depths)
