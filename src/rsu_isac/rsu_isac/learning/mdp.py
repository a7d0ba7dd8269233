"""The Markov decision process of 000 Sec. III-A on our closed loop: the state of eq. (18),
the action of eq. (19) in three encodings, and the reward of eq. (20)-(21).

State (eq. (18)): for each of ``max_vehicles`` slots K_max, the vehicle's estimated
{theta, d, v, gamma}: cos(theta) and range d from its serving RSU (the nearest transmitter),
its speed along the road, and gamma the SINR [dB] that last slot's beams give it on the
channel estimated at its predicted position (what the RSU can know without feedback), plus
a presence flag. Vehicles fill the slots in road order (x ascending); beyond K_max the
nearest ones are kept, an empty slot is all zeros. By default the vehicles are the
tracker's fused one-slot predictions; ``true_state`` gives the true states (ablation).

Actions (eq. (19), the beams F_n and powers p_n of the vehicles; the sensing sweep beam of
``beamforming.policies`` keeps its share of the budget):

- ``full``: the paper's: the N x K_max complex weights as 2 N K_max reals in [-1, 1]; each
  RSU's columns are scaled to its power budget (Frobenius norm), so (17c) always holds.
- ``compact``: per vehicle a steering offset in [-max_offset_deg, max_offset_deg] from its
  predicted angle and a power logit (shares by softmax over the vehicles present). The zero
  action is predictive MRT with equal power.
- ``codebook`` (discrete, for DQN): per vehicle one of 2 m + 1 DFT beams centred on the one
  nearest its predicted angle, times ``power_levels`` levels (shares proportional to the
  level); the joint index over K_max vehicles.

Reward (eq. (20)): 1(17a, 17b) * (R J - CRLB_theta / eps_theta - CRLB_d / eps_d), with R
the sum rate on the true channel, J Jain's index (core.channel.jain_fairness: without the
printed factor 2), and CRLB_theta, CRLB_d the per-slot means over the vehicles of the angle
and range bounds of their echoes (the best receiving RSU's, sim.radar_echo.echo_bounds).
Our normalisation: the CRLBs count in units of their thresholds eps, so each penalty is at
most 1 when (17a)-(17b) hold; a vehicle no beam illuminates has an infinite bound and the
slot's reward is 0. (17c) holds by construction of every action encoding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from rsu_isac.beamforming.context import PredictedVehicles, RadioContext
from rsu_isac.beamforming.policies import dft_beam_angles
from rsu_isac.core.array import steering_vector
from rsu_isac.core.beams import KIND_COMMUNICATION, BeamSet
from rsu_isac.core.channel import sinr
from rsu_isac.core.scenario import Scenario
from rsu_isac.core.units import linear_to_db
from rsu_isac.sim.link import LinkScore
from rsu_isac.sim.radar_echo import Targets, echo_bounds
from rsu_isac.sim.traffic import VehicleStates

ACTIONS = ("compact", "full", "codebook")
FEATURES = ("cos_theta", "range", "speed", "sinr", "present")
RANGE_SCALE_M = 100.0
SPEED_SCALE_MPS = 30.0
SINR_SCALE_DB = 40.0
SINR_FLOOR_DB = -40.0
OBSERVATION_BOUND = 4.0  # every feature is clipped to [-4, 4]
POWER_LOGIT_SCALE = 3.0  # compact: a power action of 1 is e^3 times the share of 0
MAX_CODEBOOK_ACTIONS = 1 << 20


@dataclass(frozen=True)
class MdpConfig:
    """What the agent sees and does (see the module docstring)."""

    action: str = "compact"
    max_vehicles: int = 3
    true_state: bool = False
    max_offset_deg: float = 2.0
    codebook_neighbours: int = 1
    power_levels: int = 3
    crlb_angle_max_rad2: float = float(np.deg2rad(0.1) ** 2)  # eps_theta of (17a), ours
    crlb_range_max_m2: float = 0.25  # eps_d of (17b), ours

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action '{self.action}'; valid: {', '.join(ACTIONS)}")
        if not 1 <= self.max_vehicles <= 256:
            raise ValueError(f"max_vehicles must be in [1, 256], got {self.max_vehicles}")
        if self.action == "codebook" and self.codebook_choices**self.max_vehicles > (
            MAX_CODEBOOK_ACTIONS
        ):
            raise ValueError(
                f"the codebook action has {self.codebook_choices}^{self.max_vehicles} joint "
                f"choices (more than {MAX_CODEBOOK_ACTIONS}); use fewer max_vehicles"
            )

    @property
    def codebook_choices(self) -> int:
        """Choices per vehicle of the codebook action."""
        return (2 * self.codebook_neighbours + 1) * self.power_levels


def observation_space(mdp: MdpConfig) -> spaces.Box:
    shape = (mdp.max_vehicles * len(FEATURES),)
    return spaces.Box(-OBSERVATION_BOUND, OBSERVATION_BOUND, shape, np.float32)


def action_space(mdp: MdpConfig, num_antennas: int) -> spaces.Space:
    if mdp.action == "codebook":
        return spaces.Discrete(mdp.codebook_choices**mdp.max_vehicles)
    per_vehicle = 2 if mdp.action == "compact" else 2 * num_antennas
    return spaces.Box(-1.0, 1.0, (mdp.max_vehicles * per_vehicle,), np.float32)


@dataclass(frozen=True)
class Observed:
    """One observation and what it was computed from."""

    observation: NDArray[np.float32]
    vehicles: PredictedVehicles  # the (at most K_max) vehicles, in slot order
    serving_rsu: NDArray[np.int64]  # (K,) nearest transmitting RSU
    theta: NDArray[np.float64]  # (R, K) estimated angles from every RSU


def observe(
    context: RadioContext, vehicles: PredictedVehicles, last_beams: BeamSet, mdp: MdpConfig
) -> Observed:
    """The state of eq. (18) for ``vehicles`` after ``last_beams`` (module docstring)."""
    tx = context.transmitters
    kept = vehicles.nearest(mdp.max_vehicles, context.rsu_xy[tx])
    order = np.argsort(kept.position_xy[:, 0], kind="stable")
    kept = kept.subset(order)
    k = len(kept)
    theta, ranges = context.polar(kept)
    serving = tx[np.argmin(ranges[tx], axis=0)] if k else np.zeros(0, np.int64)
    cols = np.arange(k)
    features = np.zeros((mdp.max_vehicles, len(FEATURES)))
    if k:
        sinr_db = np.maximum(
            linear_to_db(np.maximum(estimated_sinr(context, kept, last_beams), 1e-30)),
            SINR_FLOOR_DB,
        )
        features[:k] = np.column_stack(
            [
                np.cos(theta[serving, cols]),
                ranges[serving, cols] / RANGE_SCALE_M,
                kept.velocity_xy[:, 0] / SPEED_SCALE_MPS,
                sinr_db / SINR_SCALE_DB,
                np.ones(k),
            ]
        )
    obs = np.clip(features, -OBSERVATION_BOUND, OBSERVATION_BOUND).astype(np.float32).ravel()
    return Observed(obs, kept, serving.astype(np.int64), theta)


def estimated_sinr(
    context: RadioContext, vehicles: PredictedVehicles, beams: BeamSet
) -> NDArray[np.float64]:
    """SINR of each vehicle under ``beams`` on the channel estimated at its predicted
    position (core.channel.sinr, unit noise); its serving beam is the communication beam
    aimed at its track, none if there is none."""
    rows = context.channel_rows(vehicles)  # (R, K, N), unit noise
    if len(beams) == 0:
        return np.zeros(len(vehicles))
    gains = np.abs(np.einsum("bkn,bn->kb", rows[beams.rsu_index], beams.weights)) ** 2
    comm = beams.kind == KIND_COMMUNICATION
    match = (vehicles.track_id[:, None] == beams.track_id[None, :]) & comm[None, :]
    serving = np.where(match.any(axis=1), np.argmax(match, axis=1), -1)
    return sinr(gains, beams.powers_w, 1.0, serving)


@dataclass(frozen=True)
class Decoded:
    """An action as unit beam directions and power shares of the observed vehicles."""

    directions: NDArray[np.complex128]  # (N, K) unit-norm columns
    shares: NDArray[np.float64]  # (K,) >= 0

    def weights(self, mine: NDArray, power_w: float) -> NDArray[np.complex128]:
        """(N, K_r) beams of the vehicles ``mine`` sharing ``power_w``."""
        share = self.shares[mine]
        total = share.sum()
        share = share / total if total > 0 else np.full(mine.size, 1.0 / mine.size)
        return self.directions[:, mine] * np.sqrt(power_w * share)


def decode(action: NDArray | int, observed: Observed, mdp: MdpConfig, num_antennas: int) -> Decoded:
    """Beams and power shares of the observed vehicles from ``action`` (module docstring)."""
    k = len(observed.vehicles)
    n = num_antennas
    angle = observed.theta[observed.serving_rsu, np.arange(k)]
    if mdp.action == "codebook":
        digits = np.array(
            [(int(action) // mdp.codebook_choices**i) % mdp.codebook_choices for i in range(k)],
            dtype=np.int64,
        )
        beam_step, level = np.divmod(digits, mdp.power_levels)
        grid = dft_beam_angles(n)
        nearest = np.argmin(np.abs(grid[None, :] - angle[:, None]), axis=1)
        index = np.clip(nearest + beam_step - mdp.codebook_neighbours, 0, n - 1)
        return Decoded(steering_vector(grid[index], n).T, (level + 1.0) / mdp.power_levels)
    a = np.asarray(action, dtype=float).reshape(mdp.max_vehicles, -1)[:k]
    if mdp.action == "compact":
        offset = np.deg2rad(mdp.max_offset_deg) * np.clip(a[:, 0], -1.0, 1.0)
        logits = POWER_LOGIT_SCALE * np.clip(a[:, 1], -1.0, 1.0)
        shares = np.exp(logits - logits.max(initial=0.0))
        directions = steering_vector(np.clip(angle + offset, 0.0, np.pi), n).T
        return Decoded(directions, shares)
    w = (a[:, :n] + 1j * a[:, n:]).T  # (N, K)
    norms = np.linalg.norm(w, axis=0)
    directions = np.where(norms > 0, w / np.maximum(norms, 1e-300), steering_vector(angle, n).T)
    return Decoded(directions, norms**2)


def sensing_bounds(
    scenario: Scenario, vehicles: VehicleStates, beams: BeamSet
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per vehicle, the angle CRLB [rad^2] and range CRLB [m^2] of its echo under
    ``beams`` at its true position (000 eq. (15)-(16)), the smallest over the receiving
    RSUs; infinite where no beam of an illuminating RSU is on."""
    k = len(vehicles)
    best_theta = np.full(k, np.inf)
    best_range = np.full(k, np.inf)
    kappa = np.full(k, scenario.radar.kappa)
    for rx in scenario.receivers():
        tx = scenario.illuminator(rx)
        mine = beams.rsu_index == tx
        if not mine.any() or k == 0:
            continue
        targets = Targets.build(
            scenario,
            scenario.rsus[tx].position_m,
            scenario.rsus[rx].position_m,
            vehicles.position_xy,
            vehicles.velocity_xy,
            kappa,
        )
        bounds = echo_bounds(scenario, targets, beams.weights[mine], beams.powers_w[mine])
        best_theta = np.minimum(best_theta, bounds.angle_variance_rad2)
        best_range = np.minimum(best_range, bounds.range_variance_m2)
    return best_theta, best_range


def reward(
    scenario: Scenario, link: LinkScore, vehicles: VehicleStates, beams: BeamSet, mdp: MdpConfig
) -> tuple[float, dict[str, float]]:
    """Reward of eq. (20) for the slot whose true ``vehicles`` got ``link`` from ``beams``,
    and its parts (sum rate, fairness, mean CRLBs, whether (17a)-(17b) held)."""
    crlb_theta, crlb_range = sensing_bounds(scenario, vehicles, beams)
    mean_theta = float(np.mean(crlb_theta)) if len(crlb_theta) else 0.0
    mean_range = float(np.mean(crlb_range)) if len(crlb_range) else 0.0
    feasible = mean_theta <= mdp.crlb_angle_max_rad2 and mean_range <= mdp.crlb_range_max_m2
    value = (
        link.sum_rate_bps_hz * link.jain_fairness
        - mean_theta / mdp.crlb_angle_max_rad2
        - mean_range / mdp.crlb_range_max_m2
        if feasible
        else 0.0
    )
    return value, {
        "sum_rate_bps_hz": link.sum_rate_bps_hz,
        "jain_fairness": link.jain_fairness,
        "crlb_angle_rad2": mean_theta,
        "crlb_range_m2": mean_range,
        "feasible": float(feasible),
    }
