"""gymnasium environment of the 000 MDP (``learning.mdp``) on the headless closed loop.

Every step runs the same :class:`~rsu_isac.loop.closed_loop.ClosedLoop` as ``rsu-isac
eval``: the action's beams are applied, the road advances one slot and scores them on the
true channel (the reward), the radar echoes are tracked, and the next observation is built
from the tracker's predictions. The genie is off.

Episodes: ``episode_slots`` slots (default the scenario's ``horizon_slots``: N = 100 for
seed000 as in 000 Sec. IV-A, vehicles entering from their start positions; the highway
scenarios' Poisson traffic flows on), ended by truncation. ``reset(seed=s)`` seeds the
environment's generator; every episode's simulator seed is drawn from it, so the same seed
gives the same episodes. ``options={"episode_seed": e}`` runs the simulator with seed ``e``
directly (held-out evaluation).

Registered as ``rsu_isac/Beamforming-v0`` (``gymnasium.make("rsu_isac/Beamforming-v0",
scenario="seed004", mdp=MdpConfig(max_vehicles=8))`` after ``import rsu_isac.learning``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import ClassVar

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray

from rsu_isac.beamforming.context import RadioContext
from rsu_isac.core.beams import BeamSet
from rsu_isac.core.scenario import Scenario, resolve_scenario
from rsu_isac.learning.mdp import MdpConfig, Observed, action_space, observation_space, reward
from rsu_isac.learning.mo_mdp import MoConfig, MoPolicy
from rsu_isac.learning.mo_mdp import reward as mo_reward
from rsu_isac.learning.policy import ActionPolicy
from rsu_isac.loop.closed_loop import (
    ClosedLoop,
    EvalConfig,
    Sensed,
    scenario_as_run,
    truth_vehicles,
)
from rsu_isac.platform.paths import scenarios_dir
from rsu_isac.sim.world import SlotOutput

MAX_EPISODE_SEED = 2**31 - 1
EVALUATION_SEED_BASE = 1_000_000  # held-out episodes use simulator seeds from here on


def with_mdp(config_class: type, mdp_class: type, values: dict):
    """``config_class(**values)`` whose ``mdp`` entry may be a dict or an ``mdp_class``."""
    mdp = values.get("mdp", {})
    return config_class(
        **{**values, "mdp": mdp if isinstance(mdp, mdp_class) else mdp_class(**mdp)}
    )


@dataclass(frozen=True)
class EnvConfig:
    """One environment: scenario, power budget, sensor abstraction, MDP and episode length."""

    scenario: str = "seed000"
    max_power_dbm: float | None = 40.0  # None: the scenario's; 000 Fig. 3a trains at 40 dBm
    abstraction: str = "measurement"
    episode_slots: int | None = None  # None: the scenario's horizon_slots
    mdp: MdpConfig = field(default_factory=MdpConfig)

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(values: dict) -> EnvConfig:
        """The config of :meth:`to_dict`'s form; ``mdp`` a dict or an MdpConfig."""
        return with_mdp(EnvConfig, MdpConfig, values)

    def load_scenario(self) -> Scenario:
        return resolve_scenario(self.scenario, scenarios_dir())


class BeamformingEnv(gym.Env):
    """The 000 MDP on the closed loop (module docstring)."""

    metadata: ClassVar[dict] = {"render_modes": []}

    config_class: ClassVar[type] = EnvConfig

    def __init__(self, config: EnvConfig | None = None, **overrides) -> None:
        cls = self.config_class
        config = cls.from_dict({**(config or cls()).to_dict(), **overrides})
        self.config = config
        self.scenario = config.load_scenario()
        self.eval_config = EvalConfig(
            seed=0,
            abstraction=config.abstraction,
            max_power_dbm=config.max_power_dbm,
            genie=False,
        )
        self.run_scenario = scenario_as_run(self.scenario, self.eval_config)
        self._build_policy()
        self.episode_slots = config.episode_slots or self.scenario.horizon_slots
        self._loop: ClosedLoop | None = None
        self._sensed: Sensed | None = None
        self._observed: Observed | None = None
        self._steps = 0

    def _build_policy(self) -> None:
        """The policy that carries out the actions, and the spaces."""
        config = self.config
        self.policy = ActionPolicy("env", RadioContext(self.run_scenario), mdp=config.mdp)
        self.observation_space = observation_space(config.mdp)
        self.action_space = action_space(config.mdp, self.run_scenario.radio.array.num_tx_antennas)

    def _observe(self) -> Observed:
        sensed = self._sensed
        vehicles = (
            truth_vehicles(sensed.out.vehicles) if self.config.mdp.true_state else sensed.predicted
        )
        return self.policy.observe(vehicles)

    def _observation(self) -> NDArray[np.float32]:
        return self._observed.observation

    def _act(self, action) -> BeamSet:
        return self.policy.act(self._observed, action, self._sensed.out.slot + 1)

    def _reward(self, out: SlotOutput, beams: BeamSet) -> tuple[float, dict[str, float]]:
        return reward(self.run_scenario, out.link, out.vehicles, beams, self.config.mdp)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        options = options or {}
        episode_seed = int(
            options.get("episode_seed", self.np_random.integers(0, EVALUATION_SEED_BASE))
        )
        self.close()
        self.policy.reset()
        self._loop = ClosedLoop(
            self.scenario, replace(self.eval_config, seed=episode_seed), policy=self.policy
        )
        self._sensed = self._loop.sense()
        self._observed = self._observe()
        self._steps = 0
        return self._observation(), {"episode_seed": episode_seed}

    def step(self, action):
        if self._loop is None:
            raise RuntimeError("call reset() before step()")
        beams = self._act(action)
        self._loop.act(self._sensed, beams)
        self._sensed = self._loop.sense()
        value, parts = self._reward(self._sensed.out, beams)
        self._observed = self._observe()
        self._steps += 1
        truncated = self._steps >= self.episode_slots
        return self._observation(), float(value), False, truncated, parts

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()
            self._loop = None


@dataclass(frozen=True)
class MoEnvConfig(EnvConfig):
    """One environment of 001's multi-objective MDP (``learning.mo_mdp``): its scenario
    (one of 001's by default), power budget (None: the scenario's), episode length and
    reward weights."""

    scenario: str = "urban"
    max_power_dbm: float | None = None
    episode_slots: int | None = 200
    mdp: MoConfig = field(default_factory=MoConfig)

    @staticmethod
    def from_dict(values: dict) -> MoEnvConfig:
        return with_mdp(MoEnvConfig, MoConfig, values)


class MultiObjectiveEnv(BeamformingEnv):
    """001's MDP (``learning.mo_mdp``) on the closed loop: the same loop, episodes and
    held-out seeds as :class:`BeamformingEnv`; the observation, action and reward of 001."""

    config_class = MoEnvConfig

    def _build_policy(self) -> None:
        self.policy = MoPolicy("env", RadioContext(self.run_scenario), weights=self.config.mdp)
        self.observation_space = self.policy.observation_space
        self.action_space = self.policy.action_space

    def _observe(self) -> NDArray[np.float32]:
        return self.policy.observe(self._sensed.predicted)

    def _observation(self) -> NDArray[np.float32]:
        return self._observed

    def _act(self, action) -> BeamSet:
        return self.policy.act(self._sensed.predicted, action, self._sensed.out.slot + 1)

    def _reward(self, out: SlotOutput, beams: BeamSet) -> tuple[float, dict[str, float]]:
        parts = self._loop.isac_metrics(out, beams)
        return mo_reward(parts, self.config.mdp), {**parts, "feasible": 1.0}


def environment(config: EnvConfig) -> BeamformingEnv:
    """The environment of ``config``: 001's for a :class:`MoEnvConfig`, else 000's."""
    return (MultiObjectiveEnv if isinstance(config, MoEnvConfig) else BeamformingEnv)(config)
