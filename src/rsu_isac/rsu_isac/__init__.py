"""rsu_isac: roadside-unit integrated sensing and communication (ISAC) stack.

Layers (imports only point downward): ``core`` (ROS-free maths) <- ``sim``,
``beamforming``, ``learning`` <- ``nodes`` (thin rclpy wrappers) <- ``cli``.
"""

__version__ = "0.1.0"
