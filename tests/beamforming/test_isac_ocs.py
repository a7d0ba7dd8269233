"""002's follower (sensing beam and receive filter with the leader's beams fixed) and the
WMMSE-ISAC baseline, checked against independent searches on Monte Carlo placements."""

import numpy as np
import pytest

import rsu_isac.beamforming.wmmse_isac as wmmse_module
from rsu_isac.beamforming.precoders import MaxMinSinr
from rsu_isac.beamforming.sensing import follow
from rsu_isac.beamforming.wmmse_isac import user_sinr, weighted_mi, wmmse_isac
from rsu_isac.core.array import steering_vector
from rsu_isac.core.isac_metrics import sensing_scnr
from rsu_isac.sim.placements import PlacementConfig, draw_placement


def _placement(seed: int, **overrides):
    return draw_placement(np.random.default_rng(seed), PlacementConfig(**overrides))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_follower_beats_random_and_steered_beams_with_their_best_filters(seed):
    """The follower's beam with its filter reaches an SCNR that no random sensing beam of
    the same power reaches even with its own best (MVDR) filter, nor the beam steered at
    the target (MMO's); the SCNR it reports is that of core.isac_metrics."""
    p = _placement(seed)
    w = MaxMinSinr().solve(p.g, 0.5)[0]
    found = follow(p.g, w, p.scene, 0.5)
    r_c = w @ w.conj().T
    ours = sensing_scnr(r_c + np.outer(found.beam, found.beam.conj()), p.scene)
    assert found.scnr == pytest.approx(ours, rel=1e-9)
    assert np.linalg.norm(found.beam) ** 2 <= 0.5 * (1 + 1e-9)
    assert sensing_scnr(
        r_c + np.outer(found.beam, found.beam.conj()), p.scene, found.receive_filter
    ) == (pytest.approx(ours, rel=1e-9))  # the filter it returns is the MVDR one
    rng = np.random.default_rng(100 + seed)
    steered = steering_vector(p.scene.target_tx_rad, 16) * np.sqrt(0.5)
    candidates = [steered] + [
        v * np.sqrt(0.5) / np.linalg.norm(v)
        for v in rng.normal(size=(300, 16)) + 1j * rng.normal(size=(300, 16))
    ]
    best_other = max(sensing_scnr(r_c + np.outer(v, v.conj()), p.scene) for v in candidates)
    assert ours >= best_other * (1 - 1e-9)


def test_follower_keeps_the_users_sinr_targets_when_asked():
    p = _placement(4)
    w = MaxMinSinr().solve(p.g, 0.5)[0]
    targets = 0.9 * user_sinr(p.g, w, np.zeros(16))
    found = follow(p.g, w, p.scene, 0.5, targets)
    assert np.all(user_sinr(p.g, w, found.beam) >= targets * (1 - 1e-6))
    free = follow(p.g, w, p.scene, 0.5)
    assert found.scnr <= free.scnr * (1 + 1e-9)


def test_user_sinr_counts_the_sensing_stream_as_interference():
    rng = np.random.default_rng(5)
    g = rng.normal(size=(3, 6)) + 1j * rng.normal(size=(3, 6))
    w = rng.normal(size=(6, 3)) + 1j * rng.normal(size=(6, 3))
    v = rng.normal(size=6) + 1j * rng.normal(size=6)
    for k in range(3):
        others = sum(abs(g[k] @ w[:, j]) ** 2 for j in range(3) if j != k)
        expected = abs(g[k] @ w[:, k]) ** 2 / (others + abs(g[k] @ v) ** 2 + 1.0)
        assert user_sinr(g, w, v)[k] == pytest.approx(expected, rel=1e-12)


def _gain_from_perturbations(p, w, v, omega, rng, step=1e-3, tries=60):
    """The largest relative gain of f over random small moves that keep both budgets."""
    base = weighted_mi(p.g, w, v, p.scene, omega)
    best = 0.0
    for _ in range(tries):
        dw = rng.normal(size=w.shape) + 1j * rng.normal(size=w.shape)
        dv = rng.normal(size=v.shape) + 1j * rng.normal(size=v.shape)
        w2 = w + step * np.linalg.norm(w) * dw / np.linalg.norm(dw)
        v2 = v + step * np.linalg.norm(v) * dv / np.linalg.norm(dv)
        w2 *= np.linalg.norm(w) / np.linalg.norm(w2)
        v2 *= np.linalg.norm(v) / np.linalg.norm(v2)
        best = max(best, weighted_mi(p.g, w2, v2, p.scene, omega) / base - 1.0)
    return best


@pytest.mark.parametrize("omega", [0.2, 0.5, 0.8])
def test_wmmse_isac_climbs_monotonically_to_a_stationary_point(monkeypatch, omega):
    """f never falls along the iterations, the budgets hold, and random small moves from
    the answer gain far less than they do from the starting point (MRT + steered)."""
    p = _placement(7)
    values = []

    def recorded(*args):
        values.append(weighted_mi(*args))
        return values[-1]

    monkeypatch.setattr(wmmse_module, "weighted_mi", recorded)
    found = wmmse_isac(p.g, p.scene, 0.5, 0.5, omega)
    assert np.all(np.diff(values) >= -1e-12 * abs(values[0]))
    assert values[-1] > values[0]
    assert np.linalg.norm(found.w) ** 2 <= 0.5 * (1 + 1e-9)
    assert np.linalg.norm(found.sensing) ** 2 <= 0.5 * (1 + 1e-9)
    rng = np.random.default_rng(8)
    start_w = wmmse_module.equal_power(wmmse_module.mrt(p.g), 0.5)
    start_v = steering_vector(p.scene.target_tx_rad, 16) * np.sqrt(0.5)
    at_start = _gain_from_perturbations(p, start_w, start_v, omega, rng)
    at_answer = _gain_from_perturbations(p, found.w, found.sensing, omega, rng)
    assert at_answer < 1e-5 < at_start


def test_wmmse_isac_at_the_ends_of_the_weight():
    """omega = 0: the users' sum rate, with the sensing stream put where it hurts them
    least (its leak into the users is far below the steered stream's); omega = 1: every
    stream serves the target, so the SMI beats ISAC-OCS's (whose communication beams are
    fixed)."""
    p = _placement(9)
    users_only = wmmse_isac(p.g, p.scene, 0.5, 0.5, 0.0)
    steered = steering_vector(p.scene.target_tx_rad, 16) * np.sqrt(0.5)
    assert np.sum(np.abs(p.g @ users_only.sensing) ** 2) < 1e-3 * np.sum(np.abs(p.g @ steered) ** 2)
    sensing_only = wmmse_isac(p.g, p.scene, 0.5, 0.5, 1.0)
    w = MaxMinSinr().solve(p.g, 0.5)[0]
    ocs = follow(p.g, w, p.scene, 0.5)
    assert sensing_only.objective >= np.log2(1 + ocs.scnr)


def test_the_echo_scene_of_a_scenario_is_the_simulators_geometry():
    """seed002: angles at the transmit RSU (core.geometry.to_polar) and at the receive RSU
    (echo_polar), variances |E beta xi|^2 over the bistatic echo range; a monostatic RSU
    (seed000) sees each object at one angle from both ends."""
    from rsu_isac.beamforming.sensing import echo_scene
    from rsu_isac.core.geometry import echo_polar, to_polar
    from rsu_isac.core.scenario import load_named_scenario
    from rsu_isac.platform.paths import scenarios_dir

    sc = load_named_scenario("seed002", scenarios_dir())
    point = np.array([3.0, 4.0])
    scene = echo_scene(sc, 0, point, complex(10, 10))
    tx, rx = sc.rsus[0].position_m, sc.rsus[1].position_m
    assert scene.target_tx_rad == pytest.approx(to_polar(tx, point, [0, 0]).theta_rad)
    echo = echo_polar(rx, tx, point, [0, 0])
    assert scene.target_rx_rad == pytest.approx(echo.theta_rad)
    radio = sc.radio
    n_t, n_r = radio.array.num_tx_antennas, radio.array.num_rx_antennas
    expected = n_t * n_r * abs(complex(10, 10) / (2 * echo.range_m)) ** 2
    expected *= sc.radar.matched_filter_gain**2
    assert scene.target_variance == pytest.approx(expected, rel=1e-12)
    assert len(scene.clutter_tx_rad) == len(sc.clutter) == 3
    mono = load_named_scenario("seed000", scenarios_dir())
    same = echo_scene(mono, 0, point, complex(1, 0))
    assert same.target_tx_rad == pytest.approx(same.target_rx_rad)
