"""Solve time of every policy's precoder against the number of vehicles K and antennas N
(``rsu-isac policy-timing``): one RSU, i.i.d. Rayleigh channels at 10 dB per-antenna SNR,
P = 1 W, median of ``repeats`` calls after one warm-up call (which also builds the cvxpy
problem of the max-min SOCP for that size). A policy whose call took longer than
``budget_s`` is not run at larger K (reported as None)."""

from __future__ import annotations

import time

import numpy as np

from rsu_isac.beamforming.policies import POLICIES, precoder_for


def solve_times_ms(
    sizes_k: tuple[int, ...],
    sizes_n: tuple[int, ...],
    repeats: int,
    seed: int = 0,
    budget_s: float = 10.0,
) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    rows = []
    for n in sizes_n:
        too_slow: set[str] = set()
        for k in sorted(sizes_k):
            g = np.sqrt(10.0 / 2) * (rng.normal(size=(k, n)) + 1j * rng.normal(size=(k, n)))
            for name in POLICIES:
                median = None
                if name not in too_slow:
                    precode = precoder_for(name, "equal")
                    precode(g, 1.0)  # warm-up (and problem construction)
                    times = []
                    for _ in range(repeats):
                        start = time.perf_counter()
                        precode(g, 1.0)
                        times.append((time.perf_counter() - start) * 1e3)
                        if times[-1] > budget_s * 1e3:
                            too_slow.add(name)
                            break
                    median = float(np.median(times))
                rows.append({"policy": name, "K": k, "N": n, "median_ms": median})
    return rows
