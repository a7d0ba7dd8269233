"""radar_processing: radar echo -> detections (docs/architecture.md).

Subscribes ``radar/echo`` (RadarEcho; large-sensor QoS, see :mod:`rsu_isac.nodes.qos`) and
publishes ``radar/detections`` (RadarDetectionArray) and, while someone subscribes,
``radar/points`` (sensor_msgs/PointCloud2 in the road frame: x, y, z, range, azimuth, radial
velocity, SNR; the array's pose from ``array_position_m`` and ``road_side``). Signal-level
echoes go through :func:`rsu_isac.core.radar_dsp.process_frame` (matched filtering, range-
Doppler-angle FFTs, CA-CFAR, ML refinement, angle by matched filter or MUSIC); measurement-
level echoes already carry detections and pass through unchanged, so the tracker sees one
detection type either way. Malformed echoes (wrong shape, NaN, radio parameters outside
physical bounds, unknown abstraction or waveform, more samples than ``max_frame_samples``)
are logged, counted on /diagnostics and dropped; a measurement-level detection no radar
could report (outside the instrumented range, NaN) is rejected on its own and the rest of
the frame passes.
"""

from __future__ import annotations

import math
import time

import numpy as np
from rclpy.node import Node
from sensor_msgs.msg import PointCloud2
from std_msgs.msg import Header

from rsu_isac.core.radar import range_from_delay_m
from rsu_isac.core.radar_dsp import (
    ANGLE_METHODS,
    FrameGeometry,
    ProcessingConfig,
    process_frame,
)
from rsu_isac.nodes.convert import (
    MalformedMessageError,
    detections_from_msgs,
    detections_to_msgs,
)
from rsu_isac.nodes.diagnostics import NodeDiagnostics
from rsu_isac.nodes.interop import detections_to_cloud
from rsu_isac.nodes.params import ParameterError, declare
from rsu_isac.nodes.qos import RELIABLE, declare_sensor_qos
from rsu_isac.nodes.runner import run_node
from rsu_isac_interfaces.msg import RadarDetectionArray, RadarEcho

ROAD_FRAME = "road"

# Physical bounds of an echo's radio parameters (the scenario schema's, widened): outside
# them the transforms overflow or mean nothing.
RADIO_LIMITS = {
    "carrier_frequency_hz": (1e6, 1e12),
    "subcarrier_spacing_hz": (1e2, 1e9),
    "symbol_interval_s": (1e-9, 1.0),
    "noise_variance_w": (1e-30, 1e6),
    "antenna_spacing_wavelengths": (1e-3, 100.0),
}


def geometry_from_msg(msg: RadarEcho) -> FrameGeometry:
    """The radio parameters of an echo, each finite and within RADIO_LIMITS."""
    values = {name: getattr(msg, name) for name in RADIO_LIMITS}
    for name, value in values.items():
        low, high = RADIO_LIMITS[name]
        if not (math.isfinite(value) and low <= value <= high):
            raise MalformedMessageError(f"{name} = {value:g} is outside [{low:g}, {high:g}]")
    return FrameGeometry(*values.values())


def frame_from_msg(
    msg: RadarEcho, max_samples: int
) -> tuple[np.ndarray, np.ndarray, FrameGeometry]:
    """Samples (N_r, L, N), known symbols (L, N) and geometry of a signal-level echo of at
    most ``max_samples`` samples."""
    if msg.waveform != "ofdm":
        raise MalformedMessageError(f"unknown waveform '{msg.waveform}' (expected 'ofdm')")
    shape = (msg.num_rx_antennas, msg.num_symbols, msg.num_subcarriers)
    cells = math.prod(shape)
    if cells == 0:
        raise MalformedMessageError(f"empty frame shape {shape}")
    if cells > max_samples:
        raise MalformedMessageError(
            f"frame of {cells} samples {shape} exceeds parameter max_frame_samples = {max_samples}"
        )
    if len(msg.real) != cells or len(msg.imag) != cells:
        raise MalformedMessageError(f"{len(msg.real)} samples for shape {shape} ({cells} expected)")
    symbols = msg.num_symbols * msg.num_subcarriers
    if len(msg.tx_symbols_real) != symbols or len(msg.tx_symbols_imag) != symbols:
        raise MalformedMessageError(f"{len(msg.tx_symbols_real)} known symbols, {symbols} expected")
    samples = (
        (np.asarray(msg.real, np.float32) + 1j * np.asarray(msg.imag, np.float32))
        .reshape(shape)
        .astype(np.complex64)
    )
    tx = (
        (
            np.asarray(msg.tx_symbols_real, np.float32)
            + 1j * np.asarray(msg.tx_symbols_imag, np.float32)
        )
        .reshape(shape[1:])
        .astype(np.complex64)
    )
    if not (np.all(np.isfinite(samples)) and np.all(np.isfinite(tx))):
        raise MalformedMessageError("NaN or infinite samples")
    if np.any(tx == 0):
        raise MalformedMessageError("a known symbol is zero")
    return samples, tx, geometry_from_msg(msg)


class RadarProcessing(Node):
    """Echo in, detections out."""

    def __init__(self) -> None:
        super().__init__("radar_processing")
        self.config = ProcessingConfig(
            false_alarm_probability=declare(
                self,
                "false_alarm_probability",
                1e-4,
                "CA-CFAR false-alarm probability per cell",
                1e-12,
                0.1,
            ),
            guard_cells=(
                declare(
                    self, "guard_cells_doppler", 2, "CFAR guard cells each side (Doppler)", 0, 32
                ),
                declare(self, "guard_cells_range", 2, "CFAR guard cells each side (range)", 0, 32),
            ),
            training_cells=(
                declare(
                    self,
                    "training_cells_doppler",
                    4,
                    "CFAR training cells each side (Doppler)",
                    1,
                    64,
                ),
                declare(
                    self, "training_cells_range", 8, "CFAR training cells each side (range)", 1, 64
                ),
            ),
            angle_oversampling=declare(
                self, "angle_oversampling", 2, "receive beams per antenna of the angle FFT", 1, 16
            ),
            angle_method=declare(
                self, "angle_method", "matched_filter", "angle estimator", choices=ANGLE_METHODS
            ),
            sidelobe_guard_db=declare(
                self,
                "sidelobe_guard_db",
                25.0,
                "drop peaks this far below a stronger one on an axis [dB]",
                0.0,
                100.0,
            ),
            max_detections=declare(
                self, "max_detections", 64, "detections per frame at most", 1, 4096
            ),
            max_range_m=declare(
                self,
                "max_range_m",
                0.0,
                "instrumented range: detect out to this range only [m]; 0 = the unambiguous "
                "range c / (2 df)",
                0.0,
                1e5,
            ),
            clutter_filter=declare(
                self,
                "clutter_filter",
                False,
                "remove static returns (zero Doppler) before detection and DOA; costs movers "
                "with a radial speed within a Doppler bin of zero (docs/isac_ocs.md)",
            ),
        )
        self.max_frame_samples = declare(
            self,
            "max_frame_samples",
            1 << 22,
            "largest signal-level echo processed (N_r x L x N samples); larger ones are dropped",
            1,
            1 << 28,
        )
        position = declare(
            self,
            "array_position_m",
            [0.0, 0.0],
            "the array centre in the road frame [m] (radar/points' positions)",
        )
        side = declare(
            self,
            "road_side",
            1,
            "+1: the road lies at larger y than the array axis, -1: at smaller y (a ULA cannot "
            "tell them apart)",
            -1,
            1,
        )
        source = declare(
            self,
            "illuminator_position_m",
            [0.0, 0.0],
            "the RSU whose beams light this echo, road frame [m] (002's transmit RSU); the "
            "array's own position: monostatic",
        )
        if len(position) != 2 or len(source) != 2 or side == 0:
            raise ParameterError(
                f"parameters 'array_position_m' = {list(position)}, 'illuminator_position_m' "
                f"= {list(source)} (each needs [x, y]) and 'road_side' = {side} (needs +1 or "
                "-1) do not place the array"
            )
        self._array_xy, self._side = (float(position[0]), float(position[1])), float(side)
        self._illuminator_xy = (float(source[0]), float(source[1]))
        self.diagnostics = NodeDiagnostics(self)
        self._pub = self.create_publisher(RadarDetectionArray, "radar/detections", RELIABLE)
        self._points_pub = self.create_publisher(PointCloud2, "radar/points", RELIABLE)
        self.diagnostics.subscribe(RadarEcho, "radar/echo", self._on_echo, declare_sensor_qos(self))

    def _on_echo(self, msg: RadarEcho) -> None:
        started = time.perf_counter()
        if msg.abstraction == RadarEcho.ABSTRACTION_SIGNAL:
            samples, tx, geometry = frame_from_msg(msg, self.max_frame_samples)
            computing = time.perf_counter()
            found = process_frame(samples, tx, geometry, self.config)
            compute_s = time.perf_counter() - computing
            detections = detections_to_msgs(found)
        elif msg.abstraction == RadarEcho.ABSTRACTION_MEASUREMENT:
            geometry = geometry_from_msg(msg)
            reach = self.config.max_range_m or float(
                range_from_delay_m(1.0 / geometry.subcarrier_spacing_hz)
            )
            checked = detections_from_msgs(msg.measurements, reach, self.config.max_detections)
            if checked.num_rejected:
                self.diagnostics.reject("radar/echo", checked.num_rejected, checked.reason)
            found = checked.detections
            detections = [msg.measurements[i] for i in checked.kept.tolist()]
            compute_s = 0.0  # a pass-through: checking is all there is
        else:
            raise MalformedMessageError(f"unknown abstraction {msg.abstraction}")
        out = RadarDetectionArray(header=msg.header, slot=msg.slot, detections=detections)
        self._pub.publish(out)
        if self._points_pub.get_subscription_count():  # RViz, Foxglove: built when watched
            header = Header(stamp=msg.header.stamp, frame_id=ROAD_FRAME)
            cloud = detections_to_cloud(
                found, self._array_xy, self._side, header, self._illuminator_xy
            )
            self._points_pub.publish(cloud)
        self.diagnostics.record(time.perf_counter() - started, compute=compute_s)


def main(args: list[str] | None = None) -> None:
    run_node(RadarProcessing, "radar_processing", args)


if __name__ == "__main__":
    main()
