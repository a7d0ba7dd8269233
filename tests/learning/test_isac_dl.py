"""002's DL beamformer: beams in the bases ISAC-OCS's answer lies in, a short training that
learns, a checkpoint that loads back and decides within both budgets."""

import json

import numpy as np
import pytest

from rsu_isac.learning.isac_dl import IsacDl, IsacDlConfig, bases, label, train
from rsu_isac.sim.placements import PlacementConfig, draw_placement


def test_isac_ocs_labels_lie_in_the_networks_bases():
    """The leader's beams are in the span of the users' steering vectors and the follower's
    in that of the target's and patches': the structured output can reach the labels."""
    p = draw_placement(np.random.default_rng(1), PlacementConfig(users=4))
    users, sensing = bases(p)
    y = label(p, 1.0, 0.5)
    for basis, beams in ((users[:, :4], y[:, :4]), (sensing, y[:, -1:])):
        coef = np.linalg.lstsq(basis, beams, rcond=None)[0]
        assert np.linalg.norm(basis @ coef - beams) <= 1e-6 * np.linalg.norm(beams)
    assert np.all(y[:, 4:6] == 0)


def test_a_short_training_learns_and_the_checkpoint_decides_within_budget(tmp_path):
    config = IsacDlConfig(samples=120, validation=30, epochs=6, hidden=64)
    manifest = train(config, tmp_path, "test")
    losses = [e["validation_loss"] for e in json.loads((tmp_path / "log.json").read_text())]
    assert losses[-1] < losses[0]
    assert manifest["command"] == "test" and manifest["wall_s"] > 0
    net = IsacDl.load(tmp_path)
    p = draw_placement(np.random.default_rng(2), PlacementConfig(users=3))
    w, v = net(p, 0.5, 0.5)
    assert w.shape == (16, 3) and v.shape == (16,)
    assert np.linalg.norm(w) ** 2 == pytest.approx(0.5) and np.linalg.norm(v) ** 2 == pytest.approx(
        0.5
    )
    with pytest.raises(ValueError, match="no DL beamformer checkpoint"):
        IsacDl.load(tmp_path / "missing")
