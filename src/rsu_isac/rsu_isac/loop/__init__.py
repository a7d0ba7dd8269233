"""The headless closed loop: the core, simulator, tracker, scheduler and policies wired in
one process without ROS (``rsu-isac eval``, the experiments, the learning environments)."""
