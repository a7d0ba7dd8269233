"""The closed loop: ``sim`` (the node graph on ROS), ``replay`` (a bag through the stack)
and ``eval`` (headless)."""

from __future__ import annotations

import argparse
import math
import sys

from rsu_isac.cli.common import scenario_or_exit, valid_choices, writable_dir_error


def _cmd_eval(args: argparse.Namespace) -> int:
    import dataclasses
    import json

    from tqdm import tqdm

    from rsu_isac.core.ekf import MOTION_MODELS
    from rsu_isac.loop.closed_loop import EvalConfig, evaluate
    from rsu_isac.runtime.report import json_safe
    from rsu_isac.scheduling.scheduler import SCHEDULER_POLICIES
    from rsu_isac.sim.traffic import ENGINES
    from rsu_isac.sim.world import ABSTRACTIONS

    scenario = scenario_or_exit(args.scenario, "eval")
    args.policy = _beamforming_policy(args)
    if not valid_choices(
        "eval",
        {
            "--abstraction": (args.abstraction, ABSTRACTIONS),
            "--aoi-policy": (args.aoi_policy, SCHEDULER_POLICIES),
            "--engine": (args.engine, ENGINES),
            "--motion-model": (args.motion_model, MOTION_MODELS),
        },
    ):
        return 2
    config = EvalConfig(
        policy=args.policy,
        slots=args.slots,
        seed=args.seed,
        abstraction=args.abstraction,
        engine=args.engine,
        assignment=args.assignment,
        power_split=args.power_split,
        constant_modulus=args.constant_modulus,
        **policy_options(args),
        aoi_policy=args.aoi_policy,
        max_power_dbm=args.pmax_dbm,
        motion_model=args.motion_model,
        rf_snr_db=args.rf_snr_db,
        v2x_share=args.v2x_share,
        lstm_checkpoint=args.lstm_checkpoint,
        checkpoint=args.checkpoint,
    )
    if args.max_coast_serve_slots is not None:
        config = dataclasses.replace(config, max_coast_serve_slots=args.max_coast_serve_slots)
    bars: list = []  # the bar starts with the first slot: a refused setting prints one line

    def progress(n: int) -> None:
        if not bars:
            bars.append(tqdm(total=args.slots, desc=f"eval {args.policy}", unit="slot"))
        bars[0].update(n - bars[0].n)

    try:
        result = evaluate(scenario, config, progress=None if args.json else progress)
    except ValueError as exc:
        print(f"rsu-isac eval: {exc}", file=sys.stderr)
        return 2
    finally:
        for bar in bars:
            bar.close()
    if args.json:
        print(json.dumps(json_safe(result), allow_nan=False))
    else:
        width = max(len(k) for k in result)
        for key, value in result.items():
            text = f"{value:.6g}" if isinstance(value, float) else str(value)
            print(f"{key:<{width}}  {text}")
    return 0


POLICY_HELP = "beamforming policy (default: predictive_mrt; with --aoi-policy hmoe: hmoe)"


def _beamforming_policy(args: argparse.Namespace) -> str:
    """--policy, or the default: RL-H-MoE's schedule comes with its spatial expert's beams."""
    return args.policy or ("hmoe" if args.aoi_policy == "hmoe" else "predictive_mrt")


SENSING_FRACTION_HELP = (
    "power share of the sensing beam, 0..1 (002's sensing power ratio; default 0.05)"
)


USER_SINR_SHARE_HELP = (
    "isac_ocs: share of its SINR each user keeps under the sensing beam, 0..1 (default 0: "
    "002's follower, no user constraint)"
)


def policy_options(args: argparse.Namespace) -> dict[str, float]:
    """--sensing-fraction and --user-sinr-share as keywords (absent: the policy's default)."""
    given = {"sensing_fraction": args.sensing_fraction, "user_sinr_share": args.user_sinr_share}
    return {key: value for key, value in given.items() if value is not None}


CONSTANT_MODULUS_HELP = "phase-shifter beams: every element 1/sqrt(N) in modulus (003 eq. (9b))"
V2X_SHARE_HELP = (
    "share of vehicles that broadcast their own position and speed (CAM-shaped reports the "
    "tracker fuses; default: the scenario's v2x.equipped_share)"
)
RF_SNR_HELP = "set the sensing noise so that the reference vehicle's echo SNR is this (003 Fig. 5)"
MAX_DURATION_S = 86400.0  # a day of simulated time; longer runs belong in eval


def _shown(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _sim_arguments_error(args: argparse.Namespace) -> str | None:
    """What is wrong with ``rsu-isac sim``'s numbers, checked before anything starts."""
    from rsu_isac.core.radar import RF_SNR_RANGE_DB

    low, high = RF_SNR_RANGE_DB
    checks = [
        (
            math.isfinite(args.duration) and 0 < args.duration <= MAX_DURATION_S,
            f"--duration {args.duration:g} must be in (0, {MAX_DURATION_S:g}] s",
        ),
        (
            -1 <= args.seed <= 2**31 - 1,
            f"--seed {args.seed} must be -1 (the scenario's) or in [0, 2^31 - 1]",
        ),
        (
            0 <= args.camera_period <= 100_000,
            f"--camera-period {args.camera_period} must be in [0, 100000] (0: no camera)",
        ),
        (
            args.rf_snr_db is None or low <= args.rf_snr_db <= high,
            f"--rf-snr-db {_shown(args.rf_snr_db)} must be in [{low:g}, {high:g}] dB",
        ),
        (
            args.v2x_share is None or 0.0 <= args.v2x_share <= 1.0,
            f"--v2x-share {_shown(args.v2x_share)} must be in [0, 1]",
        ),
        (
            not (args.aoi_policy and args.camera_period < 1),
            "--aoi-policy needs camera frames (--camera-period >= 1)",
        ),
    ]
    return next((message for ok, message in checks if not ok), None)


def _cmd_sim(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from tqdm import tqdm

    from rsu_isac.beamforming.policies import policy_names
    from rsu_isac.core.radar import with_rf_snr
    from rsu_isac.core.scenario import with_v2x_share
    from rsu_isac.platform.machine import machine_description
    from rsu_isac.runtime.bringup import run_graph
    from rsu_isac.runtime.graph import GraphOptions
    from rsu_isac.runtime.report import save_report
    from rsu_isac.scheduling.scheduler import SCHEDULER_POLICIES
    from rsu_isac.sim.traffic import ENGINES
    from rsu_isac.sim.world import ABSTRACTIONS

    scenario = scenario_or_exit(args.scenario, "sim")
    args.policy = _beamforming_policy(args)
    if not valid_choices(
        "sim",
        {
            "--policy": (args.policy, policy_names()),
            "--engine": (args.engine, ENGINES),
            "--abstraction": (args.abstraction, ABSTRACTIONS),
            **({"--aoi-policy": (args.aoi_policy, SCHEDULER_POLICIES)} if args.aoi_policy else {}),
        },
    ):
        return 2
    problem = _sim_arguments_error(args) or writable_dir_error(Path(args.out), "--out")
    if args.record and Path(args.record).exists():
        problem = problem or f"--record {args.record} exists; choose a new bag path"
    if problem:
        print(f"rsu-isac sim: {problem}", file=sys.stderr)
        return 2
    if args.rf_snr_db is not None:
        scenario = with_rf_snr(scenario, args.rf_snr_db)
    if args.v2x_share is not None:
        scenario = with_v2x_share(scenario, args.v2x_share)
    options = GraphOptions(
        scenario=scenario,
        scenario_arg=args.scenario,
        policy=args.policy,
        checkpoint=args.checkpoint or "",
        engine=args.engine,
        abstraction=args.abstraction,
        duration_s=args.duration,
        seed=args.seed,
        camera_period_slots=args.camera_period,
        aoi_policy=args.aoi_policy,
        constant_modulus=args.constant_modulus,
        **policy_options(args),
        rf_snr_db=args.rf_snr_db,
        v2x_share=args.v2x_share,
    )
    out = Path(args.out)
    meta = {
        "command": "rsu-isac " + " ".join(sys.argv[1:]),
        "scenario": scenario.name,
        "policy": args.policy,
        "engine": args.engine,
        "abstraction": args.abstraction,
        "aoi_policy": args.aoi_policy or "none",
        **({} if args.rf_snr_db is None else {"rf_snr_db": args.rf_snr_db}),
        "v2x_share": scenario.v2x.equipped_share,
        "duration_s": args.duration,
        "seed": args.seed if args.seed >= 0 else scenario.seed,
        "machine": machine_description(),
    }
    total = round(args.duration / scenario.slot_s)
    started = time.monotonic()
    with tqdm(total=total, desc=f"sim {scenario.name} / {args.policy}", unit="slot") as bar:
        summary = run_graph(
            options,
            out,
            meta,
            progress=bar.update,
            record=Path(args.record) if args.record else None,
        )
    summary["wall_clock_s"] = round(time.monotonic() - started, 1)
    save_report(summary, out)
    return _print_run_end("sim", summary, out)


def _print_run_end(command: str, summary: dict, out) -> int:
    """The run's closing lines; the exit status (0 valid, 1 failed or invalid, 130 Ctrl-C)."""
    if summary["status"] != "complete":
        print(
            f"rsu-isac {command}: {summary['status']}: {summary['failure']}; partial report "
            f"of {summary['slots_scored']} scored slots in {out / 'report.json'}",
            file=sys.stderr,
        )
        return 130 if summary["status"] == "interrupted" else 1
    print(
        f"sum rate {summary['sum_rate_bps_hz']:.3f} bit/s/Hz, Jain {summary['jain_fairness']:.3f}, "
        f"angle RMSE {summary['angle_rmse_deg']:.3g} deg (sqrt PCRB "
        f"{summary['sqrt_pcrb_angle_deg']:.3g}), late commands {summary['late_or_lost_commands']}, "
        f"wall time {summary.get('wall_clock_s', float('nan')):g} s"
    )
    plots = ", ".join(p.name for p in sorted(out.glob("*.png")))
    print(f"report: {out / 'report.json'}, plots: {plots}")
    if not summary["valid"]:
        print(f"rsu-isac {command}: invalid run: {'; '.join(summary['invalid_reasons'])}",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


def _cmd_replay(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from rsu_isac.beamforming.policies import policy_names
    from rsu_isac.platform.machine import machine_description
    from rsu_isac.runtime.bringup import run_replay
    from rsu_isac.runtime.graph import GraphOptions
    from rsu_isac.runtime.report import save_report

    scenario = scenario_or_exit(args.scenario, "replay")
    if not valid_choices("replay", {"--policy": (args.policy, policy_names())}):
        return 2
    problem = writable_dir_error(Path(args.out), "--out")
    if not (math.isfinite(args.rate) and 0 <= args.rate <= 1000):
        problem = f"--rate {args.rate:g} must be in [0, 1000] (0: lockstep)"
    if not Path(args.bag).is_dir():
        problem = problem or f"--bag {args.bag}: no bag folder there"
    if args.record and Path(args.record).exists():
        problem = problem or f"--record {args.record} exists; choose a new bag path"
    if problem:
        print(f"rsu-isac replay: {problem}", file=sys.stderr)
        return 2
    options = GraphOptions(
        scenario=scenario,
        scenario_arg=args.scenario,
        policy=args.policy,
        checkpoint=args.checkpoint or "",
    )
    meta = {
        "command": "rsu-isac " + " ".join(sys.argv[1:]),
        "scenario": scenario.name,
        "policy": args.policy,
        "machine": machine_description(),
    }
    out = Path(args.out)
    started = time.monotonic()
    record = Path(args.record) if args.record else None
    summary = run_replay(options, Path(args.bag), out, meta, args.rate, record)
    summary["wall_clock_s"] = round(time.monotonic() - started, 1)
    save_report(summary, out)
    if summary["status"] != "complete":
        return _print_run_end("replay", summary, out)
    replay, tracks = summary["replay"], summary["tracks"]
    truth = (
        f"tracked share {_number(summary['tracked_vehicle_share'])}, angle RMSE "
        f"{_number(summary['angle_rmse_deg'])} deg, range RMSE {_number(summary['range_rmse_m'])}"
        " m"
        if math.isfinite(summary["tracked_vehicle_share"])
        else "no ground truth in the bag: no accuracy figures"
    )
    print(
        f"replayed {args.bag} ({replay['mode']}): {replay['echoes_played']} echoes, "
        f"{replay['echoes_not_tracked']} not tracked; {tracks['distinct_confirmed_tracks']} "
        f"confirmed tracks, {_number(tracks['confirmed_per_frame_mean'])} per frame; {truth}; "
        f"report {out / 'report.json'}" + (f", outputs recorded in {record}" if record else "")
    )
    return 0


def _number(value) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.3g}"


CHECKPOINT_HELP = "a learned policy's checkpoint folder (default: the one it ships)"


def add_commands(sub) -> None:
    """The closed loop on ROS (sim) and headless (eval)."""
    sim = sub.add_parser(
        "sim",
        help="run the full node graph on ROS in lockstep and write a report (main command)",
        description="Start traffic_sim, radar_processing, ekf_tracker and beamforming_policy "
        "(one process each, from the same graph description as launch/sim.launch.py), run the "
        "simulated duration in lockstep, stop cleanly and write report.json and PNG plots.",
    )
    sim.add_argument("--scenario", default="seed000", help="scenario name or .yaml path")
    sim.add_argument("--policy", help=POLICY_HELP)
    sim.add_argument("--checkpoint", help=CHECKPOINT_HELP)
    sim.add_argument("--engine", default="embedded", help="embedded or sumo")
    sim.add_argument("--abstraction", default="signal", help="signal or measurement")
    sim.add_argument("--duration", type=float, default=10.0, help="simulated seconds")
    sim.add_argument("--seed", type=int, default=-1, help="random seed (-1: the scenario's)")
    sim.add_argument("--out", default="runs/latest", help="report directory")
    sim.add_argument("--record", metavar="BAG", help="also record the run into this MCAP bag")
    sim.add_argument("--constant-modulus", action="store_true", help=CONSTANT_MODULUS_HELP)
    sim.add_argument("--sensing-fraction", type=float, default=None, help=SENSING_FRACTION_HELP)
    sim.add_argument("--user-sinr-share", type=float, default=None, help=USER_SINR_SHARE_HELP)
    sim.add_argument("--rf-snr-db", type=float, default=None, help=RF_SNR_HELP)
    sim.add_argument("--v2x-share", type=float, default=None, help=V2X_SHARE_HELP)
    sim.add_argument(
        "--camera-period", type=int, default=5, help="a camera frame every N slots (0: none)"
    )
    sim.add_argument(
        "--aoi-policy",
        default="",
        help="add camera_semantics and aoi_scheduler with this camera schedule "
        "(radar_only, vision_only, threshold, lstm, hmoe); default: radar only, no camera nodes",
    )
    sim.set_defaults(func=_cmd_sim)

    replay = sub.add_parser(
        "replay", help="play a bag into the stack (no simulator) and report its tracks"
    )
    replay.add_argument("--bag", required=True, help="bag directory")
    replay.add_argument("--scenario", default="seed000", help="scenario the bag was recorded in")
    replay.add_argument("--policy", default="predictive_mrt", help="beamforming policy")
    replay.add_argument("--checkpoint", help=CHECKPOINT_HELP)
    replay.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="0 (default): lockstep, every echo tracked before the next slot plays; R > 0: "
        "R x real time, echoes the stack misses are counted in the report",
    )
    replay.add_argument("--out", default="runs/replay", help="report directory")
    replay.add_argument(
        "--record", metavar="BAG", help="record the stack's tracks, detections, CPMs and commands"
    )
    replay.set_defaults(func=_cmd_replay)

    evaluation = sub.add_parser(
        "eval",
        help="headless closed loop (traffic, radar, tracker, policy, link): one JSON summary",
        description="Run the closed loop without ROS for N slots and print sum rate, genie "
        "sum rate, fairness, tracking RMSE vs PCRB, energy, misalignment and policy time.",
    )
    evaluation.add_argument("--scenario", default="seed000", help="scenario name")
    evaluation.add_argument("--policy", help=POLICY_HELP)
    evaluation.add_argument("--checkpoint", help=CHECKPOINT_HELP)
    evaluation.add_argument("--slots", type=int, default=500, help="slots to run")
    evaluation.add_argument("--seed", type=int, default=0, help="random seed")
    evaluation.add_argument("--abstraction", default="measurement", help="signal or measurement")
    evaluation.add_argument("--engine", default="embedded", help="embedded or sumo")
    evaluation.add_argument("--assignment", default="distance", help="distance, greedy, heuristic")
    evaluation.add_argument("--power-split", default="equal", help="equal or water_filling")
    evaluation.add_argument("--aoi-policy", default="radar_only", help="camera schedule")
    evaluation.add_argument("--constant-modulus", action="store_true", help=CONSTANT_MODULUS_HELP)
    evaluation.add_argument(
        "--sensing-fraction", type=float, default=None, help=SENSING_FRACTION_HELP
    )
    evaluation.add_argument(
        "--user-sinr-share", type=float, default=None, help=USER_SINR_SHARE_HELP
    )
    evaluation.add_argument("--rf-snr-db", type=float, default=None, help=RF_SNR_HELP)
    evaluation.add_argument("--v2x-share", type=float, default=None, help=V2X_SHARE_HELP)
    evaluation.add_argument(
        "--lstm-checkpoint",
        default=None,
        help="temporal expert of --aoi-policy lstm / hmoe (default: the shipped RL-H-MoE's)",
    )
    evaluation.add_argument("--motion-model", default="cartesian", help="EKF state")
    evaluation.add_argument("--pmax-dbm", type=float, help="power budget (default: scenario's)")
    evaluation.add_argument(
        "--max-coast-serve-slots",
        type=int,
        help="serve a coasting track at most this many missed slots (default 2)",
    )
    evaluation.add_argument("--json", action="store_true", help="print one JSON object")
    evaluation.set_defaults(func=_cmd_eval)
