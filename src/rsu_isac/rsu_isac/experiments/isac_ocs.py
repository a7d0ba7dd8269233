"""002's evaluation on Monte Carlo placements (sim.placements): ISAC-OCS (the max-min
leader, then the follower: beamforming.sensing.follow), MMO (the same leader, the sensing
power steered at the target without optimisation: 002's "communication only" design), and
WMMSE-ISAC (beamforming.wmmse_isac, equal weights), optionally the DL beamformer
(learning.isac_dl), scored by core.isac_metrics: CMI rates (summed, and the worst user's),
SMI rate at the receive RSU with the MVDR filter, S&C MI rate, beam-pattern peaks and nulls,
MUSIC after clutter suppression (core.radar_dsp.whitened_music_spectrum).

Every method spends P_c = rho_c P on the users and P_s = (1 - rho_c) P on one sensing
stream, which the users hear as interference.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from rsu_isac.beamforming.precoders import MaxMinSinr
from rsu_isac.beamforming.sensing import follow
from rsu_isac.beamforming.wmmse_isac import user_sinr, wmmse_isac
from rsu_isac.core.array import steering_vector
from rsu_isac.core.isac_metrics import (
    communication_mi,
    pattern,
    peaks_and_nulls,
    sc_mi,
    sensing_mi,
)
from rsu_isac.core.radar_dsp import whitened_music_spectrum
from rsu_isac.sim.placements import ANGLE_RANGE_RAD, Placement, PlacementConfig, draw_placement

METHODS = ("mmo", "isac_ocs", "wmmse_isac")
PLACEMENTS = 40  # per seed: 5 seeds x 40 = 002's 200 Monte Carlo trials
QUICK_PLACEMENTS = 1
SNAPSHOTS = 64  # echo snapshots per DOA estimate
MUSIC_GRID = np.linspace(*ANGLE_RANGE_RAD, 2401)  # 0.05 deg


@dataclass(frozen=True)
class Beams:
    """A method's communication beams (N, K), sensing stream (N,) and solve time [s]."""

    w: NDArray[np.complex128]
    sensing: NDArray[np.complex128]
    seconds: float

    def covariance(self) -> NDArray[np.complex128]:
        return self.w @ self.w.conj().T + np.outer(self.sensing, self.sensing.conj())


def design(method: str, placement: Placement, comm_ratio: float, power_w: float, dl=None) -> Beams:
    """The beams of ``method`` (METHODS, or "dl" with the network ``dl``) for a placement."""
    p_c, p_s = comm_ratio * power_w, (1.0 - comm_ratio) * power_w
    g, scene = placement.g, placement.scene
    started = time.perf_counter()
    if method == "wmmse_isac":
        joint = wmmse_isac(g, scene, p_c, p_s)
        return Beams(joint.w, joint.sensing, time.perf_counter() - started)
    if method == "dl":
        w, v = dl(placement, p_c, p_s)
        return Beams(w, v, time.perf_counter() - started)
    w = MaxMinSinr().solve(g, p_c)[0]
    if method == "mmo":
        v = steering_vector(scene.target_tx_rad, g.shape[1]) * np.sqrt(p_s)
    elif method == "isac_ocs":
        found = follow(g, w, scene, p_s)
        v = np.zeros(g.shape[1], complex) if found is None else found.beam
    else:
        raise ValueError(f"unknown method '{method}'; valid: {', '.join(METHODS)}, dl")
    return Beams(w, v, time.perf_counter() - started)


def rates(placement: Placement, beams: Beams) -> dict[str, float]:
    """CMI (sum and worst user), SMI and S&C MI rates [bit/s/Hz] of one placement."""
    cmi = communication_mi(user_sinr(placement.g, beams.w, beams.sensing))
    smi = sensing_mi(beams.covariance(), placement.scene)
    return {
        "cmi": float(cmi.sum()),
        "cmi_min": float(cmi.min()),
        "smi": smi,
        "sc": sc_mi(cmi, smi),
    }


def beam_metrics(placement: Placement, beams: Beams) -> dict[str, float]:
    """002 Fig. 2's quantities [dB]: the pattern at the target and (mean) at the users, the
    target's pattern over the strongest clutter patch's (the null toward clutter), the same
    for the sensing beam alone (the follower's own design), and the mean null depth between
    adjacent intended directions (users and target)."""
    r = beams.covariance()
    scene = placement.scene
    target = float(pattern(r, scene.target_tx_rad))
    clutter = pattern(r, scene.clutter_tx_rad)
    directions = np.append(placement.user_rad, scene.target_tx_rad)
    _, depths = peaks_and_nulls(r, directions, grid=801)
    v = np.outer(beams.sensing, beams.sensing.conj())
    beam_clutter = float(pattern(v, scene.clutter_tx_rad).max())
    return {
        "sensing_peak_db": 10 * np.log10(target),
        "sensing_beam_clutter_null_db": 10
        * np.log10(float(pattern(v, scene.target_tx_rad)) / max(beam_clutter, 1e-300)),
        "comm_peak_db": float(np.mean(10 * np.log10(pattern(r, placement.user_rad)))),
        "clutter_null_db": 10 * np.log10(target / float(clutter.max())),
        "adjacent_null_db": float(np.mean(depths)),
    }


def music_estimate(
    rng: np.random.Generator, placement: Placement, beams: Beams, snapshots: int = SNAPSHOTS
) -> tuple[float, float]:
    """(DOA error [deg], peak over the highest other local maximum [dB]) of MUSIC after
    clutter suppression on ``snapshots`` echoes at the receive RSU: x = V s, y = alpha b_t
    a_t^H x + sum_c beta_c b_c a_c^H x + n (reflections drawn once per estimate, constant
    over the snapshots); the clutter-plus-noise covariance learnt from as many target-free
    snapshots (the scene is static)."""
    scene = placement.scene
    n_t, n_r = beams.w.shape[0], scene.num_rx_antennas
    streams = np.column_stack([beams.w, beams.sensing])
    a_t, a_c, b_t, b_c = scene.steering(n_t)

    def complex_normal(*shape):
        return (rng.normal(size=shape) + 1j * rng.normal(size=shape)) / np.sqrt(2)

    alpha = np.sqrt(scene.target_variance) * complex_normal()
    beta = np.sqrt(scene.clutter_variance) * complex_normal(len(scene.clutter_variance))

    def echoes(with_target: bool) -> NDArray:
        x = streams @ complex_normal(streams.shape[1], snapshots)  # (N_t, L)
        y = (b_c.T * beta) @ (a_c.conj() @ x)
        if with_target:
            y = y + alpha * np.outer(b_t, a_t.conj() @ x)
        return y + np.sqrt(scene.noise_w) * complex_normal(n_r, snapshots)

    clutter_only, received = echoes(False), echoes(True)
    q = clutter_only @ clutter_only.conj().T / snapshots
    r = received @ received.conj().T / snapshots
    spectrum = whitened_music_spectrum(r, q, MUSIC_GRID, 1)
    best = int(np.argmax(spectrum))
    error = abs(np.rad2deg(MUSIC_GRID[best] - scene.target_rx_rad))
    inner = spectrum[1:-1]
    local = np.flatnonzero((inner > spectrum[:-2]) & (inner >= spectrum[2:])) + 1
    others = spectrum[local[local != best]]
    sidelobe = float(others.max()) if others.size else float(spectrum.min())
    return error, 10 * np.log10(spectrum[best] / sidelobe)


def placements(seed: int, quick: bool, config: PlacementConfig) -> list[Placement]:
    """The seed's Monte Carlo placements (PLACEMENTS of them, QUICK_PLACEMENTS if quick)."""
    rng = np.random.default_rng(seed)
    return [draw_placement(rng, config) for _ in range(QUICK_PLACEMENTS if quick else PLACEMENTS)]


def config_of(setting: dict) -> PlacementConfig:
    """The placement config of a setting (its snr_db, users, user_distance_m,
    antennas where given)."""
    config = PlacementConfig()
    for key, field in (
        ("snr_db", "snr_db"),
        ("users", "users"),
        ("user_distance_m", "user_distance_m"),
        ("antennas", "num_tx_antennas"),
    ):
        if key in setting:
            config = replace(config, **{field: setting[key]})
    return config


def rate_cell(setting: dict, seed: int, quick: bool, dl=None) -> dict[str, float]:
    """Mean rates of every method of the setting ("methods" or METHODS, each metric named
    METHOD_METRIC) over the seed's placements at the setting's comm_ratio (default 0.5)."""
    config = config_of(setting)
    ratio = setting.get("comm_ratio", 0.5)
    methods = setting.get("methods", METHODS)
    sums: dict[str, float] = {}
    drawn = placements(seed, quick, config)
    for placement in drawn:
        for method in methods:
            beams = design(method, placement, ratio, config.power_w, dl)
            for key, value in rates(placement, beams).items():
                sums[f"{method}_{key}"] = sums.get(f"{method}_{key}", 0.0) + value
            sums[f"{method}_ms"] = sums.get(f"{method}_ms", 0.0) + 1e3 * beams.seconds
    return {key: value / len(drawn) for key, value in sums.items()}


def pattern_cell(setting: dict, seed: int, quick: bool) -> dict[str, float]:
    """Mean beam-pattern metrics of one method (setting "method") over the placements."""
    config = config_of(setting)
    rows = []
    for placement in placements(seed, quick, config):
        beams = design(setting["method"], placement, setting.get("comm_ratio", 0.5), 1.0)
        rows.append(beam_metrics(placement, beams) | rates(placement, beams))
    return {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}


def music_cell(setting: dict, seed: int, quick: bool) -> dict[str, float]:
    """MUSIC after clutter suppression for one method: the DOA RMSE [deg], the share of
    estimates within 1 deg and the mean peak-to-sidelobe ratio [dB] over the placements."""
    config = config_of(setting)
    rng = np.random.default_rng([seed, 1])
    errors, sidelobes = [], []
    for placement in placements(seed, quick, config):
        beams = design(setting["method"], placement, setting.get("comm_ratio", 0.5), 1.0)
        error, sidelobe = music_estimate(rng, placement, beams)
        errors.append(error)
        sidelobes.append(sidelobe)
    errors = np.asarray(errors)
    return {
        "doa_rmse_deg": float(np.sqrt(np.mean(errors**2))),
        "within_1deg": float(np.mean(errors <= 1.0)),
        "sidelobe_suppression_db": float(np.mean(sidelobes)),
    }


def runtime_cell(setting: dict, seed: int, quick: bool) -> dict[str, float]:
    """Median solve time [ms] per method at N = setting["antennas"] (the leader alone for
    MMO; ISAC-OCS's leader and follower, and the follower alone)."""
    config = config_of(setting)
    times: dict[str, list[float]] = {m: [] for m in (*METHODS, "follower")}
    for placement in placements(seed, quick, config):
        for method in METHODS:
            times[method].append(1e3 * design(method, placement, 0.5, 1.0).seconds)
        w = MaxMinSinr().solve(placement.g, 0.5)[0]
        started = time.perf_counter()
        follow(placement.g, w, placement.scene, 0.5)
        times["follower"].append(1e3 * (time.perf_counter() - started))
    return {f"{m}_ms": float(np.median(t)) for m, t in times.items()}


def dl_cell(setting: dict, seed: int, quick: bool) -> dict[str, float]:
    """ISAC-OCS against the DL beamformer at K = setting["users"] (SNR 5 dB, rho_c = 0.5):
    the DL metrics are the mean over the networks of learning.zoo.ISAC_DL_SEEDS (quick: the
    shipped network)."""
    from rsu_isac.learning.isac_dl import IsacDl
    from rsu_isac.learning.zoo import ISAC_DL_SEEDS, trained_isac_dl

    folders = [None] if quick else [trained_isac_dl(s) for s in ISAC_DL_SEEDS]
    nets = [IsacDl.load(folder) for folder in folders]
    setting = {**setting, "methods": ("isac_ocs",), "snr_db": 5.0, "comm_ratio": 0.5}
    out = rate_cell(setting, seed, quick)
    runs = [rate_cell({**setting, "methods": ("dl",)}, seed, quick, net) for net in nets]
    for key in runs[0]:
        out[key] = float(np.mean([run[key] for run in runs]))
    return out
