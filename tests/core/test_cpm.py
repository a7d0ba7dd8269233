"""The CPM inclusion rules of ETSI TS 103 324 (core.cpm), rule by rule."""

import numpy as np

from rsu_isac.core.cpm import CpmConfig, CpmGenerator


def check(gen, t, ids, pos, vel):
    return gen.due(t, np.array(ids), np.array(pos, dtype=float), np.array(vel, dtype=float))


def test_new_objects_go_at_once_then_only_on_change_or_after_a_second():
    gen = CpmGenerator(CpmConfig())
    v = [20.0, 0.0]
    assert check(gen, 0.0, [1], [[0.0, 0.0]], [v]).tolist() == [True]  # new
    assert check(gen, 0.05, [1], [[1.0, 0.0]], [v]) is None  # no check before T_GenCpm
    assert check(gen, 0.1, [1], [[2.0, 0.0]], [v]).tolist() == [False]  # moved 2 m
    assert check(gen, 0.2, [1], [[4.1, 0.0]], [v]).tolist() == [True]  # moved 4.1 m > 4 m
    assert check(gen, 0.3, [1], [[4.2, 0.0]], [[20.6, 0.0]]).tolist() == [True]  # +0.6 m/s
    turned = 20.6 * np.array([np.cos(np.radians(5)), np.sin(np.radians(5))])
    assert check(gen, 0.4, [1], [[4.3, 0.0]], [turned]).tolist() == [True]  # 5 deg > 4 deg
    slightly = 20.6 * np.array([np.cos(np.radians(8)), np.sin(np.radians(8))])
    assert check(gen, 0.5, [1], [[4.4, 0.0]], [slightly]).tolist() == [False]  # 3 deg more
    for t in (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3):
        due = check(gen, t, [1], [[4.4, 0.0]], [slightly]).tolist()
        assert due == [t >= 1.4 - 1e-9]  # 1 s after the last inclusion (0.4 s)
    assert check(gen, 1.4, [1], [[4.4, 0.0]], [slightly]).tolist() == [True]


def test_a_stationary_crowd_costs_one_object_per_second_each():
    gen = CpmGenerator(CpmConfig())
    ids = list(range(1, 21))
    pos, vel = [[float(i), 0.0] for i in ids], [[0.0, 0.0]] * 20
    sent = 0
    for n in range(100):  # 10 s of checks at 10 Hz
        due = check(gen, 0.1 * n, ids, pos, vel)
        sent += int(due.sum())
    assert sent == 20 * 10  # first at 0 s, then at 1, 2, ... 9 s


def test_an_object_that_comes_back_is_new():
    gen = CpmGenerator(CpmConfig())
    check(gen, 0.0, [1, 2], [[0.0, 0.0], [9.0, 0.0]], [[0.0, 0.0]] * 2)
    assert check(gen, 0.1, [2], [[9.0, 0.0]], [[0.0, 0.0]]).tolist() == [False]
    assert check(gen, 0.2, [1, 2], [[0.0, 0.0], [9.0, 0.0]], [[0.0, 0.0]] * 2).tolist() == [
        True,
        False,
    ]
