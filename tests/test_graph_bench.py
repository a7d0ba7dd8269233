"""``rsu-isac bench graph``'s dense case: a valid scenario holding 50 vehicles at N = 64."""

from rsu_isac.core.scenario import load_scenario
from rsu_isac.runtime.graph_bench import DENSE_VEHICLES, dense_scenario
from rsu_isac.sim.world import SimConfig, Simulator


def test_the_dense_case_is_a_valid_scenario_with_its_vehicles_on_the_road(tmp_path):
    scenario = load_scenario(dense_scenario(tmp_path))
    assert scenario.name == "urban_dense"
    assert scenario.radio.array.num_tx_antennas == 64
    sim = Simulator(scenario, SimConfig(abstraction="measurement", seed=0, camera_period_slots=0))
    try:
        out = sim.step()
    finally:
        sim.close()
    assert len(out.vehicles) == DENSE_VEHICLES
