"""Traffic statistics of an engine run: Little's law and the Poisson arrival check."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from rsu_isac.core.scenario import Scenario
from rsu_isac.sim.traffic import create_engine


@dataclass(frozen=True)
class TrafficStats:
    scenario: str
    engine: str
    seed: int
    seconds: float
    mean_vehicles: float  # after the warm-up
    littles_law_vehicles: float  # lambda L / v, v the space-mean speed on the road
    relative_error: float
    mean_entry_queue: float
    arrivals: int
    ks_statistic: float  # inter-arrival times vs Exp(lambda)
    ks_pvalue: float
    ground_truth_sha256: str  # over every slot's states

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def traffic_stats(
    scenario: Scenario, engine: str, seed: int, seconds: float, warmup_s: float = 60.0
) -> TrafficStats:
    """Run ``engine`` for ``seconds`` and compare with Little's law and Exp(lambda)."""
    eng = create_engine(scenario, engine, seed)
    counts, speeds, queue = [], [], []
    digest = hashlib.sha256()
    try:
        for _ in range(round(seconds / scenario.slot_s)):
            eng.step()
            v = eng.vehicles()
            counts.append(len(v))
            speeds.append(np.mean(np.hypot(v.vx_mps, v.vy_mps)) if len(v) else np.nan)
            queue.append(eng.entry_queue_length)
            digest.update(v.as_array().tobytes())
        arrivals = eng.arrivals
    finally:
        eng.close()
    warm = min(round(warmup_s / scenario.slot_s), len(counts) - 1)
    rate = scenario.traffic.arrival_rate_per_lane_per_s
    lanes = len(scenario.road.lanes)
    mean_speed = float(np.nanmean(speeds[warm:])) if np.any(np.isfinite(speeds[warm:])) else 0.0
    predicted = rate * lanes * scenario.road.length_m / mean_speed if mean_speed > 0 else 0.0
    mean_count = float(np.mean(counts[warm:]))
    gaps = np.concatenate([arrivals.inter_arrival_times_s(lane) for lane in range(lanes)])
    if rate > 0 and gaps.size > 1:
        ks = stats.kstest(gaps, "expon", args=(0.0, 1.0 / rate))
        ks_stat, ks_p = float(ks.statistic), float(ks.pvalue)
    else:
        ks_stat, ks_p = float("nan"), float("nan")
    return TrafficStats(
        scenario=scenario.name,
        engine=engine,
        seed=seed,
        seconds=seconds,
        mean_vehicles=mean_count,
        littles_law_vehicles=predicted,
        relative_error=(mean_count - predicted) / predicted if predicted else float("nan"),
        mean_entry_queue=float(np.mean(queue)),
        arrivals=len(arrivals.times_s),
        ks_statistic=ks_stat,
        ks_pvalue=ks_p,
        ground_truth_sha256=digest.hexdigest(),
    )
