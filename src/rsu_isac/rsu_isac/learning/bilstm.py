"""004's learning-based assignment and beamforming (Sec. VI): two bi-directional LSTMs run
over the vehicles sorted by their position along the road, one classifying each vehicle's
RSU (cross-entropy), one regressing its beam (Re, Im of f_k, MSE), trained on what the
heuristic assignment (Algorithm 3) and FP + PGD beams decide for random snapshots of the
seed004 highway; the policy ``bilstm`` runs them in place of both.

Choices where the paper leaves room or our stack differs (docs/beamforming.md):

- Input per vehicle and transmitting RSU: Re and Im of the unit channel estimate from the
  tracks (our stand-in for the echo r of 004, which the tracker turns into the predicted
  geometry), cos(theta), range / 100 m and radial velocity / 40 m/s (for 004's delay and
  Doppler estimates). The previous beam f_{n-1} is left out: FP + PGD solves each slot from
  that slot's geometry alone (warm starts were measured and dropped), so the label is a
  function of the current input.
- The beam network also gets the vehicle's RSU (one-hot; the heuristic's in training, the
  assignment network's at run time), and predicts the beam with the RSU's beams normalised
  to one unit of power per vehicle on average, its phase turned so that h_k f_k is real and
  positive (the rate ignores a beam's phase, the regression would not). The policy scales
  each RSU's beams to the power budget (the FP + PGD optimum uses all of it).
- One network of each kind for every K (an LSTM takes any sequence length): samples of
  K in K_VALUES, batched by K.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from rsu_isac.beamforming.assignment import assign, precode_all
from rsu_isac.beamforming.context import PredictedVehicles, RadioContext, random_vehicles
from rsu_isac.beamforming.policies import Policy, precoder_for
from rsu_isac.core.geometry import to_polar
from rsu_isac.core.scenario import Scenario, resolve_scenario
from rsu_isac.platform.paths import scenarios_dir

K_VALUES = (4, 10, 20, 30, 50)  # vehicles per training snapshot (004 Figs. 5-7)
RANGE_SCALE_M = 100.0
SPEED_SCALE_MPS = 40.0
SHIPPED_CHECKPOINT = Path(__file__).parent / "checkpoints" / "bilstm"
CHECKPOINT_FILE = "bilstm.pt"


def features(
    context: RadioContext, vehicles: PredictedVehicles, rows: NDArray
) -> tuple[NDArray, NDArray]:
    """(order, X): the vehicles' order along the road (x, then y) and their inputs in that
    order, (K, R_tx (2 N + 3)) float32 (module docstring); ``rows`` (R, K, N): the channel
    estimates of every RSU (``RadioContext.channel_rows``)."""
    order = np.lexsort((vehicles.position_xy[:, 1], vehicles.position_xy[:, 0]))
    tx = context.transmitters
    mine = rows[tx]  # (R_tx, K, N)
    unit = mine / np.maximum(np.linalg.norm(mine, axis=-1, keepdims=True), 1e-300)
    parts = []
    for i, r in enumerate(tx.tolist()):
        polar = to_polar(
            context.scenario.rsus[r].position_m, vehicles.position_xy, vehicles.velocity_xy
        )
        parts += [
            unit[i].real,
            unit[i].imag,
            np.cos(polar.theta_rad)[:, None],
            (polar.range_m / RANGE_SCALE_M)[:, None],
            (polar.radial_velocity_mps / SPEED_SCALE_MPS)[:, None],
        ]
    return order, np.hstack(parts)[order].astype(np.float32)


def canonical_beams(rows: NDArray, assignment: NDArray, placed: dict[int, NDArray], tx) -> NDArray:
    """(K, N) each vehicle's beam from its RSU, that RSU's beams scaled to a total power of
    K_r (one per vehicle on average, whatever K), its phase turned so that h_k f_k is real
    and positive (``rows`` (R_all, K, N))."""
    k, n = rows.shape[1], rows.shape[2]
    out = np.zeros((k, n), complex)
    for r in tx.tolist():
        mine = np.flatnonzero(assignment == r)
        if not mine.size:
            continue
        w = placed[r] * np.sqrt(mine.size) / max(np.linalg.norm(placed[r]), 1e-300)  # (N, K_r)
        gain = np.einsum("kn,nk->k", rows[r, mine], w)
        out[mine] = (w * np.exp(-1j * np.angle(gain))[None]).T
    return out


@dataclass(frozen=True)
class Sample:
    """One labelled snapshot, vehicles in road order."""

    x: NDArray[np.float32]  # (K, F)
    rsu: NDArray[np.int64]  # (K,) index into the transmitters
    beam: NDArray[np.float32]  # (K, 2 N): Re, Im of the canonical beam


def labelled_sample(scenario: Scenario, k: int, seed: int) -> Sample:
    """A random highway snapshot of ``k`` vehicles labelled by the heuristic assignment and
    FP + PGD beams, with the power the policies give communication."""
    context = RadioContext(scenario)
    vehicles = random_vehicles(np.random.default_rng(seed), scenario, k)
    rows = context.channel_rows(vehicles)
    theta, ranges = context.polar(vehicles)
    tx = context.transmitters
    power = context.max_power_w * (1.0 - Policy.sensing_fraction)  # the sweep keeps the rest
    precoder = precoder_for("fp_pgd", "equal")
    assignment = assign("heuristic", rows, theta, ranges, tx, precoder, power)
    placed = precode_all(rows, assignment, tx, precoder, power)
    order, x = features(context, vehicles, rows)
    beam = canonical_beams(rows, assignment, placed, tx)[order]
    return Sample(
        x,
        np.searchsorted(tx, assignment[order]),
        np.hstack([beam.real, beam.imag]).astype(np.float32),
    )


def _sample_job(job: tuple[str, int, int]) -> Sample:
    name, k, seed = job
    return labelled_sample(resolve_scenario(name, scenarios_dir()), k, seed)


LABEL_CHUNK = 50  # snapshots labelled between two saves of the dataset file


def _jobs(config: BilstmConfig, samples: int) -> list[tuple[str, int, int]]:
    """(scenario, K, seed) of every snapshot: K cycling through ``config.vehicles``,
    snapshot i drawn with the i-th word of SeedSequence(data_seed)'s state (the same set for
    any number of workers and however the labelling is split)."""
    children = np.random.SeedSequence(config.data_seed).generate_state(samples)
    ks = config.vehicles
    return [(config.scenario, ks[i % len(ks)], int(children[i])) for i in range(samples)]


def _label(jobs: list[tuple[str, int, int]], workers: int) -> list[Sample]:
    if workers <= 1:
        return [_sample_job(j) for j in jobs]
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_sample_job, jobs, chunksize=4))


def _read(path: Path, key: list) -> list[Sample]:
    """The snapshots kept in ``path`` for ``key`` (none: no file, or one for another key)."""
    if not path.is_file():
        return []
    data = np.load(path)
    if json.loads(str(data["key"])) != key:
        return []
    bounds = np.cumsum(data["lengths"])[:-1]
    parts = (np.split(data[name], bounds) for name in ("x", "rsu", "beam"))
    return [Sample(x, rsu, beam) for x, rsu, beam in zip(*parts, strict=True)]


def _write(path: Path, samples: list[Sample], key: list) -> None:
    """Keep ``samples`` in ``path`` (written beside it, then renamed: never half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial.npz")
    np.savez_compressed(
        partial,
        key=json.dumps(key),
        lengths=[len(s.x) for s in samples],
        x=np.concatenate([s.x for s in samples]),
        rsu=np.concatenate([s.rsu for s in samples]),
        beam=np.concatenate([s.beam for s in samples]),
    )
    partial.replace(path)


def dataset(config: BilstmConfig, path: Path, workers: int = 1) -> list[Sample]:
    """The labelled snapshots of ``config`` (training ones first), kept in ``path``: saved
    every LABEL_CHUNK snapshots, so that an interrupted labelling resumes where it stopped,
    and read back when the file holds them for the same scenario, counts and data seed."""
    key = [
        config.scenario,
        config.samples,
        config.validation,
        config.data_seed,
        list(config.vehicles),
    ]
    total = config.samples + config.validation
    samples = _read(path, key)
    jobs = _jobs(config, total)
    while len(samples) < total:
        samples += _label(jobs[len(samples) : len(samples) + LABEL_CHUNK], workers)
        _write(path, samples, key)
    return samples


class BiLstm(nn.Module):
    """Bi-LSTM over the vehicle sequence -> dense ReLU -> one output row per vehicle."""

    def __init__(self, inputs: int, hidden: int, outputs: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(inputs, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Sequential(
            nn.Linear(2 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, outputs)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.lstm(x)[0])


@dataclass(frozen=True)
class BilstmConfig:
    scenario: str = "seed004"
    samples: int = 1200  # training snapshots (004: 10,000; ours bounded by the labels' cost)
    validation: int = 300  # held-out snapshots (004: 3,000)
    epochs: int = 100
    batch: int = 16
    assignment_hidden: int = 64
    beam_hidden: int = 128
    learning_rate: float = 1e-3
    seed: int = 0  # initial weights and batch order
    data_seed: int = 0  # the snapshots (one labelled set serves every training seed)
    vehicles: tuple[int, ...] = K_VALUES  # K of the snapshots, in turn


class BilstmNets:
    """The assignment and beam networks of one scenario's RSUs and array."""

    def __init__(self, features_per_vehicle: int, rsus: int, antennas: int, config: BilstmConfig):
        self.config, self.rsus, self.antennas = config, rsus, antennas
        self.assignment = BiLstm(features_per_vehicle, config.assignment_hidden, rsus)
        self.beam = BiLstm(features_per_vehicle + rsus, config.beam_hidden, 2 * antennas)

    def beam_input(self, x: torch.Tensor, rsu: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, nn.functional.one_hot(rsu, self.rsus).float()], dim=-1)

    @torch.no_grad()
    def predict(self, x: NDArray[np.float32]) -> tuple[NDArray[np.int64], NDArray]:
        """(RSU index per vehicle, (K, N) complex beams) for one sequence."""
        xt = torch.as_tensor(x)[None]
        rsu = self.assignment(xt).argmax(-1)
        out = self.beam(self.beam_input(xt, rsu))[0].numpy().astype(np.float64)
        n = self.antennas
        return rsu[0].numpy(), out[:, :n] + 1j * out[:, n:]

    def save(self, folder: Path, manifest: dict) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        torch.save(
            {
                "assignment": self.assignment.state_dict(),
                "beam": self.beam.state_dict(),
                "features": self.assignment.lstm.input_size,
                "rsus": self.rsus,
                "antennas": self.antennas,
                "config": asdict(self.config),
            },
            folder / CHECKPOINT_FILE,
        )
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")

    @staticmethod
    def load(folder: str | Path) -> BilstmNets:
        path = Path(folder) / CHECKPOINT_FILE
        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
            config = {**data["config"], "vehicles": tuple(data["config"]["vehicles"])}
            nets = BilstmNets(
                data["features"], data["rsus"], data["antennas"], BilstmConfig(**config)
            )
            nets.assignment.load_state_dict(data["assignment"])
            nets.beam.load_state_dict(data["beam"])
        except (OSError, RuntimeError, KeyError, TypeError) as exc:
            raise ValueError(f"cannot load the Bi-LSTM checkpoint {path}: {exc}") from None
        return nets


def _batches(samples: list[Sample], size: int, rng: np.random.Generator):
    """Shuffled batches of samples with the same K (no padding)."""
    by_k: dict[int, list[int]] = {}
    for i, s in enumerate(samples):
        by_k.setdefault(len(s.x), []).append(i)
    batches = []
    for indices in by_k.values():
        rng.shuffle(indices)
        batches += [indices[j : j + size] for j in range(0, len(indices), size)]
    rng.shuffle(batches)
    for batch in batches:
        chosen = [samples[i] for i in batch]
        yield (
            torch.as_tensor(np.stack([s.x for s in chosen])),
            torch.as_tensor(np.stack([s.rsu for s in chosen])),
            torch.as_tensor(np.stack([s.beam for s in chosen])),
        )


def validation_scores(nets: BilstmNets, samples: list[Sample]) -> dict[int, tuple[float, float]]:
    """Per K: (assignment accuracy over the vehicles, beam MSE with the true assignment as
    input, per real entry)."""
    out = {}
    with torch.no_grad():
        for k in sorted({len(s.x) for s in samples}):
            mine = [s for s in samples if len(s.x) == k]
            x = torch.as_tensor(np.stack([s.x for s in mine]))
            rsu = torch.as_tensor(np.stack([s.rsu for s in mine]))
            beam = torch.as_tensor(np.stack([s.beam for s in mine]))
            accuracy = (nets.assignment(x).argmax(-1) == rsu).float().mean().item()
            mse = nn.functional.mse_loss(nets.beam(nets.beam_input(x, rsu)), beam).item()
            out[k] = (accuracy, mse)
    return out


def fit(
    config: BilstmConfig,
    context: RadioContext,
    train_set: list[Sample],
    held_out: list[Sample],
    log_path: Path,
    progress: bool = False,
) -> tuple[BilstmNets, dict[int, tuple[float, float]]]:
    """Train both networks (Adam on cross-entropy + MSE, the heuristic's assignment fed to
    the beam network), writing the held-out accuracy and MSE per K after every epoch (004
    Figs. 5-6) to ``log_path``; the networks and the last scores."""
    torch.set_num_threads(1)
    torch.manual_seed(config.seed)
    nets = BilstmNets(
        train_set[0].x.shape[1], len(context.transmitters), context.num_antennas, config
    )
    optimiser = torch.optim.Adam(
        [*nets.assignment.parameters(), *nets.beam.parameters()], lr=config.learning_rate
    )
    rng = np.random.default_rng(config.seed)
    ks = sorted({len(s.x) for s in held_out})
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        log.write("epoch," + ",".join(f"accuracy_k{k},mse_k{k}" for k in ks) + "\n")
        for epoch in range(1, config.epochs + 1):
            for x, rsu, beam in _batches(train_set, config.batch, rng):
                loss = nn.functional.cross_entropy(
                    nets.assignment(x).reshape(-1, nets.rsus), rsu.reshape(-1)
                ) + nn.functional.mse_loss(nets.beam(nets.beam_input(x, rsu)), beam)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
            scores = validation_scores(nets, held_out)
            cells = ",".join(f"{scores[k][0]:.6g},{scores[k][1]:.6g}" for k in ks)
            log.write(f"{epoch},{cells}\n")
            log.flush()
            if progress:
                print(
                    f"epoch {epoch}: "
                    + ", ".join(f"K={k} acc {a:.3f} mse {m:.3g}" for k, (a, m) in scores.items())
                )
    return nets, scores


def train(
    config: BilstmConfig,
    out: Path,
    command: str,
    dataset_path: Path | None = None,
    workers: int = 1,
    progress: bool = False,
) -> dict:
    """Label the snapshots (or read them from ``dataset_path``, default ``out``/dataset.npz,
    where they are kept), :func:`fit` (log in ``out``/log.csv) and save the checkpoint with
    its manifest (command, seeds, counts, wall time, held-out scores) to
    ``out``/checkpoint."""
    started = time.monotonic()
    samples = dataset(config, dataset_path or out / "dataset.npz", workers)
    labelled_s = time.monotonic() - started
    context = RadioContext(resolve_scenario(config.scenario, scenarios_dir()))
    nets, scores = fit(
        config,
        context,
        samples[: config.samples],
        samples[config.samples :],
        out / "log.csv",
        progress,
    )
    manifest = {
        "command": command,
        "config": asdict(config),
        "seed": config.seed,
        "labelled_s": round(labelled_s, 1),
        "wall_s": round(time.monotonic() - started, 1),
        "validation": {str(k): {"accuracy": a, "mse": m} for k, (a, m) in scores.items()},
    }
    nets.save(out / "checkpoint", manifest)
    return manifest


def decide(
    nets: BilstmNets,
    context: RadioContext,
    vehicles: PredictedVehicles,
    rows: NDArray,
    power_w: float,
) -> tuple[NDArray[np.int64], dict[int, NDArray]]:
    """The networks' decision for ``vehicles``: (transmitting RSU of every vehicle, {RSU: its
    beams (N, K_r), scaled together to ``power_w``}) (``rows``: ``RadioContext.
    channel_rows``)."""
    order, x = features(context, vehicles, rows)
    rsu, predicted = nets.predict(x)
    tx = context.transmitters
    assignment = np.empty(len(vehicles), np.int64)
    assignment[order] = tx[rsu]
    beams = np.empty_like(predicted)
    beams[order] = predicted
    placed = {}
    for r in tx.tolist():
        w = beams[assignment == r].T  # (N, K_r)
        placed[r] = w * np.sqrt(power_w) / max(np.linalg.norm(w), 1e-300)
    return assignment, placed


class BilstmPolicy(Policy):
    """Policy ``bilstm``: the assignment network's RSU and the beam network's beam for every
    vehicle (:func:`decide`), each RSU's beams scaled to its power for communication; the
    sensing sweep as every policy."""

    def __init__(self, context: RadioContext, nets: BilstmNets, **options) -> None:
        self.nets = nets
        self._placed: dict[int, NDArray] = {}
        super().__init__("bilstm", context, **options)

    def _precoder(self) -> None:
        return None

    def _assign(self, vehicles, rows, theta, ranges, power_w):
        assignment, self._placed = decide(self.nets, self.context, vehicles, rows, power_w)
        return assignment

    def _communication(self, vehicles, mine, r, rows, theta, ranges, power_w):
        return self._placed[r]


def bilstm_policy(context: RadioContext, checkpoint: str | None = None, **options) -> Policy:
    """The ``bilstm`` policy with the networks of ``checkpoint`` (a folder of
    :meth:`BilstmNets.save`; default the shipped one, trained on seed004)."""
    nets = BilstmNets.load(checkpoint or SHIPPED_CHECKPOINT)
    rsus, antennas = len(context.transmitters), context.num_antennas
    if (nets.rsus, nets.antennas) != (rsus, antennas):
        raise ValueError(
            f"the Bi-LSTM checkpoint serves {nets.rsus} RSUs with {nets.antennas} antennas; "
            f"the scenario has {rsus} transmitting RSUs with {antennas}"
        )
    for name in ("assignment", "power_split"):
        if name in options and options[name] != Policy.__dataclass_fields__[name].default:
            raise ValueError(f"the bilstm policy decides the {name.replace('_', ' ')} itself")
    return BilstmPolicy(context, nets, **options)
