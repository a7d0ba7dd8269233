"""Trained agents and held-out evaluations, kept on disk under what defines them, so that
every experiment shares one training run per (scenario, power, algorithm, action, steps,
seed) and one evaluation per (policy, checkpoint, power, episodes, slots).

The folder is ``platform.store.agents_dir()``. Cells running side by side (Ray workers)
that need the same agent wait for each other on its file lock; an interrupted training
resumes (``learning.train``). Held-out episodes are the simulator seeds
EVALUATION_SEED_BASE + i, which training never draws.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rsu_isac.core.scenario import resolve_scenario
from rsu_isac.learning.env import EVALUATION_SEED_BASE, EnvConfig
from rsu_isac.learning.mdp import MdpConfig
from rsu_isac.learning.train import TrainConfig, train
from rsu_isac.loop.closed_loop import EvalConfig, run_slots, summarize
from rsu_isac.platform.paths import scenarios_dir
from rsu_isac.platform.store import agents_dir, locked

EVAL_EVERY = 10_000
EVAL_EPISODES_IN_TRAINING = 2


@dataclass(frozen=True)
class AgentKey:
    """What defines a trained agent."""

    algorithm: str
    action: str
    seed: int
    steps: int
    scenario: str = "seed000"
    max_power_dbm: float = 40.0

    def folder(self, root: Path) -> Path:
        setting = f"{self.scenario}-{self.max_power_dbm:g}dBm"
        return root / setting / f"{self.algorithm}-{self.action}-{self.steps}-seed{self.seed}"

    def command(self, folder: Path) -> str:
        """The ``rsu-isac train`` command of the same run."""
        return (
            f"rsu-isac train {self.algorithm} --action {self.action} --scenario "
            f"{self.scenario} --pmax-dbm {self.max_power_dbm:g} --steps {self.steps} --seed "
            f"{self.seed} --eval-episodes {EVAL_EPISODES_IN_TRAINING} --out {folder}"
        )


def _trained_run(config: TrainConfig, command: str) -> dict:
    """The training summary of ``config``'s run in its folder, trained (or an interrupted
    run resumed) now unless it already reached its steps; side-by-side callers wait on the
    folder's lock."""
    summary_path = config.out / "summary.json"
    with locked(config.out):
        done = (
            summary_path.is_file() and json.loads(summary_path.read_text())["steps"] >= config.steps
        )
        if not done:
            train(config, command)
        return json.loads(summary_path.read_text())


def trained(key: AgentKey, root: Path | None = None) -> tuple[Path, dict]:
    """The checkpoint folder of ``key`` (trained now if not yet) and its training summary."""
    folder = key.folder(root or agents_dir())
    env = EnvConfig(
        scenario=key.scenario, max_power_dbm=key.max_power_dbm, mdp=MdpConfig(action=key.action)
    )
    config = TrainConfig(
        algorithm=key.algorithm,
        env=env,
        steps=key.steps,
        seed=key.seed,
        out=folder,
        eval_every=EVAL_EVERY,
        eval_episodes=EVAL_EPISODES_IN_TRAINING,
        resume=True,
        progress=False,
    )
    return folder / "checkpoint", _trained_run(config, key.command(folder))


def evaluation(
    policy: str,
    checkpoint: Path | None,
    scenario: str,
    max_power_dbm: float,
    episodes: int,
    slots: int,
    root: Path | None = None,
) -> dict:
    """Held-out evaluation of ``policy`` (a learned one with ``checkpoint``) in the headless
    loop: ``summary`` (closed_loop.summarize over every slot of every episode) and the
    per-slot means over the episodes of the sum rate and the genie's sum rate."""
    root = root or agents_dir()
    folder = checkpoint.parent if checkpoint is not None else root / scenario / policy
    path = folder / f"evaluation-{max_power_dbm:g}dBm-{episodes}x{slots}.json"
    with locked(folder):
        if path.is_file():
            return json.loads(path.read_text())
        sc = resolve_scenario(scenario, scenarios_dir())
        records = []
        for i in range(episodes):
            config = EvalConfig(
                policy=policy,
                checkpoint=None if checkpoint is None else str(checkpoint),
                slots=slots,
                seed=EVALUATION_SEED_BASE + i,
                max_power_dbm=max_power_dbm,
            )
            records.append(run_slots(sc, config)[1])
        per_slot = {
            key: np.mean([[r[key] for r in episode] for episode in records], axis=0).tolist()
            for key in ("sum_rate_bps_hz", "genie_sum_rate_bps_hz")
        }
        result = {
            "summary": summarize([r for episode in records for r in episode]),
            "per_slot": per_slot,
        }
        path.write_text(json.dumps(result) + "\n")
        return result


HMOE_EPISODES = 40  # training episodes of every 003 variant (the shipped checkpoint's)
HMOE_EVALUATION_EPISODES = 2  # held-out episodes of 200 slots per (method, seed, SNR)


def _hmoe_setting(rf_snr_db: float, quick: bool) -> str:
    return f"hmoe-seed003-{rf_snr_db:g}dB" + ("-quick" if quick else "")


def trained_hmoe(
    variant: str, seed: int, rf_snr_db: float = 10.0, quick: bool = False, root: Path | None = None
) -> Path:
    """The checkpoint folder of a 003 variant (``learning.hmoe.VARIANTS``) trained on seed003
    at ``rf_snr_db`` with ``seed`` (trained now if not yet; ``quick``: one short episode)."""
    from rsu_isac.learning.aoi_env import AoiEnvConfig
    from rsu_isac.learning.aoi_mdp import AoiMdpConfig
    from rsu_isac.learning.hmoe import VARIANTS, train_variant

    episodes, slots, warmup = (1, 10, 5) if quick else (HMOE_EPISODES, 200, None)
    setting = _hmoe_setting(rf_snr_db, quick)
    folder = (root or agents_dir()) / setting / f"{variant}-{episodes}x{slots}-seed{seed}"
    with locked(folder):
        if not (folder / "checkpoint" / "manifest.json").is_file():
            env = AoiEnvConfig(
                rf_snr_db=rf_snr_db,
                episode_slots=slots,
                mdp=AoiMdpConfig(mask_aoi=VARIANTS[variant]["mask_aoi"]),
                **({} if warmup is None else {"warmup_slots": warmup}),
            )
            command = (
                f"rsu-isac train {variant} --episodes {episodes} --episode-slots {slots} "
                f"--rf-snr-db {rf_snr_db:g} --seed {seed} --out {folder}"
            )
            train_variant(variant, seed, folder, env, episodes, command)
    return folder / "checkpoint"


def hmoe_evaluation(
    method: str, rf_snr_db: float, seed: int, quick: bool = False, root: Path | None = None
) -> dict[str, list[float]]:
    """``learning.hmoe.evaluate_series`` of a 003 method - a rule schedule of
    ``learning.aoi_env.RULES`` (beams at the predicted angles) or a variant of
    ``learning.hmoe.VARIANTS`` trained at 10 dB with ``seed`` - on the held-out episodes of
    ``seed`` (simulator seeds EVALUATION_SEED_BASE + 1000 (1 + seed) + i, the same for every
    method) at ``rf_snr_db``; computed once and kept beside the agents."""
    from rsu_isac.learning.aoi_env import RULES, AoiEnvConfig
    from rsu_isac.learning.hmoe import VARIANTS, SteeringAgent, evaluate_series, load_variant

    if method not in (*RULES, *VARIANTS):
        raise ValueError(f"unknown method '{method}'; valid: {', '.join((*RULES, *VARIANTS))}")
    slots, warmup, episodes = (10, 5, 1) if quick else (200, None, HMOE_EVALUATION_EPISODES)
    root = root or agents_dir()
    folder = root / _hmoe_setting(10.0, quick) / "evaluations" / f"{method}-seed{seed}"
    path = folder / f"{rf_snr_db:g}dB-{episodes}x{slots}.json"
    with locked(folder):
        if path.is_file():
            return json.loads(path.read_text())
        env = AoiEnvConfig(
            rf_snr_db=rf_snr_db,
            episode_slots=slots,
            schedule=method if method in RULES else "agent",
            **({} if warmup is None else {"warmup_slots": warmup}),
        )
        if method in VARIANTS:
            agent = load_variant(trained_hmoe(method, seed, quick=quick, root=root))
        else:
            scenario = resolve_scenario(env.scenario, scenarios_dir())
            agent = SteeringAgent(scenario.radio.array.num_tx_antennas)
        seeds = [EVALUATION_SEED_BASE + 1000 * (1 + seed) + i for i in range(episodes)]
        series = {"episode_seeds": seeds, **evaluate_series(agent, env, seeds)}
        path.write_text(json.dumps(series) + "\n")
        return series


BILSTM_SEEDS = (0, 1, 2)  # training seeds of 004's Bi-LSTM (one labelled set serves all)


def bilstm_config(seed: int, quick: bool = False):
    """``learning.bilstm.BilstmConfig`` of the Bi-LSTM trained with ``seed`` on seed004 (the
    shipped checkpoint's settings; ``quick``: a few K = 4 snapshots, two epochs)."""
    from rsu_isac.learning.bilstm import BilstmConfig

    if quick:
        return BilstmConfig(samples=8, validation=4, epochs=2, vehicles=(4,), seed=seed)
    return BilstmConfig(samples=1000, validation=250, epochs=100, seed=seed)


def trained_bilstm(seed: int, quick: bool = False, root: Path | None = None) -> Path:
    """The checkpoint folder of 004's Bi-LSTM of :func:`bilstm_config` (trained now if not
    yet; the labelled snapshots kept once for every seed beside it)."""
    from rsu_isac.learning.bilstm import dataset as labelled
    from rsu_isac.learning.bilstm import train

    config = bilstm_config(seed, quick)
    setting = (root or agents_dir()) / ("bilstm-seed004" + ("-quick" if quick else ""))
    dataset = setting / f"dataset-{config.samples}-data{config.data_seed}.npz"
    folder = setting / f"bilstm-{config.samples}x{config.epochs}-seed{seed}"
    with locked(folder):
        if not (folder / "checkpoint" / "manifest.json").is_file():
            with locked(setting):  # one process labels, the others wait and read the file
                labelled(config, dataset)
            command = (
                f"rsu-isac train bilstm --samples {config.samples} --epochs {config.epochs} "
                f"--seed {seed} --dataset {dataset} --out {folder}"
            )
            train(config, folder, command, dataset)
    return folder / "checkpoint"


ISAC_DL_SEEDS = (0, 1, 2)  # training seeds of 002's DL beamformer


def trained_isac_dl(seed: int, root: Path | None = None) -> Path:
    """The checkpoint folder of 002's DL beamformer trained with ``seed`` (trained now if not
    yet: 4,000 labelled placements, 60 epochs, as the shipped one)."""
    from rsu_isac.learning.isac_dl import IsacDlConfig, train

    samples, epochs = 4000, 60
    config = IsacDlConfig(samples=samples, validation=samples // 8, epochs=epochs, seed=seed)
    folder = (root or agents_dir()) / f"isac_dl-{samples}x{epochs}-seed{seed}"
    with locked(folder):
        if not (folder / "manifest.json").is_file():
            command = (
                f"rsu-isac train isac_dl --samples {samples} --epochs {epochs} --seed {seed} "
                f"--out {folder}"
            )
            train(config, folder, command)
    return folder


DDPG_MO_SEEDS = (0, 1, 2)  # training seeds of 001's agent per scenario
DDPG_MO_STEPS = 12_000  # 60 episodes of 200 slots (the shipped checkpoints')
DDPG_MO_QUICK_STEPS = 20  # quick: random exploration only, to exercise the pipeline


def trained_ddpg_mo(scenario: str, seed: int, quick: bool = False, root: Path | None = None):
    """The checkpoint folder of 001's ``ddpg_mo`` agent trained on ``scenario`` with ``seed``
    (trained now if not yet; two held-out episodes at the end)."""
    from rsu_isac.learning.env import MoEnvConfig

    steps = DDPG_MO_QUICK_STEPS if quick else DDPG_MO_STEPS
    episode = 10 if quick else MoEnvConfig.episode_slots
    folder = (root or agents_dir()) / f"ddpg_mo-{scenario}" / f"ddpg_mo-{steps}-seed{seed}"
    config = TrainConfig(
        algorithm="ddpg_mo",
        env=MoEnvConfig(scenario=scenario, episode_slots=episode),
        steps=steps,
        seed=seed,
        out=folder,
        eval_every=max(EVAL_EVERY, steps),
        eval_episodes=1 if quick else EVAL_EPISODES_IN_TRAINING,
        resume=True,
        progress=False,
    )
    command = (
        f"rsu-isac train ddpg_mo --scenario {scenario} --steps {steps} --seed {seed} "
        f"--episode-slots {episode} --eval-every {config.eval_every} "
        f"--eval-episodes {config.eval_episodes} --out {folder}"
    )
    _trained_run(config, command)
    return folder / "checkpoint"
