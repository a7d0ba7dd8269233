"""Decision time of every optimisation policy's precoder against the number of vehicles K
and antennas N (``rsu-isac policy-timing``): one RSU, P = 1 W, line-of-sight users (the
scenarios' channel) at 10 dB per-antenna SNR, uniform in [20, 160] deg.

A policy decides once per slot on vehicles that moved little since the last one, and a
solver may start from its last answer (the max-min duality does). So each policy is timed
over a sequence of ``repeats`` slots in which every user's angle moves by ANGLE_STEP_RAD
(a car at 20 m/s, 40 m from the RSU) and its channel phase anew (median: ``warm``), after a
first call on a fresh draw (``cold``: no start, and the precoder's set-up).
``isac_ocs`` is the whole decision of 002's leader and follower: the max-min beams at 95 %
of the power, then the follower's sensing covariance at 5 % with the users kept at 95 % of
their SINR, towards a target at 75 deg among three clutter patches (beamforming.sensing).
A policy whose call took longer than ``budget_s`` is not run at larger K (None)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from rsu_isac.beamforming.policies import POLICIES, precoder_for
from rsu_isac.beamforming.sensing import follow
from rsu_isac.beamforming.wmmse_isac import wmmse_isac
from rsu_isac.core.array import steering_vector
from rsu_isac.core.isac_metrics import BistaticScene

ANGLE_STEP_RAD = 0.01  # each user's angle change per slot
SNR_DB = 10.0
SENSING_FRACTION = 0.05
TARGET_RAD = np.deg2rad(75.0)
CLUTTER_RAD = np.deg2rad([40.0, 110.0, 126.0])
CLUTTER_GAIN = np.array([50.0, 3e3, 80.0])  # clutter-to-noise gain per unit power


def scene(n: int) -> BistaticScene:
    """A monostatic sensing scene at unit noise: the target at TARGET_RAD, the patches at
    CLUTTER_RAD with clutter-to-noise gains CLUTTER_GAIN, N receive antennas."""
    return BistaticScene(
        TARGET_RAD, TARGET_RAD, 1.0, CLUTTER_RAD, CLUTTER_RAD, CLUTTER_GAIN, 1.0, n
    )


def decision(name: str) -> Callable[[NDArray, float], object]:
    """One slot's decision of policy ``name`` on unit-noise channels G (K, N) with budget P
    (isac_ocs: the leader and the follower; wmmse_isac: the joint WMMSE)."""
    if name == "wmmse_isac":
        return lambda g, p: wmmse_isac(
            g, scene(g.shape[1]), (1 - SENSING_FRACTION) * p, SENSING_FRACTION * p
        )
    precode = precoder_for(name, "equal")
    if name != "isac_ocs":
        return precode

    def leader_and_follower(g: NDArray, power_w: float) -> object:
        w = precode(g, (1 - SENSING_FRACTION) * power_w)
        return follow(g, w, scene(g.shape[1]), SENSING_FRACTION * power_w)

    return leader_and_follower


def channel_sequence(rng: np.random.Generator, k: int, n: int, slots: int) -> list[NDArray]:
    """``slots`` unit-noise line-of-sight channel matrices (K, N) of moving users."""
    theta = rng.uniform(np.deg2rad(20.0), np.deg2rad(160.0), k)
    out = []
    for _ in range(slots):
        phase = np.exp(2j * np.pi * rng.uniform(size=k))[:, None]
        out.append(np.sqrt(10 ** (SNR_DB / 10)) * phase * steering_vector(theta, n))
        theta = theta + ANGLE_STEP_RAD * rng.choice([-1.0, 1.0], k)
    return out


def solve_times_ms(
    sizes_k: tuple[int, ...],
    sizes_n: tuple[int, ...],
    repeats: int,
    seed: int = 0,
    budget_s: float = 10.0,
) -> list[dict[str, object]]:
    """Rows (policy, K, N, warm_ms, cold_ms) over the grid; None where not run."""
    rng = np.random.default_rng(seed)
    rows = []
    for n in sizes_n:
        too_slow: set[str] = set()
        for k in sorted(sizes_k):
            channels = channel_sequence(rng, k, n, repeats + 1)
            for name in POLICIES:
                warm = cold = None
                if name not in too_slow:
                    decide = decision(name)
                    start = time.perf_counter()
                    decide(channels[0], 1.0)
                    cold = (time.perf_counter() - start) * 1e3
                    times = []
                    for g in channels[1:]:
                        start = time.perf_counter()
                        decide(g, 1.0)
                        times.append((time.perf_counter() - start) * 1e3)
                        if times[-1] > budget_s * 1e3:
                            too_slow.add(name)
                            break
                    warm = float(np.median(times))
                rows.append({"policy": name, "K": k, "N": n, "warm_ms": warm, "cold_ms": cold})
    return rows
