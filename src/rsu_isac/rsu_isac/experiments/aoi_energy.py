"""System energy of the camera schedules over RF SNR (``rsu-isac aoi-energy``): 003's
Fig. 5 (energy vs SNR per policy) and Fig. 4 (sensing MAE over time) in our setting.

Each (policy, RF SNR) runs the headless closed loop (``closed_loop.ClosedLoop``) on the
scenario with the sensing noise set by ``closed_loop.with_rf_snr``, predictive MRT beams
and the real camera pipeline (rendered frames, ``perception.camera_detector``). Energy per
slot two ways: *model* = eq. (3)-(5) of 003 with P_misa of eq. (7) over the tracks (what the
scheduler optimises) and P_misa = 1 for each vehicle no confirmed track covers (known from
the ground truth: 003's K vehicles are always known), and *measured* = E_comp +
E_recovery x (vehicles the simulator found misaligned on the true channel, untracked ones
included). Both are averaged over the steady state, after ``warmup_slots`` (003 Fig. 3-5
are steady-state averages): by default the camera's background window, before which it
detects nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rsu_isac.core.scenario import Scenario
from rsu_isac.loop.closed_loop import EvalConfig, run_slots, summarize
from rsu_isac.perception.camera_detector import DetectorConfig

MAE_WINDOW_SLOTS = 25  # smoothing of the MAE-over-time panel
# slots until the camera's temporal-median background window is full (a frame per slot)
WARMUP_SLOTS = DetectorConfig().background_frames * DetectorConfig().background_stride


@dataclass(frozen=True)
class AoiEnergyRow:
    policy: str
    rf_snr_db: float
    energy_model_j: float  # eq. (3): E_comp + sum_k P_misa,k E_recovery, per slot
    energy_measured_j: float  # E_comp + E_recovery x misaligned vehicles, per slot
    energy_comp_j: float
    mean_misalignment_probability: float  # L_BMP of (9e), over slots
    misalignment_rate: float  # measured, per vehicle-slot
    camera_on_share: float  # slots with camera processing
    camera_ms_p50: float  # processing time of a processed frame
    sum_rate_bps_hz: float
    angle_mae_deg: list[float] = field(repr=False)  # per slot, warm-up included (nan: none)


def run(
    scenario: Scenario,
    policy: str,
    rf_snr_db: float,
    slots: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
    warmup_slots: int = WARMUP_SLOTS,
) -> AoiEnergyRow:
    """``slots`` steady-state slots after ``warmup_slots`` (run, not averaged)."""
    config = EvalConfig(
        policy="predictive_mrt",
        slots=warmup_slots + slots,
        seed=seed,
        abstraction="measurement",
        aoi_policy=policy,
        rf_snr_db=rf_snr_db,
    )
    _, everything = run_slots(scenario, config, progress)
    records = everything[warmup_slots:]
    summary = summarize(records)
    camera = [r["camera_ms"] for r in records if r["camera_ms"] > 0]
    return AoiEnergyRow(
        policy=policy,
        rf_snr_db=rf_snr_db,
        energy_model_j=summary["energy_model_j_per_slot"],
        energy_measured_j=summary["energy_j_per_slot"],
        energy_comp_j=summary["energy_comp_j_per_slot"],
        mean_misalignment_probability=summary["mean_misalignment_probability"],
        misalignment_rate=summary["misalignment_rate"],
        camera_on_share=float(np.mean([r["camera_ms"] > 0 for r in records])),
        camera_ms_p50=float(np.median(camera)) if camera else 0.0,
        sum_rate_bps_hz=summary["sum_rate_bps_hz"],
        angle_mae_deg=[r["angle_mae_deg"] for r in everything],
    )


def plot(rows: list[AoiEnergyRow], mae_snr_db: float, slot_s: float, path) -> None:
    """Energy vs RF SNR per policy (model solid, measured dashed; 003 Fig. 5) beside the
    angle MAE over time at ``mae_snr_db`` (003 Fig. 4)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for i, policy in enumerate(dict.fromkeys(r.policy for r in rows)):
        mine = sorted((r for r in rows if r.policy == policy), key=lambda r: r.rf_snr_db)
        snr = [r.rf_snr_db for r in mine]
        colour = f"C{i}"
        left.plot(snr, [r.energy_model_j for r in mine], "o-", color=colour, label=policy)
        left.plot(snr, [r.energy_measured_j for r in mine], "s--", color=colour, alpha=0.6)
        at = [r for r in mine if r.rf_snr_db == mae_snr_db]
        if at:
            mae = np.asarray(at[0].angle_mae_deg, dtype=float)
            t = np.arange(1, len(mae) + 1) * slot_s
            label = policy if np.isfinite(mae).any() else f"{policy} (no confirmed track)"
            right.plot(t, mae, color=colour, alpha=0.25)
            right.plot(t, _moving_mean(mae, MAE_WINDOW_SLOTS), color=colour, label=label)
    left.set(xlabel="RF SNR [dB]", ylabel="system energy per slot [J]")
    left.set_title("energy: model eq. (3)-(7) solid, measured sweeps dashed")
    left.legend()
    left.grid(alpha=0.3)
    right.set(xlabel="time [s]", ylabel="angle MAE of confirmed tracks [deg]", yscale="log")
    right.set_title(
        f"angle MAE at RF SNR {mae_snr_db:g} dB ({MAE_WINDOW_SLOTS}-slot mean; per slot faint)"
    )
    right.legend()
    right.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _moving_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over the finite values of the last ``window`` slots (NaN if none)."""
    finite = np.isfinite(values)
    sums = np.convolve(np.where(finite, values, 0.0), np.ones(window))[: len(values)]
    counts = np.convolve(finite.astype(float), np.ones(window))[: len(values)]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)
