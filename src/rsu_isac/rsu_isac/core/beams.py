"""The beams of one slot: what a policy commands and the simulator transmits (the content
of a BeamformingCommand)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

KIND_COMMUNICATION = 0
KIND_SENSING = 1


@dataclass(frozen=True)
class BeamSet:
    """Beams of one slot for every RSU (the content of a BeamformingCommand)."""

    weights: NDArray[np.complex128]  # (B, N) unit-norm beamformers
    powers_w: NDArray[np.float64]  # (B,)
    rsu_index: NDArray[np.int64]  # (B,)
    kind: NDArray[np.int64]  # (B,) KIND_*
    track_id: NDArray[np.int64]  # (B,) served track, 0 for none
    target_angle_rad: NDArray[np.float64]  # (B,)
    # (B,) sub-bands of each beam as a bitmask (bit b: band b; 0 or None: every band;
    # core.interference); the ROS command does not carry it (every band there)
    band_mask: NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return int(self.powers_w.size)

    @staticmethod
    def empty(num_antennas: int) -> BeamSet:
        return BeamSet(
            np.zeros((0, num_antennas), complex),
            np.zeros(0),
            np.zeros(0, int),
            np.zeros(0, int),
            np.zeros(0, int),
            np.zeros(0),
        )
