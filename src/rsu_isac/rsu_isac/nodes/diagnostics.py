"""Per-node processing-time and drop counters, published on /diagnostics."""

from __future__ import annotations

from collections import deque

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.clock import Clock, ClockType
from rclpy.node import Node

WINDOW = 1000  # slots kept for the latency percentiles
PUBLISH_EVERY_S = 1.0  # steady-clock period of the /diagnostics message


class NodeDiagnostics:
    """Records per-slot processing times and dropped (malformed) messages of a node."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self.publisher = node.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._times_ms: deque[float] = deque(maxlen=WINDOW)
        self.slots = 0
        self.dropped: dict[str, int] = {}
        node.create_timer(
            PUBLISH_EVERY_S, self.publish, clock=Clock(clock_type=ClockType.STEADY_TIME)
        )

    def record(self, seconds: float) -> None:
        self._times_ms.append(seconds * 1e3)
        self.slots += 1

    def drop(self, topic: str, reason: str) -> None:
        """Count and log (throttled) a malformed message that was dropped."""
        self.dropped[topic] = self.dropped.get(topic, 0) + 1
        self._node.get_logger().warning(
            f"dropped message on '{topic}': {reason} ({self.dropped[topic]} dropped so far)",
            throttle_duration_sec=2.0,
        )

    def latency_ms(self) -> tuple[float, float]:
        if not self._times_ms:
            return 0.0, 0.0
        times = np.fromiter(self._times_ms, float)
        return float(np.percentile(times, 50)), float(np.percentile(times, 99))

    def publish(self) -> None:
        p50, p99 = self.latency_ms()
        status = DiagnosticStatus(
            level=DiagnosticStatus.OK if not self.dropped else DiagnosticStatus.WARN,
            name=self._node.get_fully_qualified_name(),
            message="ok" if not self.dropped else "dropped malformed messages",
            hardware_id="rsu_isac",
            values=[
                KeyValue(key="slots", value=str(self.slots)),
                KeyValue(key="processing_ms_p50", value=f"{p50:.3f}"),
                KeyValue(key="processing_ms_p99", value=f"{p99:.3f}"),
                *(KeyValue(key=f"dropped:{t}", value=str(n)) for t, n in self.dropped.items()),
            ],
        )
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self._node.get_clock().now().to_msg()
        self.publisher.publish(msg)
