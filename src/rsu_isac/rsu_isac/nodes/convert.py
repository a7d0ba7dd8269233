"""Conversions between rsu_isac_interfaces / standard messages and core/sim objects.

Incoming messages are validated here; a malformed one raises :class:`MalformedMessageError`
with the reason, which the node logs, counts and drops.
"""

from __future__ import annotations

import array
import dataclasses
import math
from collections.abc import Sequence

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point, PoseStamped, Vector3
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import ColorRGBA, Header
from unique_identifier_msgs.msg import UUID
from visualization_msgs.msg import Marker, MarkerArray

from rsu_isac.core.beams import BeamSet
from rsu_isac.core.camera_model import PinholeCamera
from rsu_isac.core.radar_dsp import Detections, implausible_detections, strongest
from rsu_isac.core.scenario import Scenario
from rsu_isac.core.tracker import TENTATIVE, TrackView
from rsu_isac.perception.camera_detector import CameraDetections, Region
from rsu_isac.scheduling.scheduler import (
    Schedule,
    TrackAoiInputs,
    coasting_slots,
    largest_std_m,
)
from rsu_isac.sim.link import LinkScore
from rsu_isac.sim.radar_echo import Measurements, OfdmFrame
from rsu_isac.sim.traffic import VehicleStates
from rsu_isac_interfaces.msg import (
    AoiSchedule,
    AoiState,
    Beam,
    BeamformingCommand,
    CameraDetection,
    CameraDetectionArray,
    LinkMetrics,
    RadarDetection,
    RadarEcho,
    Track,
    TrackArray,
    VehicleAoi,
    VehicleLink,
    VehicleState,
    VehicleStateArray,
)

MAX_IMAGE_SIDE_PX = 8192  # the scenario schema's camera limit


class MalformedMessageError(ValueError):
    """An incoming message cannot be used; the text says why."""


def float32_sequence(values: np.ndarray) -> array.array:
    """A float32[] field value built from bytes (the generated setter takes an
    array.array('f') as is; anything else is checked element by element, 50x slower)."""
    out = array.array("f")
    out.frombytes(np.ascontiguousarray(values, dtype=np.float32).tobytes())
    return out


def sim_time(seconds: float) -> Time:
    nanoseconds = round(seconds * 1e9)
    return Time(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def time_seconds(t: Time) -> float:
    """A builtin_interfaces/Time in seconds (the inverse of :func:`sim_time`)."""
    return t.sec + t.nanosec * 1e-9


def stamp_seconds(msg) -> float:
    """The header stamp of ``msg`` in seconds."""
    return time_seconds(msg.header.stamp)


def vehicles_to_msg(
    vehicles: VehicleStates, stamp: Time, slot: int, frame_id: str, queue: int
) -> VehicleStateArray:
    msg = VehicleStateArray(slot=slot, entry_queue_length=queue)
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    msg.vehicles = [
        VehicleState(
            id=int(v[0]),
            classification=int(v[1]),
            lane=int(v[2]),
            x_m=v[3],
            y_m=v[4],
            vx_mps=v[5],
            vy_mps=v[6],
            heading_rad=v[7],
            length_m=v[8],
            width_m=v[9],
        )
        for v in vehicles.as_array().tolist()
    ]
    return msg


def _echo_header(scenario: Scenario, stamp: Time, slot: int, frame_id: str) -> RadarEcho:
    radio, wf = scenario.radio, scenario.radar.waveform
    msg = RadarEcho(
        slot=slot,
        carrier_frequency_hz=radio.carrier_frequency_hz,
        subcarrier_spacing_hz=wf.subcarrier_spacing_hz,
        symbol_interval_s=wf.symbol_interval_s,
        noise_variance_w=radio.sensing_noise_w,
        antenna_spacing_wavelengths=radio.array.spacing_wavelengths,
    )
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    return msg


def frame_to_echo_msg(
    frame: OfdmFrame, scenario: Scenario, stamp: Time, slot: int, frame_id: str
) -> RadarEcho:
    msg = _echo_header(scenario, stamp, slot, frame_id)
    msg.abstraction = RadarEcho.ABSTRACTION_SIGNAL
    msg.waveform = "ofdm"
    msg.num_rx_antennas, msg.num_symbols, msg.num_subcarriers = frame.samples.shape
    samples = frame.samples.reshape(-1)
    msg.real = float32_sequence(samples.real)
    msg.imag = float32_sequence(samples.imag)
    symbols = frame.tx_symbols.reshape(-1)
    msg.tx_symbols_real = float32_sequence(symbols.real)
    msg.tx_symbols_imag = float32_sequence(symbols.imag)
    return msg


def detections_to_msgs(d: Detections, beam_index: np.ndarray | None = None) -> list[RadarDetection]:
    """RadarDetection messages of core detections (beam_index -1 where unknown)."""
    beams = np.full(len(d), -1) if beam_index is None else beam_index
    return [
        RadarDetection(
            range_m=float(d.range_m[i]),
            radial_velocity_mps=float(d.radial_velocity_mps[i]),
            azimuth_rad=float(d.azimuth_rad[i]),
            delay_s=float(d.delay_s[i]),
            doppler_hz=float(d.doppler_hz[i]),
            snr_db=float(d.snr_db[i]),
            range_variance_m2=float(d.range_variance_m2[i]),
            radial_velocity_variance_m2ps2=float(d.radial_velocity_variance_m2ps2[i]),
            azimuth_variance_rad2=float(d.azimuth_variance_rad2[i]),
            beam_index=int(beams[i]),
        )
        for i in range(len(d))
    ]


@dataclasses.dataclass(frozen=True)
class CheckedDetections:
    """The physically possible detections of a message and what was rejected."""

    detections: Detections
    kept: np.ndarray  # indices into the message's detections
    num_rejected: int
    reason: str  # "" when all were kept; else which and why, in one line


def detections_from_msgs(
    detections: Sequence[RadarDetection],
    max_range_m: float = math.inf,
    max_detections: int | None = None,
    max_speed_mps: float = math.inf,
) -> CheckedDetections:
    """Core detections of RadarDetection messages. A detection that no radar can report
    (core.radar_dsp.implausible_detections: NaN, a range outside [0, ``max_range_m``], a
    radial speed above ``max_speed_mps``, an azimuth outside [0, pi], a negative variance or
    one wider than the measurable span) is rejected on its own, the rest of the frame kept;
    beyond ``max_detections`` the weakest (by SNR) are rejected."""
    names = [f.name for f in dataclasses.fields(Detections)]
    values = np.array([[getattr(d, n) for n in names] for d in detections], dtype=float)
    every = Detections(*values.reshape(len(detections), len(names)).T)
    bad, notes = rejected_elements(
        implausible_detections(every, max_range_m, max_speed_mps), len(every)
    )
    plausible = np.flatnonzero(~bad)
    kept = strongest(every, plausible, max_detections)
    extra = np.setdiff1d(plausible, kept)
    if extra.size:
        notes.append(
            f"beyond max_detections = {max_detections}: " + ", ".join(f"#{i}" for i in extra)
        )
    out = every.subset(kept) if kept.size else Detections.empty()
    return CheckedDetections(out, kept, len(every) - kept.size, "; ".join(notes))


def rejected_elements(reasons: dict[str, np.ndarray], count: int) -> tuple[np.ndarray, list[str]]:
    """Which of ``count`` elements a message loses (a mask), and per reason (in the order
    given, each element under the first that hits it) the indices it names: "reason: #i,
    #j"."""
    bad = np.zeros(count, dtype=bool)
    notes = []
    for reason, hit in reasons.items():
        new = hit & ~bad
        if new.any():
            notes.append(f"{reason}: " + ", ".join(f"#{i}" for i in np.flatnonzero(new)))
        bad |= new
    return bad, notes


def _matrices(rows: Sequence[Sequence[float]], size: int, what: str) -> np.ndarray:
    """(len(rows), size, size) of row-major fixed-length fields; a wrong length is malformed."""
    if any(len(r) != size * size for r in rows):
        raise MalformedMessageError(f"a {what} does not have {size * size} entries")
    return np.array(rows, dtype=float).reshape(-1, size, size)


MAX_COORDINATE_M = 1e5  # the scenario schema's position limit


def camera_detections_from_msg(msg: CameraDetectionArray) -> tuple[np.ndarray, np.ndarray]:
    """Road-frame positions (C, 2) and covariances (C, 2, 2) of camera detections; NaN, a
    position beyond MAX_COORDINATE_M or a covariance that is not symmetric positive definite
    raises MalformedMessageError."""
    xy = np.array([[d.x_m, d.y_m] for d in msg.detections], dtype=float).reshape(-1, 2)
    cov = _matrices([d.position_covariance for d in msg.detections], 2, "position covariance")
    if not (np.isfinite(xy).all() and np.isfinite(cov).all()):
        raise MalformedMessageError("camera detection with NaN or infinite fields")
    if np.any(np.abs(xy) > MAX_COORDINATE_M):
        raise MalformedMessageError(f"camera detection beyond {MAX_COORDINATE_M:g} m")
    det = cov[:, 0, 0] * cov[:, 1, 1] - cov[:, 0, 1] * cov[:, 1, 0]
    if np.any(cov[:, 0, 0] <= 0) or np.any(det <= 0) or not np.allclose(cov, cov.swapaxes(1, 2)):
        raise MalformedMessageError("camera position covariance is not symmetric positive definite")
    return xy, cov


def tracks_to_msg(
    view: TrackView, rsu_index: int, stamp: Time, slot: int, slot_s: float, frame_id: str
) -> TrackArray:
    """TrackArray of a tracker snapshot (polar state of ``rsu_index``, road-frame position).
    Every column is turned into Python numbers once (``tolist``), not element by element."""
    n = len(view)
    existence = view.existence_probability.tolist()
    ids, status, uuids = view.track_id.tolist(), view.status.tolist(), [list(u) for u in view.uuid]
    polar, position, velocity = (
        view.polar.tolist(),
        view.position_xy.tolist(),
        view.velocity_xy.tolist(),
    )
    polar_cov = view.polar_covariance.reshape(n, 9).tolist()
    position_cov = view.position_covariance.reshape(n, 4).tolist()
    predicted = view.predicted_polar.tolist()
    predicted_var = view.predicted_polar_covariance[:, 0, 0].tolist()
    pcrb = np.stack([view.pcrb_polar[:, 0, 0], view.pcrb_polar[:, 1, 1]], axis=-1).tolist()
    floor = view.angle_fisher_floor.tolist()
    aoi, hits_, misses_ = view.aoi_s.tolist(), view.hits.tolist(), view.misses.tolist()
    tracks = [
        Track(
            id=ids[i],
            uuid=UUID(uuid=uuids[i]),
            status=status[i],
            classification=VehicleState.CLASS_UNKNOWN,
            existence_probability=existence[i],
            rsu_index=rsu_index,
            azimuth_rad=polar[i][0],
            range_m=polar[i][1],
            radial_velocity_mps=polar[i][2],
            state_covariance=polar_cov[i],
            position=Point(x=position[i][0], y=position[i][1], z=0.0),
            velocity=Vector3(x=velocity[i][0], y=velocity[i][1], z=0.0),
            position_covariance=position_cov[i],
            predicted_azimuth_rad=predicted[i][0],
            predicted_range_m=predicted[i][1],
            predicted_azimuth_variance_rad2=predicted_var[i],
            pcrb_azimuth_rad2=pcrb[i][0],
            pcrb_range_m2=pcrb[i][1],
            azimuth_fisher_floor=floor[i],
            aoi_s=aoi[i],
            hits=hits_[i],
            misses=misses_[i],
        )
        for i in range(n)
    ]
    header = Header(stamp=stamp, frame_id=frame_id)
    return TrackArray(header=header, slot=slot, slot_duration_s=slot_s, tracks=tracks)


TRACK_COLOURS = {0: (0.6, 0.6, 0.6), 1: (0.1, 0.8, 0.2), 2: (1.0, 0.6, 0.0)}  # by status


def track_markers(view: TrackView, stamp: Time, frame_id: str, namespace: str) -> MarkerArray:
    """RViz markers: a DELETEALL, then per track a box at its position (green confirmed,
    orange coasting, grey tentative) and its id as text."""
    markers = [Marker(action=Marker.DELETEALL, ns=namespace)]
    for i in range(len(view)):
        px, py = (float(c) for c in view.position_xy[i])
        r, g, b = TRACK_COLOURS[int(view.status[i])]
        header = Header(stamp=stamp, frame_id=frame_id)
        box = Marker(header=header, ns=namespace, id=2 * i, type=Marker.CUBE, action=Marker.ADD)
        box.pose.position = Point(x=px, y=py, z=0.75)
        box.pose.orientation.w = 1.0
        box.scale = Vector3(x=4.5, y=1.8, z=1.5)
        box.color = ColorRGBA(r=r, g=g, b=b, a=0.8)
        text = Marker(
            header=header,
            ns=namespace,
            id=2 * i + 1,
            type=Marker.TEXT_VIEW_FACING,
            action=Marker.ADD,
        )
        text.pose.position = Point(x=px, y=py, z=2.5)
        text.pose.orientation.w = 1.0
        text.scale.z = 1.0
        text.color = ColorRGBA(r=1.0, g=1.0, b=1.0, a=1.0)
        text.text = str(int(view.track_id[i]))
        markers.extend([box, text])
    return MarkerArray(markers=markers)


def measurements_to_echo_msg(
    meas: Measurements, scenario: Scenario, stamp: Time, slot: int, frame_id: str
) -> RadarEcho:
    msg = _echo_header(scenario, stamp, slot, frame_id)
    msg.abstraction = RadarEcho.ABSTRACTION_MEASUREMENT
    msg.measurements = detections_to_msgs(meas.detections, meas.beam_index)
    return msg


def beamset_from_msg(
    msg: BeamformingCommand, num_antennas: int, num_rsus: int, max_power_w: float
) -> BeamSet:
    """Validated beams of a command; raises MalformedMessageError with the reason. Each
    RSU's beams together may transmit at most ``max_power_w`` (P_max; 1e-6 relative
    tolerance for float32 rounding)."""
    if msg.num_antennas != num_antennas:
        raise MalformedMessageError(
            f"num_antennas = {msg.num_antennas}, the RSU has {num_antennas}"
        )
    b = len(msg.beams)
    weights = np.zeros((b, num_antennas), dtype=complex)
    for i, beam in enumerate(msg.beams):
        if len(beam.weights_real) != num_antennas or len(beam.weights_imag) != num_antennas:
            raise MalformedMessageError(
                f"beam {i} has {len(beam.weights_real)} weights, expected {num_antennas}"
            )
        weights[i] = np.asarray(beam.weights_real) + 1j * np.asarray(beam.weights_imag)
        if beam.rsu_index >= num_rsus:
            raise MalformedMessageError(
                f"beam {i} names RSU {beam.rsu_index}; there are {num_rsus}"
            )
        if beam.kind not in (Beam.KIND_COMMUNICATION, Beam.KIND_SENSING):
            raise MalformedMessageError(f"beam {i} has unknown kind {beam.kind}")
    powers = np.array([beam.power_w for beam in msg.beams], dtype=float)
    if not (np.all(np.isfinite(weights)) and np.all(np.isfinite(powers))):
        raise MalformedMessageError("NaN or infinite weights or powers")
    if np.any(powers < 0):
        raise MalformedMessageError("negative beam power")
    norms = np.linalg.norm(weights, axis=1)
    if b and np.any(np.abs(norms - 1.0) > 1e-3):
        raise MalformedMessageError(
            f"beams must be unit-norm, got norms {np.round(norms[:8], 4).tolist()}"
        )
    rsu_index = np.array([beam.rsu_index for beam in msg.beams], dtype=int)
    per_rsu = np.bincount(rsu_index, weights=powers, minlength=num_rsus)
    if np.any(per_rsu > max_power_w * (1 + 1e-6)):
        worst = int(np.argmax(per_rsu))
        raise MalformedMessageError(
            f"RSU {worst} would transmit {per_rsu[worst]:.4g} W over {np.sum(rsu_index == worst)} "
            f"beam(s), above its budget P_max = {max_power_w:.4g} W"
        )
    return BeamSet(
        weights=weights,
        powers_w=powers,
        rsu_index=rsu_index,
        kind=np.array([beam.kind for beam in msg.beams], dtype=int),
        track_id=np.array([beam.track_id for beam in msg.beams], dtype=int),
        target_angle_rad=np.array([beam.target_azimuth_rad for beam in msg.beams], dtype=float),
    )


def beamset_to_msg(
    beams: BeamSet,
    stamp: Time,
    slot: int,
    policy: str,
    frame_id: str,
    power_budget_w: float,
    solve_time_s: float = 0.0,
) -> BeamformingCommand:
    msg = BeamformingCommand(
        slot=slot,
        policy=policy,
        num_antennas=beams.weights.shape[1],
        power_budget_w=power_budget_w,
        solve_time_s=solve_time_s,
    )
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    msg.beams = [
        Beam(
            kind=int(beams.kind[i]),
            track_id=int(beams.track_id[i]),
            rsu_index=int(beams.rsu_index[i]),
            power_w=float(beams.powers_w[i]),
            target_azimuth_rad=float(beams.target_angle_rad[i]),
            weights_real=float32_sequence(beams.weights[i].real),
            weights_imag=float32_sequence(beams.weights[i].imag),
        )
        for i in range(len(beams))
    ]
    return msg


def link_to_msg(
    link: LinkScore, beams: BeamSet, stamp: Time, slot: int, command_slot: int, policy: str
) -> LinkMetrics:
    msg = LinkMetrics(
        slot=slot,
        command_slot=command_slot,
        policy=policy,
        sum_rate_bps_hz=link.sum_rate_bps_hz,
        jain_fairness=link.jain_fairness,
        num_misaligned=int(np.sum(link.misaligned)),
    )
    msg.header.stamp = stamp
    sinr_db = 10 * np.log10(np.maximum(link.sinr, 1e-30))
    msg.links = [
        VehicleLink(
            vehicle_id=int(link.vehicle_id[k]),
            track_id=int(beams.track_id[link.beam_index[k]]) if link.beam_index[k] >= 0 else 0,
            rsu_index=max(int(link.rsu_index[k]), 0),
            sinr_db=float(sinr_db[k]),
            rate_bps_hz=float(link.rate_bps_hz[k]),
            beam_gain=float(link.beam_gain[k]),
            misaligned=bool(link.misaligned[k]),
        )
        for k in range(link.vehicle_id.size)
    ]
    return msg


def image_to_msg(image: np.ndarray, stamp: Time, frame_id: str) -> Image:
    height, width, channels = image.shape
    msg = Image(height=height, width=width, encoding="bgr8", is_bigendian=0, step=width * channels)
    msg.data = image.tobytes()
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    return msg


def camera_info_msg(camera: PinholeCamera, stamp: Time, frame_id: str) -> CameraInfo:
    """Ideal pinhole (no distortion); rectification is the identity."""
    msg = CameraInfo(width=camera.width_px, height=camera.height_px, distortion_model="plumb_bob")
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    msg.k = camera.intrinsics.reshape(-1).tolist()
    msg.d = [0.0] * 5
    msg.r = np.eye(3).reshape(-1).tolist()
    msg.p = np.hstack([camera.intrinsics, np.zeros((3, 1))]).reshape(-1).tolist()
    return msg


def camera_pose_msg(camera: PinholeCamera, stamp: Time, frame_id: str) -> PoseStamped:
    """Mounting pose: camera (optical frame) centre and orientation in the road frame."""
    msg = PoseStamped()
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    msg.pose.position.x, msg.pose.position.y, msg.pose.position.z = camera.centre_m.tolist()
    x, y, z, w = _quaternion(camera.rotation.T)  # camera -> world rotation
    msg.pose.orientation.x, msg.pose.orientation.y = x, y
    msg.pose.orientation.z, msg.pose.orientation.w = z, w
    return msg


def _quaternion(r: np.ndarray) -> tuple[float, float, float, float]:
    """(x, y, z, w) of a rotation matrix (Shepperd's method)."""
    trace = np.trace(r)
    if trace > 0:
        s = 2.0 * np.sqrt(1.0 + trace)
        return ((r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s, s / 4)
    i = int(np.argmax(np.diag(r)))
    j, k = (i + 1) % 3, (i + 2) % 3
    s = 2.0 * np.sqrt(1.0 + r[i, i] - r[j, j] - r[k, k])
    q = np.zeros(4)
    q[i] = s / 4
    q[j] = (r[j, i] + r[i, j]) / s
    q[k] = (r[k, i] + r[i, k]) / s
    q[3] = (r[k, j] - r[j, k]) / s
    return float(q[0]), float(q[1]), float(q[2]), float(q[3])


def image_from_msg(msg: Image) -> np.ndarray:
    """BGR image (H, W, 3) of a ``bgr8`` Image; anything else is malformed."""
    if msg.encoding != "bgr8":
        raise MalformedMessageError(f"image encoding '{msg.encoding}', expected bgr8")
    if msg.step != 3 * msg.width or len(msg.data) != msg.step * msg.height:
        raise MalformedMessageError(
            f"image of {len(msg.data)} bytes does not match {msg.width} x {msg.height} bgr8"
        )
    return np.frombuffer(bytes(msg.data), dtype=np.uint8).reshape(msg.height, msg.width, 3)


def camera_from_msgs(info: CameraInfo, pose: PoseStamped) -> PinholeCamera:
    """The camera model of ``camera_info`` (K, size) and the mounting pose (optical-frame
    centre and camera -> road rotation): the inverse of :func:`camera_info_msg` and
    :func:`camera_pose_msg`."""
    if len(info.k) != 9:
        raise MalformedMessageError(f"camera_info with {len(info.k)} intrinsic entries, not 9")
    k = np.asarray(info.k, dtype=float).reshape(3, 3)
    q = pose.pose.orientation
    quaternion = np.array([q.x, q.y, q.z, q.w])
    centre = np.array([pose.pose.position.x, pose.pose.position.y, pose.pose.position.z])
    if not (np.isfinite(k).all() and k[0, 0] > 0 and k[1, 1] > 0 and info.width and info.height):
        raise MalformedMessageError("camera_info without a valid intrinsic matrix or size")
    if max(info.width, info.height) > MAX_IMAGE_SIDE_PX:
        raise MalformedMessageError(
            f"camera_info of {info.width} x {info.height} px; at most {MAX_IMAGE_SIDE_PX} a side"
        )
    norm = np.linalg.norm(quaternion)
    if not (np.isfinite(quaternion).all() and np.isfinite(centre).all() and norm > 0):
        raise MalformedMessageError("camera pose with NaN or a zero quaternion")
    x, y, z, w = quaternion / norm
    camera_to_world = np.array(
        [[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
         [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
         [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]]
    )  # fmt: skip
    return PinholeCamera(int(info.width), int(info.height), k, camera_to_world.T, centre)


def camera_detections_to_msg(
    found: CameraDetections,
    stamp: Time,
    slot: int,
    frame_id: str,
    processing_time_s: float,
    energy_j: float,
) -> CameraDetectionArray:
    detections = [
        CameraDetection(
            x_m=float(found.position_xy[i, 0]),
            y_m=float(found.position_xy[i, 1]),
            position_covariance=found.covariance[i].ravel().tolist(),
            classification=int(found.vehicle_class[i]),
            length_m=float(found.length_m[i]),
            width_m=float(found.width_m[i]),
            confidence=float(found.confidence[i]),
            u_min=int(found.box_px[i, 0]),
            v_min=int(found.box_px[i, 1]),
            u_max=int(found.box_px[i, 2]),
            v_max=int(found.box_px[i, 3]),
        )
        for i in range(len(found))
    ]
    return CameraDetectionArray(
        header=Header(stamp=stamp, frame_id=frame_id),
        slot=slot,
        detections=detections,
        processing_time_s=processing_time_s,
        energy_j=energy_j,
    )


def aoi_inputs_from_msg(msg: TrackArray) -> TrackAoiInputs:
    """The scheduler's view of the confirmed and coasting tracks of a TrackArray; NaN in a
    used field is malformed."""
    tracks = [t for t in msg.tracks if t.status != TENTATIVE]
    cov = _matrices([t.position_covariance for t in tracks], 2, "track position covariance")
    _matrices([t.state_covariance for t in tracks], 3, "track state covariance")
    out = TrackAoiInputs(
        track_id=np.array([t.id for t in tracks], dtype=np.int64),
        azimuth_rad=np.array([t.azimuth_rad for t in tracks], dtype=float),
        angle_variance_rad2=np.array([t.state_covariance[0] for t in tracks], dtype=float),
        predicted_angle_variance_rad2=np.array(
            [t.predicted_azimuth_variance_rad2 for t in tracks], dtype=float
        ),
        look_at_xy=np.array([[t.position.x, t.position.y] for t in tracks]).reshape(-1, 2),
        position_std_m=largest_std_m(cov),
        aoi_s=np.array([t.aoi_s for t in tracks], dtype=float),
        coasting_slots=coasting_slots(
            np.array([t.status for t in tracks]), np.array([t.misses for t in tracks])
        ),
    )
    fields = [
        out.azimuth_rad,
        out.angle_variance_rad2,
        out.predicted_angle_variance_rad2,
        out.look_at_xy,
        out.position_std_m,
        out.aoi_s,
    ]
    if not all(np.isfinite(f).all() for f in fields):
        raise MalformedMessageError("track with NaN or infinite fields")
    return out


def schedule_to_msgs(
    schedule: Schedule, stamp: Time, frame_id: str, num_sweeps: int = 0
) -> tuple[AoiSchedule, AoiState]:
    header = Header(stamp=stamp, frame_id=frame_id)
    plan = AoiSchedule(
        header=header,
        slot=schedule.slot,
        policy=schedule.policy,
        camera_on=schedule.camera_on,
        scan=schedule.scan,
        track_ids=[int(i) for i in schedule.track_id[schedule.scheduled]],
        region_centers=[
            Point(x=float(x), y=float(y), z=0.0) for x, y in schedule.region_centres_xy
        ],
        region_radii_m=[float(r) for r in schedule.region_radii_m],
    )
    state = AoiState(
        header=header,
        slot=schedule.slot,
        policy=schedule.policy,
        camera_on=schedule.camera_on,
        vehicles=[
            VehicleAoi(
                track_id=int(schedule.track_id[i]),
                aoi_s=float(schedule.aoi_slots[i] * schedule.slot_s),
                uncertainty_rate=float(schedule.uncertainty_rate[i] / schedule.slot_s),
                misalignment_probability=float(schedule.misalignment[i]),
                camera_scheduled=bool(schedule.scheduled[i]),
            )
            for i in range(len(schedule.track_id))
        ],
        energy_comp_j=schedule.energy_comp_j,
        energy_sweep_j=schedule.energy_sweep_j,
        energy_total_j=schedule.energy_total_j,
        num_sweeps=num_sweeps,
        mean_misalignment_probability=schedule.mean_misalignment,
    )
    return plan, state


def regions_from_msg(msg: AoiSchedule) -> list[Region]:
    """The camera regions of a schedule: one per scheduled track, then the whole road on a
    scan slot."""
    if len(msg.region_centers) != len(msg.region_radii_m):
        raise MalformedMessageError(
            f"{len(msg.region_centers)} region centres but {len(msg.region_radii_m)} radii"
        )
    expected = len(msg.track_ids) + int(msg.scan)
    if len(msg.region_radii_m) != expected:
        raise MalformedMessageError(
            f"{len(msg.region_radii_m)} regions for {len(msg.track_ids)} scheduled tracks"
            + (" and the whole-road scan" if msg.scan else "")
        )
    regions = [
        Region((c.x, c.y), float(r))
        for c, r in zip(msg.region_centers, msg.region_radii_m, strict=True)
    ]
    if not all(
        np.isfinite(r.centre_xy).all() and np.isfinite(r.radius_m) and r.radius_m > 0
        for r in regions
    ):
        raise MalformedMessageError("schedule region with NaN or a non-positive radius")
    return regions
