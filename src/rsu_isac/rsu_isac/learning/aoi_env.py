"""gymnasium environment of 003's hybrid MDP (``learning.aoi_mdp``) on the headless closed
loop with the camera in it.

Every step runs the same :class:`~rsu_isac.loop.closed_loop.ClosedLoop` as ``rsu-isac eval
--aoi-policy ...``: the action's camera decisions become the AoI scheduler's schedule for the
next slot (the scheduler's temporal-expert slot, ``lstm``; its periodic whole-road scans for
vehicles no track covers stay, as for every camera schedule), its phases become the
constant-modulus beams of the camera RSU's tracks (a vehicle without a row gets the
constant-modulus beam at its predicted angle), the road advances one slot, the camera runs
on the schedule, the radar and camera fixes are tracked and the reward (eq. (11)) is read
off the slot. ``info["channel"]`` holds, per row of the previous observation, the unit true
channel row of the vehicle the track followed (zeros with ``info["channel_mask"]`` 0 where
none is within MATCH_DISTANCE_M): the physics loss of the spatial expert (eq. (13)) needs it
in training; no policy sees it when it decides.

Default setting: seed003 (003's K = 4 vehicles, M = 64, 28 GHz) at RF SNR 10 dB (Fig. 3),
measurement-level radar, episodes of 200 slots after a warm-up of 150 slots (radar only,
beams at the predicted angles) in which the camera's background model fills.
``reset(seed=s)`` seeds the episode seeds; ``options={"episode_seed": e}`` runs the
simulator with seed ``e`` (held-out evaluation from ``learning.env.EVALUATION_SEED_BASE`` on).

Registered as ``rsu_isac/AoiSchedule-v0``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import ClassVar

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from rsu_isac.beamforming.context import PredictedVehicles, RadioContext
from rsu_isac.beamforming.policies import Policy
from rsu_isac.core.aoi import sweep_energy_j
from rsu_isac.core.array import steering_vector
from rsu_isac.core.geometry import to_polar
from rsu_isac.core.scenario import Scenario, resolve_scenario
from rsu_isac.core.tracker import TENTATIVE
from rsu_isac.learning.aoi_mdp import (
    AoiMdpConfig,
    HybridAction,
    action_space,
    constant_modulus_beam,
    decode,
    observation_space,
    reward,
)
from rsu_isac.learning.env import EVALUATION_SEED_BASE, with_mdp
from rsu_isac.loop.closed_loop import ClosedLoop, EvalConfig, Sensed, scenario_as_run
from rsu_isac.perception.camera_detector import DetectorConfig
from rsu_isac.platform.paths import scenarios_dir
from rsu_isac.scheduling.lstm_expert import feature_rows
from rsu_isac.scheduling.scheduler import TrackAoiInputs

MATCH_DISTANCE_M = 5.0  # a track's predicted position to the vehicle it follows
RULES = ("radar_only", "vision_only", "threshold")  # rule schedules the environment can run


@dataclass(frozen=True)
class AoiEnvConfig:
    scenario: str = "seed003"
    rf_snr_db: float | None = 10.0  # None: the scenario's sensing noise
    abstraction: str = "measurement"
    episode_slots: int = 200
    # slots run before the first observation, radar only with beams at the predicted
    # angles: the camera's background window fills (before, it detects nothing; the
    # aoi-energy experiment leaves the same slots out of its averages)
    warmup_slots: int = DetectorConfig().warmup_frames
    # "agent": the action schedules the camera; a rule of scheduling.scheduler (radar_only,
    # vision_only, threshold): the rule does and the action's camera column is ignored
    schedule: str = "agent"
    mdp: AoiMdpConfig = field(default_factory=AoiMdpConfig)

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(values: dict) -> AoiEnvConfig:
        return with_mdp(AoiEnvConfig, AoiMdpConfig, values)


class ActionSchedule:
    """The AoI scheduler's temporal expert during a step: the action's camera decisions."""

    def __init__(self) -> None:
        self.action: HybridAction | None = None

    def schedule(self, track_id, aoi_slots, beta, misalignment, coasting) -> NDArray[np.bool_]:
        if self.action is None:
            return np.zeros(len(track_id), dtype=bool)
        return self.action.schedule_of(track_id)


PhaseSource = Callable[[int, float], "NDArray | None"]  # (track id, predicted angle) -> Phi


@dataclass
class PhasePolicy(Policy):
    """Constant-modulus beams (eq. (10)) with the phases ``phase_source`` gives each served
    track (none: the constant-modulus beam at its predicted angle), an equal share of the
    power each; the distance assignment and the sensing sweep as every policy. The
    environment's source is the action, the ``hmoe`` policy's the spatial expert."""

    phase_source: PhaseSource | None = None

    def _precoder(self) -> None:
        return None

    def _communication(self, vehicles: PredictedVehicles, mine, r, rows, theta, ranges, power_w):
        n = self.context.num_antennas
        beams = np.empty((n, len(mine)), complex)
        for column, k in enumerate(mine.tolist()):
            source = self.phase_source
            phases = None if source is None else source(int(vehicles.track_id[k]), theta[r, k])
            if phases is None:
                phases = np.angle(steering_vector(theta[r, k], n))
            beams[:, column] = constant_modulus_beam(phases)
        return beams * np.sqrt(power_w / max(len(mine), 1))


class AoiScheduleEnv(gym.Env):
    """003's MDP on the closed loop (module docstring)."""

    metadata: ClassVar[dict] = {"render_modes": []}

    def __init__(self, config: AoiEnvConfig | None = None, **overrides) -> None:
        config = AoiEnvConfig.from_dict({**(config or AoiEnvConfig()).to_dict(), **overrides})
        self.config = config
        self.mdp = config.mdp
        self.scenario: Scenario = resolve_scenario(config.scenario, scenarios_dir())
        if config.schedule not in ("agent", *RULES):
            raise ValueError(
                f"unknown schedule '{config.schedule}'; valid: agent, {', '.join(RULES)}"
            )
        self.eval_config = EvalConfig(
            seed=0,
            abstraction=config.abstraction,
            rf_snr_db=config.rf_snr_db,
            aoi_policy="lstm" if config.schedule == "agent" else config.schedule,
            genie=False,
        )
        self.run_scenario = scenario_as_run(self.scenario, self.eval_config)
        num_antennas = self.run_scenario.radio.array.num_tx_antennas
        self.policy = PhasePolicy("hmoe_env", RadioContext(self.run_scenario))
        self.expert = ActionSchedule()
        self.observation_space = observation_space(self.mdp)
        self.action_space = action_space(self.mdp, num_antennas)
        self._loop: ClosedLoop | None = None
        self._sensed: Sensed | None = None
        self._history: dict[int, deque[NDArray]] = {}
        self._rows = np.zeros(0, np.int64)  # track ids of the observation's rows
        self._rows_xy = np.zeros((0, 2))  # their one-slot predicted positions
        self._rows_angle = np.zeros(0)  # and angles from the camera RSU [rad]
        self._steps = 0

    def _tracks(self) -> TrackAoiInputs:
        """The camera RSU's non-tentative tracks (the AoI scheduler's)."""
        loop = self._loop
        view = self._sensed.views[list(loop.trackers).index(loop.camera_rsu)]
        return TrackAoiInputs.from_view(view, view.status != TENTATIVE)

    def _observe(self) -> tuple[dict[str, NDArray], float]:
        """The observation and L_BMP (mean P_misa over every live track)."""
        tracks = self._tracks()
        aoi, beta, p_misa = self._loop.scheduler.state(tracks)
        rows = feature_rows(
            aoi,
            beta,
            p_misa,
            tracks.coasting_slots,
            self.run_scenario.aoi.max_aoi_slots,
            self.mdp.mask_aoi,
        )
        k, t = self.mdp.max_tracks, self.mdp.sequence_length
        live = {int(i) for i in tracks.track_id}
        self._history = {i: h for i, h in self._history.items() if i in live}
        for i, row in zip(tracks.track_id.tolist(), rows, strict=True):
            self._history.setdefault(i, deque(maxlen=t)).append(row)
        order = np.argsort(tracks.track_id, kind="stable")[:k]
        rsu_xy = self.run_scenario.rsus[self._loop.camera_rsu].position_m
        predicted = to_polar(rsu_xy, tracks.look_at_xy, np.zeros_like(tracks.look_at_xy))
        history = np.zeros((k, t, rows.shape[1]), np.float32)
        angle = np.zeros((k, 2), np.float32)
        mask = np.zeros(k, np.float32)
        for row, j in enumerate(order.tolist()):
            past = list(self._history[int(tracks.track_id[j])])
            history[row] = np.stack([past[0]] * (t - len(past)) + past)
            angle[row] = np.cos(predicted.theta_rad[j]), np.sin(predicted.theta_rad[j])
            mask[row] = 1.0
        self._rows = tracks.track_id[order]
        self._rows_xy = tracks.look_at_xy[order]
        self._rows_angle = predicted.theta_rad[order]
        mean_misalignment = float(p_misa.mean()) if p_misa.size else 0.0
        return {"history": history, "angle": angle, "mask": mask}, mean_misalignment

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        options = options or {}
        episode_seed = int(
            options.get("episode_seed", self.np_random.integers(0, EVALUATION_SEED_BASE))
        )
        self.close()
        self._history = {}
        self.expert.action = self.policy.phase_source = None
        self._loop = ClosedLoop(
            self.scenario,
            replace(self.eval_config, seed=episode_seed),
            policy=self.policy,
            expert=self.expert if self.config.schedule == "agent" else None,
        )
        self._sensed = self._loop.sense()
        for _ in range(self.config.warmup_slots):
            beams = self.policy.decide(self._sensed.predicted, self._sensed.out.slot + 1)
            self._loop.act(self._sensed, beams)
            self._sensed = self._loop.sense()
        observation, _ = self._observe()
        self._steps = 0
        return observation, {"episode_seed": episode_seed}

    def step(self, action):
        if self._loop is None:
            raise RuntimeError("call reset() before step()")
        hybrid = decode(action, self._rows)
        self.expert.action = hybrid
        self.policy.phase_source = lambda track, _theta: hybrid.phases_of(track)
        rows, rows_xy, rows_angle = self._rows, self._rows_xy, self._rows_angle
        beams = self.policy.decide(self._sensed.predicted, self._sensed.out.slot + 1)
        self._loop.act(self._sensed, beams)
        schedule = self._loop.schedule
        self._sensed = self._loop.sense()
        out = self._sensed.out
        observation, mean_misalignment = self._observe()
        value, info = reward(
            self._sensed.camera_energy_j,
            sweep_energy_j(out.link.misaligned, self.run_scenario.aoi.recovery_energy_j),
            mean_misalignment,
            self.run_scenario.aoi.max_misalignment,
            self.mdp,
        )
        channel, matched, angle_error = self._truth(rows_xy, rows_angle)
        info.update(
            channel=channel,
            channel_mask=matched,
            angle_error_deg=angle_error,
            track_id=rows,
            # the share of the tracks the camera refreshed (whoever scheduled it)
            camera_share=float(schedule.scheduled.mean()) if schedule.scheduled.size else 0.0,
        )
        self._steps += 1
        truncated = self._steps >= self.config.episode_slots
        return observation, float(value), False, truncated, info

    def _truth(self, predicted_xy: NDArray, predicted_angle: NDArray) -> tuple[NDArray, ...]:
        """Per row of the previous observation: the unit true channel row (K_max, M) of the
        vehicle nearest its predicted position (within MATCH_DISTANCE_M), whether it found
        one, and the mean absolute error [deg] of the matched rows' predicted angles (the
        beams' look angles) against those vehicles' true angles from the camera RSU (NaN
        when no row matched): 003's sensing MAE (Fig. 4)."""
        k, m = self.mdp.max_tracks, self.run_scenario.radio.array.num_tx_antennas
        channel = np.zeros((k, m), np.complex64)
        matched = np.zeros(k, np.float32)
        vehicles = self._sensed.out.vehicles.position_xy
        if not len(predicted_xy) or not len(vehicles):
            return channel, matched, np.nan
        distance = np.linalg.norm(predicted_xy[:, None, :] - vehicles[None, :, :], axis=-1)
        nearest = np.argmin(distance, axis=1)
        close = distance[np.arange(len(nearest)), nearest] <= MATCH_DISTANCE_M
        rows = self._loop.sim.true_rows[self._loop.camera_rsu]  # the camera RSU's (K, M)
        chosen = rows[nearest[close]]
        channel[: len(close)][close] = chosen / np.linalg.norm(chosen, axis=1, keepdims=True)
        matched[: len(close)][close] = 1.0
        if not close.any():
            return channel, matched, np.nan
        rsu_xy = self.run_scenario.rsus[self._loop.camera_rsu].position_m
        true_xy = vehicles[nearest[close]]
        truth = to_polar(rsu_xy, true_xy, np.zeros_like(true_xy)).theta_rad
        error = np.angle(np.exp(1j * (predicted_angle[close] - truth)))
        return channel, matched, float(np.degrees(np.abs(error)).mean())

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()
            self._loop = None
