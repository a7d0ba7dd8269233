"""The policies behind one interface: predicted vehicles -> BeamSet (beams, powers, RSU of
each beam). ``create_policy(name, context, ...)`` builds one; unknown names fail with the
list of valid ones.

Each transmitting RSU serves the vehicles the assignment gives it with the policy's
precoder and keeps ``sensing_fraction`` of its power for a sensing beam that sweeps the
road (one codebook angle per slot), so that vehicles entering coverage are illuminated
and detected; with no vehicle at all it sweeps at full power.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points

import numpy as np
from numpy.typing import NDArray

from rsu_isac.beamforming.assignment import ASSIGNMENTS, Precoder, assign
from rsu_isac.beamforming.context import PredictedVehicles, RadioContext
from rsu_isac.beamforming.precoders import (
    FractionalProgram,
    MaxMinSinr,
    equal_power,
    mrt,
    regularised_zf,
    sinr_of,
    water_filling,
    wmmse,
    zero_forcing,
)
from rsu_isac.beamforming.sensing import echo_scene, follow
from rsu_isac.beamforming.wmmse_isac import wmmse_isac
from rsu_isac.core.array import steering_vector
from rsu_isac.core.beams import KIND_COMMUNICATION, KIND_SENSING, BeamSet
from rsu_isac.core.bounds import angle_fisher_matrix, crlb_angle_rad2
from rsu_isac.core.isac_metrics import BistaticScene
from rsu_isac.core.radar import echo_complex_gain, reflection_coefficient

POWER_SPLITS = ("equal", "water_filling", "crb")
SENSING_FRACTION = 0.05  # default power share of the sensing beam (002's rho_s)


def dft_beam_angles(num_antennas: int) -> NDArray[np.float64]:
    """Angles [rad] of the N orthogonal DFT beams, uniform in cos(theta), descending."""
    n = num_antennas
    return np.arccos(-1.0 + (2.0 * np.arange(n) + 1.0) / n)


def static_codebook(g: NDArray, power_w: float) -> NDArray:
    """001's static baseline: the fixed DFT codebook (N orthogonal beams, uniform in
    cos(theta)); each vehicle gets the codebook beam with the largest gain, equal power."""
    n = g.shape[1]
    codebook = steering_vector(dft_beam_angles(n), n)  # (N beams, N)
    best = np.argmax(np.abs(g @ codebook.T), axis=1)
    return equal_power(codebook[best].T, power_w)


def precoder_for(name: str, power_split: str) -> Precoder:
    """The per-RSU precoder of policy ``name``."""
    split = {
        "equal": lambda g, d, p: equal_power(d, p),
        "water_filling": water_filling,
        "crb": lambda g, d, p: equal_power(d, p),  # re-split by Policy.decide (geometry)
    }[power_split]
    directions = {
        "predictive_mrt": lambda g, p: mrt(g),
        "zf": lambda g, p: zero_forcing(g),
        "rzf": lambda g, p: regularised_zf(g, g.shape[0] / p),  # the MMSE regulariser K / P
    }
    if name == "static":
        return static_codebook
    if name in directions:
        shape = directions[name]
        return lambda g, p: split(g, shape(g, p), p)
    if name in ("maxmin_socp", "isac_ocs"):
        solver = MaxMinSinr()  # one per policy: it warm-starts from the last slot
        return lambda g, p: solver.solve(g, p)[0]
    if name in ("wmmse", "wmmse_isac"):  # wmmse_isac: its users' part (for the assignment)
        return wmmse
    if name == "fp_pgd":
        program = FractionalProgram()
        return lambda g, p: program.solve(g, p)[0]
    raise ValueError(f"unknown policy '{name}'; valid: {', '.join(POLICIES)}")


POLICIES = (
    "static",
    "predictive_mrt",
    "zf",
    "rzf",
    "maxmin_socp",
    "isac_ocs",
    "wmmse",
    "wmmse_isac",
    "fp_pgd",
)
# Entry-point group of the policies defined above this layer (the learned ones of
# rsu_isac.learning, declared in setup.py): found by name at run time, never imported here.
POLICY_PLUGINS = "rsu_isac.policies"


@dataclass
class Policy:
    """A named policy with its assignment method and power split."""

    name: str
    context: RadioContext
    assignment: str = "distance"
    power_split: str = "equal"
    sensing_fraction: float = SENSING_FRACTION
    user_sinr_share: float = 0.0  # isac_ocs: SINR share users keep under the sensing beam
    sweep_beams: int = 16
    constant_modulus: bool = False
    precoder: Callable = field(init=False)

    def __post_init__(self) -> None:
        if self.assignment not in ASSIGNMENTS:
            raise ValueError(
                f"unknown assignment '{self.assignment}'; valid: {', '.join(ASSIGNMENTS)}"
            )
        if self.power_split not in POWER_SPLITS:
            raise ValueError(
                f"unknown power split '{self.power_split}'; valid: {', '.join(POWER_SPLITS)}"
            )
        if not 0.0 <= self.sensing_fraction <= 1.0:
            raise ValueError(f"sensing fraction {self.sensing_fraction} is not in [0, 1]")
        if not 0.0 <= self.user_sinr_share < 1.0:
            raise ValueError(f"user SINR share {self.user_sinr_share} is not in [0, 1)")
        self.precoder = self._precoder()
        self._sweep = self._sweep_angles()

    def _precoder(self) -> Callable:
        return precoder_for(self.name, self.power_split)

    def _sweep_angles(self) -> NDArray[np.float64]:
        """(R, S) sensing angles per RSU covering the road's span as seen from it."""
        sc = self.context.scenario
        corners = np.array(
            [(x, lane.y_m) for x in (sc.road.x_min_m, sc.road.x_max_m) for lane in sc.road.lanes]
        )
        out = []
        for rsu in sc.rsus:
            rel = corners - np.asarray(rsu.position_m)
            cos = rel[:, 0] / np.hypot(rel[:, 0], rel[:, 1])
            out.append(np.arccos(np.linspace(cos.max(), cos.min(), self.sweep_beams)))
        return np.array(out)

    def decide(self, vehicles: PredictedVehicles, slot: int) -> BeamSet:
        """Beams of the next slot for the predicted ``vehicles``."""
        ctx = self.context
        tx = ctx.transmitters
        budget = ctx.max_power_w
        out = _BeamList()
        served: dict[int, tuple[NDArray, NDArray]] = {}
        joint: dict[int, NDArray] = {}  # wmmse_isac's sensing stream per RSU
        if len(vehicles):
            rows = ctx.channel_rows(vehicles)
            theta, ranges = ctx.polar(vehicles)
            comm_power = budget * (1.0 - self.sensing_fraction)
            assignment = self._assign(vehicles, rows, theta, ranges, comm_power)
            for r in tx.tolist():
                mine = np.flatnonzero(assignment == r)
                if not mine.size:
                    continue
                if self.name == "wmmse_isac":
                    w, joint[r] = self._joint(r, slot, rows[r, mine], comm_power)
                else:
                    w = self._communication(vehicles, mine, r, rows, theta, ranges, comm_power)
                if self.power_split == "crb":
                    w = crb_balanced(ctx, r, theta[r, mine], ranges[r, mine], w, comm_power)
                if self.constant_modulus:
                    w = constant_modulus(w)
                out.add(w, r, KIND_COMMUNICATION, vehicles.track_id[mine], theta[r, mine])
                served[r] = (rows[r, mine], w)
        sensing = self.sensing_fraction if len(vehicles) else 1.0
        if sensing > 0:
            for r in tx.tolist():
                angle = float(self._sweep[r, slot % self.sweep_beams])
                w = steering_vector(angle, ctx.num_antennas)[:, None] * np.sqrt(budget * sensing)
                if r in joint:
                    w = joint[r][:, None]
                elif self.name == "isac_ocs" and r in served:
                    designed = self._sensing_beams(r, angle, *served[r], budget * sensing)
                    w = w if designed is None else designed
                none = np.zeros(w.shape[1], np.int64)
                out.add(w, r, KIND_SENSING, none, np.full(w.shape[1], angle))
        return out.beamset(ctx.num_antennas)

    def _assign(
        self,
        vehicles: PredictedVehicles,
        rows: NDArray,
        theta: NDArray,
        ranges: NDArray,
        power_w: float,
    ) -> NDArray[np.int64]:
        """The transmitting RSU of every vehicle (``rows``, ``theta``, ``ranges``: every
        RSU's estimates of every vehicle; ``power_w``: the power for communication)."""
        tx = self.context.transmitters
        return assign(self.assignment, rows, theta, ranges, tx, self.precoder, power_w)

    def _communication(
        self,
        vehicles: PredictedVehicles,
        mine: NDArray,
        r: int,
        rows: NDArray,
        theta: NDArray,
        ranges: NDArray,
        power_w: float,
    ) -> NDArray[np.complex128]:
        """(N, K_r) beams of RSU ``r`` for its vehicles ``mine`` with total power ``power_w``
        (``rows``, ``theta``, ``ranges``: every RSU's estimates of every vehicle)."""
        if self.name == "fp_pgd" and vehicles.angle_fisher_floor is not None:
            fisher = self._pcrb_constraints(vehicles, mine, r, theta[r], ranges[r])
            return FractionalProgram().solve(rows[r, mine], power_w, fisher)[0]
        return self.precoder(rows[r, mine], power_w)

    def _pcrb_constraints(self, vehicles: PredictedVehicles, mine, r: int, theta, ranges):
        """(A_k, Lambda_k) of 004's PCRB constraint (37) for RSU ``r``'s vehicles: the angle
        Fisher matrix of an echo at the predicted angle and range (core.bounds), and the
        tracker's floor (core.bounds.angle_fisher_floor, 004 appendix (54)-(58)) where the
        track is in this RSU's frame (0 elsewhere)."""
        sc = self.context.scenario
        radio = sc.radio
        floors = vehicles.angle_fisher_floor[mine]
        own = vehicles.source_rsu[mine] == r if vehicles.source_rsu is not None else True
        floors = np.where(own, floors, 0.0)
        beta = reflection_coefficient(sc.radar.kappa, ranges[mine])
        gain = echo_complex_gain(
            radio.array.num_tx_antennas,
            radio.array.num_rx_antennas,
            1.0,
            beta,
            sc.radar.matched_filter_gain,
        )
        return [
            (
                angle_fisher_matrix(
                    float(theta[k]),
                    complex(gain[i]),
                    radio.array.num_tx_antennas,
                    radio.array.num_rx_antennas,
                    radio.sensing_noise_w,
                    radio.array.spacing_wavelengths,
                ),
                float(floors[i]),
            )
            for i, k in enumerate(mine.tolist())
        ]

    def _sensing_beams(self, r: int, angle: float, g: NDArray, w: NDArray, power: float):
        """002's follower for RSU ``r`` (beamforming.sensing.follow: the beam and the receive
        RSU's MVDR filter that maximise the SCNR with the leader's beams fixed) towards the
        sweep angle's point on the road's centre line, with the scenario's clutter seen from
        both ends; with ``user_sinr_share`` > 0 every user keeps that share of its SINR
        under the sensing beam (002's follower has no such constraint); None if no power
        fits."""
        scene = self._sweep_scene(r, angle)
        targets = self.user_sinr_share * sinr_of(g, w) if self.user_sinr_share > 0 else None
        found = follow(g, w, scene, power, targets)
        return None if found is None else found.beam[:, None]

    def _joint(self, r: int, slot: int, g: NDArray, power_w: float) -> tuple[NDArray, NDArray]:
        """WMMSE-ISAC's communication beams and sensing stream for RSU ``r``'s users ``g``
        (beamforming.wmmse_isac, equal weights) towards this slot's sweep point."""
        scene = self._sweep_scene(r, float(self._sweep[r, slot % self.sweep_beams]))
        found = wmmse_isac(g, scene, power_w, self.context.max_power_w * self.sensing_fraction)
        return found.w, found.sensing

    def _sweep_scene(self, r: int, angle: float) -> BistaticScene:
        """RSU ``r``'s echo scene (beamforming.sensing.echo_scene) of a vehicle where the ray
        from the RSU at ``angle`` [rad] meets the road's centre line (the target's position a
        search beam assumes; the range is unknown before detection)."""
        sc = self.context.scenario
        xy = np.asarray(sc.rsus[r].position_m, dtype=float)
        centre = float(np.mean([lane.y_m for lane in sc.road.lanes]))
        side = np.sign(centre - xy[1]) or 1.0
        reach = abs(centre - xy[1]) / max(np.sin(angle), 1e-6)
        point = xy + reach * np.array([np.cos(angle), side * np.sin(angle)])
        return echo_scene(sc, r, point, sc.radar.kappa)


@dataclass
class _BeamList:
    """Accumulates precoder columns (norm = sqrt of power) into a BeamSet."""

    parts: list[tuple] = field(default_factory=list)

    def add(self, w: NDArray, rsu: int, kind: int, track_id: NDArray, angle: NDArray) -> None:
        norms = np.linalg.norm(w, axis=0)
        self.parts.append(((w / np.maximum(norms, 1e-300)).T, norms**2, rsu, kind, track_id, angle))

    def beamset(self, num_antennas: int) -> BeamSet:
        if not self.parts:
            return BeamSet.empty(num_antennas)
        weights, powers, rsu, kind, track, angle = zip(*self.parts, strict=True)
        counts = [len(p) for p in powers]
        return BeamSet(
            np.concatenate(weights).astype(complex),
            np.concatenate(powers),
            np.repeat(np.array(rsu, dtype=np.int64), counts),
            np.repeat(np.array(kind, dtype=np.int64), counts),
            np.concatenate(track).astype(np.int64),
            np.concatenate(angle).astype(float),
        )


def constant_modulus(w: NDArray) -> NDArray[np.complex128]:
    """Projection of each beam onto 003's constant-modulus set (9b): every element
    |v_m| = 1 / sqrt(M) times the beam's amplitude (phase shifters only), the phase kept."""
    amplitude = np.linalg.norm(w, axis=0)
    return np.exp(1j * np.angle(w)) / np.sqrt(w.shape[0]) * amplitude


def crb_balanced(
    ctx: RadioContext, r: int, theta: NDArray, range_m: NDArray, w: NDArray, power_w: float
) -> NDArray[np.complex128]:
    """Re-split ``power_w`` over the beams (directions of W) so that every vehicle's angle
    CRLB (core.bounds, 000 eq. (15)) is the same: the CRLB scales as 1 / p_k, so p_k is
    proportional to the CRLB each would have at 1 W."""
    sc = ctx.scenario
    directions = w / np.maximum(np.linalg.norm(w, axis=0), 1e-300)
    beta = reflection_coefficient(sc.radar.kappa, range_m)
    n_t, n_r = sc.radio.array.num_tx_antennas, sc.radio.array.num_rx_antennas
    gain = echo_complex_gain(n_t, n_r, 1.0, beta, sc.radar.matched_filter_gain)
    crlb = crlb_angle_rad2(
        theta, gain, directions.T, n_r, sc.radio.sensing_noise_w, sc.radio.array.spacing_wavelengths
    )
    share = np.where(np.isfinite(crlb), crlb, 0.0)
    share = share / share.sum() if share.sum() > 0 else np.full(len(share), 1 / len(share))
    return directions * np.sqrt(power_w * share)


def _plugins() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=POLICY_PLUGINS)}


def policy_names() -> tuple[str, ...]:
    """Every policy name: the optimisation ones (POLICIES), then the installed plug-ins."""
    return POLICIES + tuple(sorted(set(_plugins()) - set(POLICIES)))


def create_policy(
    name: str, context: RadioContext, checkpoint: str | None = None, **options
) -> Policy:
    """Policy ``name`` (one of :func:`policy_names`) with options (assignment, power_split,
    sensing_fraction, user_sinr_share, sweep_beams, constant_modulus). A plug-in (learned)
    policy loads ``checkpoint`` (default: the one it ships); a ValueError says what does not
    fit."""
    if name in POLICIES:
        if checkpoint:
            raise ValueError(f"policy '{name}' is not learned: it takes no checkpoint")
        return Policy(name, context, **options)
    plugins = _plugins()
    if name not in plugins:
        raise ValueError(f"unknown policy '{name}'; valid: {', '.join(policy_names())}")
    return plugins[name].load()(context, checkpoint=checkpoint, **options)
