"""The neighbouring cells of 001's scenarios (sim.interference): the band chains' busy
share and persistence, and the cross-link power against the path-loss formula."""

import dataclasses

import numpy as np
import pytest

from rsu_isac.core.channel import pathloss_amplitude
from rsu_isac.core.scenario import NeighbourCell, load_named_scenario
from rsu_isac.core.schema import SchemaError, from_dict
from rsu_isac.platform.paths import scenarios_dir
from rsu_isac.sim.interference import NeighbourCells


@pytest.fixture(scope="module")
def urban():
    return load_named_scenario("urban", scenarios_dir())


def test_busy_share_and_persistence(urban):
    cell = NeighbourCell((0.0, 50.0), 30.0, 0.3, 0.8)
    scenario = dataclasses.replace(
        urban, interference=dataclasses.replace(urban.interference, neighbours=(cell,))
    )
    cells = NeighbourCells(scenario, np.random.default_rng(0))
    states = []
    for _ in range(20_000):
        cells.step()
        states.append(cells.busy[0].copy())
    busy = np.array(states)
    assert busy.mean() == pytest.approx(0.3, abs=0.01)
    kept = np.mean(busy[1:] == busy[:-1])
    # P(keep) = 0.3 * 0.8 + 0.7 * (1 - q), q = 0.3 (1 - 0.8) / 0.7
    q = 0.3 * 0.2 / 0.7
    assert kept == pytest.approx(0.3 * 0.8 + 0.7 * (1 - q), abs=0.01)


def test_cross_link_power_follows_the_path_loss(urban):
    cells = NeighbourCells(urban, np.random.default_rng(1))
    cells.busy[:] = True
    point = np.array([[10.0, 8.0]])
    ch = urban.radio.channel
    n = urban.interference.num_bands
    expected = sum(
        1.0 / n * pathloss_amplitude(
            np.linalg.norm(point[0] - c.position_m), ch.reference_gain_db,
            ch.reference_distance_m, ch.pathloss_exponent,
        ) ** 2
        for c in urban.interference.neighbours
    )  # fmt: skip
    heard = cells.at_receivers(point)[0]
    np.testing.assert_allclose(heard / cells.factors, expected, rtol=1e-12)
    draws = np.array([cells.at_vehicles(point)[0] for _ in range(4000)])
    np.testing.assert_allclose(draws.mean(axis=0), heard, rtol=0.06)  # Exp(1) fading


def test_a_neighbour_too_persistent_for_its_load_is_refused():
    with pytest.raises(SchemaError, match="persistence"):
        from_dict(
            NeighbourCell,
            {"position_m": [0.0, 0.0], "power_dbm": 30.0, "band_load": 0.9, "persistence": 0.1},
        )
