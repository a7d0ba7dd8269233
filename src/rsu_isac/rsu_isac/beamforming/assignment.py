"""Vehicle-to-RSU assignment for several transmitting RSUs (004 Sec. V): by distance, the
greedy Algorithm 2 and the heuristic Algorithm 3.

The utility zeta_{i,k} of serving vehicle k from RSU i (004 eq. (47)) is evaluated here as
log(1 + SINR) of k when RSU i points a maximum-ratio beam at it with the power share of
its other vehicles, against the interference of every other current beam (the same SINR
of core.channel.sinr that the link is scored with).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from rsu_isac.beamforming.precoders import mrt
from rsu_isac.core.channel import beam_gains, sinr

ASSIGNMENTS = ("distance", "greedy", "heuristic")
MAX_TRIALS = 16  # candidate moves the heuristic tries per iteration, best utility gain first
Precoder = Callable[[NDArray, float], NDArray]  # (G (K, N), P) -> W (N, K)


def precode_all(
    rows: NDArray, assignment: NDArray, transmitters: NDArray, precoder: Precoder, power_w: float
) -> dict[int, NDArray]:
    """Precoder of every transmitting RSU for its assigned vehicles: {rsu: W (N, K_r)}."""
    out = {}
    for r in transmitters.tolist():
        mine = np.flatnonzero(assignment == r)
        out[r] = precoder(rows[r, mine], power_w) if mine.size else np.zeros((rows.shape[2], 0))
    return out


def system_sinr(rows: NDArray, assignment: NDArray, precoders: dict[int, NDArray]) -> NDArray:
    """SINR of every vehicle with every beam of every RSU as interference (unit noise)."""
    serving, offset, gains = np.full(rows.shape[1], -1), 0, []
    for r, w in precoders.items():
        mine = np.flatnonzero(assignment == r)
        serving[mine] = offset + np.arange(mine.size)
        offset += mine.size
        gains.append(beam_gains(rows[r], w))  # (K, K_r)
    if not offset:
        return np.zeros(rows.shape[1])
    g = np.concatenate(gains, axis=1)
    return sinr(g, np.ones(g.shape[1]), 1.0, serving)


def utilities(
    rows: NDArray, assignment: NDArray, precoders: dict[int, NDArray], power_w: float
) -> NDArray[np.float64]:
    """zeta (R_tx, K): log(1 + SINR) of vehicle k if RSU i served it with an MRT beam of
    power P / (K_i + 1) (K_i + 0 for its current RSU), the other current beams interfering."""
    tx = list(precoders)
    k = rows.shape[1]
    interference = np.zeros(k)
    for r, w in precoders.items():
        interference += np.sum(beam_gains(rows[r], w), axis=1)
    zeta = np.zeros((len(tx), k))
    for i, r in enumerate(tx):
        count = np.sum(assignment == r) + (assignment != r)
        p = power_w / np.maximum(count, 1)
        beam = mrt(rows[r])  # (N, K): MRT toward every vehicle
        signal = p * np.abs(np.sum(rows[r].T * beam, axis=0)) ** 2
        # a vehicle already on RSU r: its current beam is part of `interference`
        current = np.zeros(k)
        mine = np.flatnonzero(assignment == r)
        if mine.size:
            received = beam_gains(rows[r][mine], precoders[r])
            current[mine] = received[np.arange(mine.size), np.arange(mine.size)]
        zeta[i] = np.log1p(signal / (interference - current + 1.0))
    return zeta


def assign(
    method: str,
    rows: NDArray,
    theta: NDArray,
    ranges: NDArray,
    transmitters: NDArray,
    precoder: Precoder,
    power_w: float,
) -> NDArray[np.int64]:
    """RSU index per vehicle. ``rows`` (R, K, N) unit-noise estimates, ``theta`` (R, K)
    azimuths [rad] and ``ranges`` (R, K) [m] from every RSU."""
    if method not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment '{method}'; valid: {', '.join(ASSIGNMENTS)}")
    nearest = transmitters[np.argmin(ranges[transmitters], axis=0)]
    if method == "distance" or len(transmitters) == 1 or rows.shape[1] == 0:
        return nearest
    if method == "greedy":
        return _greedy(rows, ranges, transmitters, precoder, power_w)
    starts = [nearest, *_sector_splits(theta[transmitters[0]], transmitters)]
    return _heuristic(rows, starts, transmitters, precoder, power_w)


def total_rate(rows, assignment, transmitters, precoder, power_w) -> float:
    """Sum of log2(1 + SINR) over the assigned vehicles, every RSU re-precoded."""
    placed = assignment >= 0
    if not placed.any():
        return 0.0
    sub = rows[:, placed]
    precoders = precode_all(sub, assignment[placed], transmitters, precoder, power_w)
    return float(np.sum(np.log2(1.0 + system_sinr(sub, assignment[placed], precoders))))


def _greedy(rows, ranges, transmitters, precoder, power_w) -> NDArray[np.int64]:
    """004 Algorithm 2: vehicles in decreasing |1/d_1 - 1/d_2|^2 (path-loss asymmetry), the
    first to its nearer RSU, every next one to the RSU that gives the placed vehicles the
    larger total rate once re-precoded (the utility of 004 eq. (47) evaluated exactly)."""
    k = rows.shape[1]
    inv = 1.0 / ranges[transmitters]
    order = np.argsort(-np.sum((inv - inv.mean(axis=0)) ** 2, axis=0), kind="stable")
    assignment = np.full(k, -1)
    assignment[order[0]] = transmitters[np.argmin(ranges[transmitters, order[0]])]
    for v in order[1:]:
        totals = []
        for r in transmitters.tolist():
            assignment[v] = r
            totals.append(total_rate(rows, assignment, transmitters, precoder, power_w))
        assignment[v] = transmitters[int(np.argmax(totals))]
    return assignment


def _sector_splits(theta: NDArray, transmitters: NDArray) -> list[NDArray[np.int64]]:
    """For two RSUs, the 2 (K + 1) splits of the vehicles into two angular sectors seen from
    the first RSU (the first t in azimuth order to one RSU, the rest to the other, both
    ways): vehicles at similar angles share an RSU, whose precoder separates them, instead
    of interfering from both. None for another number of RSUs."""
    if len(transmitters) != 2:
        return []
    order = np.argsort(theta, kind="stable")
    splits = []
    for t in range(order.size + 1):
        for first, second in (transmitters, transmitters[::-1]):
            split = np.full(order.size, second)
            split[order[:t]] = first
            splits.append(split)
    return splits


def _heuristic(rows, starts, transmitters, precoder, power_w) -> NDArray[np.int64]:
    """004 Algorithm 3: rank the vehicles by the utility gain e_k of moving to another RSU
    (zeta of :func:`utilities`), move the first of the ``MAX_TRIALS`` best-ranked whose
    move raises the total rate once re-precoded, repeat until none does. Two changes of
    ours: the acceptance test (Alg. 3 trusts zeta) makes every move an improvement, so the
    loop ends; and the search starts from the best of ``starts`` (the distance assignment
    of Alg. 3 line 1 and :func:`_sector_splits`), because single moves cannot leave the
    distance rule's lane split for the along-road split that serves dense traffic better
    (README, Beamforming). Never below the distance assignment."""
    totals = [total_rate(rows, s, transmitters, precoder, power_w) for s in starts]
    assignment = starts[int(np.argmax(totals))].copy()
    best = max(totals)
    for _ in range(2 * rows.shape[1]):
        placed = precode_all(rows, assignment, transmitters, precoder, power_w)
        zeta = utilities(rows, assignment, placed, power_w)
        own = np.searchsorted(transmitters, assignment)
        vehicles = np.arange(rows.shape[1])
        others = zeta.copy()
        others[own, vehicles] = -np.inf  # a move goes to another RSU
        gain = others.max(axis=0) - zeta[own, vehicles]
        moved = False
        for k in np.argsort(-gain)[:MAX_TRIALS].tolist():
            trial = assignment.copy()
            trial[k] = transmitters[int(np.argmax(others[:, k]))]
            total = total_rate(rows, trial, transmitters, precoder, power_w)
            if total > best * (1 + 1e-9):
                assignment, best, moved = trial, total, True
                break
        if not moved:
            break
    return assignment
