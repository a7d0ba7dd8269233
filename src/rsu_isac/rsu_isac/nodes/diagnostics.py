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
        # per timing series ("processing": the whole callback; others: parts of it, e.g.
        # "compute" = the core's share, the rest being message conversion and publishing)
        self._times_ms: dict[str, deque[float]] = {"processing": deque(maxlen=WINDOW)}
        self.slots = 0
        self.dropped: dict[str, int] = {}  # whole messages dropped as malformed
        self.rejected: dict[str, int] = {}  # elements removed from messages otherwise used
        self.errors: dict[str, int] = {}  # messages whose callback raised (contained)
        self.events: dict[str, int] = {}  # counted events, e.g. deadline_misses
        self.last_error = ""  # the last contained exception, "Type: text"
        node.create_timer(
            PUBLISH_EVERY_S, self.publish, clock=Clock(clock_type=ClockType.STEADY_TIME)
        )

    def record(self, seconds: float, **parts: float) -> None:
        """One slot's processing time [s] and named parts of it [s] (e.g. compute=...)."""
        self._times_ms["processing"].append(seconds * 1e3)
        self.slots += 1
        self.time(**parts)

    def time(self, **series: float) -> None:
        """Add one sample [s] to each named timing series (outside the slot's processing,
        e.g. traffic_sim's wait for the next command)."""
        for name, value in series.items():
            self._times_ms.setdefault(name, deque(maxlen=WINDOW)).append(value * 1e3)

    def drop(self, topic: str, reason: str) -> None:
        """Count and log (throttled) a malformed message that was dropped."""
        self.dropped[topic] = self.dropped.get(topic, 0) + 1
        self._node.get_logger().warning(
            f"dropped message on '{topic}': {reason} ({self.dropped[topic]} dropped so far)",
            throttle_duration_sec=2.0,
        )

    def count(self, event: str) -> None:
        """Count one ``event`` (published as a key of that name; the status turns WARN)."""
        self.events[event] = self.events.get(event, 0) + 1

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

    def latency_ms(self, series: str = "processing") -> tuple[float, float]:
        """(p50, p99) [ms] of a timing series over the last WINDOW samples."""
        times = np.fromiter(self._times_ms.get(series, ()), float)
        if not times.size:
            return 0.0, 0.0
        return float(np.percentile(times, 50)), float(np.percentile(times, 99))

    def publish(self) -> None:
        if self.errors:
            level, text = DiagnosticStatus.ERROR, "contained exceptions in callbacks"
        elif self.dropped or self.rejected:
            level, text = DiagnosticStatus.WARN, "dropped malformed messages"
        elif self.events:
            level, text = DiagnosticStatus.WARN, ", ".join(self.events)
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
                *(
                    KeyValue(key=f"{name}_ms_{q}", value=f"{value:.3f}")
                    for name in self._times_ms
                    for q, value in zip(("p50", "p99"), self.latency_ms(name), strict=True)
                ),
                *(
                    KeyValue(key=f"{kind}:{t}", value=str(n))
                    for kind, counts in counters.items()
                    for t, n in counts.items()
                ),
                *(KeyValue(key=event, value=str(n)) for event, n in self.events.items()),
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
