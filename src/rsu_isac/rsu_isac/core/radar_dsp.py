"""Radar signal processing of the OFDM ISAC echo: matched filtering (symbol removal),
windowed range-Doppler-angle FFTs, CA-CFAR with its threshold calibrated for the windows'
correlation, and per-detection range / Doppler / angle estimation (ML refinement on fine
grids; angle by the spatial matched filter b^H(theta) scan or by MUSIC, 002).

Input: the frequency-domain frame Y[m, l, n] (receive antenna m, symbol l, subcarrier n) and
the known symbols s[l, n] (see ``rsu_isac.sim.radar_echo``). After dividing by s, a target
at delay tau, Doppler mu and angle theta contributes c b_m(theta) exp(-j2 pi n df tau)
exp(j2 pi mu l T): a 3-D complex sinusoid with frequencies tau df (cycles/subcarrier),
mu T (cycles/symbol) and delta cos(theta) (cycles/element). Bin sizes: range c / (2 N df),
Doppler 1 / (L T), cos(theta) 1 / (delta M) for M receive beams.

Everything after the FFTs is vectorised over detections.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import fft as sfft
from scipy.optimize import brentq

from rsu_isac.core.array import HALF_WAVELENGTH, phase_slopes, steering_vector
from rsu_isac.core.bounds import crlb_frequency_cycles2
from rsu_isac.core.radar import (
    radial_velocity_from_doppler_mps,
    radial_velocity_variance_m2ps2,
    range_from_delay_m,
    range_variance_m2,
)
from rsu_isac.core.scenario import Scenario

AngleMethod = Literal["matched_filter", "music"]
ANGLE_METHODS: tuple[AngleMethod, ...] = ("matched_filter", "music")
REFINE_OVERSAMPLING = 32  # zero-padding factor of the ML refinement periodogram
# Every transform runs in float64. A near vehicle's echo can stand 170-180 dB above the
# thermal noise of a cell (seed000 with a full-power recovery beam at 10 m); float32 FFTs
# and products round at about 140 dB below the largest value, and that rounding noise,
# concentrated along the vehicle's rows of the cube, passed the CFAR as ghost detections
# (seed000: 4 per frame in float32, none in float64; tested).
PRECISION = np.complex128


@dataclass(frozen=True)
class ProcessingConfig:
    """Detection and estimation settings of :func:`process_frame`."""

    false_alarm_probability: float = 1e-6  # per cell; x 524k cells = 0.5 per frame
    guard_cells: tuple[int, int] = (2, 2)  # (Doppler, range) on each side
    training_cells: tuple[int, int] = (4, 8)  # (Doppler, range) on each side
    angle_oversampling: int = 2  # receive beams M = oversampling * N_r
    angle_method: AngleMethod = "matched_filter"
    sidelobe_guard_db: float = 25.0  # drop peaks this far below a stronger one on an axis
    max_detections: int = 64
    max_range_m: float = 0.0  # instrumented range [m]; 0: the unambiguous range c / (2 df)
    clutter_filter: bool = False  # remove static returns before detection (remove_static)


@dataclass(frozen=True)
class FrameGeometry:
    """Radio parameters of an echo frame (from the RadarEcho message)."""

    carrier_frequency_hz: float
    subcarrier_spacing_hz: float
    symbol_interval_s: float
    noise_variance_w: float
    spacing_wavelengths: float = HALF_WAVELENGTH

    @staticmethod
    def from_scenario(scenario: Scenario) -> FrameGeometry:
        """The echo geometry of a scenario's radio and waveform (what RadarEcho carries)."""
        radio, wf = scenario.radio, scenario.radar.waveform
        return FrameGeometry(
            radio.carrier_frequency_hz,
            wf.subcarrier_spacing_hz,
            wf.symbol_interval_s,
            radio.sensing_noise_w,
            radio.array.spacing_wavelengths,
        )


@dataclass(frozen=True)
class Detections:
    """Per-detection estimates and their variances (arrays of equal length)."""

    range_m: NDArray[np.float64]
    radial_velocity_mps: NDArray[np.float64]
    azimuth_rad: NDArray[np.float64]
    delay_s: NDArray[np.float64]
    doppler_hz: NDArray[np.float64]
    snr_db: NDArray[np.float64]  # SNR of the detection cell (windowed, all antennas)
    range_variance_m2: NDArray[np.float64]
    radial_velocity_variance_m2ps2: NDArray[np.float64]
    azimuth_variance_rad2: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.range_m.size)

    @staticmethod
    def empty() -> Detections:
        return Detections(*([np.zeros(0)] * 9))

    def subset(self, index: NDArray) -> Detections:
        """The detections selected by ``index`` (integer indices or a boolean mask)."""
        return Detections(*(getattr(self, f.name)[index] for f in fields(self)))


def implausible_detections(
    d: Detections, max_range_m: float = math.inf, max_speed_mps: float = math.inf
) -> dict[str, NDArray[np.bool_]]:
    """Per reason, which detections no radar with this instrumented range ``max_range_m``
    and unambiguous radial speed ``max_speed_mps`` can report: NaN or infinite fields, a
    range outside [0, max_range_m], a radial speed above max_speed_mps, an azimuth outside
    [0, pi] (the array's angle convention), a negative variance, or a standard deviation
    wider than the span the radar measures at all. The radar_processing and ekf_tracker
    nodes reject these one by one (nodes.convert), and the headless loop the same
    (:func:`screen_detections`), so both track the same detections."""
    values = np.column_stack([np.ravel(getattr(d, f.name)) for f in fields(d)])
    with np.errstate(invalid="ignore"):
        return {
            "NaN or infinite fields": ~np.isfinite(values).all(axis=1),
            f"range outside [0, {max_range_m:g}] m": ~(
                (d.range_m >= 0) & (d.range_m <= max_range_m)
            ),
            f"radial speed above {max_speed_mps:g} m/s": ~(
                np.abs(d.radial_velocity_mps) <= max_speed_mps
            ),
            "azimuth outside [0, pi]": ~((d.azimuth_rad >= 0) & (d.azimuth_rad <= math.pi)),
            "negative variance": (
                (d.range_variance_m2 < 0)
                | (d.radial_velocity_variance_m2ps2 < 0)
                | (d.azimuth_variance_rad2 < 0)
            ),
            "variance beyond the measurable span": (
                (d.range_variance_m2 > max_range_m**2)
                | (d.radial_velocity_variance_m2ps2 > (2 * max_speed_mps) ** 2)
                | (d.azimuth_variance_rad2 > math.pi**2)
            ),
        }


def strongest(d: Detections, kept: NDArray[np.int64], most: int | None) -> NDArray[np.int64]:
    """The indices among ``kept`` of the ``most`` strongest detections (by SNR), in their
    order; all of them when ``most`` is None or not exceeded."""
    if most is None or kept.size <= most:
        return kept
    return np.sort(kept[np.argsort(-d.snr_db[kept], kind="stable")][:most])


def screen_detections(
    d: Detections,
    max_range_m: float = math.inf,
    max_detections: int | None = None,
    max_speed_mps: float = math.inf,
) -> Detections:
    """``d`` without its implausible detections (:func:`implausible_detections`), the
    ``max_detections`` strongest at most."""
    bad = np.zeros(len(d), dtype=bool)
    for hit in implausible_detections(d, max_range_m, max_speed_mps).values():
        bad |= hit
    return d.subset(strongest(d, np.flatnonzero(~bad), max_detections))


def cfar_factor(pfa: float, correlation_eigenvalues: NDArray[np.float64]) -> float:
    """CA-CFAR factor alpha with P(|x|^2 > alpha mean(training)) = pfa for complex Gaussian
    noise: the cell under test x independent of the T training cells y, whose correlation
    matrix C has these eigenvalues. P_fa = E[exp(-(alpha / T) y^H y)] = 1 / det(I + (alpha /
    T) C) = prod_i 1 / (1 + alpha lambda_i / T), solved for alpha; for independent cells
    (C = I) the closed form T (pfa^(-1/T) - 1)."""
    eig = np.clip(np.asarray(correlation_eigenvalues, dtype=float), 0.0, None)
    count, target = eig.size, -np.log(pfa)

    def excess(alpha: float) -> float:
        return float(np.sum(np.log1p(alpha * eig / count)) - target)

    high = 1.0
    while excess(high) < 0:
        high *= 2.0
    return float(brentq(excess, 0.0, high, xtol=1e-12, rtol=1e-12))


# Correlation of white noise between DFT bins m apart after a periodic Hann window:
# sum_n w_n^2 e^(-j 2 pi m n / N) / sum_n w_n^2 for w^2 = 3/8 - cos/2 + cos(2 .)/8
HANN_BIN_CORRELATION = {0: 1.0, 1: -2.0 / 3.0, 2: 1.0 / 6.0}


@lru_cache(maxsize=32)
def hann_cfar_factor(
    pfa: float, guard_cells: tuple[int, int], training_cells: tuple[int, int]
) -> float:
    """:func:`cfar_factor` of the Hann-windowed range-Doppler map: the window correlates
    neighbouring bins (HANN_BIN_CORRELATION, separably in Doppler and range), so the
    training cells are not independent (248 cells of the default window count as about 72);
    the cell under test is >= 3 bins from them (guard cells >= 2), hence independent."""
    offsets = _training_offsets(guard_cells, training_cells)
    lag = np.abs(offsets[:, None, :] - offsets[None, :, :])
    rho = np.zeros(lag.shape)
    for m, value in HANN_BIN_CORRELATION.items():
        rho[lag == m] = value
    return cfar_factor(pfa, np.linalg.eigvalsh(rho[..., 0] * rho[..., 1]))


def hann(n: int) -> NDArray[np.float64]:
    """Periodic Hann window scaled to unit power gain (white-noise variance is preserved)."""
    w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)
    return w / np.sqrt(np.mean(w**2))


@dataclass(frozen=True)
class Cubes:
    """One frame and its transforms (complex128, see :data:`PRECISION`)."""

    samples: NDArray[np.complex128]  # (N_r, L, N): the received frame
    inverse_symbols: NDArray[np.complex128]  # (L, N): 1 / known symbols (matched filter)
    range_doppler: NDArray[np.complex128]  # (N_r, L, R): windowed range IFFT, Doppler FFT
    beams: NDArray[np.complex128]  # (M, L, R): Hann-tapered receive beams (for detection)
    range_bins: NDArray[np.int64]  # (R,): the range bin of each column of the last two

    def power(self) -> NDArray[np.float64]:
        """(M, L, R) beam power |beams|^2, as re^2 + im^2 (no square root)."""
        return self.beams.real**2 + self.beams.imag**2


@lru_cache(maxsize=8)
def receive_beamformer(angle_bins: int, num_rx: int) -> NDArray[np.complex128]:
    """(M, N_r) Hann-tapered receive beams on the cos(theta) grid k / (delta M): row k is
    w_m exp(+j 2 pi k m / M) / sqrt(N_r) (b^H(theta) x sums exp(+j 2 pi delta m cos theta)
    x_m), unit noise gain. One matrix product, which beats an FFT along the cube's slowest
    axis at these sizes."""
    k = np.arange(angle_bins)[:, None]
    m = np.arange(num_rx)[None, :]
    taper = hann(num_rx)[None, :] / np.sqrt(num_rx)
    return np.exp(2j * np.pi * k * m / angle_bins) * taper


@lru_cache(maxsize=8)
def _windows(num_symbols: int, num_subcarriers: int) -> NDArray[np.float64]:
    """(L, N) the separable Hann window of symbols and subcarriers."""
    return hann(num_symbols)[:, None] * hann(num_subcarriers)[None, :]


def remove_static(
    samples: NDArray[np.complex64], tx_symbols: NDArray[np.complex64]
) -> NDArray[np.complex128]:
    """Clutter suppression before detection and DOA (002: the receive RSU suppresses the
    clutter of static scatterers before estimating the target's angle): with the known
    symbols removed, a static reflector's return is the same in every symbol of the frame
    (zero Doppler), so subtracting each antenna's and subcarrier's mean over the symbols
    removes it and leaves a mover with Doppler f_D all but its mean, a share
    |sinc(f_D L T)|^2 of its energy (none for f_D a multiple of 1 / (L T), at most a few
    per cent beyond one Doppler bin). The symbols are put back, so that every later step
    sees a frame."""
    stripped = samples.astype(PRECISION) / tx_symbols.astype(PRECISION)[np.newaxis]
    stripped -= stripped.mean(axis=1, keepdims=True)
    return stripped * tx_symbols[np.newaxis]


def transform(
    samples: NDArray[np.complex64],
    tx_symbols: NDArray[np.complex64],
    angle_bins: int,
    range_bins: NDArray[np.int64] | None = None,
) -> Cubes:
    """Symbol removal, Hann-windowed range IFFT and Doppler FFT (orthonormal: noise variance
    per cell stays sigma^2), Hann-tapered receive beams (:func:`receive_beamformer`). The
    tapers keep sidelobes 31 dB down, so that strong vehicles do not spawn false peaks; the
    estimates use the untapered data. Symbol removal and both windows are one product (the
    Doppler window acts along the symbols, which the range IFFT leaves alone), and the
    Doppler FFT and the beams, which act along other axes, are formed for ``range_bins``
    only (default: all)."""
    nr, num_symbols, num_sc = samples.shape
    if range_bins is None:
        range_bins = np.arange(num_sc)
    inverse = 1.0 / tx_symbols.astype(PRECISION)
    cube = samples * (inverse * _windows(num_symbols, num_sc))[np.newaxis]
    cube = sfft.ifft(cube, axis=2, norm="ortho", workers=-1, overwrite_x=True)
    range_doppler = sfft.fft(
        cube[:, :, range_bins], axis=1, norm="ortho", workers=-1, overwrite_x=True
    )
    beams = receive_beamformer(angle_bins, nr) @ range_doppler.reshape(nr, -1)
    shape = (angle_bins, num_symbols, range_bins.size)
    return Cubes(
        samples.astype(PRECISION), inverse, range_doppler, beams.reshape(shape), range_bins
    )


def instrumented_range_bins(
    num_subcarriers: int, geometry: FrameGeometry, config: ProcessingConfig
) -> tuple[NDArray[np.int64], slice]:
    """The range bins to process for detection out to ``config.max_range_m``, and which of
    them may hold a detection: bins 0 .. ceil(max_range / bin) + 1, padded on both sides
    (cyclically) by the CFAR window (guard + training + 1 cells), so that every cell that
    may hold a detection sees its true neighbours and training cells. All bins when that is
    not fewer, or when max_range_m is 0."""
    bin_m = range_from_delay_m(1.0 / (num_subcarriers * geometry.subcarrier_spacing_hz))
    pad = config.guard_cells[1] + config.training_cells[1] + 1
    last = math.ceil(config.max_range_m / bin_m) + 1
    if config.max_range_m <= 0 or last + 1 + 2 * pad >= num_subcarriers:
        return np.arange(num_subcarriers), slice(0, num_subcarriers)
    return np.arange(-pad, last + 1 + pad) % num_subcarriers, slice(pad, pad + last + 1)


SCREEN_FRACTION = 0.5  # pre-screen at this fraction of the CFAR threshold over the floor
FLOOR_QUANTILE = 0.1  # noise floor from this quantile of the cells (exponential law)
FLOOR_STRIDE = 31  # every 31st cell for the floor (prime: no alignment with the axes)


def noise_floor(power: NDArray[np.float64]) -> float:
    """Noise power per cell from the FLOOR_QUANTILE quantile of a strided subsample: for
    exponential noise cells q = -sigma^2 ln(1 - FLOOR_QUANTILE); targets and their sidelobes
    only raise the upper cells, so the estimate holds while 10 % of the cells are noise."""
    sample = power.ravel()[::FLOOR_STRIDE]
    return float(np.quantile(sample, FLOOR_QUANTILE) / -np.log1p(-FLOOR_QUANTILE))


def _training_offsets(
    guard_cells: tuple[int, int], training_cells: tuple[int, int]
) -> NDArray[np.int64]:
    """(T, 2) (Doppler, range) offsets of the CA-CFAR training cells: the outer window
    without the guard window around the cell under test."""
    gd, gr = guard_cells
    td, tr = training_cells
    dd, dr = np.meshgrid(
        np.arange(-(gd + td), gd + td + 1), np.arange(-(gr + tr), gr + tr + 1), indexing="ij"
    )
    training = (np.abs(dd) > gd) | (np.abs(dr) > gr)
    return np.stack([dd[training], dr[training]], axis=1)


def detect(
    power: NDArray[np.float64], config: ProcessingConfig, candidates: slice = slice(None)
) -> tuple[NDArray, NDArray]:
    """CA-CFAR per receive beam (cyclic in Doppler and range) at the local maxima of the
    angle-Doppler-range power whose range index lies in ``candidates``, then an along-axis
    sidelobe guard. Returns (cells (K, 3), noise estimate (K,)).

    The CFAR mean is evaluated exactly (float64) at the cells that can pass: local maxima
    above SCREEN_FRACTION x alpha x :func:`noise_floor`. A cell below that screen would pass
    only if its 248 training cells (some 72 independent ones after the Hann windows)
    averaged under half the floor, which noise does with probability below 1e-8
    (Chernoff bound of the gamma law); checked against the whole-cube filter in the tests."""
    offsets = _training_offsets(config.guard_cells, config.training_cells)
    alpha = hann_cfar_factor(
        config.false_alarm_probability, tuple(config.guard_cells), tuple(config.training_cells)
    )
    screen = power > SCREEN_FRACTION * alpha * noise_floor(power)
    screen &= _axis_maxima(power)
    screen[:, :, : candidates.start or 0] = False
    if candidates.stop is not None:
        screen[:, :, candidates.stop :] = False
    cells = np.stack(np.unravel_index(np.flatnonzero(screen), power.shape), axis=1)
    cells = cells[_is_local_maximum(power, cells)]
    values = power[tuple(cells.T)]
    noise = _training_mean(power, cells, offsets)
    passed = np.flatnonzero(values > alpha * noise)
    passed = passed[np.argsort(-values[passed])]  # strongest first
    cells, values, noise = cells[passed], values[passed], noise[passed]
    keep = _drop_axis_sidelobes(cells, values, power.shape, 10 ** (-config.sidelobe_guard_db / 10))
    return cells[keep][: config.max_detections], noise[keep][: config.max_detections]


def _training_mean(
    power: NDArray[np.float64], cells: NDArray, offsets: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Mean power of each cell's training cells (cyclic), (K,), float64, at least 1e-30 (an
    echo with exact zeros around a target gives a finite SNR)."""
    _, num_doppler, num_range = power.shape
    d = np.mod(cells[:, 1:2] + offsets[None, :, 0], num_doppler)
    r = np.mod(cells[:, 2:3] + offsets[None, :, 1], num_range)
    flat = (cells[:, 0:1] * num_doppler + d) * num_range + r
    return np.maximum(np.mean(np.take(power, flat), axis=1, dtype=np.float64), 1e-30)


def _axis_maxima(power: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Whether each cell is >= both (cyclic) neighbours along every axis: a cheap whole-cube
    superset of the 26-neighbour local maxima."""
    mask = np.ones(power.shape, dtype=bool)
    for axis in range(power.ndim):
        p, m = np.moveaxis(power, axis, 0), np.moveaxis(mask, axis, 0)
        m[1:] &= p[1:] >= p[:-1]
        m[0] &= p[0] >= p[-1]
        m[:-1] &= p[:-1] >= p[1:]
        m[-1] &= p[-1] >= p[0]
    return mask


def _is_local_maximum(power: NDArray[np.float64], cells: NDArray) -> NDArray[np.bool_]:
    """Whether each cell is >= its 26 neighbours (cyclic)."""
    shape = np.array(power.shape)
    offsets = np.argwhere(np.ones((3, 3, 3))) - 1
    offsets = offsets[np.any(offsets != 0, axis=1)]  # (26, 3)
    neighbours = np.mod(cells[:, None, :] + offsets[None, :, :], shape)  # (C, 26, 3)
    flat = np.ravel_multi_index(tuple(np.moveaxis(neighbours, 2, 0)), power.shape)
    return np.all(power[tuple(cells.T)][:, None] >= np.take(power, flat), axis=1)


def _drop_axis_sidelobes(
    cells: NDArray, values: NDArray, shape: tuple[int, ...], ratio: float
) -> NDArray[np.bool_]:
    """Which peaks (sorted strongest first) to keep: a peak that lies on an axis line of a
    stronger peak (the other two coordinates within one bin) and is weaker by more than
    1 / ratio is dropped, since the separable windows' sidelobes lie along the axes."""
    diff = np.abs(cells[:, None, :] - cells[None, :, :])
    diff = np.minimum(diff, np.array(shape) - diff)  # cyclic distance, (P, P, 3)
    on_axis = np.sum(diff <= 1, axis=2) >= 2
    much_weaker = values[:, None] < ratio * values[None, :]
    return ~np.any(on_axis & much_weaker, axis=1)


def _refine(profiles: NDArray[np.complex128], start: NDArray[np.float64], sign: float):
    """ML refinement of a tone's frequency in ``profiles`` (K, S) within +-0.5 bin of
    ``start`` (K,): the periodogram |sum_s x_s exp(sign j 2 pi f s / S)|^2 on the grid of
    step 1 / REFINE_OVERSAMPLING bin around the start bin (the points of an FFT zero-padded
    REFINE_OVERSAMPLING times), its maximum, and a parabola through the three points around
    it. exp(j 2 pi (c + u) s / S) = exp(j 2 pi c s / S) exp(j 2 pi u s / S), so one
    derotation per profile and one (K, S) x (S, W) product evaluate every window."""
    size = profiles.shape[1]
    half = REFINE_OVERSAMPLING // 2
    fine = np.arange(-half, half + 1)  # (W,) fine bins around the centre
    centre = np.round(start * REFINE_OVERSAMPLING).astype(int)  # (K,) in fine bins
    phase = sign * 2j * np.pi * np.arange(size) / (size * REFINE_OVERSAMPLING)
    derotated = profiles * np.exp(np.outer(centre, phase))
    values = np.abs(derotated @ np.exp(np.outer(phase, fine))) ** 2  # (K, W)
    window = centre[:, None] + fine[None, :]
    return _interpolate(window, values, np.argmax(values, axis=1)) / REFINE_OVERSAMPLING


def _spatial_snapshots(range_doppler: NDArray[np.complex128], d_bins, r_bins) -> NDArray:
    """(K, N_r, 9) snapshots at each detection cell (index 4) and its 8 range-Doppler
    neighbours."""
    _, num_symbols, num_sc = range_doppler.shape
    offsets = [(dd, dr) for dd in (-1, 0, 1) for dr in (-1, 0, 1)]
    cols = [
        range_doppler[:, (d_bins + dd) % num_symbols, (r_bins + dr) % num_sc].T
        for dd, dr in offsets
    ]
    return np.stack(cols, axis=2)


def music_spectrum(
    vectors: NDArray[np.complex128],
    theta: NDArray[np.float64],
    num_sources: NDArray[np.int64],
    spacing: float,
) -> NDArray[np.float64]:
    """MUSIC pseudo-spectrum 1 / ||E_n^H b(theta)||^2 for each detection: ``vectors``
    (K, M, M) the eigenvectors of :func:`fb_covariance` (ascending eigenvalues), theta (K, G),
    num_sources (K,); the noise subspace E_n is the first M - num_sources of them (002 uses
    MUSIC for the DOA)."""
    size = vectors.shape[1]
    b = steering_vector(theta, size, spacing)  # (K, G, M)
    projection = np.abs(np.conj(b) @ vectors) ** 2  # (K, G, M) onto every eigenvector
    noise_dims = np.arange(size)[None, None, :] < (size - num_sources)[:, None, None]
    return 1.0 / np.maximum(np.sum(projection * noise_dims, axis=2), 1e-300)


def whitened_music_spectrum(
    covariance: NDArray[np.complex128],
    interference: NDArray[np.complex128],
    theta: NDArray[np.float64],
    num_sources: int,
    spacing: float = HALF_WAVELENGTH,
) -> NDArray[np.float64]:
    """MUSIC after clutter suppression by whitening (generalised MUSIC): with W = Q^(-1/2)
    of the clutter-plus-noise covariance ``interference`` Q (M, M) (a static scene's, learnt
    from target-free frames), the noise subspace E_n of W R W (R = ``covariance``, the echo's
    sample covariance) and the whitened steering vectors b~ = W b(theta), the pseudo-spectrum
    ||b~||^2 / ||E_n^H b~||^2 over ``theta`` (G,). Whitening turns the clutter into white
    noise, which MUSIC's noise subspace then holds (002 Fig. 3: DOA after clutter
    suppression)."""
    lam, vec = np.linalg.eigh(interference)
    whiten = (vec / np.sqrt(np.maximum(lam, 1e-300))) @ vec.conj().T  # Q^(-1/2), Hermitian
    noise = np.linalg.eigh(whiten @ covariance @ whiten)[1][:, : covariance.shape[0] - num_sources]
    b = steering_vector(theta, covariance.shape[0], spacing) @ whiten.T  # rows (W b)^T
    return np.sum(np.abs(b) ** 2, axis=1) / np.maximum(
        np.sum(np.abs(b.conj() @ noise) ** 2, axis=1), 1e-300
    )


SMOOTHING_SUBARRAYS = 8  # spatial smoothing: subarrays of N_r - 7 elements


def fb_covariance(snapshots: NDArray[np.complex128]) -> NDArray[np.complex128]:
    """Spatially smoothed, forward-backward averaged sample covariance of (K, N_r, S)
    snapshots: (K, M, M) with M = N_r - SMOOTHING_SUBARRAYS + 1. Both decorrelate coherent
    returns (Shan, Wax, Kailath 1985; Pillai, Kwon 1989)."""
    x = snapshots.astype(np.complex128)
    size = x.shape[1] - SMOOTHING_SUBARRAYS + 1
    r = np.zeros((x.shape[0], size, size), dtype=complex)
    for start in range(SMOOTHING_SUBARRAYS):
        sub = x[:, start : start + size, :]
        r += sub @ np.conj(np.swapaxes(sub, 1, 2))
    r /= SMOOTHING_SUBARRAYS * x.shape[2]
    j = np.eye(size)[::-1]
    return 0.5 * (r + j @ np.conj(r) @ j)


def source_count(eigenvalues: NDArray[np.float64], noise_variance: float, max_sources: int = 2):
    """Sources per detection cell from the (K, M) ascending eigenvalues of
    :func:`fb_covariance`: those more than 10 dB above the noise variance (the noise
    eigenvalues of so few snapshots spread up to about 7 dB above it) and within 30 dB of the
    largest (a guard against spurious sources beside strong returns)."""
    floor = np.maximum(10.0 * noise_variance, 1e-3 * eigenvalues[:, -1:])
    return np.clip(np.sum(eigenvalues > floor, axis=1), 1, max_sources)


def _angles(cubes: Cubes, cells: NDArray, config: ProcessingConfig, geometry: FrameGeometry):
    """(detection index, theta) pairs: the coarse receive-beam bin, then the maximum of the
    matched filter |b^H(theta) x|^2 on a fine grid one beamwidth around it; or, with MUSIC,
    the largest one or two peaks (model order from the eigenvalues) of the MUSIC spectrum two
    beamwidths around, which resolves vehicles closer than a beamwidth."""
    spacing = geometry.spacing_wavelengths
    nr = cubes.range_doppler.shape[0]
    angle_bins = cubes.beams.shape[0]
    a_bins, d_bins, r_bins = cells.T
    freq = ((a_bins + angle_bins / 2) % angle_bins - angle_bins / 2) / angle_bins
    cos0 = np.clip(freq / spacing, -1.0, 1.0)
    beamwidth = 1.0 / (nr * spacing)  # Rayleigh resolution in cos(theta)
    snapshots = _spatial_snapshots(cubes.range_doppler, d_bins, r_bins)  # (K, N_r, 9)
    if config.angle_method == "music":
        offsets = 2.0 * beamwidth * np.linspace(-1, 1, 161)
        cos_grid = np.clip(cos0[:, None] + offsets[None, :], -1, 1)
        eigenvalues, vectors = np.linalg.eigh(fb_covariance(snapshots))
        sources = source_count(eigenvalues, geometry.noise_variance_w)
        spectrum = music_spectrum(vectors, np.arccos(cos_grid), sources, spacing)
    else:
        cos_grid, spectrum = _scan(snapshots[:, :, 4], cos0, beamwidth, 81, spacing)
        sources = np.ones(cells.shape[0], dtype=int)
    pairs = np.array(
        [(k, p) for k in range(cells.shape[0]) for p in _peaks(spectrum[k], int(sources[k]))]
    )
    index = pairs[:, 0]
    cos_peak = _interpolate(cos_grid[index], spectrum[index], pairs[:, 1])
    if config.angle_method == "music":  # the pseudo-spectrum is too sharp for one parabola:
        step = cos_grid[index, 1] - cos_grid[index, 0]  # zoom in once, every peak together
        fine = np.clip(cos_peak[:, None] + step[:, None] * np.linspace(-1, 1, 41), -1, 1)
        values = music_spectrum(vectors[index], np.arccos(fine), sources[index], spacing)
        cos_peak = _interpolate(fine, values, np.argmax(values, axis=1))
    return index, np.arccos(np.clip(cos_peak, -1.0, 1.0))


def _scan(
    snapshots: NDArray[np.complex128],
    cos0: NDArray[np.float64],
    half_width: float,
    points: int,
    spacing: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Spatial matched filter |b^H(theta) x_k|^2 of (K, N_r) snapshots on ``points`` uniform
    cos(theta) values over cos0_k +- ``half_width`` (the window moved inside [-1, 1] where it
    would stick out). b(c + u) is b(c) times a phase ramp in u (eq. (4) of 000), so one
    (K, N_r) x (N_r, G) product scans every detection. Returns (cos grid, spectrum), (K, G)."""
    half_width = min(half_width, 1.0)
    offsets = half_width * np.linspace(-1.0, 1.0, points)
    centre = np.clip(cos0, -1.0 + half_width, 1.0 - half_width)
    slope = phase_slopes(snapshots.shape[1], spacing)
    derotated = np.exp(1j * centre[:, None] * slope[None, :]) * snapshots
    spectrum = np.abs(derotated @ np.exp(1j * np.outer(slope, offsets))) ** 2 / slope.size
    return centre[:, None] + offsets[None, :], spectrum


def _peaks(values: NDArray[np.float64], count: int) -> list[int]:
    """Indices of the ``count`` largest interior local maxima (at least the global one)."""
    interior = np.flatnonzero((values[1:-1] >= values[:-2]) & (values[1:-1] >= values[2:])) + 1
    if interior.size == 0:
        return [int(np.clip(np.argmax(values), 1, values.size - 2))]
    return [int(i) for i in interior[np.argsort(-values[interior])][:count]]


def _interpolate(
    grid: NDArray[np.float64], values: NDArray[np.float64], index: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Parabolic interpolation of one peak per row: the vertex of the parabola through the
    values at ``index`` (K,) and its two neighbours on the (K, G) ``grid`` (uniform per row),
    moved at most one step."""
    i = np.clip(index, 1, grid.shape[1] - 2)
    rows = np.arange(i.size)
    left, mid, right = values[rows, i - 1], values[rows, i], values[rows, i + 1]
    denom = left - 2 * mid + right
    offset = np.where(denom != 0, 0.5 * (left - right) / np.where(denom == 0, 1, denom), 0.0)
    return grid[rows, i] + np.clip(offset, -1, 1) * (grid[rows, i + 1] - grid[rows, i])


def _matched_filter_angle(cubes: Cubes, r_ref, d_ref, theta0, spacing) -> NDArray[np.float64]:
    """Second matched-filter pass on the untapered snapshot at the refined range and Doppler
    (no window or scalloping loss), a tenth of a beamwidth around the first estimate: the
    snapshot of detection k is sum_{l,n} Y[m, l, n] / s[l, n] e_k[l, n] with e_k the 2-D
    tone, one (N_r, L N) x (L N, K) product."""
    nr, num_symbols, num_sc = cubes.samples.shape
    e_range = np.exp(2j * np.pi * np.outer(r_ref, np.arange(num_sc)) / num_sc)  # (K, N)
    e_doppler = np.exp(-2j * np.pi * np.outer(d_ref, np.arange(num_symbols)) / num_symbols)
    tones = e_doppler[:, :, None] * e_range[:, None, :] * cubes.inverse_symbols  # (K, L, N)
    snapshots = (cubes.samples.reshape(nr, -1) @ tones.reshape(len(r_ref), -1).T).T  # (K, N_r)
    cos0 = np.cos(theta0)
    cos_grid, spectrum = _scan(snapshots, cos0, 0.2 / (nr * spacing), 41, spacing)
    best = _interpolate(cos_grid, spectrum, np.argmax(spectrum, axis=1))
    return np.arccos(np.clip(best, -1.0, 1.0))


def process_frame(
    samples: NDArray[np.complex64],
    tx_symbols: NDArray[np.complex64],
    geometry: FrameGeometry,
    config: ProcessingConfig,
) -> Detections:
    """Detections of one OFDM echo frame (see the module docstring)."""
    nr, num_symbols, num_sc = samples.shape
    if config.clutter_filter:
        samples = remove_static(samples, tx_symbols)
    columns, candidates = instrumented_range_bins(num_sc, geometry, config)
    cubes = transform(samples, tx_symbols, config.angle_oversampling * nr, columns)
    power = cubes.power()
    cells, noise = detect(power, config, candidates)
    if cells.shape[0] == 0:
        return Detections.empty()
    index, theta = _angles(cubes, cells, config, geometry)
    cells, noise = cells[index], noise[index]
    d_bins, r_bins = cells[:, 1], cubes.range_bins[cells[:, 2]]
    snr = np.maximum(power[tuple(cells.T)] / noise - 1.0, 1e-3)
    spacing = geometry.spacing_wavelengths
    b = steering_vector(theta, nr, spacing)  # (K, N_r)
    # the matched-filtered frame in each detection's receive beam, (K, L, N)
    beamformed = (np.conj(b) @ cubes.samples.reshape(nr, -1)).reshape(
        -1, num_symbols, num_sc
    ) * cubes.inverse_symbols
    # range profile at the detection's Doppler bin (rectangular in range), and Doppler
    # profile at its range bin (Hann-windowed in range, as the range IFFT)
    doppler_tones = hann(num_symbols)[None, :] * np.exp(
        -2j * np.pi * np.outer(d_bins, np.arange(num_symbols)) / num_symbols
    )
    range_profiles = np.einsum("kl,kln->kn", doppler_tones / np.sqrt(num_symbols), beamformed)
    range_tones = hann(num_sc)[None, :] * np.exp(
        2j * np.pi * np.outer(r_bins, np.arange(num_sc)) / num_sc
    )
    doppler_profiles = np.einsum("kn,kln->kl", range_tones / np.sqrt(num_sc), beamformed)
    r_ref = _refine(range_profiles, r_bins.astype(float), +1.0)
    d_ref = _refine(doppler_profiles, d_bins.astype(float), -1.0)
    if config.angle_method == "matched_filter":
        theta = _matched_filter_angle(cubes, r_ref, d_ref, theta, spacing)
    df, dt = geometry.subcarrier_spacing_hz, geometry.symbol_interval_s
    delay = np.mod(r_ref, num_sc) / (num_sc * df)
    doppler = (np.mod(d_ref + num_symbols / 2, num_symbols) - num_symbols / 2) / (num_symbols * dt)
    # variances: the CRB of a tone's frequency at the cell's SNR (per sample: SNR / size),
    # i.e. 000 eq. (8)-(9) with alpha^2 fixed by the waveform; cos(theta) likewise per element
    var_tau = crlb_frequency_cycles2(snr / num_sc, num_sc) / df**2
    var_mu = crlb_frequency_cycles2(snr / num_symbols, num_symbols) / dt**2
    var_cos = crlb_frequency_cycles2(snr / nr, nr) / spacing**2
    fc = geometry.carrier_frequency_hz
    return Detections(
        range_m=range_from_delay_m(delay),
        radial_velocity_mps=radial_velocity_from_doppler_mps(doppler, fc),
        azimuth_rad=theta,
        delay_s=delay,
        doppler_hz=doppler,
        snr_db=10 * np.log10(snr),
        range_variance_m2=range_variance_m2(var_tau),
        radial_velocity_variance_m2ps2=radial_velocity_variance_m2ps2(var_mu, fc),
        azimuth_variance_rad2=var_cos / np.maximum(np.sin(theta) ** 2, 1e-6),
    )
