"""Multi-target tracking scores against ground truth (simulator and metrics side only):
track purity, identity switches and confirmation latency.

Definitions (per slot, from which vehicle produced each detection and which track took it):

* purity: over every track that was ever confirmed, the share of its detections that came
  from its most frequent vehicle (detection-weighted);
* identity switch: a vehicle's detection goes to a confirmed track other than the confirmed
  track that last held it; normalised per 1000 confirmed track-slots;
* confirmation latency: slots from the first slot a vehicle was detectable (produced a
  detection before any drop) to the first slot a confirmed track held its detection.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rsu_isac.core.geometry import echo_polar

TRUTH_GATE_M = 3.0  # a track farther than this from every vehicle is not scored


@dataclass
class TrackScorer:
    """Accumulates one RSU's association outcome slot by slot."""

    _counts: dict[int, Counter] = field(default_factory=lambda: defaultdict(Counter))
    _last_track: dict[int, int] = field(default_factory=dict)
    _first_seen: dict[int, int] = field(default_factory=dict)
    _confirmed_at: dict[int, int] = field(default_factory=dict)
    _ever_confirmed: set[int] = field(default_factory=set)
    switches: int = 0
    confirmed_track_slots: int = 0

    def add(
        self,
        slot: int,
        detectable_vehicle_ids: NDArray[np.int64],
        detection_vehicle_ids: NDArray[np.int64],
        detection_track_ids: NDArray[np.int64],
        confirmed_track_ids: NDArray[np.int64],
    ) -> None:
        """One slot: vehicles that produced a detection (before any drop), the vehicle and
        the track (-1: none) of each detection given to the tracker, and the ids of the
        tracks confirmed after the update."""
        for v in np.asarray(detectable_vehicle_ids).tolist():
            self._first_seen.setdefault(v, slot)
        confirmed = set(np.asarray(confirmed_track_ids).tolist())
        self._ever_confirmed |= confirmed
        self.confirmed_track_slots += len(confirmed)
        for v, t in zip(
            np.asarray(detection_vehicle_ids).tolist(),
            np.asarray(detection_track_ids).tolist(),
            strict=True,
        ):
            if t < 0:
                continue
            self._counts[t][v] += 1
            if t not in confirmed:
                continue
            self._confirmed_at.setdefault(v, slot)
            last = self._last_track.get(v)
            if last is not None and last != t:
                self.switches += 1
            self._last_track[v] = t

    @property
    def purity(self) -> float:
        tracks = [self._counts[t] for t in self._ever_confirmed if t in self._counts]
        total = sum(sum(c.values()) for c in tracks)
        return sum(max(c.values()) for c in tracks) / total if total else float("nan")

    @property
    def switches_per_1000_track_slots(self) -> float:
        return 1000.0 * self.switches / max(self.confirmed_track_slots, 1)

    def confirmation_latency_slots(self, last_slot: int, window: int) -> NDArray[np.float64]:
        """Per vehicle first detectable at least ``window`` slots before ``last_slot`` (later
        ones are censored: the run ended before they could be judged); inf if it was never
        confirmed."""
        return np.array(
            [
                self._confirmed_at.get(v, np.inf) - first
                for v, first in sorted(self._first_seen.items())
                if first <= last_slot - window
            ],
            dtype=float,
        )


def tracking_errors(
    rsu_xy: ArrayLike,
    track_polar: NDArray,
    track_bounds: NDArray,
    track_xy: NDArray,
    truth_xy: NDArray,
    truth_velocity: NDArray,
    illuminator_xy: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """Rows (angle error^2 [rad^2], range error^2 [m^2], *bounds) of the tracks (polar (T,
    3), bounds (T, 2 B): B bounds' (angle, range) variances, road position (T, 2)) against
    the nearest true vehicle within TRUTH_GATE_M (its echo's polar state at ``rsu_xy``
    lit from ``illuminator_xy``, core.geometry.echo_polar; None: monostatic)."""
    bounds = np.asarray(track_bounds, dtype=float)
    if not len(track_xy) or not len(truth_xy):
        return np.zeros((0, 2 + bounds.shape[-1]))
    source = rsu_xy if illuminator_xy is None else illuminator_xy
    truth = echo_polar(rsu_xy, source, truth_xy, truth_velocity)
    dist = np.linalg.norm(np.asarray(track_xy)[:, None] - np.asarray(truth_xy)[None], axis=-1)
    nearest = np.argmin(dist, axis=1)
    near = dist[np.arange(len(nearest)), nearest] <= TRUTH_GATE_M
    idx = nearest[near]
    return np.column_stack(
        [
            (track_polar[near, 0] - truth.theta_rad[idx]) ** 2,
            (track_polar[near, 1] - truth.range_m[idx]) ** 2,
            bounds[near],
        ]
    )


GROSS_ERROR_SIGMAS = 10.0  # an error beyond this many sqrt(PCRB) is a gross error
BOUND_NAMES = ("pcrb", "deterministic_pcrb")  # the bound columns of tracking_errors, in order
ERROR_COLUMNS = 2 + 2 * len(BOUND_NAMES)  # tracking_errors' columns with both bounds


def tracking_summary(rows: NDArray) -> dict[str, float]:
    """Accuracy over rows of :func:`tracking_errors` whose bound columns are those of
    BOUND_NAMES (the first, or both):

    - ``angle_rmse_deg``, ``range_rmse_m``: over every row;
    - ``sqrt_pcrb_angle_deg``, ``sqrt_pcrb_range_m``: sqrt of the mean PCRB over them;
    - ``{angle,range}_rmse_over_sqrt_{bound}``: sqrt(mean(e^2 / bound)) over the rows without
      a gross error, each row normalised by its own bound (the bounds of a highway's tracks
      span four orders of magnitude, so that sqrt(mean e^2) / sqrt(mean bound) weighs a few
      tracks only): >= 1 where the bound's model holds (1: efficient), < 1 where the truth
      is more regular than the bound assumes;
    - ``gross_error_share``: rows whose angle or range error exceeds GROSS_ERROR_SIGMAS x
      sqrt(PCRB) - a track that took another vehicle's detection (vehicles that overlap in a
      lane without car following), which the PCRB, a bound for known association, does not
      cover; one such row can carry nearly all of the squared error.
    NaN where there are no rows."""
    rows = np.asarray(rows, dtype=float)
    out = dict.fromkeys(
        ("angle_rmse_deg", "range_rmse_m", "sqrt_pcrb_angle_deg", "sqrt_pcrb_range_m"), np.nan
    )
    bounds = BOUND_NAMES[: (rows.shape[1] - 2) // 2]
    for name in bounds:
        out[f"angle_rmse_over_sqrt_{name}"] = out[f"range_rmse_over_sqrt_{name}"] = np.nan
    out["gross_error_share"] = np.nan
    if not len(rows):
        return out
    error, pcrb = rows[:, :2], rows[:, 2:4]
    out["angle_rmse_deg"] = float(np.degrees(np.sqrt(np.mean(error[:, 0]))))
    out["range_rmse_m"] = float(np.sqrt(np.mean(error[:, 1])))
    out["sqrt_pcrb_angle_deg"] = float(np.degrees(np.sqrt(np.mean(pcrb[:, 0]))))
    out["sqrt_pcrb_range_m"] = float(np.sqrt(np.mean(pcrb[:, 1])))
    with np.errstate(divide="ignore", invalid="ignore"):
        gross = np.any(error > GROSS_ERROR_SIGMAS**2 * pcrb, axis=1)
        out["gross_error_share"] = float(np.mean(gross))
        for i, name in enumerate(bounds):
            ratio = error[~gross] / rows[~gross, 2 + 2 * i : 4 + 2 * i]
            for j, quantity in enumerate(("angle", "range")):
                value = np.sqrt(np.mean(ratio[:, j])) if len(ratio) else np.nan
                out[f"{quantity}_rmse_over_sqrt_{name}"] = float(value)
    return out


def tracked_vehicles(truth_xy: NDArray, track_xy: NDArray) -> NDArray[np.bool_]:
    """Which vehicles (rows of ``truth_xy``, (K, 2)) have a track (rows of ``track_xy``,
    (T, 2)) within TRUTH_GATE_M."""
    truth = np.asarray(truth_xy, dtype=float).reshape(-1, 2)
    tracks = np.asarray(track_xy, dtype=float).reshape(-1, 2)
    if not len(truth) or not len(tracks):
        return np.zeros(len(truth), dtype=bool)
    dist = np.linalg.norm(truth[:, None] - tracks[None], axis=-1)
    return dist.min(axis=1) <= TRUTH_GATE_M
