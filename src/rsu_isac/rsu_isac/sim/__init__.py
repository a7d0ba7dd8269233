"""The simulated road: traffic engines (embedded numpy / SUMO), sensor synthesis (radar
echo, camera frames) and the link score, on top of :mod:`rsu_isac.core`."""
