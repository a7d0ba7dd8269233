"""RL-H-MoE (003 Algorithm 1): the isolated updates touch only their own expert, the spatial
expert learns the physics loss (13), checkpoints load back to the same actions, and the
``hmoe`` beamforming policy sends constant-modulus beams."""

import numpy as np
import pytest
import torch

from rsu_isac.beamforming.context import PredictedVehicles, RadioContext
from rsu_isac.core.array import steering_vector
from rsu_isac.core.scenario import load_named_scenario
from rsu_isac.learning.aoi_env import AoiEnvConfig
from rsu_isac.learning.hmoe import (
    HmoeConfig,
    HmoeTrainer,
    SpatialExpert,
    hmoe_policy,
    load_checkpoint,
    save_checkpoint,
)
from rsu_isac.platform.paths import scenarios_dir


@pytest.fixture(scope="module")
def trained():
    config = HmoeConfig(episodes=3, env=AoiEnvConfig(episode_slots=25, warmup_slots=5), seed=2)
    trainer = HmoeTrainer(config)
    before = {
        name: [p.detach().clone() for p in getattr(trainer.agent, name).parameters()]
        for name in ("temporal", "spatial", "critic")
    }
    trainer.train()
    yield trainer, before
    trainer.env.close()


def test_each_expert_learns_and_the_log_has_every_episode(trained):
    trainer, before = trained
    assert [row["episode"] for row in trainer.log] == [0, 1, 2]
    for name, params in before.items():
        after = list(getattr(trainer.agent, name).parameters())
        assert any(not torch.equal(a, b) for a, b in zip(after, params, strict=True)), name
    assert trainer.log[-1]["spatial_gain"] > trainer.log[0]["spatial_gain"]


def test_the_spatial_loss_never_reaches_the_temporal_expert(trained):
    trainer, _ = trained
    episode_like = type("E", (), {})()
    n = trainer.agent.num_antennas
    theta = np.linspace(0.5, 2.5, 16)
    episode_like.angle = [np.stack([np.cos(theta), np.sin(theta)], 1).astype(np.float32)]
    episode_like.channel = [steering_vector(theta, n).conj().astype(np.complex64)]
    temporal = [p.detach().clone() for p in trainer.agent.temporal.parameters()]
    trainer._spatial_update(episode_like)
    for a, b in zip(trainer.agent.temporal.parameters(), temporal, strict=True):
        assert torch.equal(a, b)


def test_a_checkpoint_loads_back_to_the_same_actions(trained, tmp_path):
    trainer, _ = trained
    save_checkpoint(trainer.agent, tmp_path, {"seed": 2})
    loaded = load_checkpoint(tmp_path)
    observation, _ = trainer.env.reset(seed=5)
    for _ in range(3):
        observation, *_ = trainer.env.step(trainer.agent.act(observation)[0])
    a, _ = trainer.agent.act(observation)
    b, _ = loaded.act(observation)
    np.testing.assert_array_equal(a, b)
    assert (tmp_path / "temporal.pt").is_file() and (tmp_path / "manifest.json").is_file()
    with pytest.raises(ValueError, match="cannot load RL-H-MoE from"):
        load_checkpoint(tmp_path / "missing")


def test_the_hmoe_policy_sends_constant_modulus_beams(trained, tmp_path):
    trainer, _ = trained
    save_checkpoint(trainer.agent, tmp_path, {})
    scenario = load_named_scenario("seed003", scenarios_dir())
    policy = hmoe_policy(RadioContext(scenario), checkpoint=str(tmp_path))
    vehicles = PredictedVehicles(
        np.array([1, 2]), np.array([[-10.0, 6.0], [15.0, 9.0]]), np.full((2, 2), 10.0)
    )
    beams = policy.decide(vehicles, 1)
    comm = beams.weights[beams.kind == 0]
    assert comm.shape == (2, scenario.radio.array.num_tx_antennas)
    np.testing.assert_allclose(np.abs(comm) * np.sqrt(comm.shape[1]), 1.0, atol=1e-9)
    assert beams.powers_w[beams.kind == 0].sum() == pytest.approx(0.95 * scenario.radio.max_power_w)


def test_the_spatial_expert_outputs_constant_modulus():
    net = SpatialExpert(16)
    out = net(torch.tensor([[0.3, 0.95], [-0.5, 0.87]]))
    np.testing.assert_allclose(out.abs().detach().numpy(), 0.25, rtol=1e-6)


def test_the_shipped_rl_h_moe_runs_in_the_headless_loop():
    """`rsu-isac eval --aoi-policy hmoe` (with its beams, policy hmoe) and `--aoi-policy lstm`
    (the temporal expert alone) on the shipped checkpoint."""
    from rsu_isac.loop.closed_loop import EvalConfig, evaluate

    scenario = load_named_scenario("seed003", scenarios_dir())
    for aoi_policy, policy in (("hmoe", "hmoe"), ("lstm", "predictive_mrt")):
        result = evaluate(
            scenario,
            EvalConfig(policy=policy, aoi_policy=aoi_policy, rf_snr_db=10.0, slots=4, seed=1),
        )
        assert result["aoi_policy"] == aoi_policy and result["policy"] == policy
        assert np.isfinite(result["energy_j_per_slot"])
