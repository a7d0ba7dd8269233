"""Camera detections against the ground truth over a run (``rsu-isac camera-accuracy``):
the simulator renders a frame every ``period_slots`` slots, the detector
(``perception.camera_detector``) processes the whole road, and every detection is matched
to the nearest true vehicle (the traffic engine's state, independent of the pipeline)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rsu_isac.core.scenario import Scenario
from rsu_isac.perception.camera_detector import CameraDetector, DetectorConfig
from rsu_isac.sim.world import SimConfig, Simulator


@dataclass(frozen=True)
class CameraAccuracy:
    frames: int
    detections: int
    vehicles_in_view: float  # mean per frame of true vehicles whose box is inside the image
    detected_share: float  # detections / vehicles fully in view
    error_median_m: float
    error_p95_m: float
    error_max_m: float
    class_accuracy: float
    nees_median: float  # median of e^T C^-1 e (2 for a consistent covariance... mean 2)
    ms_median: float  # processing time per frame
    ms_p95: float


def measure(
    scenario: Scenario,
    duration_s: float,
    period_slots: int,
    seed: int,
    progress: Callable[[], None] | None = None,
) -> CameraAccuracy:
    sim = Simulator(
        scenario,
        SimConfig(camera_period_slots=period_slots, seed=seed, abstraction="measurement"),
    )
    detector = CameraDetector(sim.mast_camera, scenario.road, DetectorConfig())
    errors, nees, classes, times, in_view = [], [], [], [], []
    frames = 0
    try:
        for _ in range(round(duration_s / scenario.slot_s)):
            out = sim.step()
            if progress is not None:
                progress()
            if out.image is None:
                continue
            frames += 1
            started = time.perf_counter()
            found = detector.detect(out.image)
            times.append(time.perf_counter() - started)
            v = out.vehicles
            uv, front = sim.mast_camera.project(np.column_stack([v.x_m, v.y_m, np.zeros(len(v))]))
            inside = front & (uv[:, 0] >= 0) & (uv[:, 0] < sim.mast_camera.width_px)
            in_view.append(int(inside.sum()))
            for xy, cov, code in zip(
                found.position_xy, found.covariance, found.vehicle_class, strict=True
            ):
                dist = np.hypot(v.x_m - xy[0], v.y_m - xy[1])
                k = int(np.argmin(dist))
                e = np.array([v.x_m[k], v.y_m[k]]) - xy
                errors.append(dist[k])
                nees.append(float(e @ np.linalg.solve(cov, e)))
                classes.append(code == v.vehicle_class[k])
    finally:
        sim.close()
    err = np.array(errors) if errors else np.full(1, np.nan)
    ms = np.array(times) * 1e3 if times else np.zeros(1)
    return CameraAccuracy(
        frames=frames,
        detections=len(errors),
        vehicles_in_view=float(np.mean(in_view)) if in_view else 0.0,
        detected_share=len(errors) / max(sum(in_view), 1),
        error_median_m=float(np.median(err)),
        error_p95_m=float(np.percentile(err, 95)),
        error_max_m=float(np.max(err)),
        class_accuracy=float(np.mean(classes)) if classes else float("nan"),
        nees_median=float(np.median(nees)) if nees else float("nan"),
        ms_median=float(np.median(ms)),
        ms_p95=float(np.percentile(ms, 95)),
    )
