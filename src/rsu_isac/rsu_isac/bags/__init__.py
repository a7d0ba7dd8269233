"""rosbag2 (MCAP, with message definitions) recording and replay through the pure-Python
``rosbags`` library: bags written here play in ``ros2 bag play`` elsewhere, and bags written
elsewhere replay here (docs/architecture.md)."""
