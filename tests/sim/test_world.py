"""The simulated road: link score responds to the commanded beams, a misaligned vehicle is
swept for, camera frames show the vehicles where the camera model projects them."""

from dataclasses import replace

import numpy as np
import pytest

from rsu_isac.core.array import steering_vector
from rsu_isac.core.beams import KIND_COMMUNICATION, BeamSet
from rsu_isac.core.geometry import to_polar
from rsu_isac.core.scenario import load_named_scenario
from rsu_isac.platform.paths import scenarios_dir
from rsu_isac.sim.camera import CLASS_COLOUR
from rsu_isac.sim.world import SimConfig, Simulator, recovery_beams


def genie_beams(sc, vehicles):
    """MRT beams at the true angles, equal power (what a perfect tracker would command)."""
    polar = to_polar(sc.rsus[0].position_m, vehicles.position_xy, vehicles.velocity_xy)
    k = len(vehicles)
    return BeamSet(
        steering_vector(polar.theta_rad, sc.radio.array.num_tx_antennas),
        np.full(k, sc.radio.max_power_w / k),
        np.zeros(k, int),
        np.full(k, KIND_COMMUNICATION),
        vehicles.vehicle_id.copy(),
        polar.theta_rad,
    )


def test_commanded_beams_change_the_link_score():
    sc = load_named_scenario("seed000", scenarios_dir())
    sim = Simulator(sc, SimConfig(abstraction="measurement", seed=2, camera_period_slots=0))
    try:
        first = sim.step()
        assert first.link.sum_rate_bps_hz == 0.0  # no command yet: sensing only
        assert np.all(first.link.misaligned)
        sim.apply(genie_beams(sc, first.vehicles))
        second = sim.step()
    finally:
        sim.close()
    assert second.link.sum_rate_bps_hz > 10.0
    assert np.all(second.link.beam_index >= 0)
    assert not np.any(second.link.misaligned)  # vehicles moved 1 slot: still in the main lobe
    assert 1 / 3 <= second.link.jain_fairness <= 1.0


def test_same_seed_same_slots():
    sc = load_named_scenario("seed004", scenarios_dir())
    outputs = []
    for _ in range(2):
        sim = Simulator(sc, SimConfig(abstraction="signal", seed=9, camera_period_slots=0))
        try:
            for _ in range(10):
                out = sim.step()
        finally:
            sim.close()
        outputs.append(out)
    np.testing.assert_array_equal(outputs[0].vehicles.as_array(), outputs[1].vehicles.as_array())
    np.testing.assert_array_equal(
        outputs[0].echoes[0].frame.samples, outputs[1].echoes[0].frame.samples
    )


def test_camera_frame_shows_vehicles_where_they_project():
    sc = load_named_scenario("seed000", scenarios_dir())
    sim = Simulator(sc, SimConfig(abstraction="measurement", seed=2, camera_period_slots=1))
    try:
        out = sim.step()
    finally:
        sim.close()
    assert out.image.shape == (480, 640, 3)
    checked = 0
    for i in range(len(out.vehicles)):
        centre = [out.vehicles.x_m[i], out.vehicles.y_m[i], 0.5]
        (u, v), front = sim.camera.project(np.array(centre))
        if front and 0 <= u < 640 and 0 <= v < 480:
            pixel = out.image[int(v), int(u)]
            colour = CLASS_COLOUR[int(out.vehicles.vehicle_class[i])]
            assert tuple(int(c) for c in pixel) == pytest.approx(colour, abs=1)
            checked += 1
    assert checked >= 2


def test_unknown_abstraction_is_rejected():
    sc = load_named_scenario("seed000", scenarios_dir())
    with pytest.raises(ValueError, match="valid: signal, measurement"):
        Simulator(sc, SimConfig(abstraction="lidar"))


def test_recovery_beam_is_the_best_codebook_beam():
    """Against every beam of the DFT codebook: the recovery beam has the largest gain
    toward each misaligned vehicle, from every transmitting RSU (004 has two)."""
    sc = load_named_scenario("seed004", scenarios_dir())
    sim = Simulator(sc, SimConfig(abstraction="measurement", seed=1, camera_period_slots=0))
    try:
        for _ in range(60):
            vehicles = sim.step().vehicles
    finally:
        sim.close()
    lost = np.arange(len(vehicles)) % 2 == 0
    beams = recovery_beams(sc, vehicles, lost)
    n = sc.radio.array.num_tx_antennas
    codebook = steering_vector(np.arccos(-1 + (2 * np.arange(n) + 1) / n), n)  # (N, N)
    assert len(beams) == 2 * lost.sum() and set(beams.rsu_index) == {0, 1}
    assert np.all(beams.powers_w == sc.radio.max_power_w)
    for r in (0, 1):
        polar = to_polar(sc.rsus[r].position_m, vehicles.position_xy, vehicles.velocity_xy)
        a = steering_vector(polar.theta_rad[lost], n)  # (L, N)
        best = np.max(np.abs(a.conj() @ codebook.T) ** 2, axis=1)
        mine = beams.weights[beams.rsu_index == r]
        np.testing.assert_allclose(np.abs(np.sum(a.conj() * mine, axis=1)) ** 2, best)


@pytest.mark.parametrize("abstraction", ["measurement", "signal"])
def test_a_misaligned_vehicle_is_in_the_slots_echo_only_with_beam_recovery(abstraction):
    """A beam at endfire with no power misses every vehicle of seed000; the sweep for them puts them
    in that slot's echo (measurement: detected; signal: their echo power is in the frame)."""
    sc = load_named_scenario("seed000", scenarios_dir())
    n = sc.radio.array.num_tx_antennas
    away = BeamSet(
        steering_vector(np.array([0.05]), n),
        np.array([0.0]),
        np.zeros(1, int),
        np.full(1, KIND_COMMUNICATION),
        np.ones(1, int),
        np.array([0.05]),
    )
    echoes = {}
    for recovery in (True, False):
        config = SimConfig(abstraction=abstraction, seed=2, beam_recovery=recovery)
        sim = Simulator(sc, replace(config, camera_period_slots=0))
        try:
            sim.step()
            sim.apply(away)
            out = sim.step()
        finally:
            sim.close()
        assert np.all(out.link.misaligned)
        echoes[recovery] = out.echoes[0]
    if abstraction == "measurement":
        assert len(echoes[False].measurements.detections) == 0
        assert sorted(echoes[True].measurements.vehicle_index) == list(range(len(out.vehicles)))
    else:
        power = {k: np.mean(np.abs(e.frame.samples) ** 2) for k, e in echoes.items()}
        assert power[True] > 10 * power[False]
