"""QoS profiles shared by every node (docs/architecture.md).

Deviation from the design's "sensor streams best-effort": a signal-level radar frame is
about 2 MB and a camera frame about 1 MB; with best effort, Fast DDS drops a whole sample
whenever one of its UDP fragments is lost, which on loopback happened for nearly every
frame between processes. Large sensor samples are therefore reliable with a short
keep-last history (the newest frame wins, nothing queues up).
"""

from rclpy.node import Node
from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_profile_sensor_data,
)

from rsu_isac.nodes.params import declare

# Per-slot streams (ground truth, link score, detections, tracks, commands): each sample
# matters to a recorder or report, and a reliable writer only re-sends what its keep-last
# history still holds, so the history covers 2 s of slots for a reader that falls behind
# on a loaded machine (with depth 10, a CI run's recorder lost 9 of 200 link scores).
RELIABLE = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
LATCHED = QoSProfile(
    depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
)
LARGE_SENSOR = QoSProfile(
    depth=2, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE
)

# Subscriptions to raw sensor streams: reliable (LARGE_SENSOR) takes the simulator's and the
# bag player's reliable frames in lockstep; best_effort (the standard sensor-data profile)
# takes real drivers, which publish best effort - a reliable reader matches no best-effort
# writer ("offering incompatible QoS ... RELIABILITY").
SENSOR_QOS = {"reliable": LARGE_SENSOR, "best_effort": qos_profile_sensor_data}


def declare_sensor_qos(node: Node) -> QoSProfile:
    """The ``sensor_qos`` parameter (SENSOR_QOS): the profile of the node's raw sensor
    subscription."""
    name = declare(
        node,
        "sensor_qos",
        "reliable",
        "QoS of the raw sensor subscription: reliable (simulator, bags) or best_effort "
        "(real drivers, the sensor-data profile)",
        choices=tuple(SENSOR_QOS),
    )
    return SENSOR_QOS[name]
