"""ROS 2 nodes: one module per node. Each only declares parameters, converts messages to
core/sim calls and back, picks QoS and publishes diagnostics."""
