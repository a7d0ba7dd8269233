"""AoI scheduler: the beam half-width against a numerical pattern, eq. (7) with beta from
the covariance growth, the policies' decisions and energies (eq. (3)-(5)), the LSTM expert
round trip."""

import dataclasses

import numpy as np
import pytest

from rsu_isac.core.array import half_power_halfwidth_rad, steering_vector
from rsu_isac.core.scenario import load_named_scenario
from rsu_isac.platform.paths import scenarios_dir
from rsu_isac.scheduling.lstm_expert import LstmExpert, TemporalExpert
from rsu_isac.scheduling.scheduler import AoiScheduler, TrackAoiInputs


@pytest.mark.parametrize(("theta", "n"), [(np.pi / 2, 64), (np.pi / 3, 32), (2.4, 64)])
def test_half_power_halfwidth_matches_the_pattern(theta, n):
    width = half_power_halfwidth_rad(theta, n)
    a0 = steering_vector(theta, n)
    for edge in (theta - width, theta + width):
        gain = np.abs(steering_vector(edge, n).conj() @ a0) ** 2
        assert gain == pytest.approx(0.5, abs=0.02)


def inputs(aoi_slots, growth, slot_s=0.02, coasting=None):
    k = len(aoi_slots)
    return TrackAoiInputs(
        track_id=np.arange(1, k + 1),
        azimuth_rad=np.full(k, np.pi / 2),
        angle_variance_rad2=np.full(k, 1e-8),
        predicted_angle_variance_rad2=1e-8 + np.asarray(growth, float),
        look_at_xy=np.column_stack([np.arange(k) * 10.0, np.full(k, 15.0)]),
        position_std_m=np.full(k, 0.2),
        aoi_s=np.asarray(aoi_slots, float) * slot_s,
        coasting_slots=np.asarray(coasting if coasting is not None else np.zeros(k), np.int64),
    )


@pytest.fixture(scope="module")
def scenario():
    return load_named_scenario("seed003", scenarios_dir())


def test_misalignment_follows_eq_7_with_beta_from_the_covariance_growth(scenario):
    halfwidth = half_power_halfwidth_rad(np.pi / 2, 64)
    growth = np.array([0.01, 0.001]) * halfwidth**2  # beta = 0.01 and 0.001 per slot
    out = AoiScheduler(scenario, "radar_only").decide(inputs([10, 100], growth), slot=5)
    assert out.uncertainty_rate == pytest.approx([0.01, 0.001])
    assert out.misalignment == pytest.approx(1 - np.exp([-0.1, -0.1]))
    assert out.energy_sweep_j == pytest.approx(25.0 * 2 * (1 - np.exp(-0.1)))
    assert out.energy_comp_j == 0.0 and not out.camera_on


def test_policies(scenario):
    halfwidth = half_power_halfwidth_rad(np.pi / 2, 64)
    beta = np.array([0.001, 0.001, 0.05, 0.0])
    growth = np.append(beta, 0.0) * halfwidth**2
    tracks = inputs([5, 99, 5, 24, 5], growth, coasting=[0, 0, 0, 0, 2])
    vision = AoiScheduler(scenario, "vision_only").decide(tracks, 1)
    # a whole-road frame every slot: 003's 40 J of continuous vision, whatever the track count
    assert vision.scheduled.all() and vision.scan and vision.energy_comp_j == 40.0
    scheduler = AoiScheduler(scenario, "threshold")
    assert scheduler.decide(tracks, 0).scan  # a new scheduler looks at the whole road at once
    threshold = scheduler.decide(tracks, 1)
    assert not threshold.scan
    # P(A + 1) = 1 - exp(-beta (A + 1)) > Gamma = 0.1, A + 1 > A_max = 25, or 2 slots coasting
    assert threshold.scheduled.tolist() == [False, True, True, False, True]
    assert len(threshold.region_centres_xy) == 3
    assert threshold.energy_comp_j == 3 * 10.0  # e_vis per scheduled track, eq. (4)
    many = inputs([99] * 6, np.zeros(6))  # six regions would cost more than the whole frame
    assert scheduler.decide(many, 2).energy_comp_j == 40.0
    # no scan found anything: the next one A_max = 25 slots after the first
    assert not scheduler.decide(tracks, 24).scan
    scan_slot = scheduler.decide(tracks, 25)
    assert scan_slot.scan and scan_slot.energy_comp_j == 40.0
    with pytest.raises(ValueError, match="valid: radar_only, vision_only, threshold, lstm"):
        AoiScheduler(scenario, "sometimes")
    with pytest.raises(ValueError, match="needs a trained temporal expert"):
        AoiScheduler(scenario, "lstm")


@pytest.mark.parametrize(("arrival_every", "period"), [(20, 8), (5, 4), (10**9, 25)])
def test_scan_period_follows_the_square_root_law(scenario, arrival_every, period):
    """Vehicles the radar never acquires arrive every ``arrival_every`` slots and stay
    unknown until a scan, whose finds appear as new tracks two slots later. The scan period
    settles at P* = sqrt(2 E_full / (lambda E_recovery)), E_full = 40 J, E_recovery = 25 J:
    lambda = 0.05 -> 8 slots, 0.2 -> 4; no arrivals -> A_max = 25 ((9d))."""
    assert period == 25 or round(np.sqrt(2 * 40.0 * arrival_every / 25.0)) == period
    scheduler = AoiScheduler(scenario, "threshold")
    known: list[int] = [1, 2]
    unknown, reveal_at, scans = 0, {}, []
    for slot in range(600):
        unknown += slot % arrival_every == 0 and slot > 0
        known += reveal_at.pop(slot, [])
        tracks = dataclasses.replace(
            inputs([1] * len(known), np.zeros(len(known))), track_id=np.array(known)
        )
        if scheduler.decide(tracks, slot).scan:
            scans.append(slot)
            start = max(known) + 1
            reveal_at[slot + 2] = list(range(start, start + unknown))
            unknown = 0
    gaps = np.diff(scans[len(scans) // 2 :])  # the estimate counts whole vehicles: +-1 slot
    assert np.all(np.abs(gaps - period) <= 1) and abs(np.mean(gaps) - period) <= 0.5


def test_lstm_expert_checkpoint_round_trip(scenario, tmp_path):
    import torch

    torch.manual_seed(0)
    expert = LstmExpert(TemporalExpert(16), 25.0, sequence_length=4, seed=1)
    path = tmp_path / "expert.pt"
    expert.save(path)
    loaded = LstmExpert.load(path, 25.0, seed=1)
    tracks = inputs([1, 2, 3], [1e-9] * 3)
    a = AoiScheduler(scenario, "lstm", expert=expert).decide(tracks, 1).scheduled
    b = AoiScheduler(scenario, "lstm", expert=loaded).decide(tracks, 1).scheduled
    assert a.tolist() == b.tolist()  # same weights, same seed: same Bernoulli draws
    with pytest.raises(ValueError, match="cannot load the LSTM temporal expert"):
        LstmExpert.load(tmp_path / "missing.pt", 25.0)
