"""001's multi-objective MDP (learning.mo_mdp): the action's decoding, the beams, powers
and bands the policy makes of it, the reward (18) by hand, and the environment."""

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rsu_isac.beamforming.context import PredictedVehicles, RadioContext
from rsu_isac.beamforming.precoders import regularised_zf
from rsu_isac.core.beams import KIND_COMMUNICATION
from rsu_isac.core.interference import band_masks
from rsu_isac.core.scenario import load_named_scenario
from rsu_isac.learning.env import MultiObjectiveEnv
from rsu_isac.learning.mo_mdp import Decision, MoConfig, MoPolicy, reward
from rsu_isac.platform.paths import scenarios_dir


@pytest.fixture(scope="module")
def urban():
    return load_named_scenario("urban", scenarios_dir())


def vehicles(k: int = 5) -> PredictedVehicles:
    x = np.linspace(-60.0, 60.0, k)
    return PredictedVehicles(
        np.arange(1, k + 1), np.column_stack([x, np.full(k, 11.5)]), np.zeros((k, 2))
    )


def test_the_action_ends():
    low = Decision.decode(-np.ones(9))
    high = Decision.decode(np.ones(9))
    assert low.power_fraction == pytest.approx(10**-1.5)
    assert high.power_fraction == pytest.approx(1.0)
    assert (low.sensing_share, high.sensing_share) == pytest.approx((0.01, 0.30))
    assert low.bands.tolist() == [True, False, False, False]  # the best (first) band at least
    assert high.bands.all() and high.reuse and not low.reuse
    assert Decision.decode(np.array([0, 0, 0, 0, 0, -1, 0.2, -0.3, 0.5])).bands.tolist() == [
        False, True, False, True,
    ]  # fmt: skip


@pytest.mark.parametrize("reuse", [False, True])
def test_the_policy_makes_the_decided_beams_powers_and_bands(urban, reuse):
    context = RadioContext(urban)
    policy = MoPolicy("test", context)
    action = np.array([-0.5, 0.4, -0.2, 0.1, 1.0 if reuse else -1.0, 1, -1, 1, 1], np.float32)
    d = Decision.decode(action)
    known = vehicles()
    beams = policy.act(known, action, slot=3)
    assert beams.powers_w.sum() == pytest.approx(d.power_fraction * context.max_power_w)
    comm = beams.kind == KIND_COMMUNICATION
    assert beams.powers_w[~comm].sum() == pytest.approx(
        d.sensing_share * d.power_fraction * context.max_power_w
    )
    # the directions are regularised ZF with lambda = (K / P) 10^(3 a_0), P the users' power
    g = context.channel_rows(known)[0]
    power = context.max_power_w * (1 - d.sensing_share) * d.power_fraction
    expected = regularised_zf(g, len(known) / power * 10 ** (3 * action[0]))
    np.testing.assert_allclose(np.abs(beams.weights[comm] @ expected.conj()).diagonal(), 1.0)
    # powers proportional to (||g_k||^2)^a_1
    strength = np.sum(np.abs(g) ** 2, axis=1) ** d.power_exponent
    np.testing.assert_allclose(beams.powers_w[comm], power * strength / strength.sum())
    masks = band_masks(beams.band_mask, 4)
    assert not masks[:, [1]].any()
    if reuse:  # the users in angle order take bands 0, 2, 3, 0, ... in turn
        order = np.argsort(beams.target_angle_rad[comm], kind="stable")
        assert masks[comm].sum(axis=1).tolist() == [1] * 5
        np.testing.assert_array_equal(np.argmax(masks[comm][order], axis=1), [0, 2, 3, 0, 2])
    else:
        assert masks[comm].sum(axis=1).tolist() == [3] * 5
    assert masks[~comm].sum() == 3


def test_the_reward_of_eq_18_by_hand():
    parts = {
        "sum_rate_bps_hz": 40.0,
        "energy_efficiency_bit_per_j": 1.2e9,
        "crlb_angle_deg": 1e-5,
        "si_inr": 10.0,
        "mi_inr": 4.0,
        "cli_inr": 1.0,
    }
    weights = MoConfig(w_se=1.0, w_ee=2.0, w_crlb=0.5, w_interference=0.25)
    expected = 40.0 + 2.0 * 1200 / 100 - 0.5 * np.log10(1e-5 / 1e-3) - 0.25 * np.log2(16.0)
    assert reward(parts, weights) == pytest.approx(expected)


def test_the_environment_passes_gymnasiums_checker():
    env = MultiObjectiveEnv(episode_slots=4)
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    _, value, _, _, parts = env.step(env.action_space.sample())
    assert np.isfinite(value) and parts["sum_rate_bps_hz"] >= 0
    env.close()


def test_a_scenario_without_a_shipped_checkpoint_is_refused_by_name():
    from rsu_isac.beamforming.policies import create_policy

    seed000 = load_named_scenario("seed000", scenarios_dir())
    with pytest.raises(ValueError, match=r"ships no checkpoint for scenario 'seed000'.*urban"):
        create_policy("ddpg_mo", RadioContext(seed000))


def test_eval_of_the_shipped_agent_reports_001s_metrics(capsys):
    """Issue 27's must-show: `rsu-isac eval --scenario urban --policy ddpg_mo --json` with the
    shipped checkpoint reports SE, EE, CRLB, the three interference terms and the channel
    knowledge assumed (the command's own parser and handler, in this process)."""
    import json

    from rsu_isac.cli import build_parser

    args = build_parser().parse_args(
        ["eval", "--scenario", "urban", "--policy", "ddpg_mo", "--slots", "5", "--json"]
    )
    assert args.func(args) == 0
    summary = json.loads(capsys.readouterr().out)
    for key in ("sum_rate_bps_hz", "energy_efficiency_mbit_per_j", "crlb_angle_deg",
                "si_inr_db", "mi_inr_db", "cli_inr_db"):  # fmt: skip
        assert summary[key] is not None, key
    assert summary["policy"] == "ddpg_mo"
    assert summary["channel_knowledge"].startswith("pilot estimates at -10 dB")
