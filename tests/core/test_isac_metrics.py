"""002's metrics (core.isac_metrics) against independent computations: the SMI rate as a
difference of log-determinants of the echo's covariance, the MVDR filter as the best one,
the peaks and null depths on a brute-force angle grid."""

from itertools import pairwise

import numpy as np
import pytest

from rsu_isac.core.array import steering_vector
from rsu_isac.core.isac_metrics import (
    BistaticScene,
    communication_mi,
    pattern,
    peaks_and_nulls,
    sc_mi,
    sensing_mi,
    sensing_scnr,
)

N_T, N_R = 16, 4


def scene(rng) -> BistaticScene:
    return BistaticScene(
        target_tx_rad=1.2,
        target_rx_rad=2.0,
        target_variance=0.5,
        clutter_tx_rad=rng.uniform(0.2, 2.9, 3),
        clutter_rx_rad=rng.uniform(0.2, 2.9, 3),
        clutter_variance=rng.uniform(1.0, 10.0, 3),
        noise_w=0.1,
        num_rx_antennas=N_R,
    )


def covariance(rng, rank=3) -> np.ndarray:
    w = rng.normal(size=(N_T, rank)) + 1j * rng.normal(size=(N_T, rank))
    return w @ w.conj().T / rank


def test_smi_is_the_log_det_difference_of_the_echo_covariance():
    rng = np.random.default_rng(0)
    sc, r = scene(rng), covariance(rng)
    a = steering_vector
    q = sc.noise_w * np.eye(N_R, dtype=complex)
    clutter = zip(sc.clutter_tx_rad, sc.clutter_rx_rad, sc.clutter_variance, strict=True)
    for th_t, th_r, var in clutter:
        b = a(th_r, N_R)
        q += var * np.real(a(th_t, N_T).conj() @ r @ a(th_t, N_T)) * np.outer(b, b.conj())
    b_t = a(sc.target_rx_rad, N_R)
    a_t = a(sc.target_tx_rad, N_T)
    q_t = sc.target_variance * np.real(a_t.conj() @ r @ a_t) * np.outer(b_t, b_t.conj())
    expected = (np.linalg.slogdet(q_t + q)[1] - np.linalg.slogdet(q)[1]) / np.log(2)
    assert sensing_mi(r, sc) == pytest.approx(expected, rel=1e-10)


def test_the_mvdr_filter_is_the_best_receive_filter():
    rng = np.random.default_rng(1)
    sc, r = scene(rng), covariance(rng)
    best = sensing_scnr(r, sc)
    q = sc.interference_covariance(r)
    mvdr = np.linalg.solve(q, sc.receive_steering())
    assert sensing_scnr(r, sc, mvdr) == pytest.approx(best, rel=1e-10)
    for _ in range(200):
        u = rng.normal(size=N_R) + 1j * rng.normal(size=N_R)
        assert sensing_scnr(r, sc, u) <= best * (1 + 1e-12)
    assert sensing_scnr(r, sc, sc.receive_steering()) < best  # the clutter is not white


def test_peaks_and_null_depth_on_a_dense_grid():
    n = 16
    angles = np.array([0.9, 1.5, 2.2])
    a = steering_vector(angles, n)
    r = a.T @ a.conj()  # three unit beams
    peaks_db, depth_db = peaks_and_nulls(r, angles[::-1])  # any order in
    assert peaks_db == pytest.approx(10 * np.log10(pattern(r, angles)))
    grid = np.linspace(0.0, np.pi, 200_001)
    dense = pattern(r, grid)
    for i, (lo, hi) in enumerate(pairwise(angles)):
        inside = dense[(grid >= lo) & (grid <= hi)]
        expected = 10 * np.log10(min(pattern(r, [lo, hi])) / inside.min())
        assert depth_db[i] == pytest.approx(expected, abs=0.05)


def test_cmi_and_the_sc_rate():
    sinr = np.array([0.0, 1.0, 3.0, 7.0])
    assert communication_mi(sinr).tolist() == [0.0, 1.0, 2.0, 3.0]
    assert sc_mi(communication_mi(sinr), 1.5) == 7.5


def test_whitened_music_finds_the_target_beside_clutter_that_plain_music_takes():
    """Exact covariances: a target 20 dB below three clutter returns at other angles. Plain
    MUSIC (one source) peaks at the clutter; after whitening by the clutter-plus-noise
    covariance the peak is the target's angle, to the grid's step."""
    from rsu_isac.core.array import steering_vector
    from rsu_isac.core.radar_dsp import whitened_music_spectrum

    n = 8
    grid = np.linspace(np.deg2rad(30), np.deg2rad(150), 4801)
    target = np.deg2rad(97.3)
    clutter = np.deg2rad([60.0, 75.0, 130.0])
    b_c = steering_vector(clutter, n)
    q = (b_c.T * np.array([100.0, 300.0, 100.0])) @ b_c.conj() + 0.01 * np.eye(n)
    b_t = steering_vector(target, n)
    r = q + 1.0 * np.outer(b_t, b_t.conj())
    spectrum = whitened_music_spectrum(r, q, grid, 1)
    assert abs(grid[np.argmax(spectrum)] - target) <= grid[1] - grid[0]
    plain = whitened_music_spectrum(r, np.eye(n), grid, 1)  # no whitening: plain MUSIC
    assert abs(grid[np.argmax(plain)] - target) > np.deg2rad(5)
