"""Benchmarks: speed figures printed, not asserted (``rsu-isac bench``).

Each suite is a list of :class:`Case` (a name, a goal in ms, and a zero-argument callable
prepared with fixed, seeded inputs). Timings are the median and 90th percentile of
``repeat`` batches, each batch averaging enough calls to last about 20 ms.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Case:
    name: str
    goal_ms: float
    run: Callable[[], object]


@dataclass(frozen=True)
class Timing:
    suite: str
    name: str
    median_ms: float
    p90_ms: float
    goal_ms: float

    @property
    def meets_goal(self) -> bool:
        return self.median_ms <= self.goal_ms


def core_cases() -> list[Case]:
    """Core physics at the sizes of the core issue: SINR/rate for K=50, N=64; CRLB, K=50."""
    from rsu_isac.core.array import steering_vector
    from rsu_isac.core.bounds import crlb_angle_rad2
    from rsu_isac.core.channel import beam_gains, los_channel, rate_bps_hz, sinr
    from rsu_isac.core.radar import echo_complex_gain, reflection_coefficient

    rng = np.random.default_rng(0)
    k, n = 50, 64
    theta = rng.uniform(0.2, np.pi - 0.2, k)
    channel = los_channel(theta, rng.uniform(1e-4, 1e-3, k), n)
    weights = steering_vector(theta + rng.normal(0, 0.01, k), n)  # (K, N)
    beams = np.ascontiguousarray(weights.T)
    powers = np.full(k, 10.0 / k)
    serving = np.arange(k)
    gain = echo_complex_gain(n, n, powers, reflection_coefficient(10 + 10j, 20.0), 10.0)

    def sinr_and_rate() -> object:
        return rate_bps_hz(sinr(beam_gains(channel, beams), powers, 1e-11, serving))

    def crlb() -> object:
        return crlb_angle_rad2(theta, gain, weights, n, 1e-11)

    return [
        Case("SINR + rate, K=50 vehicles, N=64 antennas", 0.2, sinr_and_rate),
        Case("angle CRLB, K=50 vehicles, N_t=N_r=64", 0.2, crlb),
    ]


SUITES: dict[str, Callable[[], list[Case]]] = {"core": core_cases}


def time_case(case: Case, repeat: int = 15, batch_s: float = 0.02) -> tuple[float, float]:
    """(median, p90) of the per-call time in ms over ``repeat`` batches."""
    case.run()  # warm-up (imports, caches)
    start = time.perf_counter()
    calls = 0
    while time.perf_counter() - start < batch_s:
        case.run()
        calls += 1
    per_batch = max(calls, 1)
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(per_batch):
            case.run()
        samples.append((time.perf_counter() - t0) / per_batch * 1e3)
    return float(np.median(samples)), float(np.percentile(samples, 90))


def machine_description() -> str:
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )


def run_suites(names: list[str], repeat: int) -> list[Timing]:
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        raise ValueError(f"unknown benchmark suite '{unknown[0]}'; valid: {', '.join(SUITES)}")
    timings = []
    for suite in names:
        for case in SUITES[suite]():
            median, p90 = time_case(case, repeat)
            timings.append(Timing(suite, case.name, median, p90, case.goal_ms))
    return timings


def print_table(timings: list[Timing]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"rsu-isac bench ({machine_description()})")
    for column in ("suite", "case", "median ms", "p90 ms", "goal ms", "meets goal"):
        table.add_column(column)
    for t in timings:
        table.add_row(
            t.suite,
            t.name,
            f"{t.median_ms:.4f}",
            f"{t.p90_ms:.4f}",
            f"{t.goal_ms:g}",
            "yes" if t.meets_goal else "NO",
        )
    Console(soft_wrap=True).print(table)


def to_json(timings: list[Timing]) -> str:
    return json.dumps(
        {
            "machine": machine_description(),
            "timings": [asdict(t) | {"meets_goal": t.meets_goal} for t in timings],
        },
        indent=2,
    )
