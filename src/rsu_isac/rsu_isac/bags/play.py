"""Play a rosbag2 bag (MCAP or sqlite3, ours or anyone's with stored definitions) onto
ROS topics: serialized messages are published as they are, /clock follows the bag's
timestamps, with a rate factor, a topic filter, a QoS override and looping."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosbags.highlevel import AnyReader
from rosgraph_msgs.msg import Clock

from rsu_isac.bags.types import message_class
from rsu_isac.nodes.convert import sim_time

QOS = {
    "reliable": QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE),
    "best_effort": QoSProfile(depth=100, reliability=ReliabilityPolicy.BEST_EFFORT),
}


class BagPlayer(Node):
    """Publishes a bag's messages; :meth:`play` drives the timeline."""

    def __init__(self, path: Path, topics: list[str] | None = None, qos: str = "reliable") -> None:
        super().__init__("rsu_isac_bag_player")
        if qos not in QOS:
            raise ValueError(f"unknown QoS '{qos}'; valid: {', '.join(QOS)}")
        if not path.exists():
            raise FileNotFoundError(f"no bag at {path}")
        self.path = path
        self._reader = AnyReader([path])
        self._reader.open()
        chosen = [
            c for c in self._reader.connections
            if c.topic != "/clock" and (not topics or c.topic in topics)
        ]  # fmt: skip
        if topics and not chosen:
            known = sorted({c.topic for c in self._reader.connections})
            raise ValueError(f"none of {topics} is in the bag; it has {', '.join(known)}")
        self._connections = chosen
        self._pubs = {
            c.topic: self.create_publisher(message_class(c.msgtype), c.topic, QOS[qos])
            for c in chosen
        }
        self._clock = self.create_publisher(Clock, "/clock", QOS["reliable"])
        self.published = 0

    def close(self) -> None:
        self._reader.close()

    def matched(self, topics: list[str]) -> bool:
        """Whether every one of these topics (that the bag has) has a subscriber."""
        return all(self._pubs[t].get_subscription_count() > 0 for t in topics if t in self._pubs)

    def drop_topics(self, topics: set[str]) -> None:
        """Do not play these (e.g. what the stack under test produces itself)."""
        self._connections = [c for c in self._connections if c.topic not in topics]

    def messages(self) -> Iterator[tuple[int, str, bytes]]:
        for connection, stamp, data in self._reader.messages(connections=self._connections):
            yield stamp, connection.topic, data

    def play(self, rate: float = 1.0, spin=None) -> None:
        """One pass over the bag, paced by ``rate`` (0 = as fast as possible); ``spin()`` is
        called between messages so that the caller's nodes keep running."""
        start_wall, start_bag = time.monotonic(), None
        for stamp, topic, data in self.messages():
            start_bag = stamp if start_bag is None else start_bag
            if rate > 0:
                delay = (stamp - start_bag) * 1e-9 / rate - (time.monotonic() - start_wall)
                deadline = time.monotonic() + max(delay, 0.0)
                while time.monotonic() < deadline:
                    if spin is not None:
                        spin()
                    else:
                        time.sleep(min(0.005, max(deadline - time.monotonic(), 0.0)))
            self._clock.publish(Clock(clock=sim_time(stamp * 1e-9)))
            self._pubs[topic].publish(data)
            self.published += 1
            if spin is not None:
                spin()
