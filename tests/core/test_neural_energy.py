"""Operation counts and energies of 000 Sec. IV-B2 by hand."""

import pytest

from rsu_isac.core.neural_energy import (
    E_AC_J,
    E_MAC_J,
    DenseLayer,
    backward_operations,
    forward_operations,
)


def test_a_non_spiking_network_costs_a_mac_per_synapse():
    layers = [DenseLayer(15, 128), DenseLayer(128, 6)]
    ops = forward_operations(layers)
    assert (ops.macs, ops.acs) == (15 * 128 + 128 * 6, 0.0)
    assert ops.energy_j == pytest.approx(2688 * 3.2e-12)


def test_spike_inputs_cost_an_accumulate_per_spike_synapse_and_step():
    layers = [DenseLayer(15, 128), DenseLayer(128, 6, input_spike_rate=0.2)]
    ops = forward_operations(layers, time_steps=6)
    assert ops.macs == 1920 and ops.acs == pytest.approx(128 * 6 * 0.2 * 6)
    assert ops.energy_j == pytest.approx(1920 * E_MAC_J + 921.6 * E_AC_J)
    silent = forward_operations([DenseLayer(128, 6, input_spike_rate=0.0)], time_steps=6)
    assert silent.energy_j == 0.0


def test_backward_passes_are_two_macs_per_synapse_spiking_or_not():
    spiking = [DenseLayer(15, 128), DenseLayer(128, 6, input_spike_rate=0.1)]
    dense = [DenseLayer(15, 128), DenseLayer(128, 6)]
    assert backward_operations(spiking) == backward_operations(dense)
    assert backward_operations(dense).macs == 2 * 2688
    assert (forward_operations(dense) * 3 + forward_operations(dense)).macs == 4 * 2688
