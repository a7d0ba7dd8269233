"""The simulated vehicles' reports: who sends, how often, how late, how wrong."""

import dataclasses

import numpy as np
import pytest

from rsu_isac.core.scenario import V2xConfig
from rsu_isac.sim.traffic import VehicleStates
from rsu_isac.sim.v2x import ReportSource

SLOT = 0.02
CONFIG = V2xConfig(
    equipped_share=1.0,
    period_s=0.1,
    position_std_m=1.5,
    position_correlation_s=2.0,
    speed_std_mps=0.2,
    heading_std_deg=2.0,
    latency_s=(0.02, 0.1),
)


def road(n: int, time_s: float) -> VehicleStates:
    ids = np.arange(1, n + 1)
    x = -100.0 + 20.0 * time_s + 5.0 * ids
    ones = np.ones(n)
    return VehicleStates(
        ids, np.zeros(n, np.int8), np.zeros(n, np.int32), x, 10.0 * ones, 20.0 * ones,
        0.0 * ones, 0.0 * ones, 4.5 * ones, 1.8 * ones,
    )  # fmt: skip


def run(config: V2xConfig, vehicles: int, slots: int, seed: int = 0):
    source = ReportSource(config, np.random.default_rng(seed))
    heard = []
    for n in range(1, slots + 1):
        t = n * SLOT
        reports = source.step(t, road(vehicles, t))
        heard.extend((t, reports.select(np.arange(len(reports)) == i)) for i in range(len(reports)))
    return heard


def test_every_vehicle_reports_once_a_period_late_by_the_latency():
    heard = run(CONFIG, vehicles=20, slots=1000)  # 20 s
    per_vehicle = np.bincount([int(r.station_id[0]) for _, r in heard])[1:]
    assert per_vehicle.min() >= 198 and per_vehicle.max() <= 200  # 20 s / 0.1 s
    delay = np.array([t - float(r.time_s[0]) for t, r in heard])
    low, high = CONFIG.latency_s
    assert delay.min() >= low - 1e-9 and delay.max() < high + SLOT
    assert all(np.diff([float(r.time_s[0]) for t, r in heard if t == heard[-1][0]]) >= 0)


def test_gnss_errors_have_the_stated_spread_and_correlation():
    heard = run(CONFIG, vehicles=40, slots=1500)
    by_vehicle: dict[int, list] = {}
    for _, r in heard:
        t = float(r.time_s[0])
        truth = road(40, t)
        k = int(r.station_id[0]) - 1
        error = r.position_xy[0] - [truth.x_m[k], truth.y_m[k]]
        by_vehicle.setdefault(k, []).append((t, error))
    errors = [np.array([e for _, e in sorted(v, key=lambda p: p[0])]) for v in by_vehicle.values()]
    pooled = np.concatenate(errors)
    assert pooled.std(axis=0) == pytest.approx([1.5, 1.5], rel=0.1)
    lag1 = np.mean([np.corrcoef(e[:-1, 0], e[1:, 0])[0, 1] for e in errors])
    assert lag1 == pytest.approx(np.exp(-0.1 / 2.0), abs=0.03)  # Gauss-Markov, a = e^(-T/tau)
    assert all(float(r.position_std_m[0]) == 1.5 for _, r in heard)  # the vehicle says so


def test_the_equipped_share_and_reproducibility():
    half = dataclasses.replace(CONFIG, equipped_share=0.5)
    senders = {int(r.station_id[0]) for _, r in run(half, vehicles=400, slots=20)}
    assert len(senders) / 400 == pytest.approx(0.5, abs=0.08)
    assert not run(dataclasses.replace(CONFIG, equipped_share=0.0), vehicles=10, slots=50)
    a, b = run(CONFIG, 5, 100, seed=3), run(CONFIG, 5, 100, seed=3)

    def shown(run_):
        return [(t, r.position_xy.tolist()) for t, r in run_]

    assert shown(a) == shown(b)
