"""001's multi-objective resource allocation as an MDP on our closed loop, and the policy
that carries out its actions (``ddpg_mo``).

State (001 eq. (16): CSI, interference, mobility, power, load), from what an RSU knows:
the number of vehicles it serves (load), the mean and spread of their estimated channel
gains ||h_k||^2 / sigma^2 [dB] and the mean magnitude of their channels' normalised
correlation (how much multi-user interference beams must fight) - from the pilot estimates
where the scenario has pilots, else from the tracks' line-of-sight estimates -, the
cross-link interference each sub-band carried at the RSU's receiver in the last slot [dB
over the band's noise], and the agent's own last decision (power, sensing share: its
power consumption).

Action (001 eq. (17): beams b(t), powers p(t), frequency f(t)), a structured
parametrisation in [-1, 1]^(5 + n) that serves any number of vehicles with one network:

- a_0: the beams: regularised zero forcing on the estimated channels (beamforming.
  precoders.regularised_zf) with lambda = (K / P) 10^(3 a_0), from zero forcing (a_0 = -1)
  through the MMSE choice (0) to maximum ratio (+1);
- a_1: the power split: p_k proportional to (||h_k||^2)^(a_1) (a_1 = -1 favours weak
  vehicles, +1 strong ones, 0 equal);
- a_2: the transmit power, P_max 10^(-1.5 (1 - a_2) / 2) (3 % to 100 % of the budget,
  log-uniform): energy efficiency;
- a_3: the sensing beam's share of it, 0.01 + 0.29 (a_3 + 1) / 2;
- a_4: frequency reuse: > 0 gives the vehicles, in angle order, the used bands in turn
  (fewer bands each, less interference), else every vehicle uses every used band;
- a_5 .. a_(4+n): one score per sub-band; the bands with a positive score are used (the
  best one at least) - the hybrid frequency choice relaxed to continuous scores.

Reward (001 eq. (18)) on the slot's true outcome: w_SE SE + w_EE EE / EE_scale
- w_CRLB log10(CRLB / CRLB_ref) - w_I log2(1 + INR_SI + INR_MI + INR_CLI), with SE the sum
rate [bit/s/Hz], EE 001 eq. (13)-(14) [Mbit/J], CRLB the mean root angle CRLB of the
vehicles from the transmit covariance (eq. (6)-(7)) [deg] and the INRs those of
``rsu-isac eval``. Our choices: logarithms put the CRLB and the interference on the scale
of the rates (a halved CRLB is worth w_CRLB log10 2 bit/s/Hz), and the weights below.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from rsu_isac.beamforming.context import PredictedVehicles, RadioContext
from rsu_isac.beamforming.policies import Policy
from rsu_isac.beamforming.precoders import regularised_zf
from rsu_isac.core.beams import KIND_COMMUNICATION, BeamSet
from rsu_isac.core.interference import mask_bits
from rsu_isac.core.units import linear_to_db

CONTROLS = 5  # a_0 .. a_4 before the band scores
STATE_SCALE_DB = 20.0
LOAD_SCALE = 20.0  # vehicles
INR_FLOOR_DB = -30.0
OBSERVATION_BOUND = 4.0
POWER_RANGE_DB = 15.0  # a_2 spans P_max - 15 dB .. P_max
SENSING_SHARE = (0.01, 0.30)


@dataclass(frozen=True)
class MoConfig:
    """Reward weights of 001 eq. (18) and their scales (module docstring; ours)."""

    w_se: float = 1.0
    w_ee: float = 1.0
    w_crlb: float = 1.0
    w_interference: float = 0.5
    ee_scale_mbit_per_j: float = 100.0
    crlb_ref_deg: float = 1e-3

    def to_dict(self) -> dict:
        return asdict(self)


def observation_space(num_bands: int) -> spaces.Box:
    return spaces.Box(-OBSERVATION_BOUND, OBSERVATION_BOUND, (8 + num_bands,), np.float32)


def action_space(num_bands: int) -> spaces.Box:
    return spaces.Box(-1.0, 1.0, (CONTROLS + num_bands,), np.float32)


@dataclass(frozen=True)
class Decision:
    """An action decoded (module docstring)."""

    regulariser_exponent: float  # lambda = (K / P) 10^(3 a_0)
    power_exponent: float  # p_k ~ (||h_k||^2)^a_1
    power_fraction: float  # of P_max
    sensing_share: float
    reuse: bool
    bands: NDArray[np.bool_]  # (n,) used bands

    @staticmethod
    def decode(action: NDArray) -> Decision:
        a = np.clip(np.asarray(action, dtype=float), -1.0, 1.0)
        scores = a[CONTROLS:]
        bands = scores > 0
        bands[int(np.argmax(scores))] = True
        low, high = SENSING_SHARE
        return Decision(
            regulariser_exponent=3.0 * a[0],
            power_exponent=a[1],
            power_fraction=10.0 ** (-POWER_RANGE_DB * (1.0 - a[2]) / 2.0 / 10.0),
            sensing_share=low + (high - low) * (a[3] + 1.0) / 2.0,
            reuse=bool(a[4] > 0),
            bands=bands,
        )


def observe(
    context: RadioContext, vehicles: PredictedVehicles, last: Decision | None
) -> NDArray[np.float32]:
    """The state of the module docstring for RSU 0 (001 has one BS)."""
    n = context.scenario.interference.num_bands
    k = len(vehicles)
    features = np.zeros(8 + n)
    features[0] = k / LOAD_SCALE
    if k:
        rows = context.channel_rows(vehicles)[context.transmitters[0]]  # (K, N), unit noise
        gain_db = linear_to_db(np.maximum(np.sum(np.abs(rows) ** 2, axis=1), 1e-30))
        unit = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-300)
        corr = np.abs(unit @ unit.conj().T)
        off = corr[~np.eye(k, dtype=bool)]
        features[1] = np.mean(gain_db) / (2 * STATE_SCALE_DB)
        features[2] = np.std(gain_db) / STATE_SCALE_DB
        features[3] = float(np.mean(off)) * 4.0 if off.size else 0.0
    heard = vehicles.band_interference_w
    if heard is not None:
        band_noise = context.noise_w / n
        inr = linear_to_db(np.maximum(heard[context.transmitters[0]] / band_noise, 1e-30))
        features[4 : 4 + n] = (np.maximum(inr, INR_FLOOR_DB) - INR_FLOOR_DB) / STATE_SCALE_DB
    if last is not None:
        features[4 + n :] = [
            last.regulariser_exponent / 3.0,
            last.power_exponent,
            np.log10(last.power_fraction) * 10.0 / POWER_RANGE_DB,
            last.sensing_share / SENSING_SHARE[1],
        ]
    return np.clip(features, -OBSERVATION_BOUND, OBSERVATION_BOUND).astype(np.float32)


@dataclass
class MoPolicy(Policy):
    """The policy of 001's actions: each slot ``agent(observation)`` (or the environment's
    action) is decoded into the beams, powers and bands of :class:`Decision` (module
    docstring); assignment by distance, the sensing sweep beam as every policy's."""

    agent: object | None = None
    weights: MoConfig = field(default_factory=MoConfig)

    def __post_init__(self) -> None:
        if self.assignment != "distance" or self.power_split != "equal":
            raise ValueError(
                f"learned policy '{self.name}' decides its own beams and powers; use the "
                "distance assignment and the equal power split"
            )
        super().__post_init__()
        self.num_bands = self.context.scenario.interference.num_bands
        self.observation_space = observation_space(self.num_bands)
        self.action_space = action_space(self.num_bands)
        self.last: Decision | None = None
        self._decision: Decision | None = None

    def _precoder(self) -> None:
        return None

    def observe(self, vehicles: PredictedVehicles) -> NDArray[np.float32]:
        return observe(self.context, vehicles, self.last)

    def decide(self, vehicles: PredictedVehicles, slot: int) -> BeamSet:
        return self.act(vehicles, self.agent(self.observe(vehicles)), slot)

    def act(self, vehicles: PredictedVehicles, action: NDArray, slot: int) -> BeamSet:
        """The beams of ``slot`` for ``vehicles`` under ``action``."""
        decision = Decision.decode(action)
        self._decision = self.last = decision
        self.sensing_fraction = decision.sensing_share
        beams = Policy.decide(self, vehicles, slot)
        return self._with_bands(beams, decision)

    def _communication(self, vehicles, mine, r, rows, theta, ranges, power_w):
        d = self._decision
        g = rows[r, mine]
        budget = power_w * d.power_fraction
        directions = regularised_zf(g, g.shape[0] / budget * 10.0**d.regulariser_exponent)
        strength = np.sum(np.abs(g) ** 2, axis=1) ** d.power_exponent
        share = strength / np.sum(strength)
        return directions * np.sqrt(budget * share)

    def _with_bands(self, beams: BeamSet, d: Decision) -> BeamSet:
        """``beams`` with the sensing beam's power scaled like the rest and every beam's
        bands (the sensing beam: every used band)."""
        used = np.flatnonzero(d.bands)
        masks = np.zeros((len(beams), self.num_bands), dtype=bool)
        masks[:, used] = True
        comm = np.flatnonzero(beams.kind == KIND_COMMUNICATION)
        if d.reuse and comm.size:
            for r in np.unique(beams.rsu_index[comm]):
                mine = comm[beams.rsu_index[comm] == r]
                order = mine[np.argsort(beams.target_angle_rad[mine], kind="stable")]
                masks[order] = False
                masks[order, used[np.arange(order.size) % used.size]] = True
        powers = np.where(
            beams.kind == KIND_COMMUNICATION, beams.powers_w, beams.powers_w * d.power_fraction
        )
        return BeamSet(
            beams.weights,
            powers,
            beams.rsu_index,
            beams.kind,
            beams.track_id,
            beams.target_angle_rad,
            mask_bits(masks),
        )

    def reset(self) -> None:
        """Forget the last decision (a new episode)."""
        self.last = None


def reward(parts: dict[str, float], weights: MoConfig) -> float:
    """001 eq. (18) on a slot's metrics (``ClosedLoop.isac_metrics``; module docstring)."""
    crlb = parts["crlb_angle_deg"]
    crlb_term = np.log10(crlb / weights.crlb_ref_deg) if np.isfinite(crlb) and crlb > 0 else 0.0
    interference = parts["si_inr"] + parts["mi_inr"] + parts["cli_inr"]
    return float(
        weights.w_se * parts["sum_rate_bps_hz"]
        + weights.w_ee * parts["energy_efficiency_bit_per_j"] / 1e6 / weights.ee_scale_mbit_per_j
        - weights.w_crlb * crlb_term
        - weights.w_interference * np.log2(1.0 + interference)
    )
