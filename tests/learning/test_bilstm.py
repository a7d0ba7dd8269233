"""004's Bi-LSTM assignment and beams: the inputs in road order, labels that keep the
rates of the heuristic + FP-PGD decision they come from, a short training that learns, a
checkpoint that loads back, and the policy's beams at the power budget."""

import numpy as np
import pytest

from rsu_isac.beamforming.assignment import assign, precode_all, system_sinr
from rsu_isac.beamforming.context import RadioContext, random_vehicles
from rsu_isac.beamforming.policies import create_policy, precoder_for
from rsu_isac.core.beams import KIND_COMMUNICATION
from rsu_isac.core.scenario import load_named_scenario
from rsu_isac.learning.bilstm import (
    BilstmConfig,
    BilstmNets,
    BilstmPolicy,
    canonical_beams,
    features,
    fit,
    labelled_sample,
)
from rsu_isac.platform.paths import scenarios_dir


@pytest.fixture(scope="module")
def seed004():
    return load_named_scenario("seed004", scenarios_dir())


def test_features_follow_the_road_order(seed004):
    context = RadioContext(seed004)
    vehicles = random_vehicles(np.random.default_rng(3), seed004, 7)
    order, x = features(context, vehicles, context.channel_rows(vehicles))
    assert np.all(np.diff(vehicles.position_xy[order, 0]) >= 0)
    n = context.num_antennas
    assert x.shape == (7, 2 * (2 * n + 3)) and x.dtype == np.float32
    unit = x[:, :n] ** 2 + x[:, n : 2 * n] ** 2
    assert unit.sum(axis=1) == pytest.approx(np.ones(7), rel=1e-5)


def test_canonical_beams_keep_every_rate_of_the_decision(seed004):
    """Scaling an RSU's beams together and turning each beam's phase changes no SINR once
    the power is put back."""
    context = RadioContext(seed004)
    vehicles = random_vehicles(np.random.default_rng(5), seed004, 10)
    rows = context.channel_rows(vehicles)
    theta, ranges = context.polar(vehicles)
    tx, power = context.transmitters, context.max_power_w
    precoder = precoder_for("fp_pgd", "equal")
    assignment = assign("heuristic", rows, theta, ranges, tx, precoder, power)
    placed = precode_all(rows, assignment, tx, precoder, power)
    beams = canonical_beams(rows, assignment, placed, tx)
    rebuilt = {}
    for r in tx.tolist():
        mine = np.flatnonzero(assignment == r)
        assert np.sum(np.abs(beams[mine]) ** 2) == pytest.approx(mine.size)
        gains = np.einsum("kn,kn->k", rows[r, mine], beams[mine])
        assert np.all(np.abs(gains.imag) <= 1e-9 * np.abs(gains)) and np.all(gains.real > 0)
        w = beams[mine].T
        rebuilt[r] = w * np.linalg.norm(placed[r]) / np.linalg.norm(w)
    before = system_sinr(rows, assignment, placed)
    assert system_sinr(rows, assignment, rebuilt) == pytest.approx(before, rel=1e-9)


def test_a_short_training_learns_and_the_policy_spends_the_budget(seed004, tmp_path):
    context = RadioContext(seed004)
    samples = [labelled_sample(seed004, 4, s) for s in range(12)]
    config = BilstmConfig(epochs=30, batch=4, assignment_hidden=16, beam_hidden=16)
    nets, scores = fit(config, context, samples[:10], samples[10:], tmp_path / "log.csv")
    log = np.loadtxt(tmp_path / "log.csv", delimiter=",", skiprows=1)
    assert log.shape == (30, 3) and log[-1, 2] < 0.5 * log[0, 2]  # the beam MSE falls
    assert scores[4] == pytest.approx(tuple(log[-1, 1:]), rel=1e-5)
    nets.save(tmp_path / "checkpoint", {"command": "test"})
    loaded = BilstmNets.load(tmp_path / "checkpoint")
    x = samples[10].x
    assert np.array_equal(loaded.predict(x)[1], nets.predict(x)[1])
    policy = create_policy("bilstm", context, checkpoint=str(tmp_path / "checkpoint"))
    assert isinstance(policy, BilstmPolicy)
    vehicles = random_vehicles(np.random.default_rng(9), seed004, 6)
    beams = policy.decide(vehicles, 0)
    comm = beams.kind == KIND_COMMUNICATION
    budget = context.max_power_w * (1 - policy.sensing_fraction)
    for r in context.transmitters.tolist():
        mine = comm & (beams.rsu_index == r)
        if mine.any():
            assert beams.powers_w[mine].sum() == pytest.approx(budget, rel=1e-9)
    assert sorted(beams.track_id[comm].tolist()) == sorted(vehicles.track_id.tolist())
    with pytest.raises(ValueError, match="cannot load the Bi-LSTM checkpoint"):
        BilstmNets.load(tmp_path)
    with pytest.raises(ValueError, match="decides the assignment itself"):
        create_policy(
            "bilstm", context, checkpoint=str(tmp_path / "checkpoint"), assignment="greedy"
        )


def test_an_interrupted_labelling_resumes_where_it_stopped(tmp_path, monkeypatch):
    """The dataset file is saved every LABEL_CHUNK snapshots; a second call labels only the
    rest and gives the set an uninterrupted call gives."""
    from rsu_isac.learning import bilstm

    def fake_label(jobs, workers):  # a cheap stand-in for the heuristic's labels
        labelled.extend(jobs)
        return [
            bilstm.Sample(np.full((k, 2), seed % 7, np.float32), np.zeros(k, np.int64),
                          np.zeros((k, 4), np.float32))
            for _, k, seed in jobs
        ]  # fmt: skip

    def failing_label(jobs, workers):
        if labelled:
            raise KeyboardInterrupt
        return fake_label(jobs, workers)

    monkeypatch.setattr(bilstm, "LABEL_CHUNK", 2)
    config = BilstmConfig(samples=4, validation=1)
    labelled: list = []
    monkeypatch.setattr(bilstm, "_label", failing_label)
    with pytest.raises(KeyboardInterrupt):
        bilstm.dataset(config, tmp_path / "dataset.npz")
    assert len(labelled) == 2
    monkeypatch.setattr(bilstm, "_label", fake_label)
    resumed = bilstm.dataset(config, tmp_path / "dataset.npz")
    assert len(labelled) == 5  # the first two were not labelled again
    labelled.clear()
    whole = bilstm.dataset(config, tmp_path / "other.npz")
    assert [len(s.x) for s in resumed] == [len(s.x) for s in whole] == [4, 10, 20, 30, 50]
    assert all(np.array_equal(a.x, b.x) for a, b in zip(resumed, whole, strict=True))
    assert bilstm.dataset(config, tmp_path / "dataset.npz") and len(labelled) == 5  # read back


def test_the_shipped_checkpoint_runs_in_the_headless_loop(seed004):
    """The policy's default networks: trained on seed004 with the manifest's command, and
    deciding every slot of a short closed loop for every tracked vehicle."""
    import json

    from rsu_isac.learning.bilstm import SHIPPED_CHECKPOINT
    from rsu_isac.loop.closed_loop import EvalConfig, run_slots

    manifest = json.loads((SHIPPED_CHECKPOINT / "manifest.json").read_text())
    assert manifest["command"].startswith("rsu-isac train bilstm")
    assert {"seed", "wall_s", "validation"} <= set(manifest) and manifest["config"]["epochs"] > 0
    _, records = run_slots(seed004, EvalConfig(policy="bilstm", slots=30, seed=1))
    rates = [r["sum_rate_bps_hz"] for r in records]
    assert len(rates) == 30 and rates[-1] > 0 and all(np.isfinite(rates))
