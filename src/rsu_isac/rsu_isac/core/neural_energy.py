"""Compute energy of dense neural networks from operation counts (000 Sec. IV-B2).

A multiply-accumulate (MAC) costs E_MAC = 3.2 pJ and an accumulate (AC) E_AC = 0.1 pJ
(000's values: 32-bit operations in 45 nm CMOS). A dense layer of N inputs and M outputs
costs N M MACs per forward pass when its inputs are real numbers, and N M varsigma ACs per
time step when its inputs are spikes firing at rate varsigma (an addition per spike and
synapse): 000's FLOPS_baseline = sum_i N_i M_i and FLOPS_spiking = sum_i N_i M_i varsigma_i
per time step, times T~. Which layers take spikes is a fact of the network: in 000's
Spiking-AC and ours, the observation enters the first layer as real-valued current (direct
encoding, the same every time step: computed once) and the readout layers take the hidden
spikes. 000 charges E_MAC to the third layer instead; with one hidden layer (000 Sec.
IV-A2) there is no third layer, and the input layer's real inputs need multipliers.

A backward pass is counted as 2 N M MACs per layer and sample for every network, spiking or
not (the gradients with respect to the weights and to the inputs are real numbers whatever
the forward pass fired), so that every agent's training is counted the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

E_AC_J = 0.1e-12
E_MAC_J = 3.2e-12


@dataclass(frozen=True)
class DenseLayer:
    """A dense layer: N inputs, M outputs, and the spike rate of its inputs (spikes per input
    per time step) when they are spikes, None when they are real numbers."""

    inputs: int
    outputs: int
    input_spike_rate: float | None = None

    @property
    def synapses(self) -> int:
        return self.inputs * self.outputs


@dataclass(frozen=True)
class Operations:
    """Operation counts of a pass."""

    macs: float
    acs: float

    @property
    def energy_j(self) -> float:
        return self.macs * E_MAC_J + self.acs * E_AC_J

    def __add__(self, other: Operations) -> Operations:
        return Operations(self.macs + other.macs, self.acs + other.acs)

    def __mul__(self, count: float) -> Operations:
        return Operations(self.macs * count, self.acs * count)


def forward_operations(layers: Sequence[DenseLayer], time_steps: int = 1) -> Operations:
    """One forward pass: real-input layers N M MACs (once), spike-input layers
    N M varsigma ACs per time step over ``time_steps`` (T~)."""
    macs = sum(layer.synapses for layer in layers if layer.input_spike_rate is None)
    acs = sum(
        layer.synapses * layer.input_spike_rate * time_steps
        for layer in layers
        if layer.input_spike_rate is not None
    )
    return Operations(float(macs), float(acs))


def backward_operations(layers: Sequence[DenseLayer]) -> Operations:
    """One backward pass: 2 N M MACs per layer (weight and input gradients), the same for
    spiking and non-spiking networks."""
    return Operations(2.0 * sum(layer.synapses for layer in layers), 0.0)
