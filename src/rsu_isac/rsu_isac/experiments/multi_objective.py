"""001's experiments: its DDPG agent (``ddpg_mo``, ``learning.mo_mdp``) against 001's
baselines on 001's three scenarios, in the closed loop (``rsu-isac eval``'s loop).

Methods: ``ddpg_mo`` (001's "AI-driven"; trained with the cell's seed on the cell's
scenario at its default setting, learning.zoo.trained_ddpg_mo), ``maxmin_socp`` (001's
"convex optimisation": our one convex beamformer, max-min SINR by bisection over SOCPs on
the estimated channels, full power), ``static`` (001's "static beamforming": the fixed DFT
codebook, each vehicle the codeword of largest estimated gain, equal power) and ``wmmse``
(not in 001: the sum-rate WMMSE beamformer, a strong non-convex reference on 001's
headline metric). Every method runs on the same held-out episode per seed (simulator seed
EVALUATION_SEED_BASE + seed), with the scenario's pilots (channel knowledge: its pilot
estimate at its NMSE, core.channel.estimated_channel), sub-bands, SI and neighbours.
"""

from __future__ import annotations

import math

from rsu_isac.core.scenario import Scenario, load_named_scenario, with_antennas, with_vehicles
from rsu_isac.platform.paths import scenarios_dir

SCENARIOS = ("urban", "dense_city", "rural")
METHODS = ("ddpg_mo", "maxmin_socp", "static", "wmmse")
SLOTS = 150
QUICK_SLOTS = 4
# per method: the summary's key -> the cell's metric suffix
MEASURES = {
    "sum_rate_bps_hz": "se",
    "energy_efficiency_mbit_per_j": "ee",
    "crlb_angle_deg": "crlb",
    "beam_gain_db": "gain",
    "si_inr_db": "si",
    "mi_inr_db": "mi",
    "cli_inr_db": "cli",
    "transmit_power_w": "power",
    "policy_ms_p50": "ms",
}


def metric_names(measures: tuple[str, ...]) -> tuple[str, ...]:
    """``<method>_<measure>`` for every method and measure, measure-major."""
    return tuple(f"{m}_{measure}" for measure in measures for m in METHODS)


def _scenario(setting: dict) -> Scenario:
    """The cell's scenario with its swept antennas or vehicles applied."""
    scenario = load_named_scenario(setting["scenario"], scenarios_dir())
    if "antennas" in setting:
        scenario = with_antennas(scenario, int(setting["antennas"]))
    if "vehicles" in setting:
        scenario = with_vehicles(scenario, int(setting["vehicles"]))
    return scenario


def cell(setting: dict, seed: int, quick: bool) -> dict[str, float]:
    """Every method on the held-out episode of ``seed`` in the setting (scenario, and
    optionally antennas, power_dbm or vehicles): the MEASURES of each."""
    # the loop and the agents (torch) load with the first cell, not with the registry
    from rsu_isac.learning.env import EVALUATION_SEED_BASE
    from rsu_isac.learning.zoo import trained_ddpg_mo
    from rsu_isac.loop.closed_loop import EvalConfig, run_slots, summarize

    scenario = _scenario(setting)
    out: dict[str, float] = {}
    for method in METHODS:
        checkpoint = (
            str(trained_ddpg_mo(setting["scenario"], seed, quick)) if method == "ddpg_mo" else None
        )
        config = EvalConfig(
            policy=method,
            slots=QUICK_SLOTS if quick else SLOTS,
            seed=EVALUATION_SEED_BASE + seed,
            max_power_dbm=setting.get("power_dbm"),
            checkpoint=checkpoint,
            genie=False,
        )
        summary = summarize(run_slots(scenario, config)[1])
        for key, suffix in MEASURES.items():
            value = summary[key]
            out[f"{method}_{suffix}"] = math.nan if value is None else float(value)
    return out


def grid(sweep: str | None, values: tuple, quick: bool) -> list[dict]:
    """Settings: each scenario, with ``sweep`` over ``values`` (quick: urban, one value)."""
    scenarios = SCENARIOS[:1] if quick else SCENARIOS
    if sweep is None:
        return [{"scenario": s} for s in scenarios]
    swept = values[-1:] if quick else values
    return [{"scenario": s, sweep: v} for s in scenarios for v in swept]


def improvement_lines(summary: list[dict], by: tuple[str, ...]) -> list[str]:
    """001 Table 5's form: ddpg_mo's relative change against the convex and static
    baselines (and WMMSE) per setting, for SE, EE, CRLB (a reduction is an improvement) and
    the interference INRs (dB differences)."""
    lines = []
    for e in summary:
        mean = {k: v["mean"] for k, v in e.items() if isinstance(v, dict)}
        parts = []
        for measure, label, lower_better in (("se", "SE", False), ("ee", "EE", False),
                                             ("crlb", "CRLB", True)):  # fmt: skip
            ours = mean[f"ddpg_mo_{measure}"]
            against = []
            for other in METHODS[1:]:
                theirs = mean[f"{other}_{measure}"]
                if theirs and math.isfinite(theirs) and math.isfinite(ours):
                    change = (theirs - ours) / theirs if lower_better else (ours - theirs) / theirs
                    against.append(f"{other} {theirs:.4g} ({change:+.0%})")
            parts.append(f"{label} {ours:.4g} vs " + ", ".join(against))
        if "ddpg_mo_mi" in e:
            inr = ", ".join(
                f"{k.upper()} {mean[f'ddpg_mo_{k}']:.1f} / {mean[f'maxmin_socp_{k}']:.1f} / "
                f"{mean[f'static_{k}']:.1f} dB"
                for k in ("si", "mi", "cli")
            )
            parts.append(f"INR ddpg_mo / convex / static: {inr}")
        where = ", ".join(f"{k} {e[k]}" for k in by)
        lines.append(f"{where}: " + "; ".join(parts))
    return lines
