"""System energy of the camera schedules over RF SNR (``rsu-isac experiment aoi-energy``):
003's Fig. 5 (energy vs SNR per policy) in our setting; each row also keeps the sensing
MAE over time (003 Fig. 4).

Each (policy, RF SNR) runs the headless closed loop (``closed_loop.ClosedLoop``) on the
scenario with the sensing noise set by ``core.radar.with_rf_snr``, predictive MRT beams
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

# slots until the camera's temporal-median background window is full (a frame per slot)
WARMUP_SLOTS = DetectorConfig().warmup_frames


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
