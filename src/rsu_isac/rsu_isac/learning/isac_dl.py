"""002's DL-based ISAC beamformer (its Fig. 9 comparison, reference [31]): a network that
imitates ISAC-OCS (the max-min leader and the follower) on 002's Monte Carlo placements
(sim.placements), so that a forward pass replaces the bisection and the follower.

Choices (002 says nothing of [31]'s network; docs/isac_ocs.md):

- Output structured as ISAC-OCS's answer is: the leader's beams lie in the span of the
  users' steering vectors a(theta_k) and the follower's beam in the span of the target's and
  the patches' a(theta) (the generalised eigenvector of the follower's SCNR), so the network
  outputs complex coefficients over those bases (MAX_USERS per user beam, 1 + C for the
  sensing beam); a first version that output the N_t entries of every beam from the
  angles' cosines learnt 37 % of the label energy (the steering vectors' phases vary up
  to N_t / 2 times over cos(theta)) and reached half of ISAC-OCS's CMI.
- Input (fixed size): the Gram matrices of both bases at the transmit RSU and of the
  target's and patches' receive steering vectors at the receive RSU (Re of the upper
  triangle, Im of the strict upper one), the users' presence flags (zero columns for
  absent users), the transmit SNR / 10 dB and rho_c. The decision keeps the present users'
  beams and scales them to P_c and the stream to P_s.
- Loss: per beam ||p||^2 + ||l||^2 - 2 |p^H l|, the squared distance to the label beam l
  after the best common phase (a beam's phase is free: the rates ignore it, a plain MSE
  would not), summed over the present beams.
- Labels: ISAC-OCS at one operating point (SNR 5 dB, rho_c = 0.5: 002 Fig. 9's K sweep),
  K uniform in 2..MAX_USERS, from a random stream disjoint from the experiments' seeds.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from rsu_isac.beamforming.precoders import MaxMinSinr
from rsu_isac.beamforming.sensing import follow
from rsu_isac.core.array import steering_vector
from rsu_isac.sim.placements import Placement, PlacementConfig, draw_placement

MAX_USERS = 6
DATA_STREAM = 2002  # the labelled placements' random stream: default_rng([2002, data_seed])
SHIPPED_CHECKPOINT = Path(__file__).parent / "checkpoints" / "isac_dl"
CHECKPOINT_FILE = "isac_dl.pt"


@dataclass(frozen=True)
class IsacDlConfig:
    samples: int = 4000
    validation: int = 500
    epochs: int = 60
    batch: int = 64
    hidden: int = 256
    learning_rate: float = 1e-3
    seed: int = 0  # the network's initialisation and batch order
    data_seed: int = 0
    snr_db: float = 5.0
    comm_ratio: float = 0.5


def bases(placement: Placement) -> tuple[NDArray[np.complex128], NDArray[np.complex128]]:
    """(users' basis (N, MAX_USERS), zero columns for absent users; sensing basis (N, 1 + C):
    the target's and the patches' steering vectors at the transmit RSU)."""
    n, k = placement.g.shape[1], len(placement.user_rad)
    if k > MAX_USERS:
        raise ValueError(f"{k} users: the DL beamformer serves at most {MAX_USERS}")
    users = np.zeros((n, MAX_USERS), complex)
    users[:, :k] = steering_vector(placement.user_rad, n).T
    scene = placement.scene
    angles = np.concatenate([[scene.target_tx_rad], scene.clutter_tx_rad])
    return users, steering_vector(angles, n).T


def _gram_entries(m: NDArray) -> NDArray[np.float64]:
    gram = m.conj().T @ m
    upper = np.triu_indices(gram.shape[0])
    strict = np.triu_indices(gram.shape[0], 1)
    return np.concatenate([gram.real[upper], gram.imag[strict]])


def features(placement: Placement, snr_db: float, comm_ratio: float) -> NDArray[np.float32]:
    """The network's input of a placement (module docstring)."""
    users, sensing = bases(placement)
    scene = placement.scene
    rx = steering_vector(
        np.concatenate([[scene.target_rx_rad], scene.clutter_rx_rad]), scene.num_rx_antennas
    ).T
    present = np.any(users != 0, axis=0).astype(float)
    return np.concatenate(
        [
            _gram_entries(np.column_stack([users, sensing])),
            _gram_entries(rx),
            present,
            [snr_db / 10.0, comm_ratio],
        ]
    ).astype(np.float32)


def label(placement: Placement, power_w: float, comm_ratio: float) -> NDArray[np.complex128]:
    """ISAC-OCS's beams (N, MAX_USERS + 1) in units of sqrt(P): the users' beams, zeros for
    absent users, the sensing stream last."""
    g, n = placement.g, placement.g.shape[1]
    w = MaxMinSinr().solve(g, comm_ratio * power_w)[0]
    found = follow(g, w, placement.scene, (1.0 - comm_ratio) * power_w)
    out = np.zeros((n, MAX_USERS + 1), complex)
    out[:, : w.shape[1]] = w
    if found is not None:
        out[:, -1] = found.beam
    return out / np.sqrt(power_w)


class IsacDlNet(nn.Module):
    """MLP: features -> coefficients over the bases -> (B, N, MAX_USERS + 1) beams."""

    def __init__(self, inputs: int, sensing_basis: int, hidden: int) -> None:
        super().__init__()
        self.sensing_basis = sensing_basis
        outputs = 2 * (MAX_USERS * MAX_USERS + sensing_basis)
        self.body = nn.Sequential(
            nn.Linear(inputs, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, outputs),
        )

    def forward(self, x: torch.Tensor, users: torch.Tensor, sensing: torch.Tensor):
        """Beams (B, N, MAX_USERS + 1) from features x (B, F) and the bases (B, N, MAX_USERS),
        (B, N, 1 + C)."""
        out = self.body(x).reshape(x.shape[0], 2, -1)
        coef = torch.complex(out[:, 0], out[:, 1])
        user_coef = coef[:, : MAX_USERS * MAX_USERS].reshape(-1, MAX_USERS, MAX_USERS)
        sensing_coef = coef[:, MAX_USERS * MAX_USERS :, None]
        return torch.cat([users @ user_coef, sensing @ sensing_coef], dim=2)


def phase_free_loss(pred: torch.Tensor, target: torch.Tensor, present: torch.Tensor):
    """Mean over the batch of sum over present beams of ||p||^2 + ||l||^2 - 2 |p^H l|."""
    inner = torch.abs(torch.sum(pred.conj() * target, dim=1))
    norms = torch.sum(torch.abs(pred) ** 2, dim=1) + torch.sum(torch.abs(target) ** 2, dim=1)
    return torch.mean(torch.sum((norms - 2 * inner) * present, dim=1))


def dataset(config: IsacDlConfig, placement: PlacementConfig) -> dict[str, NDArray]:
    """Labelled placements: x (S, F), the bases users (S, N, MAX_USERS) and sensing
    (S, N, 1 + C), labels y (S, N, MAX_USERS + 1), present (S, MAX_USERS + 1)."""
    rng = np.random.default_rng([DATA_STREAM, config.data_seed])
    rows: dict[str, list] = {"x": [], "users": [], "sensing": [], "y": [], "present": []}
    for _ in range(config.samples + config.validation):
        k = int(rng.integers(2, MAX_USERS + 1))
        drawn = draw_placement(rng, replace(placement, users=k, snr_db=config.snr_db))
        users, sensing = bases(drawn)
        rows["x"].append(features(drawn, config.snr_db, config.comm_ratio))
        rows["users"].append(users)
        rows["sensing"].append(sensing)
        rows["y"].append(label(drawn, placement.power_w, config.comm_ratio))
        rows["present"].append(np.r_[np.arange(MAX_USERS) < k, True])
    out = {key: np.array(value) for key, value in rows.items()}
    out["present"] = out["present"].astype(np.float32)
    for key in ("users", "sensing", "y"):
        out[key] = out[key].astype(np.complex64)
    return out


def train(config: IsacDlConfig, out: Path, command: str) -> dict:
    """Label, fit, and save the network with its manifest (command, config, wall time,
    held-out loss) to ``out``."""
    started = time.monotonic()
    torch.set_num_threads(1)
    torch.manual_seed(config.seed)
    placement = PlacementConfig()
    data = dataset(config, placement)
    labelled_s = time.monotonic() - started
    x, y, present, users, sensing = (
        torch.from_numpy(data[key]) for key in ("x", "y", "present", "users", "sensing")
    )
    split = config.samples
    net = IsacDlNet(x.shape[1], sensing.shape[2], config.hidden)
    optimiser = torch.optim.Adam(net.parameters(), lr=config.learning_rate)
    generator = torch.Generator().manual_seed(config.seed)
    history = []
    for epoch in range(config.epochs):
        order = torch.randperm(split, generator=generator)
        for start in range(0, split, config.batch):
            batch = order[start : start + config.batch]
            beams = net(x[batch], users[batch], sensing[batch])
            loss = phase_free_loss(beams, y[batch], present[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        with torch.no_grad():
            beams = net(x[split:], users[split:], sensing[split:])
            held = float(phase_free_loss(beams, y[split:], present[split:]))
        history.append({"epoch": epoch + 1, "validation_loss": held})
    manifest = {
        "command": command,
        "config": asdict(config),
        "placement": asdict(placement),
        "seed": config.seed,
        "labelled_s": round(labelled_s, 1),
        "wall_s": round(time.monotonic() - started, 1),
        "validation_loss": history[-1]["validation_loss"],
        "label_energy": float(torch.mean(torch.sum(torch.abs(y[split:]) ** 2, dim=(1, 2)))),
    }
    out.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), out / CHECKPOINT_FILE)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (out / "log.json").write_text(json.dumps(history) + "\n")
    return manifest


@dataclass
class IsacDl:
    """A trained network as a beamformer: ``(placement, P_c, P_s) -> (W, v)``."""

    net: IsacDlNet
    config: IsacDlConfig

    @staticmethod
    def load(folder: Path | None = None) -> IsacDl:
        """The network in ``folder`` (default: the shipped one); a ValueError says why not."""
        folder = Path(folder or SHIPPED_CHECKPOINT)
        if not (folder / CHECKPOINT_FILE).is_file():
            raise ValueError(f"no DL beamformer checkpoint in {folder}")
        manifest = json.loads((folder / "manifest.json").read_text())
        config = IsacDlConfig(**manifest["config"])
        placement = PlacementConfig(**manifest["placement"])
        probe = draw_placement(np.random.default_rng(0), placement)
        inputs = len(features(probe, config.snr_db, config.comm_ratio))
        net = IsacDlNet(inputs, 1 + placement.clutter_patches, config.hidden)
        net.load_state_dict(torch.load(folder / CHECKPOINT_FILE, weights_only=True))
        net.eval()
        return IsacDl(net, config)

    def __call__(self, placement: Placement, comm_w: float, sensing_w: float):
        k = len(placement.user_rad)
        ratio = comm_w / (comm_w + sensing_w)
        snr_db = 10 * np.log10((comm_w + sensing_w) / placement.scene.noise_w)
        users, sensing = bases(placement)
        x = torch.from_numpy(features(placement, snr_db, ratio))[None]
        with torch.no_grad():
            beams = self.net(
                x,
                torch.from_numpy(users.astype(np.complex64))[None],
                torch.from_numpy(sensing.astype(np.complex64))[None],
            )[0]
        beams = beams.numpy().astype(complex)
        w, v = beams[:, :k], beams[:, -1]
        w = w * np.sqrt(comm_w) / max(np.linalg.norm(w), 1e-300)
        v = v * np.sqrt(sensing_w) / max(np.linalg.norm(v), 1e-300)
        return w, v
