"""The decision a policy node falls back on when the policy misses its deadline: the last
slot's beams re-pointed at the new predictions, which costs one channel estimate."""

from __future__ import annotations

import numpy as np

from rsu_isac.beamforming.context import PredictedVehicles, RadioContext
from rsu_isac.core.beams import KIND_COMMUNICATION, BeamSet


def repointed(last: BeamSet, vehicles: PredictedVehicles, context: RadioContext) -> BeamSet:
    """``last`` with every communication beam whose track is still predicted turned to the
    maximum-ratio direction of that vehicle's estimated channel from the beam's RSU (its
    power and RSU kept), the beams of vanished tracks dropped, the sensing beams kept."""
    keep = last.kind != KIND_COMMUNICATION
    weights, angles = last.weights.copy(), last.target_angle_rad.copy()
    if len(vehicles) and len(last):
        rows = context.channel_rows(vehicles)  # (R, K, N)
        theta, _ = context.polar(vehicles)
        order = {int(t): k for k, t in enumerate(vehicles.track_id.tolist())}
        for b in np.flatnonzero(~keep).tolist():
            k = order.get(int(last.track_id[b]))
            if k is None:
                continue
            row = rows[last.rsu_index[b], k]
            weights[b] = row.conj() / max(float(np.linalg.norm(row)), 1e-300)
            angles[b] = theta[last.rsu_index[b], k]
            keep[b] = True
    return BeamSet(
        weights[keep],
        last.powers_w[keep],
        last.rsu_index[keep],
        last.kind[keep],
        last.track_id[keep],
        angles[keep],
    )
