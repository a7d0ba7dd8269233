"""The 000 MDP on the closed loop: gymnasium's checker, seeded episodes, the action
encodings against the optimisation policy they generalise, and the reward's bounds against
closed forms."""

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rsu_isac.learning  # registers the environment
from rsu_isac.beamforming.context import PredictedVehicles, RadioContext
from rsu_isac.beamforming.policies import create_policy
from rsu_isac.core.array import steering_vector
from rsu_isac.core.beams import KIND_COMMUNICATION, BeamSet
from rsu_isac.core.scenario import load_named_scenario
from rsu_isac.core.units import SPEED_OF_LIGHT_MPS
from rsu_isac.learning.env import BeamformingEnv, EnvConfig
from rsu_isac.learning.mdp import FEATURES, MdpConfig, sensing_bounds
from rsu_isac.learning.policy import ActionPolicy
from rsu_isac.platform.paths import scenarios_dir
from rsu_isac.sim.traffic import VehicleStates


@pytest.mark.parametrize(
    "config",
    [
        EnvConfig(),
        EnvConfig(mdp=MdpConfig(action="full")),
        EnvConfig(mdp=MdpConfig(action="codebook")),
        EnvConfig(scenario="seed004", mdp=MdpConfig(max_vehicles=8), episode_slots=30),
    ],
    ids=["compact", "full", "codebook", "highway"],
)
def test_the_environment_passes_gymnasiums_checker(config):
    env = BeamformingEnv(config)
    check_env(env, skip_render_check=True)
    env.close()


def test_the_registered_id_makes_the_environment_with_options():
    env = gymnasium.make(rsu_isac.learning.ENV_ID, scenario="seed004", episode_slots=5)
    assert env.unwrapped.scenario.name == "seed004"
    obs, _ = env.reset(seed=0)
    steps = 0
    while True:
        obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
        steps += 1
        if terminated or truncated:
            break
    assert steps == 5 and env.observation_space.contains(obs)
    env.close()
    for mdp in (MdpConfig(max_vehicles=8), {"max_vehicles": 8}):  # both forms of the docs
        env = gymnasium.make(rsu_isac.learning.ENV_ID, scenario="seed004", mdp=mdp)
        assert env.observation_space.shape == (8 * len(FEATURES),)
        env.close()


def _episode(seed: int, slots: int = 40):
    env = BeamformingEnv(EnvConfig(scenario="seed004", episode_slots=slots))
    env.action_space.seed(seed)
    obs, info = env.reset(seed=seed)
    trace = [obs]
    rewards = []
    for _ in range(slots):
        obs, reward, _, _, _ = env.step(env.action_space.sample())
        trace.append(obs)
        rewards.append(reward)
    env.close()
    return info["episode_seed"], np.array(trace), np.array(rewards)


def test_the_same_seed_gives_the_same_episode_and_another_seed_another():
    first, again, other = _episode(3), _episode(3), _episode(4)
    assert first[0] == again[0] and np.array_equal(first[1], again[1])
    assert np.array_equal(first[2], again[2])
    assert first[0] != other[0] and not np.array_equal(first[1], other[1])


def test_vehicles_fill_the_slots_in_road_order_and_empty_slots_are_masked():
    env = BeamformingEnv(EnvConfig(scenario="seed004", mdp=MdpConfig(max_vehicles=32)))
    obs, _ = env.reset(seed=1)
    for _ in range(60):
        obs, *_ = env.step(np.zeros(env.action_space.shape, np.float32))
    features = obs.reshape(32, len(FEATURES))
    present = features[:, FEATURES.index("present")] == 1
    assert present.any() and not present.all()  # highway traffic: some slots empty
    assert np.all(features[~present] == 0)
    # road order: x ascending is theta descending from an RSU on the road's side
    observed = env._observed.vehicles.position_xy[:, 0]
    assert np.all(np.diff(observed) >= 0) and len(observed) == present.sum()
    env.close()


def _context():
    return RadioContext(load_named_scenario("seed000", scenarios_dir()))


VEHICLES = PredictedVehicles(
    np.array([3, 1, 2]),
    np.array([[-5.0, 10.0], [-15.0, 10.0], [-25.0, 10.0]]),
    np.array([[12.0, 0.0], [11.0, 0.0], [13.0, 0.0]]),
)


def _by_track(beams: BeamSet):
    comm = np.flatnonzero(beams.kind == KIND_COMMUNICATION)
    order = comm[np.argsort(beams.track_id[comm])]
    return beams.weights[order], beams.powers_w[order]


def test_the_zero_compact_action_is_predictive_mrt_with_equal_power():
    ctx = _context()
    reference = create_policy("predictive_mrt", ctx).decide(VEHICLES, 7)
    learned = ActionPolicy("zero", ctx, agent=lambda obs: np.zeros(6, np.float32))
    beams = learned.decide(VEHICLES, 7)
    (w_ref, p_ref), (w, p) = _by_track(reference), _by_track(beams)
    assert np.allclose(p, p_ref, rtol=1e-12)
    # the same beams up to a phase per beam
    assert np.allclose(np.abs(np.sum(w_ref.conj() * w, axis=1)), 1.0, atol=1e-12)
    assert np.isclose(beams.powers_w.sum(), ctx.max_power_w)  # (17c) with equality


def test_the_full_action_is_scaled_to_the_budget_and_points_where_it_says():
    ctx = _context()
    n = ctx.num_antennas
    target = steering_vector(np.deg2rad(70.0), n)  # beams of the action, not the vehicles'
    action = np.zeros((3, 2 * n))
    action[:, :n] = 0.5 * target.real
    action[:, n:] = 0.5 * target.imag
    action[1] *= 0.5  # a quarter of the power of the others
    policy = ActionPolicy("full", ctx, mdp=MdpConfig(action="full"), agent=lambda obs: action)
    beams = policy.decide(VEHICLES, 0)
    w, p = _by_track(beams)
    comm_power = ctx.max_power_w * (1 - policy.sensing_fraction)
    assert np.isclose(p.sum(), comm_power)
    assert np.allclose(np.abs(w @ target.conj()), 1.0)
    slot_of_track = np.argsort(np.argsort(VEHICLES.position_xy[:, 0]))  # x order
    shares = np.array([1.0, 0.25, 1.0])[slot_of_track][np.argsort(VEHICLES.track_id)]
    assert np.allclose(p, comm_power * shares / shares.sum())


def test_the_codebook_action_picks_dft_beams_around_the_predicted_angle():
    ctx = _context()
    mdp = MdpConfig(action="codebook")
    choices = mdp.codebook_choices  # 3 beams x 3 power levels
    # vehicle slot 0 (x = -25): beam one step up, top power; the others centred, lowest
    action = (2 * 3 + 2) + choices * (1 * 3 + 0) + choices**2 * (1 * 3 + 0)
    policy = ActionPolicy("dqn-like", ctx, mdp=mdp, agent=lambda obs: action)
    beams = policy.decide(VEHICLES, 0)
    n = ctx.num_antennas
    grid = np.arccos(-1.0 + (2.0 * np.arange(n) + 1.0) / n)  # DFT beam angles
    theta = ctx.polar(VEHICLES)[0][0]
    w, p = _by_track(beams)
    angles = grid[np.argmax(np.abs(w.conj() @ steering_vector(grid, n).T), axis=1)]
    nearest = np.argmin(np.abs(grid[None] - theta[:, None]), axis=1)
    far = np.argmin(VEHICLES.position_xy[:, 0])  # slot 0
    expected = grid[nearest + np.where(np.arange(3) == far, 1, 0)][np.argsort(VEHICLES.track_id)]
    assert np.allclose(angles, expected)
    levels = np.where(np.arange(3) == far, 3.0, 1.0)[np.argsort(VEHICLES.track_id)]
    assert np.allclose(p / p.sum(), levels / levels.sum())


def test_too_large_a_codebook_is_refused_with_the_count():
    with pytest.raises(ValueError, match=r"9\^8 joint choices"):
        MdpConfig(action="codebook", max_vehicles=8)


def _one_vehicle(x_m: float, y_m: float) -> VehicleStates:
    one = np.ones(1)
    return VehicleStates(
        np.array([7]), np.zeros(1, np.int8), np.zeros(1, np.int32), x_m * one, y_m * one,
        0 * one, 0 * one, 0 * one, 4.5 * one, 1.8 * one,
    )  # fmt: skip


def test_sensing_bounds_of_one_lit_vehicle_match_the_closed_form():
    sc = load_named_scenario("seed000", scenarios_dir())
    radio, radar = sc.radio, sc.radar
    vehicle = _one_vehicle(6.0, 8.0)  # d = 10 m from the RSU at the origin
    theta = np.arctan2(8.0, 6.0)
    n_t, n_r = radio.array.num_tx_antennas, radio.array.num_rx_antennas
    w = steering_vector(theta, n_t)
    beams = BeamSet(
        w[None], np.array([2.0]), np.zeros(1, int), np.zeros(1, int), np.zeros(1, int),
        np.array([theta]),
    )  # fmt: skip
    crlb_theta, crlb_range = sensing_bounds(sc, vehicle, beams)
    # 000 eq. (7): SNR = N_t N_r p |kappa / (2 d)|^2 |a^H w|^2 / sigma^2, |a^H w| = 1 here;
    # eq. (8), (16): var(d) = (c / 2)^2 alpha_tau^2 / SNR
    snr = n_t * n_r * 2.0 * abs(sc.radar.kappa / 20.0) ** 2 / radio.sensing_noise_w
    expected = (SPEED_OF_LIGHT_MPS / 2) ** 2 * radar.delay_coefficient_s**2 / snr
    assert crlb_range[0] == pytest.approx(expected, rel=1e-9)
    assert 0 < crlb_theta[0] < 1e-6
    # no beam at all: nothing is sensed
    none = BeamSet.empty(n_t)
    assert np.all(np.isinf(sensing_bounds(sc, vehicle, none)))


def test_the_reward_is_rate_times_fairness_when_feasible_and_zero_otherwise():
    env = BeamformingEnv()
    env.reset(seed=0)
    zero = np.zeros(env.action_space.shape, np.float32)
    _, reward, _, _, parts = env.step(zero)
    mdp = env.config.mdp
    expected = (
        parts["sum_rate_bps_hz"] * parts["jain_fairness"]
        - parts["crlb_angle_rad2"] / mdp.crlb_angle_max_rad2
        - parts["crlb_range_m2"] / mdp.crlb_range_max_m2
    )
    assert parts["feasible"] == 1.0 and reward == pytest.approx(expected, rel=1e-12)
    env.close()
    strict = BeamformingEnv(EnvConfig(mdp=MdpConfig(crlb_range_max_m2=1e-30)))
    strict.reset(seed=0)
    _, reward, _, _, parts = strict.step(zero)
    assert parts["feasible"] == 0.0 and reward == 0.0 and parts["sum_rate_bps_hz"] > 0
    strict.close()
