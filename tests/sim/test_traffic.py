"""Traffic engines: Little's law, Poisson inter-arrivals, determinism, same output layout."""

import numpy as np
import pytest

from rsu_isac.core.scenario import load_named_scenario
from rsu_isac.platform.paths import scenarios_dir
from rsu_isac.sim.stats import traffic_stats
from rsu_isac.sim.traffic import ENGINES, create_engine


def scenario(name):
    return load_named_scenario(name, scenarios_dir())


# dense_city: IDM lanes well below capacity (both engines); seed004: free flow (embedded;
# SUMO cannot ignore congestion and 5 veh/s on one lane exceeds any car-following capacity)
LITTLE_CASES = [("dense_city", "embedded"), ("dense_city", "sumo"), ("seed004", "embedded")]


@pytest.mark.parametrize(("name", "engine"), LITTLE_CASES)
def test_littles_law_and_poisson_arrivals(name, engine):
    result = traffic_stats(scenario(name), engine, seed=1, seconds=300.0)
    # Little's law N = lambda W with W = L / v (v: space-mean speed on the road)
    assert abs(result.relative_error) <= 0.10, result
    assert result.arrivals > 50
    assert result.ks_pvalue > 0.01, (
        f"inter-arrivals not exponential at the configured rate: {result}"
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_same_seed_same_ground_truth(engine):
    name = "dense_city"
    first, second, other = (
        traffic_stats(scenario(name), engine, seed, 60.0).ground_truth_sha256 for seed in (5, 5, 6)
    )
    assert first == second
    assert first != other


@pytest.mark.parametrize("engine", ENGINES)
def test_fixed_start_layout_of_000(engine):
    sc = scenario("seed000")
    eng = create_engine(sc, engine, 0)
    try:
        eng.step()
        v = eng.vehicles()
    finally:
        eng.close()
    assert len(v) == 3
    np.testing.assert_allclose(np.sort(v.x_m), [-25, -15, -5], atol=0.5)
    np.testing.assert_allclose(v.y_m, 10.0, atol=1e-6)
    assert np.all((v.vx_mps >= 9.0) & (v.vx_mps <= 14.0))
    np.testing.assert_allclose(v.heading_rad, 0.0, atol=1e-6)
    assert set(v.length_m) == {4.5}


def test_sumo_rejects_free_flow_with_a_named_key():
    from rsu_isac.sim.sumo_engine import SumoConfigError

    with pytest.raises(SumoConfigError, match=r"traffic.car_following.model"):
        create_engine(scenario("seed004"), "sumo", 0)


def test_unknown_engine_lists_valid_ones():
    with pytest.raises(ValueError, match="valid engines: embedded, sumo"):
        create_engine(scenario("seed000"), "vissim", 0)
