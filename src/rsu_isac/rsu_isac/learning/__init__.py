"""Reinforcement learning on the closed loop: the 000 MDP (mdp), 001's multi-objective MDP
(mo_mdp) and 003's hybrid AoI MDP (aoi_mdp), their gymnasium environments (env, aoi_env),
learned policies behind the policy interface (policy), agents and training (agents, train)
and shipped checkpoints (checkpoints). Above the headless loop; nothing below imports it
(the named policies are entry points, see ``beamforming.policies``)."""

from gymnasium.envs.registration import register, registry

ENV_ID = "rsu_isac/Beamforming-v0"
AOI_ENV_ID = "rsu_isac/AoiSchedule-v0"
MO_ENV_ID = "rsu_isac/MultiObjective-v0"

if ENV_ID not in registry:
    register(id=ENV_ID, entry_point="rsu_isac.learning.env:BeamformingEnv")
if MO_ENV_ID not in registry:
    register(id=MO_ENV_ID, entry_point="rsu_isac.learning.env:MultiObjectiveEnv")
if AOI_ENV_ID not in registry:
    register(id=AOI_ENV_ID, entry_point="rsu_isac.learning.aoi_env:AoiScheduleEnv")
