"""Record topics into a rosbag2 MCAP bag with their message definitions (rosbags writer).

Messages are taken serialized (CDR) straight from DDS (``raw=True`` subscriptions), so
recording costs no deserialization; timestamps are the node's clock, simulated time when
``use_sim_time`` is set (the default here), so a replay reproduces the simulated timeline.
"""

from __future__ import annotations

from pathlib import Path

from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosbags.rosbag2 import StoragePlugin, Writer

from rsu_isac.bags.files import add_chunk_crcs
from rsu_isac.bags.types import type_name, typestore

RECORD_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)


class BagRecorder(Node):
    """Writes every message of the given topics; ``close()`` finishes the bag."""

    def __init__(
        self,
        path: Path,
        topics: dict[str, type],
        use_sim_time: bool = True,
        qos: dict[str, QoSProfile] | None = None,
    ) -> None:
        """``topics`` maps topic names to message classes; ``qos`` overrides the reliable
        volatile default per topic (e.g. transient local for latched camera_info)."""
        super().__init__(
            "rsu_isac_bag_recorder",
            parameter_overrides=[Parameter("use_sim_time", value=use_sim_time)],
        )
        if path.exists():
            raise FileExistsError(f"bag {path} exists; choose another --bag / --out")
        self._path = path
        self._writer = Writer(path, version=9, storage_plugin=StoragePlugin.MCAP)
        self._writer.open()
        self.counts: dict[str, int] = {}
        store = typestore()
        for topic, msg_class in topics.items():
            name = self.resolve_topic_name(topic)
            connection = self._writer.add_connection(
                name, type_name(msg_class), typestore=store, serialization_format="cdr"
            )
            self.counts[name] = 0
            self.create_subscription(
                msg_class,
                topic,
                lambda data, c=connection, n=name: self._write(c, n, data),
                (qos or {}).get(topic, RECORD_QOS),
                raw=True,
            )

    def matched(self) -> bool:
        """Whether every recorded topic has a publisher matched to this recorder (so that
        nothing published from now on is missed)."""
        return all(sub.get_publisher_count() > 0 for sub in self.subscriptions)

    def _write(self, connection, name: str, data: bytes) -> None:
        self._writer.write(connection, self.get_clock().now().nanoseconds, data)
        self.counts[name] += 1

    def close(self) -> None:
        """Finish the bag: metadata.yaml, and a CRC for every chunk of the MCAP file."""
        self._writer.close()
        for mcap in self._path.glob("*.mcap"):
            add_chunk_crcs(mcap)


def discover_topics(node: Node, wanted: list[str] | None) -> dict[str, type]:
    """Topic -> message class of the topics currently in the graph (all, or ``wanted``);
    a wanted topic that is not there (yet) is an error naming the ones that are."""
    from rsu_isac.bags.types import message_class

    present = {name: types[0] for name, types in node.get_topic_names_and_types() if types}
    names = list(present) if not wanted else [node.resolve_topic_name(t) for t in wanted]
    missing = [t for t in names if t not in present]
    if missing:
        known = ", ".join(sorted(present))
        raise ValueError(f"topic(s) {', '.join(missing)} not in the ROS graph; present: {known}")
    return {
        t: message_class(present[t]) for t in names if t not in ("/rosout", "/parameter_events")
    }
