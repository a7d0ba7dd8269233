"""Checkpoints of learned policies: a folder with ``policy.pt`` (the network's state dict)
and ``manifest.json`` (algorithm, environment, spaces, network settings, and how it was
trained: command, seed, steps, wall time, final evaluation).

The named policies load ``checkpoints/<algorithm>/`` of this package by default (seed 0 of
the five training seeds, fixed before training: never the best seed; 001's ``ddpg_mo``
one per scenario, ``checkpoints/ddpg_mo/<scenario>/``, seed 0 of three); ``--checkpoint`` /
the node parameter ``checkpoint`` takes another folder. Loading refuses, with a message
that says what differs, a checkpoint of another algorithm, scenario or shape; tensors are
read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rsu_isac.core.scenario import Scenario
from rsu_isac.learning.agents import MO_ALGORITHMS, inference_policy
from rsu_isac.learning.mdp import MdpConfig, action_space, observation_space
from rsu_isac.learning.mo_mdp import MoConfig
from rsu_isac.learning.mo_mdp import action_space as mo_action_space
from rsu_isac.learning.mo_mdp import observation_space as mo_observation_space

SHIPPED = Path(__file__).parent / "checkpoints"
POLICY_FILE = "policy.pt"
MANIFEST_FILE = "manifest.json"


def export(model, algorithm: str, env_config, folder: Path, training: dict[str, Any]) -> Path:
    """Write ``model``'s network and its manifest into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(model.policy.state_dict(), folder / POLICY_FILE)
    manifest = {
        "algorithm": algorithm,
        "env": env_config.to_dict(),
        "observation_shape": list(model.observation_space.shape),
        "action_space": _describe(model.action_space),
        "policy_kwargs": _plain(model.policy_kwargs),
        "training": training,
    }
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    return folder


def _describe(space) -> dict[str, Any]:
    if hasattr(space, "n"):
        return {"type": "discrete", "n": int(space.n)}
    return {"type": "box", "shape": list(space.shape)}


def _plain(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The JSON-able network settings (net_arch, log_std_init, n_critics)."""
    keep = ("net_arch", "log_std_init", "n_critics")
    return {k: v for k, v in kwargs.items() if k in keep}


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise ValueError(f"no checkpoint at {folder} (no {MANIFEST_FILE})")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"checkpoint manifest {path} is not JSON: {exc}") from exc


def shipped(algorithm: str, scenario: Scenario) -> Path:
    """The checkpoint ``algorithm`` ships for ``scenario``: ``checkpoints/<algorithm>/`` (000's
    agents, trained on seed000), ``checkpoints/<algorithm>/<scenario>/`` for 001's, which
    ship one per 001 scenario; a ValueError names the scenarios there are."""
    if algorithm not in MO_ALGORITHMS:
        return SHIPPED / algorithm
    folder = SHIPPED / algorithm / scenario.name
    if not folder.is_dir():
        there = sorted(p.name for p in (SHIPPED / algorithm).glob("*") if p.is_dir())
        raise ValueError(
            f"'{algorithm}' ships no checkpoint for scenario '{scenario.name}' (it has "
            f"{', '.join(there) or 'none'}); train one with rsu-isac train {algorithm} "
            f"--scenario {scenario.name} and pass --checkpoint"
        )
    return folder


def load_network(algorithm: str, checkpoint: str | None, scenario: Scenario):
    """(MdpConfig or 001's MoConfig, SB3 policy network in eval mode) of ``algorithm``'s
    checkpoint for a run of ``scenario``; a ValueError says what does not fit."""
    folder = Path(checkpoint) if checkpoint else shipped(algorithm, scenario)
    manifest = read_manifest(folder)
    where = f"checkpoint {folder}"
    if manifest.get("algorithm") != algorithm:
        raise ValueError(f"{where} is a '{manifest.get('algorithm')}' agent, not '{algorithm}'")
    env = manifest["env"]
    if env["scenario"] != scenario.name:
        raise ValueError(
            f"{where} was trained on scenario '{env['scenario']}'; this run is '{scenario.name}'"
        )
    if algorithm in MO_ALGORITHMS:
        mdp = MoConfig(**env["mdp"])
        bands = scenario.interference.num_bands
        obs_space, act_space = mo_observation_space(bands), mo_action_space(bands)
    else:
        mdp = MdpConfig(**env["mdp"])
        obs_space = observation_space(mdp)
        act_space = action_space(mdp, scenario.radio.array.num_tx_antennas)
    expected = (list(obs_space.shape), _describe(act_space))
    found = (manifest["observation_shape"], manifest["action_space"])
    if expected != found:
        raise ValueError(
            f"{where} has observation {found[0]} and action {found[1]}; scenario "
            f"'{scenario.name}' needs observation {expected[0]} and action {expected[1]}"
        )
    policy = inference_policy(algorithm, obs_space, act_space, manifest["policy_kwargs"])
    try:
        state = torch.load(folder / POLICY_FILE, map_location="cpu", weights_only=True)
        policy.load_state_dict(state)
    except (OSError, RuntimeError, KeyError, ValueError, pickle.UnpicklingError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"{where}: {POLICY_FILE} does not fit its manifest: {first}") from exc
    return mdp, policy


def load_agent(algorithm: str, checkpoint: str | None, scenario: Scenario):
    """(MdpConfig, agent: observation -> deterministic action) of ``algorithm``'s
    checkpoint for a run of ``scenario`` (see :func:`load_network`)."""
    mdp, policy = load_network(algorithm, checkpoint, scenario)

    def agent(observation: np.ndarray):
        with torch.no_grad():
            return policy.predict(observation, deterministic=True)[0]

    return mdp, agent
