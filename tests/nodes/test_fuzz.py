"""The fuzz suite: a few hundred hostile messages per node through its own subscription
callbacks (rsu_isac.nodes.fuzz); no node may crash (contain an exception or let one escape),
and each must answer the valid messages that follow with finite output."""

import warnings

import pytest

from rsu_isac.nodes.fuzz import NODES, run

pytestmark = pytest.mark.ros


def test_no_node_crashes_and_every_node_answers_valid_input_afterwards():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        counts = run(300, seed=11, log_level="fatal")
    assert set(counts) == set(NODES)
    for name, c in counts.items():
        assert c.messages == 300
        assert c.crashed == 0, (name, c.failures)
        assert c.answered == c.valid > 0, name
        # the generator reaches both sides of every node's checks
        assert c.dropped > 0 and c.accepted > 0, (name, c)
