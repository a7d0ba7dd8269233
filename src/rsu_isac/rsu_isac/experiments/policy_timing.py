"""Solve time of every policy's precoder against the number of vehicles K and antennas N
(``rsu-isac policy-timing``): one RSU, i.i.d. Rayleigh channels at 10 dB per-antenna SNR,
P = 1 W, median of ``repeats`` calls after one warm-up call (which also builds the cvxpy
problem of the max-min SOCP for that size)."""

from __future__ import annotations

import time

import numpy as np

from rsu_isac.beamforming.policies import POLICIES, precoder_for


def solve_times_ms(
    sizes_k: tuple[int, ...], sizes_n: tuple[int, ...], repeats: int, seed: int = 0
) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    rows = []
    for n in sizes_n:
        for k in sizes_k:
            g = np.sqrt(10.0 / 2) * (rng.normal(size=(k, n)) + 1j * rng.normal(size=(k, n)))
            for name in POLICIES:
                precode = precoder_for(name, "equal")
                precode(g, 1.0)  # warm-up (and problem construction)
                times = []
                for _ in range(repeats):
                    start = time.perf_counter()
                    precode(g, 1.0)
                    times.append((time.perf_counter() - start) * 1e3)
                rows.append({"policy": name, "K": k, "N": n, "median_ms": float(np.median(times))})
    return rows
