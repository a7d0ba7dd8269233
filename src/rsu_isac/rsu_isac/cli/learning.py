"""Learning commands: ``train`` (one agent, one seed; several seeds and sweeps go through
``rsu-isac experiment learning-baselines``)."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from rsu_isac.cli.common import scenario_or_exit, valid_choices, writable_dir_error

ENV_NAMES = ("beamforming",)  # the 000 MDP (learning.env)


def _arguments_error(out: Path, counts: dict[str, int]) -> str | None:
    """The first problem of ``--out`` (not a writable folder) or of a count below one."""
    problem = writable_dir_error(out, "--out")
    for flag, value in counts.items():
        if value < 1:
            problem = problem or f"{flag} {value} must be at least 1"
    return problem


# 003's RL-H-MoE on its hybrid AoI MDP (learning.hmoe): the method, the homogeneous MoE
# (both experts MLPs) and the ablation without AoI in the state
def _train_hmoe(args: argparse.Namespace) -> int:
    from rsu_isac.learning.aoi_env import AoiEnvConfig
    from rsu_isac.learning.aoi_mdp import AoiMdpConfig
    from rsu_isac.learning.hmoe import VARIANTS, train_variant

    scenario = args.scenario or "seed003"
    scenario_or_exit(scenario, "train")
    out = Path(args.out)
    problem = _arguments_error(out, {"--episodes": args.episodes})
    if problem:
        print(f"rsu-isac train: {problem}", file=sys.stderr)
        return 2
    env = AoiEnvConfig(
        scenario=scenario,
        rf_snr_db=args.rf_snr_db,
        abstraction=args.abstraction,
        episode_slots=args.episode_slots or 200,
        mdp=AoiMdpConfig(mask_aoi=VARIANTS[args.algorithm]["mask_aoi"]),
    )
    command = "rsu-isac " + " ".join(sys.argv[1:])
    manifest = train_variant(args.algorithm, args.seed, out, env, args.episodes, command)
    evaluation = manifest["evaluation"]
    print(
        f"trained {args.algorithm} seed {args.seed}: {manifest['steps']} steps in "
        f"{manifest['wall_s']:.0f} s; held-out energy {evaluation['energy_j_per_slot']:.1f} "
        f"J/slot, mean P_misa {evaluation['mean_misalignment_probability']:.3f}; checkpoint "
        f"{out}/checkpoint"
    )
    return 0


# 004's Bi-LSTM assignment and beams (learning.bilstm): labels from the heuristic + FP-PGD
def _train_bilstm(args: argparse.Namespace) -> int:
    from rsu_isac.learning.bilstm import BilstmConfig, train

    scenario = args.scenario or "seed004"
    scenario_or_exit(scenario, "train")
    out = Path(args.out)
    counts = {"--samples": args.samples, "--epochs": args.epochs, "--workers": args.workers}
    problem = _arguments_error(out, counts)
    if problem:
        print(f"rsu-isac train: {problem}", file=sys.stderr)
        return 2
    config = BilstmConfig(
        scenario=scenario,
        samples=args.samples,
        validation=max(1, args.samples // 4),
        epochs=args.epochs,
        seed=args.seed,
    )
    command = "rsu-isac " + " ".join(sys.argv[1:])
    dataset = Path(args.dataset) if args.dataset else None
    manifest = train(config, out, command, dataset, workers=args.workers)
    scores = ", ".join(
        f"K = {k}: accuracy {v['accuracy']:.3f}, MSE {v['mse']:.3g}"
        for k, v in manifest["validation"].items()
    )
    print(
        f"trained bilstm seed {args.seed} on {config.samples} snapshots in "
        f"{manifest['wall_s']:.0f} s (labels {manifest['labelled_s']:.0f} s); held out: "
        f"{scores}; checkpoint {out}/checkpoint"
    )
    return 0


# 002's DL beamformer (learning.isac_dl): labels from ISAC-OCS on Monte Carlo placements
def _train_isac_dl(args: argparse.Namespace) -> int:
    from rsu_isac.learning.isac_dl import IsacDlConfig, train

    out = Path(args.out)
    problem = _arguments_error(out, {"--samples": args.samples, "--epochs": args.epochs})
    if problem:
        print(f"rsu-isac train: {problem}", file=sys.stderr)
        return 2
    config = IsacDlConfig(
        samples=args.samples,
        validation=max(1, args.samples // 8),
        epochs=args.epochs,
        seed=args.seed,
    )
    manifest = train(config, out, "rsu-isac " + " ".join(sys.argv[1:]))
    print(
        f"trained isac_dl seed {args.seed} on {config.samples} placements in "
        f"{manifest['wall_s']:.0f} s (labels {manifest['labelled_s']:.0f} s); held-out loss "
        f"{manifest['validation_loss']:.4f} (label energy {manifest['label_energy']:.3f}); "
        f"checkpoint {out}"
    )
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from rsu_isac.learning.hmoe import VARIANTS

    if args.algorithm in VARIANTS:
        return _train_hmoe(args)
    if args.algorithm == "bilstm":
        return _train_bilstm(args)
    if args.algorithm == "isac_dl":
        return _train_isac_dl(args)
    return _train_agent(args, VARIANTS)


# 000's agents on the beamforming MDP (learning.train)
def _train_agent(args: argparse.Namespace, variants) -> int:
    from rsu_isac.learning.agents import ACTION_OF, ALGORITHMS, MO_ALGORITHMS

    multi_objective = args.algorithm in MO_ALGORITHMS
    args.scenario = args.scenario or ("urban" if multi_objective else "seed000")
    from rsu_isac.learning.env import EnvConfig, MoEnvConfig
    from rsu_isac.learning.mdp import ACTIONS, MdpConfig
    from rsu_isac.learning.train import TrainConfig, train
    from rsu_isac.sim.world import ABSTRACTIONS

    action = args.action or ACTION_OF.get(args.algorithm, "compact")
    if not valid_choices(
        "train",
        {
            "ALGO": (args.algorithm, (*ALGORITHMS, *variants, "bilstm", "isac_dl")),
            "--env": (args.env, ENV_NAMES),
            "--action": (action, ACTIONS),
            "--abstraction": (args.abstraction, ABSTRACTIONS),
        },
    ):
        return 2
    scenario_or_exit(args.scenario, "train")
    problem = _arguments_error(Path(args.out), {"--steps": args.steps})
    if args.algorithm == "dqn" and action != "codebook":
        problem = problem or "dqn needs the discrete codebook action (--action codebook)"
    if args.algorithm != "dqn" and action == "codebook":
        problem = problem or f"{args.algorithm} acts on a continuous action (compact or full)"
    weights = _reward_weights(args.reward_weights) if multi_objective else None
    if multi_objective and weights is None:
        problem = problem or (
            f"--reward-weights must be four numbers W_SE,W_EE,W_CRLB,W_I, got "
            f"'{args.reward_weights}'"
        )
    if problem:
        print(f"rsu-isac train: {problem}", file=sys.stderr)
        return 2
    try:
        if multi_objective:
            env = MoEnvConfig(
                scenario=args.scenario,
                max_power_dbm=args.pmax_dbm,
                abstraction=args.abstraction,
                episode_slots=args.episode_slots or MoEnvConfig.episode_slots,
                mdp=weights,
            )
        else:
            env = EnvConfig(
                scenario=args.scenario,
                max_power_dbm=40.0 if args.pmax_dbm is None else args.pmax_dbm,
                abstraction=args.abstraction,
                episode_slots=args.episode_slots,
                mdp=MdpConfig(
                    action=action, max_vehicles=args.max_vehicles, true_state=args.true_state
                ),
            )
        config = TrainConfig(
            algorithm=args.algorithm,
            env=env,
            steps=args.steps,
            seed=args.seed,
            out=Path(args.out),
            eval_every=args.eval_every,
            eval_episodes=args.eval_episodes,
            resume=args.resume,
        )
        summary = train(config, "rsu-isac " + " ".join(sys.argv[1:]))
    except ValueError as exc:
        print(f"rsu-isac train: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"rsu-isac train: interrupted; resume with --resume --out {args.out}")
        return 130
    evaluation = summary["evaluation"]
    print(
        f"trained {args.algorithm} seed {args.seed}: {summary['steps']} steps in "
        f"{summary['wall_s']:.0f} s; held-out sum rate {evaluation['sum_rate_bps_hz']:.3f} "
        f"bit/s/Hz, return {evaluation['mean_return']:.1f}; checkpoint {args.out}/checkpoint"
    )
    return 0


def _reward_weights(text: str):
    """001's reward weights from 'W_SE,W_EE,W_CRLB,W_I' (finite numbers), None if not."""
    from rsu_isac.learning.mo_mdp import MoConfig

    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        return None
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        return None
    return MoConfig(*values)


def add_commands(sub) -> None:
    train = sub.add_parser(
        "train",
        help="train a learned beamforming policy",
        description="Train one agent with one seed on the closed-loop environment; writes "
        "logs (CSV, TensorBoard), held-out evaluations and a checkpoint to --out.",
    )
    train.add_argument(
        "algorithm",
        metavar="ALGO",
        help="spiking_ac, ppo, ddpg or dqn (000's MDP); ddpg_mo (001's); hmoe, hmoe_mlp, "
        "hmoe_no_aoi or hmoe_ppo (003's); bilstm (004's); isac_dl (002's DL beamformer)",
    )
    train.add_argument("--env", default="beamforming", help="environment (beamforming: 000 MDP)")
    train.add_argument(
        "--scenario",
        help="scenario name or .yaml path (default: seed000; ddpg_mo: urban; hmoe*: seed003; "
        "bilstm: seed004)",
    )
    train.add_argument("--steps", type=int, default=50_000, help="environment steps")
    train.add_argument("--episodes", type=int, default=40, help="hmoe*: training episodes")
    train.add_argument(
        "--rf-snr-db", type=float, default=10.0, help="hmoe*: the radar's RF SNR (003 Fig. 3)"
    )
    train.add_argument(
        "--samples", type=int, default=1200, help="bilstm, isac_dl: labelled training snapshots"
    )
    train.add_argument("--epochs", type=int, default=100, help="bilstm, isac_dl: epochs")
    train.add_argument(
        "--dataset",
        help="bilstm: where the labelled snapshots are kept and read back (default: "
        "OUT/dataset.npz); seeds can share one",
    )
    train.add_argument(
        "--workers", type=int, default=1, help="bilstm: processes labelling the snapshots"
    )
    train.add_argument("--seed", type=int, default=0, help="training seed")
    train.add_argument("--out", default="runs/train", help="output folder")
    train.add_argument("--resume", action="store_true", help="continue the run in --out")
    train.add_argument(
        "--pmax-dbm",
        type=float,
        help="power budget (default: 40 dBm for 000's agents, the scenario's for ddpg_mo)",
    )
    train.add_argument(
        "--reward-weights",
        default="1,1,1,0.5",
        help="ddpg_mo: 001 eq. (18)'s weights W_SE,W_EE,W_CRLB,W_I (learning.mo_mdp)",
    )
    train.add_argument("--abstraction", default="measurement", help="signal or measurement")
    train.add_argument(
        "--action", help="compact, full or codebook (default: compact; dqn: codebook)"
    )
    train.add_argument("--max-vehicles", type=int, default=3, help="vehicle slots K_max")
    train.add_argument(
        "--episode-slots",
        type=int,
        help="slots per episode (default: the scenario's horizon; hmoe*, ddpg_mo: 200)",
    )
    train.add_argument(
        "--true-state", action="store_true", help="observe the true states (ablation)"
    )
    train.add_argument("--eval-every", type=int, default=10_000, help="steps between evaluations")
    train.add_argument("--eval-episodes", type=int, default=5, help="held-out episodes each")
    train.set_defaults(func=_cmd_train)
