"""AoI and energy model of 003 eq. (3)-(9), by hand."""

import numpy as np
import pytest

from rsu_isac.core.aoi import (
    aoi_next,
    channel_error_variance,
    computation_energy_j,
    constraints_met,
    misalignment_probability,
    sweep_energy_j,
    system_energy_j,
)


def test_aoi_evolution_equation_6():
    aoi = np.array([1.0, 1.0])
    history = []
    for scheduled in ([0, 1], [0, 0], [1, 0], [0, 0]):
        aoi = aoi_next(aoi, scheduled, processing_delay_slots=1.0)
        history.append(aoi.tolist())
    assert history == [[2, 1], [3, 2], [1, 3], [2, 4]]


def test_misalignment_probability_equation_7():
    assert misalignment_probability(0.1, 0.0) == 0.0
    assert misalignment_probability(0.1, 5.0) == pytest.approx(1 - np.exp(-0.5))
    p = misalignment_probability(0.05, np.arange(100))
    assert np.all(np.diff(p) > 0) and p[-1] < 1


def test_energy_equations_3_to_5():
    # 003 setting: e_vis 10 J per vehicle, K = 4: continuous vision costs 40 J per slot
    assert computation_energy_j([1, 1, 1, 1], 10.0) == 40.0
    assert sweep_energy_j([0.1, 0.2, 0.0, 0.3], 25.0) == pytest.approx(15.0)
    assert system_energy_j([1, 0, 0, 0], [0.1, 0.2, 0.0, 0.3], 10.0, 25.0) == pytest.approx(25.0)
    assert channel_error_variance(0.25, 2.0) == pytest.approx(0.5)


def test_constraints_9d_9e():
    assert constraints_met([3, 4], [0.05, 0.1], max_aoi_slots=5, max_misalignment=0.1)
    assert not constraints_met([3, 6], [0.05, 0.1], max_aoi_slots=5, max_misalignment=0.1)
    assert not constraints_met([3, 4], [0.05, 0.2], max_aoi_slots=5, max_misalignment=0.1)
