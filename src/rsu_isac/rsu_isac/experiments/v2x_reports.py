"""What the vehicles' own reports (core.v2x, CAM-shaped) add to the radar: the headless
closed loop at a grid of RF SNRs and shares of reporting vehicles, everything else as
``rsu-isac eval`` (measurement-level echoes, predictive MRT on the fused tracks)."""

from __future__ import annotations

from rsu_isac.core.scenario import load_named_scenario
from rsu_isac.loop.closed_loop import EvalConfig, evaluate
from rsu_isac.platform.paths import scenarios_dir

SLOTS = 500  # 10 s of road


def cell(scenario: str, share: float, rf_snr_db: float, seed: int, quick: bool) -> dict:
    """One run's summary (``rsu-isac eval --scenario S --rf-snr-db X --v2x-share F --seed
    N --slots 500``)."""
    config = EvalConfig(
        slots=100 if quick else SLOTS, seed=seed, rf_snr_db=rf_snr_db, v2x_share=share
    )
    return evaluate(load_named_scenario(scenario, scenarios_dir()), config)
