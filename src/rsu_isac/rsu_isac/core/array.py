"""Uniform linear array (ULA): steering vectors, their angle derivatives, beam patterns.

Angle convention of the papers: theta is the angle between the array axis and the line of
sight, in [0, pi], and element n (n = 0 .. N-1) of the steering vector has phase
-2 pi delta n cos(theta), with element spacing delta in wavelengths (delta = 1/2 gives the
papers' -j pi n cos(theta)). Steering vectors are unit-norm (factor 1/sqrt(N)):
eq. (3)-(4) of 000, eq. (4)-(5) of 004.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

HALF_WAVELENGTH = 0.5


def phase_slopes(num_antennas: int, spacing_wavelengths: float) -> NDArray[np.float64]:
    """k_n = 2 pi delta n: element n's phase is -k_n cos(theta)."""
    if num_antennas < 1:
        raise ValueError(f"num_antennas must be >= 1, got {num_antennas}")
    return 2.0 * np.pi * spacing_wavelengths * np.arange(num_antennas)


def steering_vector(
    theta_rad: ArrayLike, num_antennas: int, spacing_wavelengths: float = HALF_WAVELENGTH
) -> NDArray[np.complex128]:
    """a(theta), shape ``theta.shape + (N,)``: (1/sqrt N) exp(-j 2 pi delta n cos theta).

    eq. (3) of 000 (transmit, a) and eq. (4) (receive, b: the same form with N_RA).
    """
    theta = np.asarray(theta_rad, dtype=float)[..., np.newaxis]
    slope = phase_slopes(num_antennas, spacing_wavelengths)
    return np.exp(-1j * slope * np.cos(theta)) / np.sqrt(num_antennas)


def steering_vector_derivative(
    theta_rad: ArrayLike, num_antennas: int, spacing_wavelengths: float = HALF_WAVELENGTH
) -> NDArray[np.complex128]:
    """d a(theta) / d theta = a(theta) * (j 2 pi delta n sin theta), same shape as a."""
    theta = np.asarray(theta_rad, dtype=float)[..., np.newaxis]
    slope = phase_slopes(num_antennas, spacing_wavelengths)
    a = np.exp(-1j * slope * np.cos(theta)) / np.sqrt(num_antennas)
    return a * (1j * slope * np.sin(theta))


def array_response(
    theta_rad: ArrayLike, weights: ArrayLike, spacing_wavelengths: float = HALF_WAVELENGTH
) -> NDArray[np.complex128]:
    """a^H(theta) w for every angle and every beam.

    ``weights`` has shape (N,) or (N, B); the result has shape ``theta.shape`` or
    ``theta.shape + (B,)``.
    """
    w = np.asarray(weights)
    a = steering_vector(theta_rad, w.shape[0], spacing_wavelengths)
    return a.conj() @ w


def beam_pattern(
    theta_rad: ArrayLike, weights: ArrayLike, spacing_wavelengths: float = HALF_WAVELENGTH
) -> NDArray[np.float64]:
    """Transmit beam pattern |a^H(theta) w|^2 (power gain relative to a unit-norm beam).

    For unit-norm ``w`` it lies in [0, 1] and equals 1 only on the beam's own steering
    direction; multiply by N for the gain over an isotropic element.
    """
    return np.abs(array_response(theta_rad, weights, spacing_wavelengths)) ** 2


# |sin(N x) / (N sin x)|^2 = 1/2 at N x = 1.39156 (large N): the half-power point
HALF_POWER_ARGUMENT = 1.3915573


def half_power_halfwidth_rad(
    theta_rad: ArrayLike, num_antennas: int, spacing_wavelengths: float = HALF_WAVELENGTH
) -> NDArray[np.float64]:
    """Angle offset from theta at which a beam steered to theta, |a^H(theta') a(theta)|^2,
    falls to half its peak: |cos theta' - cos theta| = 1.39156 / (pi delta N), mapped to
    theta through d(cos theta) = -sin theta d theta (the first-order beam width; capped at
    pi/2 at endfire)."""
    sin_theta = np.maximum(np.abs(np.sin(np.asarray(theta_rad, dtype=float))), 1e-9)
    width_cos = HALF_POWER_ARGUMENT / (np.pi * spacing_wavelengths * num_antennas)
    return np.minimum(width_cos / sin_theta, np.pi / 2)
