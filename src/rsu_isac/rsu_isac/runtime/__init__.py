"""Running the stack as a whole, above the nodes: the one node-graph description (graph)
that the launch files (launch_support) and ``rsu-isac sim`` / ``replay`` (bringup) start,
the run report (report), the environment check (doctor) and the speed figures (bench)."""
