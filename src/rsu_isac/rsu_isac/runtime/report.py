"""End-of-run report of a closed-loop run on ROS (``rsu-isac sim``): what the recorder
collected per slot, turned into ``report.json`` and PNG plots. Pure Python: the recorder
(rsu_isac.runtime.bringup) fills a :class:`RunRecord` from messages."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rsu_isac.core.aoi import sweep_energy_j
from rsu_isac.core.array import beam_pattern
from rsu_isac.core.channel import energy_efficiency_bit_per_j
from rsu_isac.core.scenario import Scenario
from rsu_isac.core.track_metrics import tracked_vehicles, tracking_errors, tracking_summary
from rsu_isac.sim.world import omni_beams


@dataclass
class TrackSnapshot:
    """Confirmed tracks of one RSU after one slot (arrays over tracks)."""

    rsu_index: int
    polar: np.ndarray  # (T, 3)
    pcrb: np.ndarray  # (T, 2): angle, range
    position_xy: np.ndarray  # (T, 2)
    aoi_s: np.ndarray  # (T,)
    track_id: np.ndarray  # (T,)


@dataclass
class RunRecord:
    """Everything the recorder keeps, by slot."""

    sum_rate: dict[int, float] = field(default_factory=dict)
    fairness: dict[int, float] = field(default_factory=dict)
    misaligned: dict[int, int] = field(default_factory=dict)
    late_command: dict[int, bool] = field(default_factory=dict)
    energy_comp_j: dict[int, float] = field(default_factory=dict)  # camera/detections
    # aoi/state: L_BMP of (9e) per slot
    mean_misalignment_probability: dict[int, float] = field(default_factory=dict)
    truth_xy: dict[int, np.ndarray] = field(default_factory=dict)
    truth_velocity: dict[int, np.ndarray] = field(default_factory=dict)
    tracks: dict[tuple[int, int], TrackSnapshot] = field(default_factory=dict)  # (slot, rsu)
    # node: timing series ("processing", "compute", traffic_sim's "loop"): (p50, p99) [ms]
    latency_ms: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)  # node: topic: count
    errors: dict[str, dict[str, int]] = field(default_factory=dict)  # contained exceptions
    arrival_s: dict[int, float] = field(default_factory=dict)  # monotonic wall clock of the score
    last_beams: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # weights, powers, rsu
    transmit_w: dict[int, float] = field(default_factory=dict)  # command slot: total power
    command_of: dict[int, int] = field(default_factory=dict)  # scored slot: its command's slot
    cpm_objects: dict[tuple[int, int], int] = field(default_factory=dict)  # (slot, rsu): sent


def summarize(record: RunRecord, scenario: Scenario, meta: dict[str, object]) -> dict[str, object]:
    """The report.json content."""
    slots = sorted(record.sum_rate)
    errors = [
        tracking_errors(
            scenario.rsus[rsu].position_m,
            snap.polar,
            snap.pcrb,
            snap.position_xy,
            record.truth_xy[slot],
            record.truth_velocity[slot],
            scenario.rsus[scenario.illuminator(rsu)].position_m,
        )
        for (slot, rsu), snap in record.tracks.items()
        if slot in record.truth_xy
    ]
    err = np.concatenate(errors) if errors else np.zeros((0, 4))
    tracked = [_tracked(record, slot, scenario) for slot in slots[1:] if slot in record.truth_xy]
    vehicles = sum(len(record.truth_xy.get(s, ())) for s in slots)
    aoi = [a for snap in record.tracks.values() for a in snap.aoi_s.tolist()]
    energy = slot_energy_j(record, scenario, slots)
    comp = sum(record.energy_comp_j.values()) / len(slots) if slots else 0.0

    def mean(values) -> float:
        return float(np.mean(values)) if len(values) else float("nan")

    return {
        **meta,
        "slots_scored": len(slots),
        "sum_rate_bps_hz": mean([record.sum_rate[s] for s in slots]),
        "jain_fairness": mean([record.fairness[s] for s in slots]),
        **energy_efficiency(record, scenario, slots),
        **tracking_summary(err),
        # NaN without ground truth (a bag from real sensors): nothing to compare with
        "tracked_vehicle_share": (
            sum(t for t, _ in tracked) / sum(n for _, n in tracked)
            if sum(n for _, n in tracked)
            else math.nan
        ),
        "tracks": track_counts(record),
        "mean_aoi_s": mean(aoi),
        "energy_j_per_slot": mean(energy) + comp,
        "energy_comp_j_per_slot": comp,
        "mean_misalignment_probability": mean(list(record.mean_misalignment_probability.values())),
        "misalignment_rate": sum(record.misaligned.values()) / vehicles if vehicles else 0.0,
        "late_or_lost_commands": int(sum(record.late_command.get(s, False) for s in slots[1:])),
        "steady_slots_per_s": steady_rate(record.arrival_s),
        "node_latency_ms": {
            n: {
                (q if name == "processing" else f"{name}_{q}"): value
                for name, pair in series.items()
                for q, value in zip(("p50", "p99"), pair, strict=True)
            }
            for n, series in sorted(record.latency_ms.items())
        },
        "collective_perception": cpm_summary(record, scenario, len(slots)),
        "dropped_messages": record.dropped,
        "node_errors": {n: sum(c.values()) for n, c in sorted(record.errors.items())},
    }


def energy_efficiency(record: RunRecord, scenario: Scenario, slots) -> dict[str, float]:
    """001's energy efficiency per scored slot on the command it was scored with, as
    ``rsu-isac eval`` reports it (core.channel.energy_efficiency_bit_per_j, P_c per
    transmitting RSU), and the mean transmit power; NaN where no command was seen."""
    radio = scenario.radio
    # before the first command (command slot 0) the simulator radiates its omni beams
    sent = {0: float(omni_beams(scenario).powers_w.sum()), **record.transmit_w}
    scored = [s for s in slots if record.command_of.get(s) in sent]
    power = [sent[record.command_of[s]] for s in scored]
    ee = energy_efficiency_bit_per_j(
        [record.sum_rate[s] for s in scored],
        radio.bandwidth_hz,
        power,
        radio.pa_efficiency,
        radio.circuit_power_w * len(scenario.transmitters()),
    )
    return {
        "energy_efficiency_mbit_per_j": float(np.mean(ee)) / 1e6 if scored else math.nan,
        "transmit_power_w": float(np.mean(power)) if scored else math.nan,
    }


def track_counts(record: RunRecord) -> dict[str, float]:
    """What is known of the tracks without ground truth: track frames received, confirmed
    tracks per frame (mean and largest) and distinct confirmed track ids, over all RSUs."""
    per_frame = [len(snap.track_id) for snap in record.tracks.values()]
    ids = {(snap.rsu_index, int(i)) for snap in record.tracks.values() for i in snap.track_id}
    return {
        "track_frames": len(per_frame),
        "confirmed_per_frame_mean": float(np.mean(per_frame)) if per_frame else math.nan,
        "confirmed_per_frame_max": max(per_frame, default=0),
        "distinct_confirmed_tracks": len(ids),
    }


def cpm_summary(record: RunRecord, scenario: Scenario, slots: int) -> dict[str, float]:
    """What the RSUs' CPMs (core.cpm) cost: messages and objects sent per simulated second,
    against sending every confirmed track at the rules' fastest rate (10 Hz)."""
    seconds = slots * scenario.slot_s
    tracks = [len(snap.position_xy) for snap in record.tracks.values()]  # per (slot, RSU)
    every = float(np.sum(tracks)) / max(slots, 1) * 10.0  # tracks per slot, at 10 Hz
    sent = sum(record.cpm_objects.values())
    return {
        "messages_per_s": len(record.cpm_objects) / seconds if seconds else math.nan,
        "objects_per_s": sent / seconds if seconds else math.nan,
        "objects_per_s_every_track_at_10_hz": every,
    }


STEADY_AFTER = 0.1  # the steady-state rate leaves out this share of the slots (start-up)


def steady_rate(arrival_s: dict[int, float]) -> float:
    """Slots per wall-clock second from the scores' arrival times, after the first
    STEADY_AFTER of the run (NaN with fewer than 10 slots)."""
    slots = sorted(arrival_s)
    if len(slots) < 10:
        return math.nan
    first = slots[int(STEADY_AFTER * len(slots))]
    span = arrival_s[slots[-1]] - arrival_s[first]
    return (slots[-1] - first) / span if span > 0 else math.nan


def slot_energy_j(record: RunRecord, scenario: Scenario, slots) -> list[float]:
    """Beam-recovery energy of each slot (003 eq. (5)): every misaligned vehicle of the slot
    costs one sweep (misalignment probability 1 where it happened)."""
    return [
        sweep_energy_j(np.ones(record.misaligned[s]), scenario.aoi.recovery_energy_j) for s in slots
    ]


def _tracked(record: RunRecord, slot: int, scenario: Scenario) -> tuple[int, int]:
    """(vehicles with a confirmed track of some RSU within TRUTH_GATE_M, vehicles) of a slot."""
    truth = record.truth_xy[slot]
    tracks = [s.position_xy for (n, _), s in record.tracks.items() if n == slot]
    xy = np.concatenate(tracks) if tracks else np.zeros((0, 2))
    return int(np.sum(tracked_vehicles(truth, xy))), len(truth)


def json_safe(value: object) -> object:
    """``value`` with every NaN or infinite float replaced by None (JSON has no NaN: strict
    parsers such as jq and browsers reject it)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def save_report(summary: dict[str, object], out: Path) -> None:
    """``out``/report.json: strict JSON (NaN written as null)."""
    text = json.dumps(json_safe(summary), indent=2, allow_nan=False)
    (out / "report.json").write_text(text + "\n")


def write_report(
    summary: dict[str, object], record: RunRecord, scenario: Scenario, out: Path
) -> None:
    """report.json and the plots of a run (also of a run that scored no slot)."""
    out.mkdir(parents=True, exist_ok=True)
    save_report(summary, out)
    plot_all(record, scenario, out)


def plot_all(record: RunRecord, scenario: Scenario, out: Path) -> None:
    """rates.png, tracks.png, aoi_energy.png, beams.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for plot in (_plot_rates, _plot_tracks, _plot_aoi_energy, _plot_beams):
        fig, name = plot(plt, record, scenario)
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)


def _plot_rates(plt, record: RunRecord, scenario: Scenario):
    slots = np.array(sorted(record.sum_rate))
    t = slots * scenario.slot_s
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(t, [record.sum_rate[s] for s in slots], label="sum rate")
    ax.set_xlabel("time [s]")
    ax.set_ylabel("sum rate [bit/s/Hz]")
    ax2 = ax.twinx()
    ax2.plot(t, [record.fairness[s] for s in slots], "g--", alpha=0.6)
    ax2.set_ylabel("Jain fairness (dashed)")
    ax2.set_ylim(0, 1.05)
    ax.set_title("link on the true channel")
    return fig, "rates.png"


def _plot_tracks(plt, record: RunRecord, scenario: Scenario):
    fig, ax = plt.subplots(figsize=(9, 4))
    if record.truth_xy:
        truth = np.concatenate(list(record.truth_xy.values()))
        ax.plot(truth[:, 0], truth[:, 1], ",", color="0.5", label="ground truth")
    for r, rsu in enumerate(scenario.rsus):
        snaps = [s for (_, i), s in record.tracks.items() if i == r]
        if snaps:
            xy = np.concatenate([s.position_xy for s in snaps])
            ax.plot(xy[:, 0], xy[:, 1], ".", ms=2, label=f"confirmed tracks, {rsu.name}")
        ax.plot(*rsu.position_m, "k^", ms=9)
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(fontsize=7, markerscale=4)
    ax.set_title("tracks vs truth on the road (RSUs: triangles)")
    return fig, "tracks.png"


def _plot_aoi_energy(plt, record: RunRecord, scenario: Scenario):
    slots = np.array(sorted(record.sum_rate))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    by_slot: dict[int, list[float]] = {}
    for (slot, _), snap in record.tracks.items():
        by_slot.setdefault(slot, []).extend(snap.aoi_s.tolist())
    aoi_slots = sorted(by_slot)
    axes[0].plot(
        np.array(aoi_slots) * scenario.slot_s, [np.mean(by_slot[s] or [0]) for s in aoi_slots]
    )
    axes[0].set_title("mean semantic AoI of the tracks [s]")
    t = slots * scenario.slot_s
    sweeps = np.array(slot_energy_j(record, scenario, slots))
    comp = np.array([record.energy_comp_j.get(int(s), 0.0) for s in slots])
    axes[1].stackplot(t, comp, sweeps, labels=["camera E_comp (eq. (4))", "sweeps (eq. (5))"])
    axes[1].set_title("system energy per slot [J] (003 eq. (3))")
    axes[1].legend(loc="upper right", fontsize=8)
    for a in axes:
        a.set_xlabel("time [s]")
    return fig, "aoi_energy.png"


def _plot_beams(plt, record: RunRecord, scenario: Scenario):
    fig, ax = plt.subplots(figsize=(8, 3.5))
    theta = np.linspace(0, np.pi, 721)
    if record.last_beams is not None:
        weights, powers, rsu = record.last_beams
        spacing = scenario.radio.array.spacing_wavelengths
        n = weights.shape[1]
        for w, p, r in zip(weights, powers, rsu, strict=True):
            gain = p * n * beam_pattern(theta, w, spacing)
            style = "-" if r == 0 else "--"
            ax.plot(np.degrees(theta), 10 * np.log10(np.maximum(gain, 1e-12)), style, lw=0.8)
        ax.set_ylim(bottom=10 * np.log10(max(powers.max(), 1e-12) * n) - 30)
    ax.set_xlabel("theta [deg]")
    ax.set_ylabel("p N |a^H w|^2 [dB W]")
    ax.set_title("beam patterns of the last command (dashed: second RSU)")
    return fig, "beams.png"
