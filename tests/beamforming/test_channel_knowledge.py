"""What a policy knows of the channel (001's channel knowledge): pilot estimates of the
next slot's true channel, matched to the tracks, and the line-of-sight estimate where no
pilot matches."""

import numpy as np
import pytest

from rsu_isac.beamforming.context import PILOT_GATE_M, PredictedVehicles, RadioContext
from rsu_isac.core.scenario import load_named_scenario
from rsu_isac.platform.paths import scenarios_dir
from rsu_isac.sim.world import SimConfig, Simulator


@pytest.fixture(scope="module")
def urban():
    return load_named_scenario("urban", scenarios_dir())


def test_the_pilot_estimate_is_of_the_channel_the_next_slot_is_scored_on(urban):
    sim = Simulator(urban, SimConfig(abstraction="measurement", seed=3, camera_period_slots=0))
    sim.step()
    vehicles, estimate = sim.pilot_estimate()
    out = sim.step()
    np.testing.assert_array_equal(out.vehicles.position_xy, vehicles.position_xy)
    np.testing.assert_array_equal(sim.current_pilot_estimate, estimate)
    error = np.mean(np.abs(estimate - sim.true_rows) ** 2, axis=-1)
    power = np.mean(np.abs(sim.true_rows) ** 2, axis=-1)
    # NMSE -10 dB per element, over 64 elements and every vehicle: within 25 %
    assert np.mean(error / power) == pytest.approx(
        10 ** (urban.radio.channel.csi_error_db / 10), rel=0.25
    )
    seed000 = load_named_scenario("seed000", scenarios_dir())
    assert Simulator(seed000, SimConfig(abstraction="measurement")).pilot_estimate() is None


def test_pilots_are_matched_to_the_nearest_track_once(urban):
    context = RadioContext(urban)
    tracks = PredictedVehicles(
        np.array([1, 2, 3]),
        np.array([[0.0, 8.0], [1.0, 8.0], [60.0, 15.0]]),
        np.zeros((3, 2)),
    )
    rows = np.arange(2 * 64).reshape(1, 2, 64) * (1 + 1j)
    pilots = (np.array([[0.5, 8.0], [60.0 + 2 * PILOT_GATE_M, 15.0]]), rows)
    known = tracks.with_radio(np.zeros((1, 4)), pilots)
    # track 1 and 2 are both 0.5 m from pilot 0: the first in order takes it; pilot 1 is
    # beyond the gate of track 3
    np.testing.assert_array_equal(known.channel_estimate[0, 0], rows[0, 0])
    assert np.isnan(known.channel_estimate[0, 1:]).all()
    found = context.channel_rows(known)
    los = context.channel_rows(tracks)
    np.testing.assert_allclose(found[0, 0], rows[0, 0] / np.sqrt(context.noise_w))
    np.testing.assert_array_equal(found[0, 1:], los[0, 1:])
    np.testing.assert_array_equal(known.subset(np.array([2, 0])).channel_estimate[0, 1], rows[0, 0])
