"""Camera frames of the RSU's mast camera: road, lane markings and vehicles as 3-D boxes,
rendered with OpenCV through the pinhole model of :mod:`rsu_isac.core.camera_model`."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from rsu_isac.core.camera_model import PinholeCamera, intrinsics_from_fov, look_at_rotation
from rsu_isac.core.scenario import Scenario
from rsu_isac.sim.traffic import VehicleStates

VIEW_HALF_LENGTH_M = 80.0  # road drawn within this distance of the mast along x
# height [m] and BGR colour per class code (car, truck, bus)
CLASS_HEIGHT_M = {1: 1.5, 2: 3.5, 3: 3.2}
CLASS_COLOUR = {1: (40, 40, 200), 2: (200, 120, 30), 3: (30, 180, 230)}
SKY, GRASS, ASPHALT, MARKING = (235, 206, 135), (60, 130, 60), (90, 90, 90), (240, 240, 240)


def mast_camera(scenario: Scenario, rsu_index: int = 0) -> PinholeCamera:
    """The scenario's mast camera (``scenario.camera``) on the RSU, looking at the road
    centre line abeam."""
    cam = scenario.camera
    x, y = scenario.rsus[rsu_index].position_m
    road_y = float(np.mean([lane.y_m for lane in scenario.road.lanes]))
    centre = np.array([x, y, cam.mast_height_m])
    target = np.array([x, road_y, 0.0])
    return PinholeCamera(
        cam.width_px,
        cam.height_px,
        intrinsics_from_fov(cam.width_px, cam.height_px, np.radians(cam.horizontal_fov_deg)),
        look_at_rotation(centre, target),
        centre,
    )


def _polygon(camera: PinholeCamera, corners_m: NDArray) -> NDArray[np.int32] | None:
    uv, in_front = camera.project(corners_m)
    if not np.all(in_front):
        return None
    return np.clip(np.round(uv), -1e5, 1e5).astype(np.int32)


def render(camera: PinholeCamera, scenario: Scenario, vehicles: VehicleStates) -> NDArray[np.uint8]:
    """BGR image (H, W, 3) of the road and the vehicles."""
    image = np.empty((camera.height_px, camera.width_px, 3), dtype=np.uint8)
    image[:] = SKY
    road = scenario.road
    cx = camera.centre_m[0]
    x0, x1 = max(road.x_min_m, cx - VIEW_HALF_LENGTH_M), min(road.x_max_m, cx + VIEW_HALF_LENGTH_M)
    ys = [lane.y_m for lane in road.lanes]
    half = road.lane_width_m / 2
    y0, y1 = min(ys) - half, max(ys) + half
    # ground from just in front of the mast to well beyond the road (never behind the camera)
    cam_y = camera.centre_m[1]
    g0, g1 = (cam_y + 1.0, y1 + 200.0) if y0 > cam_y else (y0 - 200.0, cam_y - 1.0)
    gx0, gx1 = cx - 4 * VIEW_HALF_LENGTH_M, cx + 4 * VIEW_HALF_LENGTH_M
    ground = _polygon(camera, np.array([[gx0, g0, 0], [gx1, g0, 0], [gx1, g1, 0], [gx0, g1, 0]]))
    if ground is not None:
        cv2.fillPoly(image, [ground], GRASS)
    surface = _polygon(camera, np.array([[x0, y0, 0], [x1, y0, 0], [x1, y1, 0], [x0, y1, 0]]))
    if surface is not None:
        cv2.fillPoly(image, [surface], ASPHALT)
    for lane in road.lanes:
        for edge in (lane.y_m - half, lane.y_m + half):
            line = _polygon(camera, np.array([[x0, edge, 0], [x1, edge, 0]]))
            if line is not None:
                cv2.line(image, tuple(line[0]), tuple(line[1]), MARKING, 1, cv2.LINE_AA)
    # vehicles far to near, so that nearer ones occlude
    distance = np.hypot(vehicles.x_m - camera.centre_m[0], vehicles.y_m - camera.centre_m[1])
    for i in np.argsort(-distance):
        corners = box_corners(vehicles, int(i))
        poly = _polygon(camera, corners)
        if poly is None:
            continue
        hull = cv2.convexHull(poly)
        code = int(vehicles.vehicle_class[i])
        cv2.fillConvexPoly(image, hull, CLASS_COLOUR.get(code, (0, 0, 0)))
        cv2.polylines(image, [hull], True, (20, 20, 20), 1, cv2.LINE_AA)
    return image


def box_corners(vehicles: VehicleStates, i: int) -> NDArray[np.float64]:
    """The 8 corners (8, 3) of vehicle i's bounding box in the road frame."""
    c, s = np.cos(vehicles.heading_rad[i]), np.sin(vehicles.heading_rad[i])
    half_l, half_w = vehicles.length_m[i] / 2, vehicles.width_m[i] / 2
    local = np.array([[sx * half_l, sy * half_w] for sx in (-1, 1) for sy in (-1, 1)])
    xy = np.array([vehicles.x_m[i], vehicles.y_m[i]]) + local @ np.array([[c, s], [-s, c]])
    height = CLASS_HEIGHT_M.get(int(vehicles.vehicle_class[i]), 1.5)
    return np.vstack(
        [np.column_stack([xy, np.zeros(4)]), np.column_stack([xy, np.full(4, height)])]
    )
