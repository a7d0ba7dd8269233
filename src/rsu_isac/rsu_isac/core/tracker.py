"""Multi-vehicle tracker of one RSU: EKF per track (``core.ekf``), Mahalanobis gating and
global-nearest-neighbour assignment (``core.association``), M-of-N life cycle, the PCRB of
004 eq. (25), (35)-(36) per track, camera and vehicle-report fusion and the one-slot
prediction that predictive beamforming needs.

Life cycle: a detection no track takes starts a *tentative* track; it is *confirmed* once it
has ``confirm_hits`` hits within its first ``confirm_window`` updates (and deleted as soon
as it cannot make it), or at once when the detection's SNR reaches
``instant_confirm_snr_db`` (exponential noise exceeds its mean by 20 dB with probability
e^-100: such a detection is no false alarm, and waiting would only delay the beam). A
confirmed track that misses a slot is *coasting* until a hit brings it back, and is deleted
after ``max_coast_slots`` misses in a row. A track the camera fixed last, with at least
``confirm_hits`` hits, is *camera-held*: it stays confirmed through
``max_camera_coast_slots`` slots without a measurement (003's A_max), because its misses
say nothing of the vehicle - the camera looks when the AoI scheduler asks (within A_max by
(9d)), and a vehicle the radar does not see (a weak echo, no beam on it) or the camera
cannot see (hidden behind another for a few tenths of a second) is still on the road. A
camera-born track is held from its second hit on: a single camera detection that no track
took may be a bad box fit beside a tracked vehicle (and a held track that such a fit started
goes once a fresher track is within a car's length of it in its lane). A vehicle's own
report (core.v2x) is a measurement of position and velocity like any other, gated and
associated; a track it fixed last is *report-held* for ``max_report_coast_slots``, and a
report no track takes starts a confirmed track. Any track that leaves the road unmeasured
is deleted. Ids count up from 1 and are never reused, also across
resets; UUIDs come from the seeded generator.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from rsu_isac.core.association import (
    gate_threshold,
    global_nearest_neighbour,
    mahalanobis_cost,
    mahalanobis_lower_bound,
)
from rsu_isac.core.bounds import angle_fisher_floor, pcrb_measurement_update, predict_covariance
from rsu_isac.core.ekf import (
    MEASUREMENT_DIM,
    MotionModel,
    MotionModelName,
    ProcessNoise,
    create_model,
    initiate,
    kalman_update,
    polar_covariance,
    polar_position_jacobian,
    predict,
    update,
)
from rsu_isac.core.geometry import echo_polar, echo_position
from rsu_isac.core.radar_dsp import Detections
from rsu_isac.core.scenario import Scenario
from rsu_isac.core.v2x import REPORT_DIM, VehicleReports, report_measurement

TENTATIVE, CONFIRMED, COASTING = 0, 1, 2  # the Track.msg STATUS_* values
MAX_TRACKER_DETECTIONS = 256  # detections per frame at most (the weakest beyond are dropped)
UNMEASURED_VARIANCE = 1e12  # variance of a component a sensor does not measure


@dataclass(frozen=True)
class TrackerConfig:
    """Association and life-cycle settings (the ``ekf_tracker`` node's parameters)."""

    motion_model: MotionModelName = "cartesian"
    gate_probability: float = 0.999999  # chi-square gate of the radar innovation (3 dof)
    camera_gate_probability: float = 0.9999  # chi-square gate of a camera position (2 dof)
    # chi-square gate of a vehicle's report (position and velocity, 4 dof)
    report_gate_probability: float = 0.9999
    confirm_hits: int = 2  # M of the M-of-N confirmation
    confirm_window: int = 6  # N
    # a detection this strong starts a confirmed track: a noise-only cell exceeds 20 dB with
    # probability exp(-100), so the M-of-N wait only protects against weak detections
    instant_confirm_snr_db: float = 20.0
    max_coast_slots: int = 10  # consecutive misses before a confirmed track is deleted
    # ... before a camera-held track is deleted: 003's A_max of seed003 (constraint (9d))
    max_camera_coast_slots: int = 25
    # ... before a report-held track is deleted, counted from the report's generation: two
    # report periods of 0.1 s at 20 ms slots
    max_report_coast_slots: int = 10
    initial_speed_std_mps: float = 15.0  # speed prior of a new track without a road prior
    max_time_gap_s: float = 1.0  # a larger (or negative) time step resets the tracker
    merge_distance_m: float = 0.0  # >0: two tracks this close (and merge_speed_mps) are one
    merge_speed_mps: float = 2.0
    # a camera-held track in the lane of a more recently measured one, their centres closer
    # than this along it, is a second track on that vehicle and goes: two vehicles in one
    # lane are a vehicle length apart (a car: 4.5 m); 0 = never
    duplicate_distance_m: float = 4.5
    min_variance: float = 1e-30  # floor of each reported measurement variance


@dataclass(frozen=True)
class TrackView:
    """Read-only snapshot of the live tracks (arrays over tracks)."""

    track_id: NDArray[np.int64]
    uuid: tuple[bytes, ...]
    status: NDArray[np.int8]
    polar: NDArray[np.float64]  # (T, 3): theta [rad], d [m], v_r [m/s]
    polar_covariance: NDArray[np.float64]  # (T, 3, 3)
    position_xy: NDArray[np.float64]  # (T, 2) road frame [m]
    velocity_xy: NDArray[np.float64]  # (T, 2) [m/s]
    position_covariance: NDArray[np.float64]  # (T, 2, 2) [m^2]
    velocity_covariance: NDArray[np.float64]  # (T, 2, 2) [(m/s)^2]
    predicted_polar: NDArray[np.float64]  # (T, 3): one slot ahead
    predicted_position_xy: NDArray[np.float64]  # (T, 2): one slot ahead, road frame [m]
    predicted_polar_covariance: NDArray[np.float64]  # (T, 3, 3)
    pcrb_polar: NDArray[np.float64]  # (T, 3, 3): PCRB of (theta, d, v_r), eq. (36)
    # the same bound with E = 0: vehicles that move exactly as the motion model predicts
    deterministic_pcrb_polar: NDArray[np.float64]  # (T, 3, 3)
    # Lambda of 004 (37): angle Fisher information [1/rad^2] the next echo must carry so that
    # the angle PCRB does not grow (core.bounds.angle_fisher_floor, eq. (54)-(58))
    angle_fisher_floor: NDArray[np.float64]  # (T,)
    aoi_s: NDArray[np.float64]  # time since the last camera update (or the birth) [s]
    age_s: NDArray[np.float64]  # time since the track's birth [s]
    hits: NDArray[np.int64]
    misses: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.track_id.size)

    @property
    def existence_probability(self) -> NDArray[np.float64]:
        """(T,) share of the track's slots with a measurement, hits / (hits + misses) capped
        at 1: a heuristic score in [0, 1] (Track.existence_probability, the CPM's
        perception quality), not a calibrated probability."""
        hits, misses = self.hits.astype(float), self.misses.astype(float)
        return np.minimum(1.0, hits / np.maximum(hits + misses, 1.0))


# The PCRB recursion runs twice, with the motion model's evolution noise E (eq. (25), the
# bound of 004) and with none (the bound for vehicles that move exactly as the model
# predicts, as the simulated traffic without car following does: constant velocity).
BOUND_NOISE_SCALES = np.array([1.0, 0.0])

ARRAY_FIELDS = (
    "x",
    "p",
    "pcrb",
    "radar_variance",
    "track_id",
    "status",
    "hits",
    "updates",
    "misses",
    "camera_time_s",
    "born_s",
    "camera_held",
    "report_held",
)


@dataclass
class _Tracks:
    """Mutable track table (rows = tracks)."""

    dim: int
    x: NDArray = field(init=False)
    p: NDArray = field(init=False)
    pcrb: NDArray = field(init=False)  # (T, 2, n, n): the bounds of BOUND_NOISE_SCALES
    radar_variance: NDArray = field(init=False)  # (T, 3): last radar measurement's, NaN: none
    track_id: NDArray = field(init=False)
    uuid: list[bytes] = field(default_factory=list)
    status: NDArray = field(init=False)
    hits: NDArray = field(init=False)
    updates: NDArray = field(init=False)  # slots since birth, incl. the birth slot
    misses: NDArray = field(init=False)
    camera_time_s: NDArray = field(init=False)
    born_s: NDArray = field(init=False)
    camera_held: NDArray = field(init=False)  # last measured by the camera, >= M hits
    report_held: NDArray = field(init=False)  # last measured by a vehicle's own report

    def __post_init__(self) -> None:
        self.x = np.zeros((0, self.dim))
        self.p = np.zeros((0, self.dim, self.dim))
        self.pcrb = np.zeros((0, len(BOUND_NOISE_SCALES), self.dim, self.dim))
        self.radar_variance = np.zeros((0, MEASUREMENT_DIM))
        self.track_id = np.zeros(0, dtype=np.int64)
        self.status = np.zeros(0, dtype=np.int8)
        self.hits = np.zeros(0, dtype=np.int64)
        self.updates = np.zeros(0, dtype=np.int64)
        self.misses = np.zeros(0, dtype=np.int64)
        self.camera_time_s = np.zeros(0)
        self.born_s = np.zeros(0)
        self.camera_held = np.zeros(0, dtype=bool)
        self.report_held = np.zeros(0, dtype=bool)

    def keep(self, mask: NDArray[np.bool_]) -> None:
        for name in ARRAY_FIELDS:
            setattr(self, name, getattr(self, name)[mask])
        self.uuid = [u for u, k in zip(self.uuid, mask, strict=True) if k]

    def append(self, x, p, radar_variance, ids, uuids, time_s: float) -> None:
        n = len(x)
        self.x = np.concatenate([self.x, x])
        self.p = np.concatenate([self.p, p])
        self.pcrb = np.concatenate([self.pcrb, np.repeat(p[:, None], len(BOUND_NOISE_SCALES), 1)])
        self.radar_variance = np.concatenate([self.radar_variance, radar_variance])
        self.track_id = np.concatenate([self.track_id, ids])
        self.uuid.extend(uuids)
        self.status = np.concatenate([self.status, np.full(n, TENTATIVE, np.int8)])
        self.hits = np.concatenate([self.hits, np.ones(n, np.int64)])
        self.updates = np.concatenate([self.updates, np.ones(n, np.int64)])
        self.misses = np.concatenate([self.misses, np.zeros(n, np.int64)])
        self.camera_time_s = np.concatenate([self.camera_time_s, np.full(n, time_s)])
        self.born_s = np.concatenate([self.born_s, np.full(n, time_s)])
        self.camera_held = np.concatenate([self.camera_held, np.zeros(n, dtype=bool)])
        self.report_held = np.concatenate([self.report_held, np.zeros(n, dtype=bool)])


@dataclass(frozen=True)
class StepResult:
    """What one radar step did: the track id each detection went to (-1: none, it started
    no track either) and the ids born and deleted."""

    detection_track_id: NDArray[np.int64]
    born: NDArray[np.int64]
    deleted: NDArray[np.int64]
    reset: bool


@dataclass(frozen=True)
class RoadPrior:
    """What the RSU knows of its road: lane centre lines relative to the array (y [m]),
    their driving directions (+1 / -1 along x), the lane width, the road's x span relative
    to the array and the speed distribution. A new track's along-road velocity starts from
    the prior of the nearest lane, and tracks are only born on the road: a detection off it
    is a range/Doppler sidelobe or a reflection, not a vehicle."""

    lane_y_m: NDArray[np.float64]
    direction: NDArray[np.float64]
    speed_mean_mps: float
    speed_std_mps: float
    lane_width_m: float = np.inf
    x_span_m: tuple[float, float] = (-np.inf, np.inf)

    def on_road(self, rel_xy: NDArray) -> NDArray[np.bool_]:
        """Positions (relative to the RSU) within one lane width of a lane centre line and
        one lane width of the road's ends."""
        if not len(self.lane_y_m):
            return np.ones(len(rel_xy), dtype=bool)
        lateral = np.min(np.abs(rel_xy[:, 1, None] - self.lane_y_m[None]), axis=1)
        x = rel_xy[:, 0]
        w = self.lane_width_m
        return (lateral <= w) & (x >= self.x_span_m[0] - w) & (x <= self.x_span_m[1] + w)

    @staticmethod
    def from_scenario(scenario: Scenario, rsu_index: int) -> RoadPrior:
        rsu_x, rsu_y = scenario.rsus[rsu_index].position_m
        speed = scenario.traffic.speed
        mean = speed.mean_mps if speed.distribution == "truncated_normal" else None
        if mean is None:  # uniform
            mean = 0.5 * (speed.min_mps + speed.max_mps)
            std = (speed.max_mps - speed.min_mps) / np.sqrt(12.0)
        else:
            std = speed.std_mps
        return RoadPrior(
            np.array([lane.y_m - rsu_y for lane in scenario.road.lanes]),
            np.array([float(lane.direction) for lane in scenario.road.lanes]),
            float(mean),
            float(std),
            scenario.road.lane_width_m,
            (scenario.road.x_min_m - rsu_x, scenario.road.x_max_m - rsu_x),
        )


def road_side(scenario: Scenario, rsu_index: int) -> float:
    """+1 when the road lies at larger y than the RSU's array axis, -1 otherwise (a ULA
    cannot tell the two sides apart; the road geometry does)."""
    lanes_y = np.mean([lane.y_m for lane in scenario.road.lanes])
    return 1.0 if lanes_y >= scenario.rsus[rsu_index].position_m[1] else -1.0


class Tracker:
    """Tracks of one RSU in its polar frame; see the module docstring."""

    def __init__(
        self,
        config: TrackerConfig,
        noise: ProcessNoise,
        rsu_xy: tuple[float, float],
        side: float,
        seed: int,
        road: RoadPrior | None = None,
        illuminator_xy: tuple[float, float] | None = None,
    ) -> None:
        """``illuminator_xy``: the RSU whose beams this one hears in its echo (002's
        transmit RSU; road frame), None for its own (monostatic)."""
        self.config = config
        self.road = road
        self.rsu_xy = np.asarray(rsu_xy, dtype=float)
        source = self.rsu_xy if illuminator_xy is None else np.asarray(illuminator_xy, float)
        self.illuminator = source - self.rsu_xy  # relative to this RSU; zeros: monostatic
        self.model: MotionModel = create_model(config.motion_model, noise, self.illuminator)
        self.side = float(side)
        self.slot_s = noise.slot_s
        self._rng = np.random.default_rng(seed)
        self._gate = gate_threshold(config.gate_probability, MEASUREMENT_DIM)
        self._camera_gate = gate_threshold(config.camera_gate_probability, 2)
        self._report_gate = gate_threshold(config.report_gate_probability, REPORT_DIM)
        self._next_id = 1
        self.time_s: float | None = None
        self.tracks = _Tracks(self.model.dim)

    @staticmethod
    def for_scenario(
        scenario: Scenario, rsu_index: int, config: TrackerConfig, seed: int
    ) -> Tracker:
        return Tracker(
            config,
            ProcessNoise.from_config(scenario.tracking, scenario.slot_s),
            scenario.rsus[rsu_index].position_m,
            road_side(scenario, rsu_index),
            seed,
            RoadPrior.from_scenario(scenario, rsu_index),
            scenario.rsus[scenario.illuminator(rsu_index)].position_m,
        )

    def __len__(self) -> int:
        return len(self.tracks.track_id)

    def reset(self) -> None:
        """Drop every track (ids keep counting up)."""
        self.tracks = _Tracks(self.model.dim)
        self.time_s = None

    def _advance(self, time_s: float) -> bool:
        """Predict every track to ``time_s`` (eq. (25)), also the PCRB. A negative or too large
        step (bag loop, simulator reset) resets the tracker instead; returns whether it did."""
        if self.time_s is None:
            self.time_s = time_s
            return False
        dt = time_s - self.time_s
        if dt < 0.0 or dt > self.config.max_time_gap_s:
            self.reset()
            self.time_s = time_s
            return True
        if dt > 0.0 and len(self):
            t = self.tracks
            x_pred, t.p, g, e = predict(self.model, t.x, t.p, dt)
            scaled_e = np.expand_dims(e, -3) * BOUND_NOISE_SCALES[:, None, None]
            t.pcrb = predict_covariance(t.pcrb, np.expand_dims(g, -3), scaled_e)
            t.x = x_pred
        self.time_s = time_s
        return False

    def step(self, time_s: float, detections: Detections) -> StepResult:
        """Predict to ``time_s``, associate ``detections`` (one radar frame), update, manage
        the life cycle and start tentative tracks from unassigned detections."""
        reset = self._advance(time_s)
        t = self.tracks
        z = np.stack(
            [detections.azimuth_rad, detections.range_m, detections.radial_velocity_mps], axis=-1
        ).reshape(-1, MEASUREMENT_DIM)
        var = np.maximum(
            np.stack(
                [
                    detections.azimuth_variance_rad2,
                    detections.range_variance_m2,
                    detections.radial_velocity_variance_m2ps2,
                ],
                axis=-1,
            ).reshape(-1, MEASUREMENT_DIM),
            self.config.min_variance,
        )
        r = var[:, :, None] * np.eye(MEASUREMENT_DIM)  # (D, 3, 3)
        num_tracks, num_det = len(self), len(z)
        rows = cols = np.zeros(0, dtype=np.int64)
        if num_tracks and num_det:
            h = self.model.measurement_jacobian(t.x)
            hph = h @ t.p @ np.swapaxes(h, 1, 2)  # (T, 3, 3)
            e = z[None] - self.model.measure(t.x)[:, None]  # (T, D, 3)
            s_diag = np.diagonal(hph, axis1=1, axis2=2)[:, None] + var[None]
            ti, di = np.nonzero(mahalanobis_lower_bound(e, s_diag) <= self._gate)
            d2, pair_cost = mahalanobis_cost(e[ti, di], hph[ti] + r[di])
            cost = np.zeros((num_tracks, num_det))
            gated = np.zeros((num_tracks, num_det), dtype=bool)
            cost[ti, di], gated[ti, di] = pair_cost, d2 <= self._gate
            rows, cols = global_nearest_neighbour(cost, gated)
        if len(rows):
            t.x[rows], t.p[rows] = update(self.model, t.x[rows], t.p[rows], z[cols], r[cols])
            h = self.model.measurement_jacobian(t.x[rows])
            # PCRB at the estimate (004 eq. (35)-(36)); the prediction was done in _advance
            t.pcrb[rows] = pcrb_measurement_update(t.pcrb[rows], h[:, None], r[cols][:, None])
            t.radar_variance[rows] = var[cols]
            t.camera_held[rows] = t.report_held[rows] = False
        detection_track = np.full(num_det, -1, dtype=np.int64)
        detection_track[cols] = t.track_id[rows]
        hit = np.zeros(num_tracks, dtype=bool)
        hit[rows] = True
        deleted = self._life_cycle(hit)
        free = np.setdiff1d(np.arange(num_det), cols)
        new = self._birth(z[free], var[free], detections.snr_db.reshape(-1)[free])
        detection_track[free] = new
        born = new[new >= 0]
        return StepResult(detection_track, born, deleted, reset)

    def _life_cycle(self, hit: NDArray[np.bool_]) -> NDArray[np.int64]:
        t, c = self.tracks, self.config
        t.hits += hit
        t.updates += 1
        t.misses = np.where(hit, 0, t.misses + 1)
        tentative = t.status == TENTATIVE
        confirm = tentative & (t.hits >= c.confirm_hits) & (t.updates <= c.confirm_window)
        hopeless = tentative & ~confirm & (t.hits + c.confirm_window - t.updates < c.confirm_hits)
        t.status[confirm] = CONFIRMED
        settled = t.status != TENTATIVE
        limit = np.select(
            [t.camera_held, t.report_held],
            [c.max_camera_coast_slots, c.max_report_coast_slots],
            c.max_coast_slots,
        )
        held = t.camera_held | t.report_held
        t.status[settled & (hit | held)] = CONFIRMED
        t.status[settled & ~hit & ~held] = COASTING
        pos = self.model.position(t.x, self.side)  # relative to the RSU
        dead = hopeless | (settled & (t.misses > limit)) | self._redundant(pos)
        dead |= self._stale_duplicates(pos)
        if self.road is not None:  # an unmeasured track that has left the road is gone
            dead |= ~self.road.on_road(pos) & ~hit & settled
        deleted = t.track_id[dead]
        t.keep(~dead)
        return deleted

    def _redundant(self, pos: NDArray) -> NDArray[np.bool_]:
        """Tracks that duplicate an older one (closer than ``merge_distance_m`` in position
        ``pos`` and ``merge_speed_mps`` in velocity): the one with fewer hits goes."""
        t, c = self.tracks, self.config
        out = np.zeros(len(t.track_id), dtype=bool)
        if len(out) < 2 or c.merge_distance_m <= 0:
            return out
        vel = self.model.velocity(t.x, self.side)
        close = (np.linalg.norm(pos[:, None] - pos[None], axis=-1) < c.merge_distance_m) & (
            np.linalg.norm(vel[:, None] - vel[None], axis=-1) < c.merge_speed_mps
        )
        np.fill_diagonal(close, False)
        weaker = (t.hits[:, None] < t.hits[None]) | (
            (t.hits[:, None] == t.hits[None]) & (t.track_id[:, None] > t.track_id[None])
        )
        return np.any(close & weaker, axis=1)

    def _stale_duplicates(self, pos: NDArray) -> NDArray[np.bool_]:
        """Camera-held tracks with a track measured more recently (fewer misses) in the same
        lane, closer than ``duplicate_distance_m`` along it (positions ``pos``): a bad camera
        box fit that no track took starts a second track on a vehicle, which the camera-held
        rule would otherwise keep (and serve) for A_max slots. Needs the road prior (the
        lanes); nothing to do without camera-held tracks (a radar-only RSU)."""
        t, c = self.tracks, self.config
        out = np.zeros(len(t.track_id), dtype=bool)
        if self.road is None or not len(self.road.lane_y_m) or c.duplicate_distance_m <= 0:
            return out
        held = t.camera_held | t.report_held
        if not held.any():
            return out
        lane = np.argmin(np.abs(pos[:, 1, None] - self.road.lane_y_m[None]), axis=1)
        near = (lane[:, None] == lane[None]) & (
            np.abs(pos[:, None, 0] - pos[None, :, 0]) < c.duplicate_distance_m
        )
        fresher = t.misses[None, :] < t.misses[:, None]  # [i, j]: j measured after i
        return held & np.any(near & fresher, axis=1)  # held tracks are confirmed

    def _birth(self, z: NDArray, var: NDArray, snr_db: NDArray) -> NDArray[np.int64]:
        """Tentative (or, when strong, confirmed) tracks from unassigned detections on the
        road; returns the new ids, -1 for a detection off the road."""
        if len(z) == 0:
            return np.zeros(0, dtype=np.int64)
        out = np.full(len(z), -1, dtype=np.int64)
        rel = echo_position((0.0, 0.0), self.illuminator, z[:, 0], z[:, 1], self.side)
        keep = self.road.on_road(rel) if self.road is not None else np.ones(len(z), dtype=bool)
        z, var, snr_db, rel = z[keep], var[keep], snr_db[keep], rel[keep]
        if len(z) == 0:
            return out
        x, p = initiate(self.model, z, var, self.side, *self._speed_prior(rel[:, 1]))
        ids = self._new_tracks(x, p, var)
        sure = (snr_db >= self.config.instant_confirm_snr_db) | (self.config.confirm_hits <= 1)
        self.tracks.status[-len(ids) :][sure] = CONFIRMED
        out[keep] = ids
        return out

    def _new_tracks(self, x: NDArray, p: NDArray, radar_variance: NDArray) -> NDArray[np.int64]:
        """Append tentative tracks with fresh ids and seeded UUIDs; returns the ids
        (``radar_variance`` (T, 3): of the radar measurement that started each, NaN: none)."""
        ids = np.arange(self._next_id, self._next_id + len(x), dtype=np.int64)
        self._next_id += len(x)
        uuids = [uuid.UUID(bytes=self._rng.bytes(16), version=4).bytes for _ in ids]
        self.tracks.append(x, p, radar_variance, ids, uuids, float(self.time_s))
        return ids

    def _speed_prior(self, y: NDArray) -> tuple[NDArray, NDArray]:
        """Along-road speed prior (mean, variance) per detection at ``y`` across the road
        (relative to the RSU): the nearest lane's direction times the mean speed with twice
        the speed spread (lanes and speeds are not certain), or zero with
        ``initial_speed_std_mps`` without a road prior."""
        if self.road is None or not len(self.road.lane_y_m):
            return np.zeros(len(y)), np.full(len(y), self.config.initial_speed_std_mps**2)
        lane = np.argmin(np.abs(y[:, None] - self.road.lane_y_m[None]), axis=1)
        mean = self.road.direction[lane] * self.road.speed_mean_mps
        return mean, np.full(len(y), (2.0 * self.road.speed_std_mps) ** 2 + 1.0)

    def camera_update(
        self, time_s: float, position_xy: NDArray, covariance: NDArray
    ) -> NDArray[np.int64]:
        """Fuse camera detections (road-frame positions (C, 2) with covariances (C, 2, 2)):
        each updates the gated nearest track (:meth:`_fuse_cartesian`), counts as its hit
        (a confirmed track seen by the camera is not coasting) and resets its semantic AoI
        (003 eq. (6)); a detection no track takes starts a confirmed track (the detector
        only reports blobs that fit a vehicle box: no false alarms to filter). Returns the
        track id per detection."""
        z = np.asarray(position_xy, dtype=float).reshape(-1, 2) - self.rsu_xy
        cov = np.asarray(covariance, dtype=float).reshape(-1, 2, 2)
        rows, cols, lag = self._fuse_cartesian(time_s, z, cov, self._camera_gate)
        t = self.tracks
        t.camera_time_s[rows] = time_s
        t.camera_held[rows] = t.hits[rows] >= self.config.confirm_hits
        t.report_held[rows] = False
        out = np.full(len(z), -1, dtype=np.int64)
        out[cols] = t.track_id[rows]
        free = np.setdiff1d(np.arange(len(z)), cols)
        out[free] = self._cartesian_birth(z[free], cov[free], lag)
        t.camera_held[np.isin(t.track_id, out[free])] = self.config.confirm_hits <= 1
        return out

    def report_update(self, reports: VehicleReports) -> NDArray[np.int64]:
        """Fuse vehicles' own reports (core.v2x): each updates the gated nearest track with
        its position and velocity (4 dof, the chi-square gate of
        ``report_gate_probability`` on the vehicle's stated covariance) and counts as its
        hit; the track is then *report-held*, confirmed through ``max_report_coast_slots``
        radar misses (the next report is a report period away). A report no track takes
        starts a confirmed track when it lies on the road: a report is the vehicle's own
        (signed, in ETSI ITS) word that it is there, not a noise peak. Reports are fused in
        generation-time order, each out of sequence by its delay. Returns the track id per
        report (-1: off the road)."""
        out = np.full(len(reports), -1, dtype=np.int64)
        z_all, cov_all = report_measurement(reports)
        z_all[:, :2] -= self.rsu_xy
        for when in np.unique(reports.time_s):  # ascending: one fusion per generation time
            idx = np.flatnonzero(reports.time_s == when)
            z, cov = z_all[idx], cov_all[idx]
            rows, cols, lag = self._fuse_cartesian(float(when), z, cov, self._report_gate)
            t = self.tracks
            t.report_held[rows], t.camera_held[rows] = True, False
            out[idx[cols]] = t.track_id[rows]
            free = np.setdiff1d(np.arange(len(z)), cols)
            born = self._cartesian_birth(z[free], cov[free], lag)
            self.tracks.report_held[np.isin(self.tracks.track_id, born)] = True
            out[idx[free]] = born
        return out

    def _fuse_cartesian(
        self, time_s: float, z: NDArray, cov: NDArray, gate: float
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], float]:
        """Associate road-frame measurements made at ``time_s`` - positions relative to the
        RSU (C, 2), or positions and velocities (C, 4) - with covariances ``cov`` to the
        tracks (global nearest neighbour within the chi-square ``gate``), update the
        associated tracks and their PCRB, and count the hit (confirmed; its misses counted
        from the measurement's time).
        Returns (track rows, measurement columns, lag).

        A measurement older than the tracks (a camera frame or a report that arrives after
        the radar frame; up to ``max_time_gap_s``) is fused out of sequence rather than
        resetting the tracker: the measurement function maps the current state back to the
        measurement's time, z = h(f(x, -lag)) with H = H_h(f(x, -lag)) F(x, -lag) (the
        process noise over the lag is neglected). A newer one first predicts the tracks."""
        lag = 0.0 if self.time_s is None else self.time_s - time_s
        if not 0.0 < lag <= self.config.max_time_gap_s:
            self._advance(time_s)
            lag = 0.0
        t, m = self.tracks, self.model
        rows = cols = np.zeros(0, dtype=np.int64)
        if not (len(self) and len(z)):
            return rows, cols, lag
        x_then = m.predict(t.x, -lag) if lag else t.x
        jac = m.position_jacobian(x_then, self.side)  # (T, 2, n)
        predicted = m.position(x_then, self.side)
        if z.shape[1] == REPORT_DIM:
            jac = np.concatenate([jac, m.velocity_jacobian(x_then, self.side)], axis=1)
            predicted = np.hstack([predicted, m.velocity(x_then, self.side)])
        if lag:
            jac = jac @ m.transition_jacobian(t.x, -lag)
        e = z[None] - predicted[:, None]  # (T, C, dim)
        s = (jac @ t.p @ np.swapaxes(jac, 1, 2))[:, None] + cov[None]
        d2, cost = mahalanobis_cost(e, s)
        rows, cols = global_nearest_neighbour(cost, d2 <= gate)
        if len(rows):
            t.x[rows], t.p[rows] = kalman_update(
                t.x[rows], t.p[rows], e[rows, cols], jac[rows], cov[cols]
            )
            t.pcrb[rows] = pcrb_measurement_update(
                t.pcrb[rows], jac[rows][:, None], cov[cols][:, None]
            )
            t.hits[rows] += 1
            # slots since the measurement: a late one holds a track only as long as a
            # timely one would have
            t.misses[rows] = np.minimum(t.misses[rows], round(lag / self.slot_s))
            t.status[rows] = CONFIRMED
        return rows, cols, lag

    def _cartesian_birth(self, z: NDArray, cov: NDArray, lag: float) -> NDArray[np.int64]:
        """Confirmed tracks at road-frame measurements relative to the RSU - positions
        (C, 2) or positions and velocities (C, 4), covariances ``cov`` - that lie on the
        road: (theta, d) with the position covariance mapped to polar, no range rate; the
        velocity along the road is the measured one, else the lane's speed prior. Measured
        ``lag`` seconds before the tracker's time. Returns the id per measurement (-1: off
        the road)."""
        out = np.full(len(z), -1, dtype=np.int64)
        rel_xy = z[:, :2]
        keep = self.road.on_road(rel_xy) if self.road is not None else np.ones(len(out), bool)
        if not keep.any():
            return out
        rel, c = rel_xy[keep], cov[keep, :2, :2]
        polar = echo_polar((0.0, 0.0), self.illuminator, rel, np.zeros_like(rel))
        # (theta, d) covariance through the inverse of d(p_x, p_y) / d(theta, d)
        jac_inv = np.linalg.inv(
            polar_position_jacobian(polar.theta_rad, polar.range_m, self.side, self.illuminator)
        )
        polar_cov = jac_inv @ c @ np.swapaxes(jac_inv, 1, 2)
        unmeasured = np.full(len(rel), UNMEASURED_VARIANCE)
        var = np.column_stack([polar_cov[:, 0, 0], polar_cov[:, 1, 1], unmeasured])
        z_polar = np.column_stack([polar.theta_rad, polar.range_m, np.zeros(len(rel))])
        speed, speed_var = self._speed_prior(rel[:, 1])
        if z.shape[1] == REPORT_DIM:
            speed, speed_var = z[keep, 2], np.maximum(cov[keep, 2, 2], self.config.min_variance)
        x, p = initiate(self.model, z_polar, var, self.side, speed, speed_var)
        if lag:
            x, p, _, _ = predict(self.model, x, p, lag)
        ids = self._new_tracks(x, p, np.full((len(x), MEASUREMENT_DIM), np.nan))
        self.tracks.status[-len(ids) :] = CONFIRMED
        out[keep] = ids
        return out

    def view(self, horizon_s: float | None = None) -> TrackView:
        """Snapshot of the live tracks, with the prediction ``horizon_s`` ahead (one slot by
        default) for predictive beamforming."""
        t, m = self.tracks, self.model
        horizon = self.slot_s if horizon_s is None else horizon_s
        x_pred, p_pred, g, e = predict(m, t.x, t.p, horizon)
        pos_jac = m.position_jacobian(t.x, self.side)
        vel_jac = m.velocity_jacobian(t.x, self.side)
        pcrb_polar = polar_covariance(m, t.x, t.pcrb[:, 0])
        pcrb_pred = predict_covariance(t.pcrb[:, 0], g, e)  # the same step as the estimate's
        now = self.time_s if self.time_s is not None else 0.0
        return TrackView(
            track_id=t.track_id.copy(),
            uuid=tuple(t.uuid),
            status=t.status.copy(),
            polar=m.measure(t.x),
            polar_covariance=polar_covariance(m, t.x, t.p),
            position_xy=m.position(t.x, self.side) + self.rsu_xy,
            velocity_xy=m.velocity(t.x, self.side),
            position_covariance=pos_jac @ t.p @ np.swapaxes(pos_jac, 1, 2),
            velocity_covariance=vel_jac @ t.p @ np.swapaxes(vel_jac, 1, 2),
            predicted_polar=m.measure(x_pred),
            predicted_position_xy=m.position(x_pred, self.side) + self.rsu_xy,
            predicted_polar_covariance=polar_covariance(m, x_pred, p_pred),
            pcrb_polar=pcrb_polar,
            deterministic_pcrb_polar=polar_covariance(m, t.x, t.pcrb[:, 1]),
            angle_fisher_floor=angle_fisher_floor(
                pcrb_polar[:, 0, 0], self._angle_pcrb_without_angle(x_pred, pcrb_pred)
            ),
            aoi_s=now - t.camera_time_s,
            age_s=now - t.born_s,
            hits=t.hits.copy(),
            misses=t.misses.copy(),
        )

    def _angle_pcrb_without_angle(self, x_pred: NDArray, pcrb_pred: NDArray) -> NDArray[np.float64]:
        """(T,) the angle PCRB [rad^2] at the predicted states ``x_pred`` after the next echo's
        range and radial velocity but before its angle (004 appendix's Omega_0^-1, eq.
        (54)), from the predicted PCRB ``pcrb_pred`` with each track's last radar
        measurement variances (none: the prediction alone)."""
        t, m = self.tracks, self.model
        pcrb = pcrb_pred.copy()
        measured = np.isfinite(t.radar_variance).all(axis=1)
        if measured.any():
            h = m.measurement_jacobian(x_pred[measured])[:, 1:]  # range and v_r rows
            q = t.radar_variance[measured, 1:, None] * np.eye(MEASUREMENT_DIM - 1)
            pcrb[measured] = pcrb_measurement_update(pcrb[measured], h, q)
        return polar_covariance(m, x_pred, pcrb)[:, 0, 0]
