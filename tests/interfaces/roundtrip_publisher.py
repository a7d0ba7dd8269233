"""Publisher half of the DDS round-trip test, run as its own process.

Publishes one filled instance of every rsu_isac_interfaces message type on
``/roundtrip/<Type>`` (reliable, transient-local), each once its subscriber has matched,
then keeps spinning until it is interrupted.
"""

import sys

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from tests.interfaces.msg_fill import filled_messages

QOS = QoSProfile(
    depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL
)


def main(seed: int) -> None:
    messages = filled_messages(seed)
    try:
        with rclpy.init():
            node = rclpy.create_node("roundtrip_publisher")
            pending = {
                name: node.create_publisher(type(msg), f"/roundtrip/{name}", QOS)
                for name, msg in messages.items()
            }

            def publish_matched() -> None:
                for name, pub in list(pending.items()):
                    if pub.get_subscription_count() > 0:
                        pub.publish(messages[name])
                        del pending[name]

            node.create_timer(0.05, publish_matched)
            rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass


if __name__ == "__main__":
    main(int(sys.argv[1]))
