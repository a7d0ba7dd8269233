"""Play a rosbag2 bag (MCAP or sqlite3, ours or anyone's with stored definitions) onto
ROS topics: serialized messages are published as they are, /clock follows the bag's
timestamps, with a rate factor, a topic filter, a QoS override and looping.

Pacing: at a rate > 0 the bag's timeline is replayed against the wall clock (a slow
subscriber loses what it cannot keep up with, as with real sensors); at rate 0, with a
``ready`` callback, the player waits before each new timestamp until the subscribers have
taken what it published so far (lockstep replay: the same result on an idle or a loaded
machine)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock

from rsu_isac.bags.files import BagError, open_bag
from rsu_isac.bags.types import message_class
from rsu_isac.nodes.convert import sim_time

QOS = {
    "reliable": QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE),
    "best_effort": QoSProfile(depth=100, reliability=ReliabilityPolicy.BEST_EFFORT),
}


class BagPlayer(Node):
    """Publishes a bag's messages; :meth:`play` drives the timeline."""

    def __init__(
        self,
        path: Path,
        topics: list[str] | None = None,
        qos: str = "reliable",
        drop: frozenset[str] = frozenset(),
    ) -> None:
        """Play ``topics`` of the bag at ``path`` (all if None) but not those in ``drop``
        (e.g. what the stack under test publishes itself: no publisher is made for them)."""
        super().__init__("rsu_isac_bag_player")
        if qos not in QOS:
            raise ValueError(f"unknown QoS '{qos}'; valid: {', '.join(QOS)}")
        self.path = path
        self._bag = open_bag(path)
        self._reader = self._bag.__enter__()
        chosen = [
            c for c in self._reader.connections
            if c.topic != "/clock" and (not topics or c.topic in topics) and c.topic not in drop
        ]  # fmt: skip
        if topics and not chosen:
            known = sorted({c.topic for c in self._reader.connections})
            raise ValueError(f"none of {topics} is in the bag; it has {', '.join(known)}")
        self._connections = chosen
        try:
            classes = {c.topic: message_class(c.msgtype) for c in chosen}
        except ValueError as exc:
            self.close()
            raise BagError(f"bag {path}: {exc}") from None
        self._pubs = {t: self.create_publisher(cls, t, QOS[qos]) for t, cls in classes.items()}
        self._clock = self.create_publisher(Clock, "/clock", QOS["reliable"])
        self.published = 0
        self.published_by_topic: dict[str, int] = dict.fromkeys(self._pubs, 0)
        self.late_waits = 0  # lockstep waits that ran out (the stack did not answer in time)

    def close(self) -> None:
        self._bag.__exit__(None, None, None)

    def matched(self, topics: list[str]) -> bool:
        """Whether every one of these topics (that the bag has) has a subscriber."""
        return all(self._pubs[t].get_subscription_count() > 0 for t in topics if t in self._pubs)

    @property
    def topics(self) -> list[str]:
        """The topics it plays (besides /clock)."""
        return list(self._pubs)

    def messages(self) -> Iterator[tuple[int, str, bytes]]:
        try:
            for connection, stamp, data in self._reader.messages(connections=self._connections):
                yield stamp, connection.topic, data
        except Exception as exc:  # noqa: BLE001 - a truncated chunk or a failed CRC
            raise BagError(
                f"bag {self.path} cannot be read on: {type(exc).__name__}: {exc}"
            ) from None

    def play(
        self,
        rate: float = 1.0,
        spin=None,
        ready=None,
        ready_timeout_s: float = 5.0,
        resync=None,
    ) -> None:
        """One pass over the bag, paced by ``rate`` (0 = as fast as possible); ``spin()`` is
        called between messages so that the caller's nodes keep running. With ``ready`` and
        rate 0, each new timestamp waits (spinning) until ``ready()`` holds, at most
        ``ready_timeout_s`` (counted in ``late_waits``); after a wait that ran out,
        ``resync()`` lets the caller count what never came as lost, so that one lost sample
        costs one wait, not one per message that follows."""
        start_wall, start_bag, previous = time.monotonic(), None, None
        for stamp, topic, data in self.messages():
            start_bag = stamp if start_bag is None else start_bag
            waits = ready is not None and rate == 0 and previous not in (None, stamp)
            if waits and not _wait(ready, spin, ready_timeout_s):
                self.late_waits += 1
                if resync is not None:
                    resync()
            previous = stamp
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
            self.published_by_topic[topic] += 1
            if spin is not None:
                spin()


def _wait(ready, spin, timeout_s: float) -> bool:
    """Spin until ``ready()`` (bounded); whether it came."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            return False
        if spin is not None:
            spin()
        else:
            time.sleep(0.001)
    return True
