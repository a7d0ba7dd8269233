"""Camera perception of the RSU (OpenCV): vehicle detection in scheduled image regions and
their road-plane positions. Above core (core stays numpy/scipy only), below the nodes."""
