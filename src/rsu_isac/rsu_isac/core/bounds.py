"""Sensing bounds: the angle and range CRLB of one echo (000 eq. (13)-(16)) and the
posterior CRB recursion of the tracker (004 eq. (25), (35)-(36))."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rsu_isac.core.array import (
    HALF_WAVELENGTH,
    phase_slopes,
    steering_vector,
    steering_vector_derivative,
)
from rsu_isac.core.radar import range_variance_m2


def crlb_angle_rad2(
    theta_rad: ArrayLike,
    complex_gain: ArrayLike,
    weights: ArrayLike,
    num_rx_antennas: int,
    noise_variance_w: float,
    spacing_wavelengths: float = HALF_WAVELENGTH,
) -> NDArray[np.float64]:
    """CRLB of theta from the matched-filter echo c b(theta) a^H(theta) w + z (000 eq. (15)).

    For z ~ CN(0, sigma^2 I) the Fisher information of a real parameter is
    J = (2 / sigma^2) ||d mu / d theta||^2 (Kay, Fundamentals of Statistical Signal
    Processing I, eq. (15.52)); 000 eq. (15) prints 1/sigma^2, i.e. counts the noise variance
    per real dimension. We use the receive-array form of the echo (004 eq. (12)): the scalar
    form a^H(theta) w of 000 carries no angle information when the beam points at the
    vehicle (its derivative vanishes at the beam peak).

    Args:
        theta_rad: (K,) angles.
        complex_gain: (K,) c_k = E sqrt(p_k) beta_k xi (see ``radar.echo_complex_gain``).
        weights: (K, N_t) beam illuminating each vehicle.
        num_rx_antennas: N_r.
        noise_variance_w: sigma^2 of each receive element after matched filtering.
    """
    w = np.asarray(weights)
    theta = np.asarray(theta_rad, dtype=float)
    a = steering_vector(theta, w.shape[-1], spacing_wavelengths)
    k_tx = phase_slopes(w.shape[-1], spacing_wavelengths)
    k_rx = phase_slopes(num_rx_antennas, spacing_wavelengths)
    sin = np.sin(theta)
    # With u = a^H w and du = (da/dtheta)^H w = -j sin(theta) sum_n k_n conj(a_n) w_n, and
    # the ULA identities ||b|| = 1, ||db||^2 = sin^2 mean(k^2), db^H b = -j sin mean(k):
    # ||db u + b du||^2 = |u|^2 ||db||^2 + |du|^2 + 2 Re(conj(u) du db^H b).
    weighted = a.conj() * w
    u = np.sum(weighted, axis=-1)
    du = -1j * sin * (weighted @ k_tx)
    db_norm2 = sin**2 * np.mean(k_rx**2)
    db_h_b = -1j * sin * np.mean(k_rx)
    norm2 = np.abs(u) ** 2 * db_norm2 + np.abs(du) ** 2 + 2.0 * np.real(np.conj(u) * du * db_h_b)
    fisher = 2.0 / noise_variance_w * np.abs(np.asarray(complex_gain)) ** 2 * norm2
    with np.errstate(divide="ignore"):
        return 1.0 / fisher


def angle_fisher_matrix(
    theta_rad: float,
    gain_per_unit_beam: complex,
    num_tx_antennas: int,
    num_rx_antennas: int,
    noise_variance_w: float,
    spacing_wavelengths: float = HALF_WAVELENGTH,
) -> NDArray[np.complex128]:
    """A (N_t, N_t) with f^H A f the Fisher information of theta carried by an echo
    illuminated by the (unnormalised) beam f, the same quantity as 1 / crlb_angle_rad2 but
    as a quadratic form for optimisation: J(f) = (2 / sigma^2) |c|^2 ||Pi f||^2 with
    Pi = d(b a^H)/d theta = b' a^H + b a'^H (004's Pi of eq. (37)) and c the complex gain per
    unit beam amplitude (``radar.echo_complex_gain`` at 1 W)."""
    a = steering_vector(theta_rad, num_tx_antennas, spacing_wavelengths)
    b = steering_vector(theta_rad, num_rx_antennas, spacing_wavelengths)
    da = steering_vector_derivative(theta_rad, num_tx_antennas, spacing_wavelengths)
    db = steering_vector_derivative(theta_rad, num_rx_antennas, spacing_wavelengths)
    pi = np.outer(db, a.conj()) + np.outer(b, da.conj())
    return 2.0 / noise_variance_w * np.abs(gain_per_unit_beam) ** 2 * (pi.conj().T @ pi)


def crlb_range_m2(delay_variance_s2: ArrayLike) -> NDArray[np.float64]:
    """CRLB of the range, [(1/sigma_tau^2) (2/c)^2]^-1 (000 eq. (16))."""
    return range_variance_m2(delay_variance_s2)


def predict_covariance(
    previous: ArrayLike, transition_jacobian: ArrayLike, process_noise: ArrayLike
) -> NDArray[np.float64]:
    """M_pred = G M_prev G^T + E (004 eq. (25)), batched over leading axes: the prediction
    of the PCRB and of the EKF's covariance alike."""
    g = np.asarray(transition_jacobian, dtype=float)
    m_prev = np.asarray(previous, dtype=float)
    return g @ m_prev @ np.swapaxes(g, -1, -2) + np.asarray(process_noise, dtype=float)


def pcrb_measurement_update(
    predicted: ArrayLike, measurement_jacobian: ArrayLike, measurement_noise: ArrayLike
) -> NDArray[np.float64]:
    """M = (H^T Q^-1 H + M_pred^-1)^-1 (004 eq. (35)-(36)), batched over leading axes.

    Evaluated in the equivalent covariance (Joseph) form, M = (I - K H) M_pred (I - K H)^T
    + K Q K^T with K = M_pred H^T (H M_pred H^T + Q)^-1 (the matrix inversion lemma): the
    information form inverts M_pred, whose entries span 20 orders of magnitude when the
    radar's angle variance is 1e-22 rad^2 beside a camera's 1e-2 m^2, and turned negative."""
    m = np.asarray(predicted, dtype=float)
    h = np.asarray(measurement_jacobian, dtype=float)
    q = np.asarray(measurement_noise, dtype=float)
    ht = np.swapaxes(h, -1, -2)
    gain = np.swapaxes(np.linalg.solve(h @ m @ ht + q, h @ m), -1, -2)  # M H^T S^-1 (S sym.)
    i_kh = np.eye(m.shape[-1]) - gain @ h
    out = i_kh @ m @ np.swapaxes(i_kh, -1, -2) + gain @ q @ np.swapaxes(gain, -1, -2)
    return 0.5 * (out + np.swapaxes(out, -1, -2))


def pcrb_update(
    previous: ArrayLike,
    transition_jacobian: ArrayLike,
    process_noise: ArrayLike,
    measurement_jacobian: ArrayLike,
    measurement_noise: ArrayLike,
) -> NDArray[np.float64]:
    """One step of the posterior CRB (004 eq. (25), (35)-(36)), batched over leading axes:
    :func:`predict_covariance`, then :func:`pcrb_measurement_update`.

    Shapes: previous (..., n, n), transition_jacobian G (..., n, n), process_noise E
    (..., n, n), measurement_jacobian H (..., m, n), measurement_noise Q (..., m, m).
    004 eq. (36) drops E; eq. (25) and (35) keep it, as we do.
    """
    predicted = predict_covariance(previous, transition_jacobian, process_noise)
    return pcrb_measurement_update(predicted, measurement_jacobian, measurement_noise)


def angle_fisher_floor(
    previous_angle_pcrb_rad2: ArrayLike, angle_pcrb_without_angle_rad2: ArrayLike
) -> NDArray[np.float64]:
    """Lambda of 004's PCRB constraint (37), the appendix's eq. (54)-(58): the angle Fisher
    information J (1/rad^2) the next echo must carry so that the angle PCRB does not grow,
    [(Omega_0 + J e_1 e_1^T)^-1]_11 <= m_prev. With Omega_0 the information of the next slot
    without the echo's angle (the predicted PCRB's and the range and Doppler measurements'),
    the Schur complement turns (55)-(58) into J >= 1 / m_prev - 1 / [Omega_0^-1]_11, with
    [Omega_0^-1]_11 the angle entry of the PCRB predicted and updated with the range and
    radial-velocity rows only (``angle_pcrb_without_angle_rad2``). The same holds for any
    state whose angle is a function of it (rank-one update along the angle's gradient).
    0 where the bound is not yet known or already holds without the angle."""
    m = np.asarray(previous_angle_pcrb_rad2, dtype=float)
    s = np.asarray(angle_pcrb_without_angle_rad2, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        floor = 1.0 / m - 1.0 / s
    return np.where((m > 0) & (s > 0) & np.isfinite(floor), np.maximum(floor, 0.0), 0.0)


def crlb_frequency_cycles2(snr_per_sample: ArrayLike, num_samples: int) -> NDArray[np.float64]:
    """CRB of the frequency of a complex tone A exp(j 2 pi f k) + CN(0, sigma^2), k < N, in
    (cycles per sample)^2: 6 / ((2 pi)^2 SNR N (N^2 - 1)) with SNR = |A|^2 / sigma^2 (Rife and
    Boorstyn, IEEE Trans. IT-20, 1974). Delay, Doppler and cos(theta) of the OFDM radar are
    such frequencies (per subcarrier, per symbol, per element)."""
    n = float(num_samples)
    snr = np.asarray(snr_per_sample, dtype=float)
    with np.errstate(divide="ignore"):
        return 6.0 / ((2 * np.pi) ** 2 * snr * n * (n**2 - 1.0))


def crlb_angle_covariance_rad2(
    theta_rad: ArrayLike,
    gain_per_unit_beam: ArrayLike,
    covariance: ArrayLike,
    num_rx_antennas: int,
    disturbance_w: float,
    spacing_wavelengths: float = HALF_WAVELENGTH,
) -> NDArray[np.float64]:
    """CRLB of a target's angle from the FIM of the transmit covariance (001 eq. (6)-(7)).

    The echo alpha A(theta) x with A = b(theta) a^H(theta), x of covariance R_x (the
    transmitted beams, sum_b p_b w_b w_b^H), c = ``gain_per_unit_beam`` the echo's complex
    gain per unit beam amplitude (``radar.echo_complex_gain`` at 1 W, unknown phase and
    amplitude) and white disturbance of power sigma^2 = ``disturbance_w`` (noise plus
    residual SI and CLI, 001 eq. (10)); eliminating the complex gain (Schur complement):

        CRB(theta) = sigma^2 / (2 |c|^2 (tr(A' R A'^H) - |tr(A R A'^H)|^2 / tr(A R A^H)))

    (Liu et al., "Cramer-Rao bound optimization for joint radar-communication
    beamforming", IEEE TSP 2022, eq. (13), one snapshot; matched filtering is in c).

    Args:
        theta_rad: (K,) target angles.
        gain_per_unit_beam: (K,) c of each target.
        covariance: (N_t, N_t) transmit covariance R_x [W].
        num_rx_antennas: N_r.
        disturbance_w: sigma^2 [W].
    """
    theta = np.atleast_1d(np.asarray(theta_rad, dtype=float))
    r = np.asarray(covariance)
    n_t = r.shape[0]
    a = steering_vector(theta, n_t, spacing_wavelengths)  # (K, N_t)
    da = steering_vector_derivative(theta, n_t, spacing_wavelengths)
    b = steering_vector(theta, num_rx_antennas, spacing_wavelengths)  # (K, N_r)
    db = steering_vector_derivative(theta, num_rx_antennas, spacing_wavelengths)
    bb = np.sum(np.abs(b) ** 2, axis=-1)
    dbdb = np.sum(np.abs(db) ** 2, axis=-1)
    b_h_db = np.sum(b.conj() * db, axis=-1)

    def quad(x: NDArray, y: NDArray) -> NDArray:  # y^H R x per target
        return np.einsum("kn,nm,km->k", y.conj(), r, x)

    aa, dd, ad = quad(a, a).real, quad(da, da).real, quad(a, da)  # a^H R a, a'^H R a', a'^H R a
    # A' = b' a^H + b a'^H, R Hermitian:
    # tr(A' R A'^H) = ||b'||^2 aa + ||b||^2 dd + 2 Re(conj(b^H b') ad)
    t_dd = dbdb * aa + bb * dd + 2.0 * np.real(np.conj(b_h_db) * ad)
    # tr(A R A'^H) = (b'^H b) aa + ||b||^2 conj(ad)
    t_ad = np.conj(b_h_db) * aa + bb * np.conj(ad)
    information = t_dd - np.abs(t_ad) ** 2 / np.maximum(bb * aa, 1e-300)
    fisher = 2.0 / disturbance_w * np.abs(np.asarray(gain_per_unit_beam)) ** 2 * information
    with np.errstate(divide="ignore"):
        return np.where(fisher > 0, 1.0 / np.maximum(fisher, 1e-300), np.inf)
