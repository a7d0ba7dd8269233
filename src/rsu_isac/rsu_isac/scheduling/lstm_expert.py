"""Temporal expert of RL-H-MoE (003 Sec. III-A), inference: an LSTM over each track's
recent AoI state feeds a sigmoid head whose output p_k parameterises the Bernoulli camera
decision pi_k (constraint (9f)). Training (003 Algorithm 1, eq. (12)) belongs to the
learning stage (``learning.hmoe``); it writes the checkpoint this module loads
(:meth:`LstmExpert.save`).

Per slot and track the expert sees FEATURES (:func:`feature_rows`): A_k / A_max (eq. (6)),
beta_k A_max (the angle-uncertainty growth of eq. (7) over an AoI budget), P_misa,k (eq.
(7)) and the slots the radar has lost the track over A_max (our S_rad: the radar's recent
outcome); 003's ablation without AoI zeroes the two AoI-derived ones (AOI_FEATURES)."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from rsu_isac.platform.paths import shipped_checkpoint

DEFAULT_EXPERT = "hmoe"  # the shipped checkpoint (learning/checkpoints/hmoe) both default to
FEATURES = ("aoi", "uncertainty", "misalignment", "coasting")
AOI_FEATURES = (0, 2)  # masked by the ablation: A_k and P_misa,k (a function of A_k)
MAX_FEATURE = 10.0  # the features are clipped here (P_misa is 1 - e^-10 by then)


def feature_rows(
    aoi_slots: NDArray,
    uncertainty_rate: NDArray,
    misalignment: NDArray,
    coasting_slots: NDArray,
    max_aoi_slots: float,
    mask_aoi: bool = False,
) -> NDArray[np.float32]:
    """(tracks, FEATURES) of one slot (module docstring)."""
    rows = np.column_stack(
        [
            np.asarray(aoi_slots, float) / max_aoi_slots,
            np.asarray(uncertainty_rate, float) * max_aoi_slots,
            misalignment,
            np.asarray(coasting_slots, float) / max_aoi_slots,
        ]
    )
    rows = np.clip(rows, 0.0, MAX_FEATURE).astype(np.float32)
    if mask_aoi:
        rows[:, AOI_FEATURES] = 0.0
    return rows


class TemporalExpert(nn.Module):
    """LSTM -> linear -> sigmoid: sequences (B, T, FEATURES) -> p (B,)."""

    def __init__(self, hidden_size: int = 32, num_layers: int = 1) -> None:
        super().__init__()
        self.lstm = nn.LSTM(len(FEATURES), hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(sequences)
        return torch.sigmoid(self.head(out[:, -1])).squeeze(-1)


class LstmExpert:
    """Keeps each track's last ``sequence_length`` feature rows and samples pi_k."""

    def __init__(
        self,
        network: TemporalExpert,
        max_aoi_slots: float,
        sequence_length: int = 8,
        seed: int = 0,
        sample: bool = True,
        mask_aoi: bool = False,
    ) -> None:
        self.network = network.eval()
        self.max_aoi_slots = max_aoi_slots
        self.sequence_length = sequence_length
        self.mask_aoi = mask_aoi
        self.sample = sample
        self._generator = torch.Generator().manual_seed(seed)
        self._history: dict[int, deque[NDArray]] = {}

    def schedule(
        self,
        track_id: NDArray,
        aoi_slots: NDArray,
        beta: NDArray,
        misalignment: NDArray,
        coasting_slots: NDArray,
    ) -> NDArray[np.bool_]:
        rows = feature_rows(
            aoi_slots, beta, misalignment, coasting_slots, self.max_aoi_slots, self.mask_aoi
        )
        live = set(int(i) for i in track_id)
        self._history = {k: v for k, v in self._history.items() if k in live}
        batch = []
        for k, row in zip(track_id, rows, strict=True):
            history = self._history.setdefault(int(k), deque(maxlen=self.sequence_length))
            history.append(row)
            padded = [history[0]] * (self.sequence_length - len(history)) + list(history)
            batch.append(np.stack(padded))
        if not batch:
            return np.zeros(0, dtype=bool)
        with torch.no_grad():
            p = self.network(torch.as_tensor(np.stack(batch), dtype=torch.float32))
            pi = torch.bernoulli(p, generator=self._generator) if self.sample else p > 0.5
        return pi.numpy().astype(bool)

    def save(self, path: str | Path) -> None:
        torch.save(
            {
                "state_dict": self.network.state_dict(),
                "hidden_size": self.network.lstm.hidden_size,
                "num_layers": self.network.lstm.num_layers,
                "sequence_length": self.sequence_length,
                "mask_aoi": self.mask_aoi,
            },
            path,
        )

    @staticmethod
    def load(path: str | Path, max_aoi_slots: float, seed: int = 0) -> LstmExpert:
        """A checkpoint written by :meth:`save`; a missing or foreign file fails with its
        name."""
        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
            network = TemporalExpert(data["hidden_size"], data["num_layers"])
            network.load_state_dict(data["state_dict"])
        except Exception as exc:  # noqa: BLE001 - a foreign file fails in many ways (pickle, zip)
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise ValueError(
                f"cannot load the LSTM temporal expert from {path}: {reason}"
            ) from None
        return LstmExpert(
            network,
            max_aoi_slots,
            int(data["sequence_length"]),
            seed,
            mask_aoi=bool(data.get("mask_aoi", False)),
        )


def load_expert(checkpoint: str | Path | None, max_aoi_slots: float, seed: int = 0) -> LstmExpert:
    """The temporal expert in ``checkpoint`` (a temporal.pt, or a folder holding one);
    default: the shipped RL-H-MoE's."""
    path = Path(checkpoint) if checkpoint else shipped_checkpoint(DEFAULT_EXPERT)
    return LstmExpert.load(path / "temporal.pt" if path.is_dir() else path, max_aoi_slots, seed)
