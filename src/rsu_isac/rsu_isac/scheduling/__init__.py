"""Camera scheduling of the multimodal RSU (003): per-track semantic AoI, misalignment risk
and energy from ``core.aoi``, and the policies that decide which vehicles the camera
refreshes in the next slot."""
