"""Tracking accuracy against the bounds (core.track_metrics), in closed form."""

import numpy as np
import pytest

from rsu_isac.core.track_metrics import tracking_errors, tracking_summary


def test_tracking_errors_match_each_track_to_its_nearest_vehicle():
    rsu = (0.0, 30.0)
    truth = np.array([[10.0, 2.5], [-5.0, -2.5]])
    polar = np.array([[1.0, 30.0, 0.0], [2.0, 35.0, 0.0], [1.0, 1.0, 0.0]])
    tracks_xy = truth[[1, 0]] + [[0.5, 0.0], [0.0, 0.1]]
    tracks_xy = np.vstack([tracks_xy, [[100.0, 0.0]]])  # no vehicle within 3 m: not scored
    bounds = np.arange(9.0).reshape(3, 3) + 1.0
    rows = tracking_errors(rsu, polar, bounds, tracks_xy, truth, np.zeros_like(truth))
    assert rows.shape == (2, 5)
    d = np.hypot(*(truth - rsu).T)
    theta = np.arccos((truth[:, 0] - rsu[0]) / d)  # the angle from the array's axis
    assert rows[:, 0] == pytest.approx([(1.0 - theta[1]) ** 2, (2.0 - theta[0]) ** 2])
    assert rows[:, 1] == pytest.approx([(30.0 - d[1]) ** 2, (35.0 - d[0]) ** 2])
    assert rows[:, 2:].tolist() == bounds[:2].tolist()


def test_the_summary_normalises_each_row_and_sets_gross_errors_aside():
    pcrb = np.array([[1e-10, 1e-2], [1e-6, 1.0], [1e-8, 0.25]])
    error = np.array([[1e-10, 1e-2], [0.25e-6, 0.25], [1e-8 * 200.0**2, 0.25]])  # 200 sigma
    still = pcrb / 4.0
    summary = tracking_summary(np.hstack([error, pcrb, still]))
    assert summary["gross_error_share"] == pytest.approx(1 / 3)
    assert summary["angle_rmse_over_sqrt_pcrb"] == pytest.approx(np.sqrt((1 + 0.25) / 2))
    assert summary["range_rmse_over_sqrt_pcrb"] == pytest.approx(np.sqrt((1 + 0.25) / 2))
    assert summary["angle_rmse_over_sqrt_deterministic_pcrb"] == pytest.approx(
        2 * np.sqrt((1 + 0.25) / 2)
    )
    assert summary["angle_rmse_deg"] == pytest.approx(np.degrees(np.sqrt(error[:, 0].mean())))
    assert summary["sqrt_pcrb_range_m"] == pytest.approx(np.sqrt(pcrb[:, 1].mean()))
    empty = tracking_summary(np.zeros((0, 4)))
    assert np.isnan(empty["angle_rmse_deg"]) and "angle_rmse_over_sqrt_pcrb" in empty
    assert "angle_rmse_over_sqrt_deterministic_pcrb" not in empty
