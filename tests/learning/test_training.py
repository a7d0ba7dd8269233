"""Training, checkpoints and learned policies behind the policy interface: a short PPO run
resumes where it stopped, its checkpoint drives the headless loop by name, and a checkpoint
that does not fit is refused with what differs."""

import json
import shutil

import numpy as np
import pytest

from rsu_isac.beamforming.context import RadioContext
from rsu_isac.beamforming.policies import create_policy, policy_names
from rsu_isac.cli import build_parser
from rsu_isac.core.scenario import load_named_scenario
from rsu_isac.learning.checkpoints import SHIPPED
from rsu_isac.learning.env import EnvConfig
from rsu_isac.learning.train import TrainConfig, train
from rsu_isac.loop.closed_loop import EvalConfig, evaluate
from rsu_isac.nodes.beamforming_policy import BeamformingPolicy
from rsu_isac.nodes.params import ParameterError
from rsu_isac.platform.paths import scenarios_dir
from tests.ros_helpers import in_process

STEPS = 512  # one PPO rollout


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("ppo")
    config = TrainConfig("ppo", EnvConfig(), STEPS, 1, out, eval_every=STEPS, eval_episodes=1,
                         progress=False)  # fmt: skip
    summary = train(config, "test")
    return out, summary


def test_a_run_writes_logs_evaluations_and_a_checkpoint(trained):
    out, summary = trained
    assert summary["steps"] == STEPS and summary["seed"] == 1 and summary["wall_s"] > 0
    assert np.isfinite(summary["evaluation"]["sum_rate_bps_hz"])
    assert (out / "progress.csv").stat().st_size > 0
    assert any(p.name.startswith("events.out.tfevents") for p in out.iterdir())
    manifest = json.loads((out / "checkpoint" / "manifest.json").read_text())
    assert manifest["algorithm"] == "ppo" and manifest["env"]["scenario"] == "seed000"
    # saved at 512 steps and at the end: the wall time is the run's, not summed over saves
    last_evaluation = float((out / "evaluations.csv").read_text().splitlines()[-1].split(",")[1])
    assert summary["wall_s"] == pytest.approx(last_evaluation, abs=0.5)
    assert manifest["training"]["steps"] == STEPS
    assert (out / "checkpoint" / "policy.pt").stat().st_size < 5e6


def test_resume_continues_the_run_to_the_new_step_count(trained, tmp_path):
    out, _ = trained
    resumed = tmp_path / "resumed"
    shutil.copytree(out, resumed)
    config = TrainConfig("ppo", EnvConfig(), 2 * STEPS, 1, resumed, eval_every=STEPS,
                         eval_episodes=1, resume=True, progress=False)  # fmt: skip
    summary = train(config, "test")
    assert summary["steps"] == 2 * STEPS
    rows = (resumed / "evaluations.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["512", "512", "1024", "1024"][: len(rows) - 1]


def test_a_checkpoint_drives_the_headless_loop_by_name(trained):
    out, _ = trained
    sc = load_named_scenario("seed000", scenarios_dir())
    config = EvalConfig(policy="ppo", checkpoint=str(out / "checkpoint"), slots=20,
                        max_power_dbm=40.0)  # fmt: skip
    first, again = evaluate(sc, config), evaluate(sc, config)
    assert first["sum_rate_bps_hz"] > 1.0 and first == again | {
        "policy_ms_p50": first["policy_ms_p50"], "policy_ms_p99": first["policy_ms_p99"]
    }  # fmt: skip


def test_a_checkpoint_that_does_not_fit_is_refused_with_what_differs(trained, tmp_path):
    out, _ = trained
    seed004 = RadioContext(load_named_scenario("seed004", scenarios_dir()))
    seed000 = RadioContext(load_named_scenario("seed000", scenarios_dir()))
    folder = str(out / "checkpoint")
    with pytest.raises(ValueError, match="trained on scenario 'seed000'; this run is 'seed004'"):
        create_policy("ppo", seed004, checkpoint=folder)
    with pytest.raises(ValueError, match="is a 'ppo' agent, not 'ddpg'"):
        create_policy("ddpg", seed000, checkpoint=folder)
    with pytest.raises(ValueError, match="no checkpoint at"):
        create_policy("ppo", seed000, checkpoint=str(tmp_path))
    with pytest.raises(ValueError, match="not learned: it takes no checkpoint"):
        create_policy("zf", seed000, checkpoint=folder)
    broken = tmp_path / "broken"
    shutil.copytree(out / "checkpoint", broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["env"]["mdp"]["max_vehicles"] = 4
    (broken / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r"has observation \[15\].*needs observation \[20\]"):
        create_policy("ppo", seed000, checkpoint=str(broken))
    (broken / "policy.pt").write_bytes(b"not a torch file")
    manifest["env"]["mdp"]["max_vehicles"] = 3
    (broken / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r"policy\.pt does not fit its manifest"):
        create_policy("ppo", seed000, checkpoint=str(broken))


def test_learned_policies_are_named_policies_and_ship_checkpoints():
    assert {"ppo", "ddpg", "dqn", "random"} <= set(policy_names())
    for name in ("ppo", "ddpg", "dqn"):
        manifest = json.loads((SHIPPED / name / "manifest.json").read_text())
        assert manifest["training"]["seed"] == 0  # fixed before training, never the best
        assert manifest["training"]["command"].startswith(f"rsu-isac train {name}")
        assert (SHIPPED / name / "policy.pt").stat().st_size < 5e6
    sc = load_named_scenario("seed000", scenarios_dir())
    for name in ("ppo", "ddpg", "dqn", "random"):
        result = evaluate(sc, EvalConfig(policy=name, slots=10, max_power_dbm=40.0))
        assert result["sum_rate_bps_hz"] > 1.0, name


def test_train_refuses_bad_arguments_in_one_line(tmp_path, capsys):
    for args, message in [
        (("a2c",), "ALGO 'a2c'"),
        (("dqn", "--action", "compact"), "dqn needs the discrete codebook action"),
        (("ppo", "--action", "codebook"), "ppo acts on a continuous action"),
        (("ppo", "--steps", "0"), "--steps 0 must be at least 1"),
    ]:
        parsed = build_parser().parse_args(["train", *args, "--out", str(tmp_path)])
        assert parsed.func(parsed) == 2, args
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    parsed = build_parser().parse_args(["train", "ppo", "--scenario", "nowhere"])
    with pytest.raises(SystemExit) as stop:
        parsed.func(parsed)
    assert stop.value.code == 2 and "nowhere" in capsys.readouterr().err


def test_the_policy_node_takes_a_learned_policy_and_refuses_a_bad_checkpoint(trained, tmp_path):
    out, _ = trained
    with in_process(BeamformingPolicy, policy="ppo", checkpoint=str(out / "checkpoint")) as node:
        assert node.node.policy.name == "ppo"
    missing = pytest.raises(ParameterError, match=r"'policy' \(ppo\): no checkpoint at")
    with missing, in_process(BeamformingPolicy, policy="ppo", checkpoint=str(tmp_path)):
        pass
    other = pytest.raises(ParameterError, match="trained on scenario 'seed000'")
    checkpoint = str(out / "checkpoint")
    with other, in_process(BeamformingPolicy, scenario="seed004", checkpoint=checkpoint,
                           policy="ppo"):  # fmt: skip
        pass
