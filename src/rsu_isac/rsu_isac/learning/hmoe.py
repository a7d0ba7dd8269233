"""RL-H-MoE (003 Sec. III, Algorithm 1): a temporal expert that schedules the camera per
track (LSTM -> sigmoid -> Bernoulli, ``scheduling.lstm_expert.TemporalExpert``), a spatial
expert that maps a track's predicted angle to constant-modulus phases (MLP, eq. (10)), a
critic for the temporal expert's advantage, trained with isolated gradients on the 003
environment (``learning.aoi_env``):

- temporal: L_temp = -sum_n sum_k log P(pi_k(n) | s_n) A_n (eq. (12)), A_n = G_n - V(s_n)
  with the discounted return G_n of eq. (11)'s rewards, plus a small entropy bonus;
- critic: (V(s_n) - G_n)^2;
- spatial: L_spat = -lambda sum_n sum_k |h_k^H(n) v_k(n)|^2 (eq. (13)) on the unit true
  channels the environment reports for training.

Each expert has its own optimiser, and no loss reaches another expert's parameters; the
updates come at the end of each episode (Algorithm 1, lines 11-17).

Choices the paper leaves open (docs/learning.md): the spatial expert's input is the predicted
angle as (cos, sin) plus a positional encoding sin/cos(pi 2^j cos theta), j < 6 (an MLP on
cos theta alone cannot form the 32 cycles that element 63's phase makes over the angles);
its output is one unit phasor per antenna (re, im normalised), so the phase wraps freely.
The critic pools a per-track MLP of the last feature row over the live tracks (the state is
a set). Variants for 003's baselines: ``temporal="mlp"`` is the homogeneous MoE (both
experts MLPs; the temporal one sees the flattened sequence), ``mask_aoi`` the ablation.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from rsu_isac.beamforming.context import RadioContext
from rsu_isac.beamforming.policies import Policy
from rsu_isac.core.array import steering_vector
from rsu_isac.learning.aoi_env import AoiEnvConfig, AoiScheduleEnv, PhasePolicy
from rsu_isac.learning.aoi_mdp import AoiMdpConfig
from rsu_isac.scheduling.lstm_expert import FEATURES, LstmExpert, TemporalExpert

TEMPORAL_KINDS = ("lstm", "mlp")
ENCODING_OCTAVES = 6  # positional encoding of cos(theta): pi 2^j, j = 0..5


class TemporalMlp(nn.Module):
    """The homogeneous MoE's temporal expert: an MLP over the flattened sequence -> p."""

    def __init__(self, sequence_length: int, hidden_size: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(sequence_length * len(FEATURES), hidden_size),
            nn.Tanh(),
            nn.Linear(hidden_size, hidden_size),
            nn.Tanh(),
            nn.Linear(hidden_size, 1),
        )

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(sequences)).squeeze(-1)


def angle_encoding(angle: torch.Tensor) -> torch.Tensor:
    """(B, 2) (cos, sin) -> (B, 2 + 2 ENCODING_OCTAVES)."""
    scaled = math.pi * angle[:, :1] * (2.0 ** torch.arange(ENCODING_OCTAVES))
    return torch.cat([angle, torch.sin(scaled), torch.cos(scaled)], dim=1)


class SpatialExpert(nn.Module):
    """MLP: the encoded predicted angle -> M unit phasors / sqrt(M) (eq. (10))."""

    def __init__(self, num_antennas: int, hidden_size: int = 128) -> None:
        super().__init__()
        self.num_antennas = num_antennas
        self.net = nn.Sequential(
            nn.Linear(2 + 2 * ENCODING_OCTAVES, hidden_size),
            nn.Tanh(),
            nn.Linear(hidden_size, hidden_size),
            nn.Tanh(),
            nn.Linear(hidden_size, 2 * num_antennas),
        )

    def forward(self, angle: torch.Tensor) -> torch.Tensor:
        """(B, 2) -> complex (B, M) beams of constant modulus 1 / sqrt(M)."""
        out = self.net(angle_encoding(angle)).view(-1, self.num_antennas, 2)
        phasor = torch.complex(out[..., 0], out[..., 1])
        return phasor / (phasor.abs().clamp_min(1e-9) * math.sqrt(self.num_antennas))


class Critic(nn.Module):
    """V(s): mean over the live tracks of an MLP of their last feature row, and their count."""

    def __init__(self, hidden_size: int = 64) -> None:
        super().__init__()
        self.rows = nn.Sequential(
            nn.Linear(len(FEATURES), hidden_size), nn.Tanh(), nn.Linear(hidden_size, hidden_size)
        )
        self.head = nn.Sequential(nn.Tanh(), nn.Linear(hidden_size + 1, 1))

    def forward(self, last_rows: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, K, F), (B, K) -> (B,)."""
        count = mask.sum(dim=1, keepdim=True)
        pooled = (self.rows(last_rows) * mask.unsqueeze(-1)).sum(dim=1) / count.clamp_min(1.0)
        return self.head(torch.cat([pooled, count / mask.shape[1]], dim=1)).squeeze(-1)


@dataclass(frozen=True)
class HmoeConfig:
    """Training of RL-H-MoE or its variants (module docstring) on the 003 environment."""

    episodes: int = 40
    temporal: str = "lstm"  # lstm (RL-H-MoE) | mlp (homogeneous MoE)
    env: AoiEnvConfig = field(default_factory=AoiEnvConfig)
    seed: int = 0
    discount: float = 0.9
    temporal_lr: float = 3e-3
    critic_lr: float = 3e-3
    spatial_lr: float = 3e-3
    spatial_weight: float = 1.0  # lambda of L_spat
    spatial_steps: int = 100  # gradient steps per episode on minibatches of the pairs so far
    spatial_batch: int = 256
    spatial_memory: int = 20_000  # (angle, channel) pairs kept
    entropy_weight: float = 1e-2
    reward_scale_j: float = 100.0  # returns are divided by this before the losses
    hidden_size: int = 32  # the temporal expert's
    spatial_hidden_size: int = 256

    def to_dict(self) -> dict:
        return asdict(self)


class HmoeAgent:
    """The three networks and their action for the 003 environment."""

    def __init__(self, config: HmoeConfig, num_antennas: int) -> None:
        mdp = config.env.mdp
        if config.temporal not in TEMPORAL_KINDS:
            raise ValueError(
                f"unknown temporal expert '{config.temporal}'; valid: {', '.join(TEMPORAL_KINDS)}"
            )
        self.config = config
        self.temporal: nn.Module = (
            TemporalExpert(config.hidden_size)
            if config.temporal == "lstm"
            else TemporalMlp(mdp.sequence_length, 2 * config.hidden_size)
        )
        self.spatial = SpatialExpert(num_antennas, config.spatial_hidden_size)
        self.critic = Critic()
        self.num_antennas = num_antennas

    def probabilities(self, history: torch.Tensor) -> torch.Tensor:
        """(B, K, T, F) -> p (B, K)."""
        b, k = history.shape[:2]
        return self.temporal(history.reshape(b * k, *history.shape[2:])).view(b, k)

    def act(
        self, observation: dict[str, NDArray], generator: torch.Generator | None = None
    ) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
        """The box action and pi; sampled with ``generator``, else p > 1/2."""
        history = torch.as_tensor(observation["history"])[None]
        mask = observation["mask"] > 0
        with torch.no_grad():
            p = self.probabilities(history)[0]
            camera = torch.bernoulli(p, generator=generator) > 0 if generator else p > 0.5
            beams = self.spatial(torch.as_tensor(observation["angle"]))
        action = np.zeros((len(mask), 1 + self.num_antennas), np.float32)
        action[:, 0] = np.where(camera.numpy(), 1.0, -1.0)
        action[:, 1:] = np.angle(beams.numpy()) / np.pi
        action[~mask] = 0.0
        return action, camera.numpy() & mask


@dataclass
class Episode:
    history: list[NDArray] = field(default_factory=list)
    mask: list[NDArray] = field(default_factory=list)
    camera: list[NDArray] = field(default_factory=list)
    reward: list[float] = field(default_factory=list)
    angle: list[NDArray] = field(default_factory=list)  # rows that a true channel matched
    channel: list[NDArray] = field(default_factory=list)
    energy: list[float] = field(default_factory=list)
    misalignment: list[float] = field(default_factory=list)
    camera_share: list[float] = field(default_factory=list)  # of the tracks, as scheduled
    angle_error: list[float] = field(default_factory=list)  # sensing MAE [deg], NaN: no row


def rollout(agent: HmoeAgent, env: AoiScheduleEnv, generator: torch.Generator, **reset) -> Episode:
    """One episode with sampled schedules."""
    episode = Episode()
    observation, _ = env.reset(**reset)
    done = False
    while not done:
        action, camera = agent.act(observation, generator)
        following, value, terminated, truncated, info = env.step(action)
        matched = info["channel_mask"] > 0
        episode.history.append(observation["history"])
        episode.mask.append(observation["mask"])
        episode.camera.append(camera.astype(np.float32))
        episode.reward.append(value)
        episode.angle.append(observation["angle"][matched])
        episode.channel.append(info["channel"][matched])
        episode.energy.append(info["energy_j"])
        episode.misalignment.append(info["mean_misalignment"])
        episode.camera_share.append(info["camera_share"])
        episode.angle_error.append(info["angle_error_deg"])
        observation, done = following, terminated or truncated
    return episode


class SteeringAgent:
    """The agent of the rule schedules (``AoiEnvConfig.schedule`` a rule): constant-modulus
    beams at each row's predicted angle (the camera column is the rule's business)."""

    def __init__(self, num_antennas: int) -> None:
        self.num_antennas = num_antennas

    def act(self, observation: dict[str, NDArray], generator=None):
        angle = np.arctan2(observation["angle"][:, 1], observation["angle"][:, 0])
        action = np.zeros((len(angle), 1 + self.num_antennas), np.float32)
        action[:, 1:] = np.angle(steering_vector(angle, self.num_antennas)) / np.pi
        action[observation["mask"] == 0] = 0.0
        return action, np.zeros(len(angle), dtype=bool)


def discounted_returns(rewards: list[float], discount: float) -> NDArray[np.float32]:
    out = np.zeros(len(rewards), np.float32)
    running = 0.0
    for n in range(len(rewards) - 1, -1, -1):
        running = rewards[n] + discount * running
        out[n] = running
    return out


class HmoeTrainer:
    """Algorithm 1: rollouts with the current experts, then isolated updates."""

    def __init__(self, config: HmoeConfig) -> None:
        torch.set_num_threads(1)  # small networks: threads only contend with parallel runs
        torch.manual_seed(config.seed)
        self.config = config
        self.env = AoiScheduleEnv(config.env)
        self.env.reset(seed=config.seed)
        self.agent = HmoeAgent(config, self.env.action_space.shape[1] - 1)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.optimisers = {
            "temporal": torch.optim.Adam(self.agent.temporal.parameters(), config.temporal_lr),
            "critic": torch.optim.Adam(self.agent.critic.parameters(), config.critic_lr),
            "spatial": torch.optim.Adam(self.agent.spatial.parameters(), config.spatial_lr),
        }
        self.log: list[dict[str, float]] = []
        self._pairs: tuple[NDArray, NDArray] | None = None  # (angle, channel) replay
        self._rng = np.random.default_rng(config.seed)

    def train(self, progress=None) -> list[dict[str, float]]:
        started = time.perf_counter()
        for episode_index in range(self.config.episodes):
            episode = rollout(self.agent, self.env, self.generator)
            losses = self.update(episode)
            self.log.append(
                {
                    "episode": episode_index,
                    "energy_j_per_slot": float(np.mean(episode.energy)),
                    "mean_misalignment": float(np.mean(episode.misalignment)),
                    "camera_share": float(np.sum(episode.camera) / max(np.sum(episode.mask), 1.0)),
                    "wall_s": time.perf_counter() - started,
                    **losses,
                }
            )
            if progress is not None:
                progress(self.log[-1])
        return self.log

    def update(self, episode: Episode) -> dict[str, float]:
        """The isolated updates of Algorithm 1 (lines 11-17) on one episode."""
        c = self.config
        history = torch.as_tensor(np.stack(episode.history))  # (N, K, T, F)
        mask = torch.as_tensor(np.stack(episode.mask))  # (N, K)
        camera = torch.as_tensor(np.stack(episode.camera))
        returns = torch.as_tensor(discounted_returns(episode.reward, c.discount)) / c.reward_scale_j
        value = self.agent.critic(history[:, :, -1], mask)
        critic_loss = torch.mean((value - returns) ** 2)
        self.optimisers["critic"].zero_grad()
        critic_loss.backward()
        self.optimisers["critic"].step()
        advantage = (returns - value.detach()).unsqueeze(1)
        advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
        p = self.agent.probabilities(history).clamp(1e-6, 1 - 1e-6)
        log_prob = camera * torch.log(p) + (1 - camera) * torch.log(1 - p)
        entropy = -(p * torch.log(p) + (1 - p) * torch.log(1 - p))
        temporal_loss = -torch.sum((log_prob * advantage + c.entropy_weight * entropy) * mask)
        temporal_loss = temporal_loss / mask.sum().clamp_min(1.0)
        self.optimisers["temporal"].zero_grad()
        temporal_loss.backward()
        self.optimisers["temporal"].step()
        spatial_loss = self._spatial_update(episode)
        return {
            "temporal_loss": temporal_loss.item(),
            "critic_loss": critic_loss.item(),
            "spatial_gain": -spatial_loss / c.spatial_weight,
        }

    def _spatial_update(self, episode: Episode) -> float:
        """L_spat of eq. (13) with unit channels, -lambda mean |h^H v|^2 (so in [-lambda, 0]),
        on minibatches of the last ``spatial_memory`` (angle, channel) pairs."""
        c = self.config
        angle, channel = np.concatenate(episode.angle), np.concatenate(episode.channel)
        if self._pairs is not None:
            angle = np.concatenate([self._pairs[0], angle])[-c.spatial_memory :]
            channel = np.concatenate([self._pairs[1], channel])[-c.spatial_memory :]
        self._pairs = (angle, channel)
        if not len(angle):
            return 0.0
        loss = 0.0
        for _ in range(c.spatial_steps):
            pick = self._rng.integers(0, len(angle), min(c.spatial_batch, len(angle)))
            beams = self.agent.spatial(torch.as_tensor(angle[pick]))
            gain = torch.abs(torch.sum(torch.as_tensor(channel[pick]) * beams, dim=1)) ** 2
            objective = -c.spatial_weight * gain.mean()
            self.optimisers["spatial"].zero_grad()
            objective.backward()
            self.optimisers["spatial"].step()
            loss = objective.item()
        return loss


SERIES = {  # evaluate_series's keys: Episode field -> name
    "energy": "energy_j_per_slot",
    "misalignment": "mean_misalignment_probability",
    "camera_share": "camera_share",
    "angle_error": "angle_mae_deg",
}


def evaluate_series(
    agent: HmoeAgent, env_config: AoiEnvConfig, episode_seeds: list[int]
) -> dict[str, list[float]]:
    """Per slot, the mean over held-out episodes of the energy (eq. (3) realised), P_misa
    (L_BMP), the camera share and the sensing MAE (the beams' look angles against the true
    angles; NaN where no episode had a matched row), the schedule sampled as in training and
    deployment (Algorithm 1, line 8), the draws seeded by the episode seed."""
    env = AoiScheduleEnv(env_config)
    try:
        episodes = [
            rollout(
                agent,
                env,
                torch.Generator().manual_seed(seed),
                options={"episode_seed": seed},
            )
            for seed in episode_seeds
        ]
    finally:
        env.close()
    out = {}
    for name, key in SERIES.items():
        values = np.array([getattr(e, name) for e in episodes], dtype=float)
        present = np.isfinite(values).any(axis=0)
        mean = np.full(values.shape[1], np.nan)
        mean[present] = np.nanmean(values[:, present], axis=0)
        out[key] = mean.tolist()
    return out


def evaluate(
    agent: HmoeAgent, env_config: AoiEnvConfig, episode_seeds: list[int]
) -> dict[str, float]:
    """The means over the slots of :func:`evaluate_series`."""
    series = evaluate_series(agent, env_config, episode_seeds)
    return {key: float(np.nanmean(values)) for key, values in series.items()}


SHIPPED_CHECKPOINT = Path(__file__).parent / "checkpoints" / "hmoe"
CHECKPOINT_FILE = "hmoe.pt"  # both experts (and the variant); the LSTM also as temporal.pt
TEMPORAL_FILE = "temporal.pt"  # scheduling.lstm_expert.LstmExpert's format (the lstm policy)


def save_checkpoint(agent: HmoeAgent, folder: Path, manifest: dict[str, object]) -> None:
    """``folder``/hmoe.pt, temporal.pt (LSTM variants) and manifest.json."""
    c = agent.config
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "temporal_kind": c.temporal,
            "temporal": agent.temporal.state_dict(),
            "hidden_size": c.hidden_size,
            "sequence_length": c.env.mdp.sequence_length,
            "max_tracks": c.env.mdp.max_tracks,
            "mask_aoi": c.env.mdp.mask_aoi,
            "spatial": agent.spatial.state_dict(),
            "num_antennas": agent.num_antennas,
            "spatial_hidden_size": c.spatial_hidden_size,
        },
        folder / CHECKPOINT_FILE,
    )
    if c.temporal == "lstm":
        LstmExpert(
            agent.temporal, 1.0, c.env.mdp.sequence_length, mask_aoi=c.env.mdp.mask_aoi
        ).save(folder / TEMPORAL_FILE)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def load_checkpoint(folder: str | Path) -> HmoeAgent:
    """The agent of :func:`save_checkpoint`; a missing or foreign file fails with its name."""
    path = Path(folder) / CHECKPOINT_FILE
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
        mdp = AoiMdpConfig(
            max_tracks=int(data["max_tracks"]),
            sequence_length=int(data["sequence_length"]),
            mask_aoi=bool(data["mask_aoi"]),
        )
        config = HmoeConfig(
            temporal=str(data["temporal_kind"]),
            env=AoiEnvConfig(mdp=mdp),
            hidden_size=int(data["hidden_size"]),
            spatial_hidden_size=int(data["spatial_hidden_size"]),
        )
        agent = HmoeAgent(config, int(data["num_antennas"]))
        agent.temporal.load_state_dict(data["temporal"])
        agent.spatial.load_state_dict(data["spatial"])
    except Exception as exc:  # noqa: BLE001 - a foreign file fails in many ways
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ValueError(f"cannot load RL-H-MoE from {path}: {reason}") from None
    agent.temporal.eval()
    agent.spatial.eval()
    return agent


def hmoe_policy(context: RadioContext, checkpoint: str | None = None, **options) -> Policy:
    """RL-H-MoE's spatial expert as a beamforming policy: each served vehicle's
    constant-modulus beam (eq. (10)) from its predicted angle, an equal share of the power
    (``checkpoint``: a folder of :func:`save_checkpoint`; default the shipped one)."""
    agent = load_checkpoint(checkpoint or SHIPPED_CHECKPOINT)
    if agent.num_antennas != context.num_antennas:
        raise ValueError(
            f"the checkpoint's spatial expert drives {agent.num_antennas} antennas, the "
            f"scenario has {context.num_antennas}"
        )

    def phases(_track: int, theta: float) -> NDArray[np.float64]:
        angle = torch.tensor([[math.cos(theta), math.sin(theta)]], dtype=torch.float32)
        with torch.no_grad():
            return np.angle(agent.spatial(angle)[0].numpy())

    return PhasePolicy("hmoe", context, phase_source=phases, **options)


class PpoHybridAgent:
    """003's "standard PPO" baseline: one network (stable-baselines3 PPO, an MLP over the
    flattened observation) whose Gaussian action is the whole hybrid box (camera column > 0,
    phases / pi), acting on its mean at evaluation (SB3's deterministic mode)."""

    def __init__(self, model) -> None:
        self.model = model

    def act(
        self, observation: dict[str, NDArray], generator: torch.Generator | None = None
    ) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
        action, _ = self.model.predict(observation, deterministic=True)
        action = np.clip(action, -1.0, 1.0).astype(np.float32)
        return action, (action[:, 0] > 0) & (observation["mask"] > 0)


PPO_STEPS_PER_UPDATE = 1000  # 5 episodes of 200 slots per PPO update


def train_ppo_baseline(env_config: AoiEnvConfig, steps: int, seed: int):
    """The PPO baseline on the 003 environment with as many steps as RL-H-MoE's training
    (SB3 defaults otherwise: 10 epochs of minibatches of 64, clip 0.2, gamma 0.99)."""
    from stable_baselines3 import PPO

    torch.set_num_threads(1)
    env = AoiScheduleEnv(env_config)
    env.reset(seed=seed)
    model = PPO(
        "MultiInputPolicy",
        env,
        n_steps=PPO_STEPS_PER_UPDATE,
        batch_size=100,
        gamma=0.9,
        seed=seed,
        device="cpu",
        verbose=0,
    )
    model.learn(total_timesteps=steps)
    env.close()
    return model


# 003's methods on its MDP: RL-H-MoE, the homogeneous MoE (both experts MLPs), the ablation
# without AoI in the state, and the single-network PPO
VARIANTS = {
    "hmoe": {"temporal": "lstm", "mask_aoi": False},
    "hmoe_mlp": {"temporal": "mlp", "mask_aoi": False},
    "hmoe_no_aoi": {"temporal": "lstm", "mask_aoi": True},
    "hmoe_ppo": {"temporal": "ppo", "mask_aoi": False},
}
HELD_OUT_EPISODES = 5  # evaluation episodes after training (seeds from 1,000,000)


def train_variant(
    variant: str, seed: int, out: Path, env: AoiEnvConfig, episodes: int, command: str
) -> dict[str, object]:
    """Train one of VARIANTS into ``out`` (progress.jsonl, checkpoint/ with its manifest);
    the manifest."""
    from rsu_isac.learning.env import EVALUATION_SEED_BASE

    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    steps = episodes * env.episode_slots
    if VARIANTS[variant]["temporal"] == "ppo":
        model = train_ppo_baseline(env, steps, seed)
        agent, config = PpoHybridAgent(model), {"env": env.to_dict(), "steps": steps}
    else:
        trainer = HmoeTrainer(
            HmoeConfig(
                episodes=episodes, temporal=VARIANTS[variant]["temporal"], env=env, seed=seed
            )
        )
        with (out / "progress.jsonl").open("w", buffering=1) as log:  # a line per episode
            trainer.train(progress=lambda row: log.write(json.dumps(row) + "\n"))
        trainer.env.close()
        agent, config = trainer.agent, trainer.config.to_dict()
    wall_s = time.perf_counter() - started
    seeds = [EVALUATION_SEED_BASE + i for i in range(HELD_OUT_EPISODES)]
    manifest = {
        "algorithm": variant,
        "command": command,
        "seed": seed,
        "episodes": episodes,
        "steps": steps,
        "wall_s": round(wall_s, 1),
        "config": config,
        "evaluation": {"episode_seeds": seeds, **evaluate(agent, env, seeds)},
    }
    if isinstance(agent, PpoHybridAgent):
        (out / "checkpoint").mkdir(parents=True, exist_ok=True)
        model.save(out / "checkpoint" / "model.zip")
        (out / "checkpoint" / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    else:
        save_checkpoint(agent, out / "checkpoint", manifest)
    return manifest


def load_variant(folder: Path) -> HmoeAgent | PpoHybridAgent:
    """The agent in a checkpoint folder of :func:`train_variant`."""
    if (folder / "model.zip").is_file():
        from stable_baselines3 import PPO

        return PpoHybridAgent(PPO.load(folder / "model.zip", device="cpu"))
    return load_checkpoint(folder)
