"""radar_processing: radar echo -> detections (DESIGN.md section 3).

Subscribes ``radar/echo`` (RadarEcho; large-sensor QoS, see :mod:`rsu_isac.nodes.qos`) and
publishes ``radar/detections`` (RadarDetectionArray). Signal-level echoes go through
:func:`rsu_isac.core.radar_dsp.process_frame` (matched filtering, range-Doppler-angle FFTs,
CA-CFAR, ML refinement, angle by matched filter or MUSIC); measurement-level echoes already
carry detections and pass through unchanged, so the tracker sees one detection type either
way. Malformed echoes (wrong shape, NaN, unknown abstraction or waveform) are logged,
counted on /diagnostics and dropped.
"""

from __future__ import annotations

import math
import time

import numpy as np
from rclpy.node import Node

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
from rsu_isac.nodes.params import declare
from rsu_isac.nodes.qos import LARGE_SENSOR, RELIABLE
from rsu_isac.nodes.runner import run_node
from rsu_isac_interfaces.msg import RadarDetectionArray, RadarEcho


def frame_from_msg(msg: RadarEcho) -> tuple[np.ndarray, np.ndarray, FrameGeometry]:
    """Samples (N_r, L, N), known symbols (L, N) and geometry of a signal-level echo."""
    if msg.waveform != "ofdm":
        raise MalformedMessageError(f"unknown waveform '{msg.waveform}' (expected 'ofdm')")
    shape = (msg.num_rx_antennas, msg.num_symbols, msg.num_subcarriers)
    cells = math.prod(shape)
    if cells == 0:
        raise MalformedMessageError(f"empty frame shape {shape}")
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
    values = (
        msg.carrier_frequency_hz,
        msg.subcarrier_spacing_hz,
        msg.symbol_interval_s,
        msg.noise_variance_w,
        msg.antenna_spacing_wavelengths,
    )
    if not all(math.isfinite(v) and v > 0 for v in values):
        raise MalformedMessageError(f"radio parameters must be positive and finite: {values}")
    return samples, tx, FrameGeometry(*values)


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
        )
        self.diagnostics = NodeDiagnostics(self)
        self._pub = self.create_publisher(RadarDetectionArray, "radar/detections", RELIABLE)
        self.create_subscription(RadarEcho, "radar/echo", self._on_echo, LARGE_SENSOR)

    def _on_echo(self, msg: RadarEcho) -> None:
        started = time.perf_counter()
        try:
            if msg.abstraction == RadarEcho.ABSTRACTION_SIGNAL:
                samples, tx, geometry = frame_from_msg(msg)
                detections = detections_to_msgs(process_frame(samples, tx, geometry, self.config))
            elif msg.abstraction == RadarEcho.ABSTRACTION_MEASUREMENT:
                detections_from_msgs(msg.measurements)  # validates
                detections = list(msg.measurements)
            else:
                raise MalformedMessageError(f"unknown abstraction {msg.abstraction}")
        except MalformedMessageError as exc:
            self.diagnostics.drop("radar/echo", str(exc))
            return
        out = RadarDetectionArray(header=msg.header, slot=msg.slot, detections=detections)
        self._pub.publish(out)
        self.diagnostics.record(time.perf_counter() - started)


def main(args: list[str] | None = None) -> None:
    run_node(RadarProcessing, "radar_processing", args)


if __name__ == "__main__":
    main()
