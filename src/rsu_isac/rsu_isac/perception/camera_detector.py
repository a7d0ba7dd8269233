"""Vehicle detection in the RSU's mast-camera frames, mapped to the road plane.

Pipeline per processed frame (each step measured in ``rsu-isac camera-accuracy``):

1. **Foreground** against a temporal-median background: the median of the last
   ``background_frames`` frames kept ``background_stride`` frames apart, so that a vehicle
   sits in fewer than half of them; pixels whose largest colour difference exceeds
   ``difference_threshold`` are foreground. Only the road volume (the road's footprint up to
   ``max_vehicle_height_m``, projected) is looked at: the road mask is known.
2. **Blobs**: morphological opening, connected components above ``min_area_px``; with
   scheduled regions, only the blobs that reach into one of them go on to the fit, whole
   (the regions bound the work of step 3, by far the larger; a region's edge that cut a
   vehicle would leave a part no box fits).
3. **3-D box fit**: vehicles drive along the road (boxes aligned with x), so a blob's image
   bounding box is matched by the projected bounding box of a car, a truck and a bus box
   whose footprint centre (x, y) on the road plane is fitted by least squares (scipy),
   started at the ground point under the blob's lowest row through the homography; the
   class with the smallest residual wins. A blob no single box fits within
   ``max_fit_residual_px`` is tried (once the background window is full) as two vehicles
   merged by occlusion: two boxes (car or truck each) whose union matches the blob's
   per-column top and bottom edges and its bounding box, with footprints that do not
   overlap (started side by side along the road, and one in front of the other across the
   lanes; every class pair from every start is scored as started, and the best-scoring ones
   are fitted). Dropped: a blob neither explains (a ghost in the background, three or more
   vehicles), and a vehicle clipped by the image border (a part of a vehicle fits any
   class). The position covariance is the Gauss-Newton one, (J^T J)^-1 sigma_px^2, plus
   ``model_std_m`` for what a box does not model, so a far vehicle (few pixels per metre)
   reports the larger uncertainty it has.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares

from rsu_isac.core.camera_model import PinholeCamera
from rsu_isac.core.scenario import RoadConfig

# Body (length, width, height) [m] hypotheses per class code (VehicleState.CLASS_*): the
# classes the simulator draws; a deployment would use its fleet's typical sizes.
CLASS_BOXES_M = {1: (4.5, 1.8, 1.5), 2: (12.0, 2.5, 3.5), 3: (12.0, 2.55, 3.2)}
BORDER_PX = 2  # a blob this close to the image border is clipped
UNCOVERED_PX = 10.0  # residual of a blob column that no fitted box reaches
PAIR_MAX_EVALUATIONS = 40  # residual evaluations of one two-box fit (bounds its time)
PAIR_COLUMNS = 40  # blob columns the two-box fit compares
PAIR_MAX_TRIES = 8  # fits per blob, from the (class pair, start)s whose start fits best
NEAR_ROWS_PX = 2.0  # columns this close to a blob's lowest row belong to its nearest vehicle
ROAD_MARGIN_M = 2.0  # a fitted footprint centre farther off the road's edges or ends is wrong


@dataclass(frozen=True)
class DetectorConfig:
    """Settings of :class:`CameraDetector` (the ``camera_semantics`` node's parameters)."""

    background_frames: int = 15
    background_stride: int = 10  # observed frames between two background samples
    background_ready: int = 5  # samples before the first detection
    difference_threshold: int = 25  # largest per-channel |frame - background| [0, 255]
    min_area_px: int = 40
    max_vehicle_height_m: float = 4.0
    pixel_std: float = 1.0  # bounding-box edge noise [px]
    model_std_m: float = 0.05  # position error a box does not model [m]
    max_fit_residual_px: float = 3.0  # RMS box-edge residual above which a blob is dropped

    @property
    def warmup_frames(self) -> int:
        """Frames until the temporal-median background window is full (a frame per slot)."""
        return self.background_frames * self.background_stride


@dataclass(frozen=True)
class CameraDetections:
    """Vehicles found in one frame (arrays over detections)."""

    position_xy: NDArray[np.float64]  # (C, 2) footprint centre, road frame [m]
    covariance: NDArray[np.float64]  # (C, 2, 2) [m^2]
    vehicle_class: NDArray[np.int64]  # (C,) VehicleState.CLASS_*
    length_m: NDArray[np.float64]
    width_m: NDArray[np.float64]
    confidence: NDArray[np.float64]  # (C,) in [0, 1]
    box_px: NDArray[np.int64]  # (C, 4): u_min, v_min, u_max, v_max

    def __len__(self) -> int:
        return len(self.position_xy)

    @staticmethod
    def empty() -> CameraDetections:
        z = np.zeros(0)
        return CameraDetections(
            np.zeros((0, 2)), np.zeros((0, 2, 2)), z.astype(np.int64), z, z, z,
            np.zeros((0, 4), np.int64),
        )  # fmt: skip


@dataclass(frozen=True)
class Region:
    """A disc on the road plane the scheduler wants looked at."""

    centre_xy: tuple[float, float]
    radius_m: float


# corner offsets of a box in units of (length / 2, width / 2, height): bottom face, then top
_CORNER_UNITS = np.array([(sx, sy, sz) for sz in (0, 1) for sy in (-1, 1) for sx in (-1, 1)])
# every pair of corners: the segments whose envelope is the box's image hull (see hull_edges)
_CORNER_PAIRS = np.triu_indices(8, 1)


def box_corners(centre_xy: NDArray, size_m: tuple[float, float, float]) -> NDArray:
    """(..., 8, 3) corners of x-aligned boxes standing on the road at ``centre_xy`` (..., 2)."""
    length, width, height = size_m
    centre = np.asarray(centre_xy, float)
    foot = np.concatenate([centre, np.zeros((*centre.shape[:-1], 1))], axis=-1)
    return foot[..., None, :] + _CORNER_UNITS * np.array([length / 2, width / 2, height])


def projected_box(camera: PinholeCamera, centre_xy: NDArray, size_m) -> NDArray:
    """Image bounding box (..., 4) (u_min, v_min, u_max, v_max) of boxes at ``centre_xy``
    (..., 2)."""
    uv, _ = camera.project(box_corners(centre_xy, size_m))
    return np.concatenate([uv.min(axis=-2), uv.max(axis=-2)], axis=-1)


def hull_edges(camera: PinholeCamera, centres: NDArray, size_m, columns: NDArray):
    """Top and bottom image edges (B, C) of the projected hulls of boxes at ``centres``
    (B, 2) at each of the C pixel ``columns`` (NaN where a hull does not reach the column),
    and the boxes' image bounding boxes (B, 4). Every segment between two corners lies in
    the hull and every hull edge is such a segment, so the hull's edges at a column are the
    extremes over the segments that span it: no hull is built, all in float64 (a hull of
    float32 corners moves in steps of 1e-4 px, coarser than a finite-difference step)."""
    uv, _ = camera.project(box_corners(centres, size_m))
    first, second = uv[:, _CORNER_PAIRS[0], None, :], uv[:, _CORNER_PAIRS[1], None, :]
    (u1, v1), (u2, v2) = np.moveaxis(first, -1, 0), np.moveaxis(second, -1, 0)
    lo, hi = np.minimum(u1, u2), np.maximum(u1, u2)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = v1 + (columns - u1) * ((v2 - v1) / (u2 - u1))
    inside = (columns >= lo) & (columns <= hi) & (hi > lo)
    top = np.where(inside, v, np.inf).min(axis=1)
    bottom = np.where(inside, v, -np.inf).max(axis=1)
    return (
        np.where(np.isfinite(top), top, np.nan),
        np.where(np.isfinite(bottom), bottom, np.nan),
        np.concatenate([uv.min(axis=1), uv.max(axis=1)], axis=1),
    )


def _volume_polygon(camera: PinholeCamera, footprint: NDArray, height_m: float) -> NDArray:
    """Image hull of a prism over a road-plane polygon (P, 2) up to ``height_m``."""
    pts = np.vstack(
        [np.column_stack([footprint, np.zeros(len(footprint))]),
         np.column_stack([footprint, np.full(len(footprint), height_m)])]
    )  # fmt: skip
    uv, in_front = camera.project(pts)
    uv = np.clip(uv[in_front], -1e5, 1e5)
    return cv2.convexHull(np.round(uv).astype(np.int32))


class BackgroundModel:
    """Temporal median of sparse past frames."""

    def __init__(self, frames: int, stride: int, ready: int) -> None:
        self._frames: deque[NDArray[np.uint8]] = deque(maxlen=frames)
        self._stride = stride
        self._ready = ready
        self._seen = 0
        self._median: NDArray[np.uint8] | None = None

    @property
    def ready(self) -> bool:
        return len(self._frames) >= self._ready

    @property
    def full(self) -> bool:
        """The whole window is sampled: a vehicle that stood still at the start has left the
        median (no ghost of it)."""
        return len(self._frames) == self._frames.maxlen

    def observe(self, image: NDArray[np.uint8]) -> None:
        if self._seen % self._stride == 0:
            self._frames.append(image.copy())
            self._median = None
        self._seen += 1

    def image(self) -> NDArray[np.uint8]:
        if self._median is None:
            self._median = np.median(np.stack(self._frames), axis=0).astype(np.uint8)
        return self._median


class CameraDetector:
    """Detects vehicles in frames of one calibrated camera over a known road."""

    def __init__(self, camera: PinholeCamera, road: RoadConfig, config: DetectorConfig) -> None:
        self.camera = camera
        self.road = road
        self.config = config
        self.background = BackgroundModel(
            config.background_frames, config.background_stride, config.background_ready
        )
        half = road.lane_width_m / 2
        ys = [lane.y_m for lane in road.lanes]
        self._road_y = (min(ys) - half, max(ys) + half)
        self._lanes = ys
        footprint = np.array(
            [[road.x_min_m, self._road_y[0]], [road.x_max_m, self._road_y[0]],
             [road.x_max_m, self._road_y[1]], [road.x_min_m, self._road_y[1]]]
        )  # fmt: skip
        self.road_mask = np.zeros((camera.height_px, camera.width_px), np.uint8)
        cv2.fillConvexPoly(
            self.road_mask, _volume_polygon(camera, footprint, config.max_vehicle_height_m), 255
        )
        rows = np.flatnonzero(self.road_mask.any(axis=1))
        cols = np.flatnonzero(self.road_mask.any(axis=0))
        if not len(rows):
            raise ValueError("the road is not in the camera's view")
        # the road's bounding box in the image: the only pixels ever looked at
        self._crop = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        self._kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
        self._h_inv = np.linalg.inv(camera.ground_homography())

    def check_image(self, image: NDArray[np.uint8]) -> None:
        """ValueError unless ``image`` is a BGR frame of this camera's size."""
        if image.shape != (self.camera.height_px, self.camera.width_px, 3):
            raise ValueError(
                f"image of shape {image.shape}, expected "
                f"({self.camera.height_px}, {self.camera.width_px}, 3) from the camera model"
            )

    def observe(self, image: NDArray[np.uint8]) -> None:
        """Feed a frame to the background model only (a frame nobody asked to process)."""
        self.check_image(image)
        self.background.observe(image[self._crop])

    def region_mask(self, regions: list[Region] | None) -> NDArray[np.uint8]:
        """Road mask restricted to the regions (all of the road for ``None``)."""
        if regions is None:
            return self.road_mask
        mask = np.zeros_like(self.road_mask)
        circle = np.linspace(0, 2 * np.pi, 16, endpoint=False)
        for r in regions:
            disc = np.asarray(r.centre_xy) + r.radius_m * np.column_stack(
                [np.cos(circle), np.sin(circle)]
            )
            cv2.fillConvexPoly(
                mask, _volume_polygon(self.camera, disc, self.config.max_vehicle_height_m), 255
            )
        return cv2.bitwise_and(mask, self.road_mask)

    def detect(
        self, image: NDArray[np.uint8], regions: list[Region] | None = None
    ) -> CameraDetections:
        """Vehicles in ``image`` (BGR, H x W x 3) whose blobs reach into ``regions`` (None:
        the whole road). The frame also feeds the background model."""
        self.observe(image)
        if not self.background.ready:
            return CameraDetections.empty()
        look = None if regions is None else self.region_mask(regions)[self._crop]
        if look is not None and not look.any():
            return CameraDetections.empty()
        diff = cv2.absdiff(image[self._crop], self.background.image()).max(axis=2)
        fg = ((diff > self.config.difference_threshold) * self.road_mask[self._crop]).astype(
            np.uint8
        )
        fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, self._kernel)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
        # the regions pick whole blobs: a vehicle the region's edge cuts is fitted whole
        wanted = range(1, count) if look is None else np.unique(labels[look > 0])
        v0, u0 = self._crop[0].start, self._crop[1].start
        found = [
            vehicle
            for i in wanted
            if i > 0 and stats[i, cv2.CC_STAT_AREA] >= self.config.min_area_px
            for vehicle in self._fit(stats[i], labels == i, u0, v0)
        ]
        if not found:
            return CameraDetections.empty()
        return CameraDetections(*(np.array(col) for col in zip(*found, strict=True)))

    def _fit(self, stat: NDArray, blob: NDArray[np.bool_], u0: int, v0: int) -> list[tuple]:
        """Vehicles of one blob (see the module docstring): one box, else two (a pair merged
        by occlusion), else none."""
        # pixel i covers [i - 0.5, i + 0.5]: the blob's outer edges in image coordinates
        left, top = stat[cv2.CC_STAT_LEFT] + u0 - 0.5, stat[cv2.CC_STAT_TOP] + v0 - 0.5
        box = np.array(
            [left, top, left + stat[cv2.CC_STAT_WIDTH], top + stat[cv2.CC_STAT_HEIGHT]], float
        )
        if self._clipped(box, BORDER_PX):
            return []
        fits = []
        start = self._foot(box[0], box[2], box[3])
        for code, size in CLASS_BOXES_M.items():
            residuals = partial(self._box_residuals, size=size, box=box)
            fit = _fit(residuals, start)
            fits.append((_rms(fit.fun), (code,), (size,), fit))
        single = min(fits, key=lambda f: f[0])
        if single[0] <= self.config.max_fit_residual_px:
            return self._accept(single, box)
        if not self.background.full:
            return []  # a young background still holds ghosts, which pair up with vehicles
        pair = self._fit_pair(stat, blob, box, u0, v0)
        (xa, ya), (xb, yb) = pair[3].x.reshape(2, 2)
        (la, wa, _), (lb, wb, _) = pair[2]
        # two boxes can also explain one vehicle's blob by overlapping it: vehicles do not
        apart = abs(xa - xb) >= (la + lb) / 2 or abs(ya - yb) >= (wa + wb) / 2
        return self._accept(pair, box) if apart else []

    def _fit_pair(self, stat: NDArray, blob: NDArray[np.bool_], box: NDArray, u0: int, v0: int):
        """Two boxes whose union matches the blob's per-column top and bottom edges (and its
        bounding box), started under the blob's left and right halves (vehicles side by
        side, offset along the road), also on each ordered pair of lanes, and one in front
        of the other on each ordered pair of lanes (a near car before a far truck: the car
        whole in the image, the truck around it); car and truck sizes in each combination.
        Every (class pair, start) is scored by its residual as started, and the
        PAIR_MAX_TRIES best are fitted in that order until one fits: a truck before a car
        starts closer than two cars do. A vehicle squarely behind a larger one stays
        unresolved."""
        c0, r0 = stat[cv2.CC_STAT_LEFT], stat[cv2.CC_STAT_TOP]
        sub = blob[r0 : r0 + stat[cv2.CC_STAT_HEIGHT], c0 : c0 + stat[cv2.CC_STAT_WIDTH]]
        columns = np.arange(sub.shape[1]) + c0 + u0  # pixel-centre u of each column
        rows = np.arange(sub.shape[0])[:, None]
        edge_top = np.where(sub, rows, sub.shape[0]).min(axis=0) + r0 + v0 - 0.5
        edge_bottom = np.where(sub, rows, -1).max(axis=0) + r0 + v0 + 0.5
        middle = 0.5 * (box[0] + box[2])
        left = columns < middle
        # each half starts under its own lowest row (the hidden vehicle's is higher up), and
        # at the halves' along-road positions on each ordered pair of lanes
        feet = (
            self._foot(box[0], middle, edge_bottom[left].max()),
            self._foot(middle, box[2], edge_bottom[~left].max()),
        )
        lanes = list(itertools.permutations(self._lanes, 2))
        # or one in front of the other across the lanes: the near one under the columns
        # that reach the blob's lowest rows, the far one under the blob's middle
        low = columns[edge_bottom >= edge_bottom.max() - NEAR_ROWS_PX]
        near = self._foot(low.min() - 0.5, low.max() + 0.5, box[3])
        far = self._foot(box[0], box[2], box[3])
        starts = (
            [np.concatenate(feet)]
            + [
                np.concatenate([self._on_lane(near, y_a), self._on_lane(far, y_b)])
                for y_a, y_b in lanes
                if abs(y_a - self.camera.centre_m[1]) < abs(y_b - self.camera.centre_m[1])
            ]
            + [np.array([feet[0][0], y_a, feet[1][0], y_b]) for y_a, y_b in lanes]
        )
        sizes = {1: CLASS_BOXES_M[1], 2: CLASS_BOXES_M[2]}
        step = max(1, len(columns) // PAIR_COLUMNS)  # a subset of columns bounds the work
        columns, edge_top, edge_bottom = columns[::step], edge_top[::step], edge_bottom[::step]

        def residuals(x: NDArray, size_a, size_b) -> NDArray:
            top_a, bottom_a, box_a = hull_edges(self.camera, x[:, :2], size_a, columns)
            top_b, bottom_b, box_b = hull_edges(self.camera, x[:, 2:], size_b, columns)
            union = np.concatenate(
                [np.minimum(box_a[:, :2], box_b[:, :2]), np.maximum(box_a[:, 2:], box_b[:, 2:])],
                axis=1,
            )
            return np.concatenate([
                np.nan_to_num(np.fmin(top_a, top_b) - edge_top, nan=UNCOVERED_PX),
                np.nan_to_num(np.fmax(bottom_a, bottom_b) - edge_bottom, nan=UNCOVERED_PX),
                union - box,
            ], axis=1)  # fmt: skip

        # every class pair from every start, fitted from the best-matching starts on
        pairs = list(itertools.product(sizes.items(), repeat=2))
        tries = [(pair, start) for pair in pairs for start in starts]
        screen = np.concatenate([
            _rms(residuals(np.stack(starts), size_a, size_b))
            for (_, size_a), (_, size_b) in pairs
        ])  # fmt: skip
        best = None
        for i in np.argsort(screen, kind="stable")[:PAIR_MAX_TRIES]:
            ((code_a, size_a), (code_b, size_b)), start = tries[i]
            fit = _fit(
                partial(residuals, size_a=size_a, size_b=size_b), start, PAIR_MAX_EVALUATIONS
            )
            cost = _rms(fit.fun)
            if best is None or cost < best[0]:
                best = (cost, (code_a, code_b), (size_a, size_b), fit)
            if cost <= self.config.max_fit_residual_px:
                break  # good enough
        return best

    def _box_residuals(self, centres: NDArray, size, box: NDArray) -> NDArray:
        """Projected bounding boxes (B, 4) of boxes at ``centres`` (B, 2) minus ``box``."""
        return projected_box(self.camera, centres, size) - box

    def _on_lane(self, foot: NDArray, lane_y: float) -> NDArray:
        """The road point at ``lane_y`` on the line from the camera's foot through ``foot``
        (what the camera sees at about the same image column on that lane)."""
        cx, cy = self.camera.centre_m[:2]
        return np.array([cx + (foot[0] - cx) * (lane_y - cy) / (foot[1] - cy), lane_y])

    def _foot(self, u_left: float, u_right: float, v_bottom: float) -> NDArray:
        """Road point under the middle of an image span's bottom (a start for a box fit)."""
        foot = self._h_inv @ np.array([(u_left + u_right) / 2, v_bottom, 1.0])
        return foot[:2] / foot[2]

    def _accept(self, fitted, box: NDArray) -> list[tuple]:
        """The detections of a fit (one or two boxes), or none when its RMS residual
        exceeds ``max_fit_residual_px``, a box is off the road (its sides or its ends: the
        foreground is the road's volume only) or leaves the image. The
        covariance of each position is its block of (J^T J)^-1 sigma_px^2, plus
        ``model_std_m``."""
        cost, codes, sizes, fit = fitted
        if cost > self.config.max_fit_residual_px:
            return []
        centres = fit.x.reshape(-1, 2)
        for xy, size in zip(centres, sizes, strict=True):
            on_road = (
                self.road.x_min_m - ROAD_MARGIN_M <= xy[0] <= self.road.x_max_m + ROAD_MARGIN_M
                and self._road_y[0] - ROAD_MARGIN_M <= xy[1] <= self._road_y[1] + ROAD_MARGIN_M
            )
            if not on_road or self._clipped(projected_box(self.camera, xy, size), 0.0):
                return []
        cov_all = np.linalg.pinv(fit.jac.T @ fit.jac) * self.config.pixel_std**2
        confidence = float(np.exp(-cost / self.config.max_fit_residual_px))
        out = []
        for i, (xy, code, size) in enumerate(zip(centres, codes, sizes, strict=True)):
            cov = cov_all[
                2 * i : 2 * i + 2, 2 * i : 2 * i + 2
            ] + self.config.model_std_m**2 * np.eye(2)
            out.append(
                (xy, cov, code, size[0], size[1], confidence, np.round(box).astype(np.int64))
            )
        return out

    def _clipped(self, box: NDArray, margin_px: float) -> bool:
        """Whether a (u_min, v_min, u_max, v_max) box reaches within ``margin_px`` of the
        image border."""
        return bool(
            box[0] <= margin_px
            or box[1] <= margin_px
            or box[2] >= self.camera.width_px - margin_px
            or box[3] >= self.camera.height_px - margin_px
        )


def _rms(residuals: NDArray) -> NDArray[np.float64]:
    """Root mean square over the last axis (one value per residual row)."""
    return np.sqrt(np.mean(residuals**2, axis=-1))


def _fit(residuals: Callable[[NDArray], NDArray], x0: NDArray, max_nfev: int | None = None):
    """scipy's Levenberg-Marquardt least squares of ``residuals`` (parameter rows (B, n) to
    residual rows (B, m)) from ``x0``, with scipy's own forward-difference Jacobian (its
    '2-point' steps) taken in one batched call of ``residuals`` instead of n calls."""

    def jacobian(x: NDArray) -> NDArray:
        step = np.sqrt(np.finfo(float).eps) * np.where(x >= 0, 1.0, -1.0)
        dx = (x + step * np.maximum(1.0, np.abs(x))) - x
        f = residuals(np.vstack([x, x + np.diag(dx)]))
        return ((f[1:] - f[0]) / dx[:, None]).T

    return least_squares(
        lambda x: residuals(x[None])[0], x0, jac=jacobian, method="lm", max_nfev=max_nfev
    )
