"""Track-to-track fusion across RSUs: the RSUs of 004 each track every vehicle in their
own frame; the shared policy needs one list of vehicles."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from rsu_isac.core.association import global_nearest_neighbour

RSU_ID_STRIDE = 1_000_000  # fused id = rsu * stride + track id: unique across RSUs


def merge_positions(
    positions: list[NDArray], ids: list[NDArray], gate_m: float
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Merge per-RSU road-frame positions (each (T_r, 2)) into one vehicle list: RSU 0's
    tracks first, then each further RSU's tracks that no earlier track lies within
    ``gate_m`` of (global nearest neighbour on the distance). Returns (fused ids, positions
    (K, 2), source row index into the concatenated inputs)."""
    out_pos = np.zeros((0, 2))
    out_ids: list[int] = []
    source: list[int] = []
    offset = 0
    for r, (given, tid) in enumerate(zip(positions, ids, strict=True)):
        pos = np.asarray(given, dtype=float).reshape(-1, 2)
        dist = np.linalg.norm(out_pos[:, None] - pos[None], axis=-1)
        _, taken = global_nearest_neighbour(dist, dist <= gate_m)
        new = np.setdiff1d(np.arange(len(pos)), taken)
        out_pos = np.concatenate([out_pos, pos[new]])
        out_ids.extend((r * RSU_ID_STRIDE + np.asarray(tid)[new]).tolist())
        source.extend((offset + new).tolist())
        offset += len(pos)
    return np.array(out_ids, dtype=np.int64), out_pos, np.array(source, dtype=np.int64)
