"""AoI scheduler: which tracks the camera refreshes next slot (003 Sec. II, problem (9)).

Per confirmed track k in slot n (all from ``core.aoi`` and ``core.array``):

- semantic AoI A_k(n) in slots: the tracker's time since the last camera fix (eq. (6):
  T_proc after a fix, +1 per slot without);
- beta_k from the track's one-slot angle-variance growth over the squared beam half-width
  (``core.aoi.uncertainty_rate``), P_misa,k = 1 - exp(-beta_k A_k) (eq. (7));
- E_comp = e_vis sum_k pi_k (eq. (4)), E_sweep = E_recovery sum_k P_misa,k (eq. (5)).

Policies (``SCHEDULER_POLICIES``): ``radar_only`` (pi = 0), ``vision_only`` (pi = 1: every
track, and the whole road, every slot), ``threshold`` (event-triggered: pi_k = 1 when the
next slot's P_misa,k(A_k + 1) would exceed ``risk_threshold`` (default Gamma_misa of (9e)), A_k + 1
would exceed A_max of (9d), or the track has been coasting - the radar held it and lost it -
COASTING_TRIGGER_SLOTS slots in a row; a camera-held track the radar does not see is not
coasting, ``core.tracker``), ``lstm`` (the temporal expert of RL-H-MoE, a checkpoint from
the learning stage; :mod:`rsu_isac.scheduling.lstm_expert`). Except for ``radar_only``, the
camera also scans the whole road (a disc covering the road among the regions), so that it
finds vehicles no track covers yet: first at once, then after the period of
:meth:`AoiScheduler.scan_period_slots`, at most A_max slots ((9d) for a vehicle no track
covers).

The scan period is our addition (003's K vehicles are known). Vehicles the radar does not
acquire arrive at some rate lambda per slot; each costs E_recovery per slot until a scan
finds it, so a period of P slots costs E_full / P + lambda P E_recovery / 2 per slot, least at
P* = sqrt(2 E_full / (lambda E_recovery)) (the square-root law of the economic order
quantity, Harris 1913). lambda is estimated as the new tracks that appear in the
SCAN_FINDS_SLOTS slots after each of the last SCAN_MEMORY scans over the slots between
them: about the arrival rate where the radar finds nothing (low SNR; on seed003 a scan
every 9-15 slots at 0 dB), near zero where it finds every arrival (P -> A_max).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from rsu_isac.core.aoi import (
    aoi_next,
    computation_energy_j,
    misalignment_probability,
    sweep_energy_j,
    uncertainty_rate,
)
from rsu_isac.core.array import half_power_halfwidth_rad
from rsu_isac.core.scenario import AoiConfig, Scenario
from rsu_isac.core.tracker import COASTING, TrackView

SCHEDULER_POLICIES = ("radar_only", "vision_only", "threshold", "lstm", "hmoe")
# the policies whose schedule a temporal expert samples (scheduling.lstm_expert, which
# imports torch: this module does not, so that the nodes that only convert tracks start fast)
EXPERT_POLICIES = ("lstm", "hmoe")
REGION_SIGMAS = 3.0  # a region covers the predicted position +- this many std deviations
REGION_MARGIN_M = 7.0  # plus half a truck's length: the box must be in the region
# threshold policy: a track the radar has missed this many slots in a row gets the camera
# (the AoI model of eq. (7) assumes the radar keeps reporting; a lost radar track is the
# misalignment it does not see coming)
COASTING_TRIGGER_SLOTS = 2
# scan period (module docstring): a track first seen within this many slots after a scan is
# one of its finds (the frame is processed the slot after the decision, the tracks reach the
# scheduler a slot later); the discovery rate averages over this many scans
SCAN_FINDS_SLOTS = 3
SCAN_MEMORY = 8


def coasting_slots(status: NDArray, misses: NDArray) -> NDArray[np.int64]:
    """Slots each COASTING track has gone unmeasured, 0 for the others."""
    return np.where(np.asarray(status) == COASTING, np.asarray(misses), 0).astype(np.int64)


def largest_std_m(position_covariance: NDArray) -> NDArray[np.float64]:
    """sqrt of the largest eigenvalue of each (..., 2, 2) position covariance [m]: the
    uncertainty a camera region has to cover."""
    return np.sqrt(np.abs(np.linalg.eigvalsh(position_covariance)[..., -1]))


def frame_energy_j(scheduled: NDArray[np.bool_], scan: bool, config: AoiConfig) -> float:
    """E_comp of one camera frame: a whole-road frame processes every vehicle's visual data,
    ``full_frame_energy_j`` (003 Sec. V: 40 J/slot for continuous activation, 4 vehicles x
    e_vis); a frame of scheduled regions pays e_vis per scheduled track (eq. (4)), at most
    the whole frame's cost."""
    if scan:
        return config.full_frame_energy_j
    return min(computation_energy_j(scheduled, config.vision_energy_j), config.full_frame_energy_j)


@dataclass(frozen=True)
class TrackAoiInputs:
    """What the scheduler needs of the confirmed tracks (arrays over tracks)."""

    track_id: NDArray[np.int64]
    azimuth_rad: NDArray[np.float64]
    angle_variance_rad2: NDArray[np.float64]  # now
    predicted_angle_variance_rad2: NDArray[np.float64]  # one slot ahead, no measurement
    # (T, 2) road frame [m]: where the camera looks for the track next slot (the one-slot
    # prediction, or the position: REGION_MARGIN_M covers a slot of motion)
    look_at_xy: NDArray[np.float64]
    position_std_m: NDArray[np.float64]  # sqrt of the largest position variance [m]
    aoi_s: NDArray[np.float64]  # time since the last camera fix [s]
    # slots a COASTING track has gone unmeasured (0 for a confirmed one, camera-held
    # included: the radar missing a track it never held is no news)
    coasting_slots: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.track_id.size)

    @staticmethod
    def from_view(view: TrackView, keep: NDArray[np.bool_]) -> TrackAoiInputs:
        """The rows ``keep`` of a tracker snapshot."""
        return TrackAoiInputs(
            view.track_id[keep],
            view.polar[keep, 0],
            view.polar_covariance[keep, 0, 0],
            view.predicted_polar_covariance[keep, 0, 0],
            view.predicted_position_xy[keep],
            largest_std_m(view.position_covariance[keep]),
            view.aoi_s[keep],
            coasting_slots(view.status[keep], view.misses[keep]),
        )


@dataclass(frozen=True)
class Schedule:
    """The decision for the next slot and the AoI state of this one."""

    slot: int
    policy: str
    track_id: NDArray[np.int64]
    scheduled: NDArray[np.bool_]  # pi_k for the next slot
    aoi_slots: NDArray[np.float64]  # A_k(n)
    uncertainty_rate: NDArray[np.float64]  # beta_k [1/slot]
    misalignment: NDArray[np.float64]  # P_misa,k(n), eq. (7)
    # (S, 2), (S,): the scheduled tracks' regions, then the whole road on a scan slot
    region_centres_xy: NDArray[np.float64]
    region_radii_m: NDArray[np.float64]
    scan: bool  # the camera also looks at the whole road (vision_only; discovery slots)
    energy_comp_j: float  # E_comp of this schedule's frame (:func:`frame_energy_j`)
    energy_sweep_j: float  # eq. (5) of this slot
    slot_s: float  # slot duration [s]

    @property
    def camera_on(self) -> bool:
        return bool(self.scheduled.any()) or self.scan

    @property
    def energy_total_j(self) -> float:
        """eq. (3)."""
        return self.energy_comp_j + self.energy_sweep_j

    @property
    def mean_misalignment(self) -> float:
        """L_BMP(n) of (9e)."""
        return float(self.misalignment.mean()) if self.misalignment.size else 0.0


class AoiScheduler:
    """Decides the camera schedule of one RSU's tracks each slot."""

    def __init__(
        self,
        scenario: Scenario,
        policy: str = "threshold",
        risk_threshold: float | None = None,
        expert=None,
    ) -> None:
        if policy not in SCHEDULER_POLICIES:
            raise ValueError(
                f"unknown AoI policy '{policy}'; valid: {', '.join(SCHEDULER_POLICIES)}"
            )
        if policy in EXPERT_POLICIES and expert is None:
            raise ValueError(
                f"AoI policy '{policy}' needs a trained temporal expert (a checkpoint)"
            )
        self.scenario = scenario
        self.policy = policy
        self.config = scenario.aoi
        self.risk_threshold = (
            self.config.max_misalignment if risk_threshold is None else risk_threshold
        )
        if not 0.0 < self.risk_threshold <= 1.0:
            raise ValueError(f"risk_threshold must be in (0, 1], got {self.risk_threshold:g}")
        self.expert = expert
        self._num_tx = scenario.radio.array.num_tx_antennas
        road = scenario.road
        lanes = [lane.y_m for lane in road.lanes]
        self._road_centre = np.array([(road.x_min_m + road.x_max_m) / 2, np.mean(lanes)])
        half_width = (max(lanes) - min(lanes)) / 2 + road.lane_width_m
        self._road_radius = float(np.hypot(road.length_m / 2, half_width))
        self._spacing = scenario.radio.array.spacing_wavelengths
        # whole-road scans: [slot, slots since the previous scan, new tracks found after it]
        self._scans: deque[list[int]] = deque(maxlen=SCAN_MEMORY + 1)
        self._track_ids: set[int] = set()

    def scan_period_slots(self) -> int:
        """P* = sqrt(2 E_full / (lambda E_recovery)) in slots, in [1, A_max]; lambda = new
        tracks found after the last SCAN_MEMORY scans / the slots before them (module
        docstring); A_max while no scan found anything."""
        a_max = max(int(self.config.max_aoi_slots), 1)
        history = [(gap, finds) for _, gap, finds in self._scans if gap > 0]
        slots = sum(gap for gap, _ in history)
        rate = sum(finds for _, finds in history) / slots if slots else 0.0
        if rate <= 0.0:
            return a_max
        best = np.sqrt(2 * self.config.full_frame_energy_j / (rate * self.config.recovery_energy_j))
        return int(np.clip(np.round(best), 1, a_max))

    def _scan(self, track_id: NDArray[np.int64], slot: int) -> bool:
        """Whether the camera scans the whole road next slot; counts the last scan's finds."""
        if self.policy in ("vision_only", "radar_only"):
            return self.policy == "vision_only"
        ids = set(track_id.tolist())
        if self._scans and slot - self._scans[-1][0] <= SCAN_FINDS_SLOTS:
            self._scans[-1][2] += len(ids - self._track_ids)  # ids are never reused
        self._track_ids = ids
        last = self._scans[-1][0] if self._scans else None
        if last is not None and slot - last < self.scan_period_slots():
            return False
        self._scans.append([slot, 0 if last is None else slot - last, 0])
        return True

    def state(self, tracks: TrackAoiInputs) -> tuple[NDArray, NDArray, NDArray]:
        """Per track: A_k(n) in slots (eq. (6)), beta_k [1/slot] and P_misa,k(n) (eq. (7))."""
        aoi = np.maximum(tracks.aoi_s / self.scenario.slot_s, 0.0)
        halfwidth = half_power_halfwidth_rad(tracks.azimuth_rad, self._num_tx, self._spacing)
        beta = uncertainty_rate(
            tracks.predicted_angle_variance_rad2 - tracks.angle_variance_rad2, halfwidth
        )
        return aoi, beta, misalignment_probability(beta, aoi)

    def decide(self, tracks: TrackAoiInputs, slot: int) -> Schedule:
        aoi, beta, p_now = self.state(tracks)
        scheduled = self._policy(tracks, aoi, beta)
        scan = self._scan(tracks.track_id, slot)
        centres = tracks.look_at_xy[scheduled].reshape(-1, 2)
        radii = REGION_SIGMAS * tracks.position_std_m[scheduled] + REGION_MARGIN_M
        if scan:
            centres = np.vstack([centres, self._road_centre])
            radii = np.append(radii, self._road_radius)
        return Schedule(
            slot=slot,
            policy=self.policy,
            track_id=tracks.track_id,
            scheduled=scheduled,
            aoi_slots=aoi,
            uncertainty_rate=beta,
            misalignment=p_now,
            region_centres_xy=centres,
            region_radii_m=radii,
            scan=scan,
            energy_comp_j=frame_energy_j(scheduled, scan, self.config),
            energy_sweep_j=sweep_energy_j(p_now, self.config.recovery_energy_j),
            slot_s=self.scenario.slot_s,
        )

    def _policy(self, tracks: TrackAoiInputs, aoi: NDArray, beta: NDArray) -> NDArray[np.bool_]:
        n = len(tracks)
        if self.policy == "radar_only":
            return np.zeros(n, dtype=bool)
        if self.policy == "vision_only":
            return np.ones(n, dtype=bool)
        if self.policy == "threshold":
            unrefreshed = aoi_next(aoi, np.zeros(n, dtype=bool), self.config.processing_delay_slots)
            risk = misalignment_probability(beta, unrefreshed)
            return (
                (risk > self.risk_threshold)
                | (unrefreshed > self.config.max_aoi_slots)
                | (tracks.coasting_slots >= COASTING_TRIGGER_SLOTS)
            )
        return self.expert.schedule(
            tracks.track_id,
            aoi,
            beta,
            misalignment_probability(beta, aoi),
            tracks.coasting_slots,
        )
