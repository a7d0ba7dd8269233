"""Learned policies behind the policy interface of ``beamforming.policies``.

:class:`ActionPolicy` turns an action of the MDP (``learning.mdp``) into the BeamSet of the
next slot through the same machinery as the optimisation policies (RSU assignment by
distance, the sensing sweep beam); its ``agent`` maps an observation to an action. The RL
environment gives it the agent's action of the step; a named learned policy gives it a
trained network (``learning.checkpoints``) or, for ``random``, a seeded uniform draw.

The named policies are found by ``create_policy`` through the ``rsu_isac.policies`` entry
points (setup.py), so the headless loop, ``rsu-isac eval/sim``, ``policy:=`` and the
``beamforming_policy`` node take them without importing this layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from rsu_isac.beamforming.context import PredictedVehicles, RadioContext
from rsu_isac.beamforming.policies import Policy
from rsu_isac.core.beams import BeamSet
from rsu_isac.learning.mdp import Decoded, MdpConfig, Observed, action_space, decode, observe

Agent = Callable[[NDArray[np.float32]], NDArray | int]


@dataclass
class ActionPolicy(Policy):
    """A policy whose vehicle beams come from an MDP action (``agent(observation)``)."""

    mdp: MdpConfig = field(default_factory=MdpConfig)
    agent: Agent | None = None

    def __post_init__(self) -> None:
        if self.assignment != "distance":
            raise ValueError(
                f"learned policy '{self.name}' serves each vehicle from its nearest RSU; "
                f"assignment '{self.assignment}' needs a precoder (use distance)"
            )
        if self.power_split != "equal":
            raise ValueError(
                f"learned policy '{self.name}' decides its own powers; power_split "
                f"'{self.power_split}' does not apply (use equal)"
            )
        super().__post_init__()
        self.last_beams = BeamSet.empty(self.context.num_antennas)
        self._decoded: Decoded | None = None

    def _precoder(self) -> None:
        return None

    def observe(self, vehicles: PredictedVehicles) -> Observed:
        """The MDP state of ``vehicles`` after the beams this policy last decided."""
        return observe(self.context, vehicles, self.last_beams, self.mdp)

    def act(self, observed: Observed, action: NDArray | int, slot: int) -> BeamSet:
        """The beams of ``slot`` for the observed vehicles under ``action``."""
        self._decoded = decode(action, observed, self.mdp, self.context.num_antennas)
        self.last_beams = Policy.decide(self, observed.vehicles, slot)
        return self.last_beams

    def decide(self, vehicles: PredictedVehicles, slot: int) -> BeamSet:
        observed = self.observe(vehicles)
        return self.act(observed, self.agent(observed.observation), slot)

    def _communication(self, vehicles, mine, r, rows, theta, ranges, power_w):
        return self._decoded.weights(mine, power_w)

    def reset(self) -> None:
        """Forget the last beams (a new episode)."""
        self.last_beams = BeamSet.empty(self.context.num_antennas)


def random_agent(mdp: MdpConfig, num_antennas: int, seed: int = 0) -> Agent:
    """Uniform actions from the action space, drawn from a generator seeded with ``seed``."""
    space = action_space(mdp, num_antennas)
    space.seed(seed)
    return lambda observation: space.sample()


def random_policy(context: RadioContext, checkpoint: str | None = None, **options) -> Policy:
    """The ``random`` baseline of 000 on the compact action (seed 0); no checkpoint."""
    if checkpoint:
        raise ValueError("policy 'random' is not trained: it takes no checkpoint")
    mdp = MdpConfig()
    return ActionPolicy(
        "random", context, mdp=mdp, agent=random_agent(mdp, context.num_antennas), **options
    )


def _learned(algorithm: str) -> Callable[..., Policy]:
    def factory(context: RadioContext, checkpoint: str | None = None, **options) -> Policy:
        from rsu_isac.learning.checkpoints import load_agent

        mdp, agent = load_agent(algorithm, checkpoint, context.scenario)
        return ActionPolicy(algorithm, context, mdp=mdp, agent=agent, **options)

    factory.__name__ = f"{algorithm}_policy"
    factory.__doc__ = f"The trained ``{algorithm}`` policy (its shipped checkpoint by default)."
    return factory


spiking_ac_policy = _learned("spiking_ac")
ppo_policy = _learned("ppo")
ddpg_policy = _learned("ddpg")
dqn_policy = _learned("dqn")


def ddpg_mo_policy(context: RadioContext, checkpoint: str | None = None, **options) -> Policy:
    """001's trained DDPG agent (``learning.mo_mdp``; the scenario's shipped checkpoint by
    default)."""
    from rsu_isac.learning.checkpoints import load_agent
    from rsu_isac.learning.mo_mdp import MoPolicy

    weights, agent = load_agent("ddpg_mo", checkpoint, context.scenario)
    return MoPolicy("ddpg_mo", context, agent=agent, weights=weights, **options)
