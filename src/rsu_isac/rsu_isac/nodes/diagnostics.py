"""Per-node processing-time, drop and error counters, published on /diagnostics, and the
contained subscription callbacks every node uses.

A callback given to :meth:`NodeDiagnostics.subscribe` never takes its node down: a
:class:`~rsu_isac.nodes.convert.MalformedMessageError` drops the message (counted as
``dropped:<topic>``), any other exception is logged in one line with the topic and the
message's slot and stamp, counted as ``errors:<topic>`` and the message dropped; the node
keeps running. Elements a node removed from a message it otherwise used (one bad detection
of a frame) are counted as ``rejected:<topic>``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.qos import QoSProfile
from rclpy.subscription import Subscription

from rsu_isac.nodes.convert import MalformedMessageError

WINDOW = 1000  # slots kept for the latency percentiles
PUBLISH_EVERY_S = 1.0  # steady-clock period of the /diagnostics message


class NodeDiagnostics:
    """Records per-slot processing times and dropped (malformed) messages of a node."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self.publisher = node.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._times_ms: deque[float] = deque(maxlen=WINDOW)
        self.slots = 0
        self.dropped: dict[str, int] = {}  # whole messages dropped as malformed
        self.rejected: dict[str, int] = {}  # elements removed from messages otherwise used
        self.errors: dict[str, int] = {}  # messages whose callback raised (contained)
        self.last_error = ""  # the last contained exception, "Type: text"
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

    def reject(self, topic: str, count: int, reason: str) -> None:
        """Count and log (throttled) ``count`` elements removed from a message on ``topic``."""
        self.rejected[topic] = self.rejected.get(topic, 0) + count
        self._node.get_logger().warning(
            f"rejected {count} element(s) of a message on '{topic}': {reason} "
            f"({self.rejected[topic]} rejected so far)",
            throttle_duration_sec=2.0,
        )

    def error(self, topic: str, msg: Any, exc: BaseException) -> None:
        """Count and log (one line, throttled) an exception raised by ``topic``'s callback."""
        self.errors[topic] = self.errors.get(topic, 0) + 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        self._node.get_logger().error(
            f"callback for '{topic}' failed on the message of {message_position(msg)}: "
            f"{type(exc).__name__}: {exc}; message dropped ({self.errors[topic]} so far)",
            throttle_duration_sec=2.0,
        )

    def contained(self, topic: str, callback: Callable[[Any], None]) -> Callable[[Any], None]:
        """``callback`` with malformed messages dropped and any other exception contained."""

        def run(msg: Any) -> None:
            try:
                callback(msg)
            except MalformedMessageError as exc:
                self.drop(topic, str(exc))
            except Exception as exc:  # noqa: BLE001 - a bad message must not end the node
                self.error(topic, msg, exc)

        return run

    def subscribe(
        self, msg_type: type, topic: str, callback: Callable[[Any], None], qos: QoSProfile
    ) -> Subscription:
        """A subscription of the node whose callback is :meth:`contained`."""
        return self._node.create_subscription(msg_type, topic, self.contained(topic, callback), qos)

    def latency_ms(self) -> tuple[float, float]:
        if not self._times_ms:
            return 0.0, 0.0
        times = np.fromiter(self._times_ms, float)
        return float(np.percentile(times, 50)), float(np.percentile(times, 99))

    def publish(self) -> None:
        p50, p99 = self.latency_ms()
        if self.errors:
            level, text = DiagnosticStatus.ERROR, "contained exceptions in callbacks"
        elif self.dropped or self.rejected:
            level, text = DiagnosticStatus.WARN, "dropped malformed messages"
        else:
            level, text = DiagnosticStatus.OK, "ok"
        counters = {"dropped": self.dropped, "rejected": self.rejected, "errors": self.errors}
        status = DiagnosticStatus(
            level=level,
            name=self._node.get_fully_qualified_name(),
            message=text,
            hardware_id="rsu_isac",
            values=[
                KeyValue(key="slots", value=str(self.slots)),
                KeyValue(key="processing_ms_p50", value=f"{p50:.3f}"),
                KeyValue(key="processing_ms_p99", value=f"{p99:.3f}"),
                *(
                    KeyValue(key=f"{kind}:{t}", value=str(n))
                    for kind, counts in counters.items()
                    for t, n in counts.items()
                ),
            ],
        )
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self._node.get_clock().now().to_msg()
        self.publisher.publish(msg)


def message_position(msg: Any) -> str:
    """'slot N, stamp T s' of a message, as far as it has them."""
    parts = []
    slot = getattr(msg, "slot", None)
    if slot is not None:
        parts.append(f"slot {slot}")
    header = getattr(msg, "header", None)
    if header is not None:
        parts.append(f"stamp {header.stamp.sec + header.stamp.nanosec * 1e-9:.3f} s")
    return ", ".join(parts) or "no slot or stamp"
