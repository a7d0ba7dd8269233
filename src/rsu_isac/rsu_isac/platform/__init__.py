"""Where things are and how processes run, below every layer that touches ROS: the
workspace's ROS environment (workspace), the installed config and launch folders (paths),
the heap policy of node processes (allocator)."""
