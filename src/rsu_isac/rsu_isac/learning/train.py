"""Training an agent on the closed-loop environment (``rsu-isac train``).

Into its output folder a run writes ``progress.csv`` and TensorBoard events (SB3's logger),
``evaluations.csv`` (every ``eval_every`` steps: the deterministic policy on
``eval_episodes`` held-out episodes, simulator seeds EVALUATION_SEED_BASE + i, which
training never draws), ``model.zip`` (+ ``replay_buffer.pkl`` for DDPG and DQN) to resume
with ``--resume``, ``checkpoint/`` (policy.pt + manifest.json, what the named policy loads)
and ``summary.json`` (with, for a spiking agent, the spike rate of each hidden layer over
training's forward passes). A run stopped by Ctrl-C or an error keeps what it has
written.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import configure
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv
from tqdm import tqdm

from rsu_isac.learning.agents import ALGORITHMS, build, load_trainer
from rsu_isac.learning.checkpoints import export
from rsu_isac.learning.env import EVALUATION_SEED_BASE, EnvConfig, environment

MODEL_FILE = "model.zip"
BUFFER_FILE = "replay_buffer.pkl"
EVALUATION_FIELDS = ("steps", "wall_s", "mean_return", "sum_rate_bps_hz", "feasible_share")


@dataclass(frozen=True)
class TrainConfig:
    algorithm: str
    env: EnvConfig
    steps: int
    seed: int
    out: Path
    eval_every: int = 10_000
    eval_episodes: int = 5
    resume: bool = False
    progress: bool = True


def evaluate_agent(agent, env_config: EnvConfig, episodes: int) -> dict[str, float]:
    """Mean return, sum rate and share of slots meeting (17a)-(17b) of ``agent``
    (observation -> action) over the held-out episodes 0 .. episodes - 1."""
    env = environment(env_config)
    returns, rates, feasible = [], [], []
    try:
        for i in range(episodes):
            obs, _ = env.reset(options={"episode_seed": EVALUATION_SEED_BASE + i})
            total, done = 0.0, False
            while not done:
                obs, reward, terminated, truncated, parts = env.step(agent(obs))
                total += reward
                rates.append(parts["sum_rate_bps_hz"])
                feasible.append(parts["feasible"])
                done = terminated or truncated
            returns.append(total)
    finally:
        env.close()
    return {
        "mean_return": float(np.mean(returns)),
        "sum_rate_bps_hz": float(np.mean(rates)),
        "feasible_share": float(np.mean(feasible)),
    }


class _Progress(BaseCallback):
    """Progress bar with the running return; periodic evaluation and checkpoints."""

    def __init__(self, config: TrainConfig, started: float, command: str) -> None:
        super().__init__()
        self.config = config
        self.started = started
        self.command = command
        self.bar: tqdm | None = None
        self._next_eval = 0

    def _on_training_start(self) -> None:
        self.bar = tqdm(
            total=self.config.steps,
            initial=self.num_timesteps,
            disable=not self.config.progress,
            unit="step",
            dynamic_ncols=True,
        )
        step = self.config.eval_every
        self._next_eval = (self.num_timesteps // step + 1) * step

    def _on_step(self) -> bool:
        self.bar.update(self.num_timesteps - self.bar.n)
        buffer = self.model.ep_info_buffer
        if buffer:
            self.bar.set_postfix(ret=f"{np.mean([e['r'] for e in buffer]):.1f}")
        if self.num_timesteps >= self._next_eval:
            self._next_eval += self.config.eval_every
            save(self.model, self.config, self.started, self.command, self.evaluate())
        return True

    def evaluate(self) -> dict[str, float]:
        layers = spiking_layers(self.model)
        for layer in layers.values():  # spike rates count training's forward passes only
            layer.counting = False
        result = evaluate_agent(
            lambda obs: self.model.predict(obs, deterministic=True)[0],
            self.config.env,
            self.config.eval_episodes,
        )
        for layer in layers.values():
            layer.counting = True
        row = {"steps": self.num_timesteps, "wall_s": time.monotonic() - self.started, **result}
        path = self.config.out / "evaluations.csv"
        new = not path.exists()
        with path.open("a", newline="") as f:
            writer = csv.DictWriter(f, EVALUATION_FIELDS)
            if new:
                writer.writeheader()
            writer.writerow({k: row[k] for k in EVALUATION_FIELDS})
        self.logger.record("eval/sum_rate_bps_hz", result["sum_rate_bps_hz"])
        self.logger.record("eval/mean_return", result["mean_return"])
        return result

    def _on_training_end(self) -> None:
        if self.bar is not None:
            self.bar.close()


def save(model, config: TrainConfig, started: float, command: str, evaluation) -> Path:
    """Save ``model`` to resume from and export its checkpoint with the manifest
    (``started``: when the run began, earlier invocations included)."""
    model.save(config.out / MODEL_FILE)
    if hasattr(model, "replay_buffer"):
        model.save_replay_buffer(config.out / BUFFER_FILE)
    training = {
        "command": command,
        "seed": config.seed,
        "steps": int(model.num_timesteps),
        "wall_s": round(time.monotonic() - started, 1),
        "torch_threads": torch.get_num_threads(),
        "evaluation": evaluation,
    }
    layers = spiking_layers(model)
    if layers:  # measured over this invocation's rollouts and updates
        training["spike_rates"] = {name: layer.spike_rate for name, layer in layers.items()}
    export(model, config.algorithm, config.env, config.out / "checkpoint", training)
    (config.out / "summary.json").write_text(json.dumps(training, indent=2) + "\n")
    return config.out / "checkpoint"


def spiking_layers(model) -> dict:
    """The spiking hidden layers of ``model``'s policy by name (none for other agents)."""
    return getattr(model.policy, "spiking_layers", {})


def _summary(out: Path) -> dict:
    path = out / "summary.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def train(config: TrainConfig, command: str) -> dict:
    """Train (or resume) and return the summary (also in ``summary.json``)."""
    if config.algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm '{config.algorithm}'; valid: {', '.join(ALGORITHMS)}")
    torch.set_num_threads(1)  # one core per run: seeds run side by side
    config.out.mkdir(parents=True, exist_ok=True)
    env = DummyVecEnv([lambda: Monitor(environment(config.env))])
    resumed = config.resume and (config.out / MODEL_FILE).is_file()
    # wall time counts every invocation of a resumed run
    started = time.monotonic() - (_summary(config.out).get("wall_s", 0.0) if resumed else 0.0)
    if resumed:
        model = load_trainer(config.algorithm, str(config.out / MODEL_FILE), env)
        if hasattr(model, "replay_buffer") and (config.out / BUFFER_FILE).is_file():
            model.load_replay_buffer(config.out / BUFFER_FILE)
    else:
        model = build(config.algorithm, env, config.seed)
    model.set_logger(configure(str(config.out), ["csv", "tensorboard"]))
    callback = _Progress(config, started, command)
    try:
        model.learn(
            total_timesteps=max(config.steps - model.num_timesteps, 0),
            callback=callback,
            reset_num_timesteps=not resumed,
        )
    finally:
        env.close()
    save(model, config, started, command, callback.evaluate())
    return _summary(config.out)
