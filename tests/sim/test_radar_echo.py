"""Echo synthesis checked independently: range-Doppler FFT peaks, receive beam scan, noise
floor, and measurement-level error statistics."""

import dataclasses

import numpy as np
import pytest

from rsu_isac.core.array import steering_vector
from rsu_isac.core.radar_dsp import Detections
from rsu_isac.core.scenario import load_named_scenario
from rsu_isac.core.units import SPEED_OF_LIGHT_MPS
from rsu_isac.platform.paths import scenarios_dir
from rsu_isac.sim.radar_echo import (
    Measurements,
    Targets,
    strongest_per_vehicle,
    synthesize_measurements,
    synthesize_ofdm_echo,
)


def scenario_with_noise(noise_dbm: float):
    sc = load_named_scenario("seed000", scenarios_dir())
    radio = dataclasses.replace(sc.radio, sensing_noise_dbm=noise_dbm)
    return dataclasses.replace(sc, radio=radio)


def pointed_frame(sc, position, velocity, seed=0):
    rsu = np.array(sc.rsus[0].position_m)
    targets = Targets.build(
        sc, rsu, rsu, np.array([position]), np.array([velocity]), np.array([sc.radar.kappa])
    )
    w = steering_vector(targets.theta_tx_rad, sc.radio.array.num_tx_antennas)  # (1, N)
    frame = synthesize_ofdm_echo(np.random.default_rng(seed), sc, targets, w, np.array([1.0]))
    return targets, frame


@pytest.mark.parametrize(
    ("position", "velocity"),
    [((-5.0, 10.0), (12.0, 0.0)), ((20.0, 10.0), (13.0, 0.0)), ((3.0, 40.0), (-10.0, 0.0))],
)
def test_range_doppler_map_peaks_at_true_bins(position, velocity):
    sc = scenario_with_noise(-60.0)
    wf = sc.radar.waveform
    targets, frame = pointed_frame(sc, position, velocity)
    derotated = frame.samples / frame.tx_symbols  # remove the known symbols
    # fast time: exp(-j 2 pi n df tau) -> IFFT peak at tau df N; slow time: exp(+j 2 pi mu l T)
    # -> FFT peak at mu T L (mod L)
    power = np.sum(np.abs(np.fft.fft(np.fft.ifft(derotated, axis=2), axis=1)) ** 2, axis=0)
    doppler_bin, range_bin = np.unravel_index(np.argmax(power), power.shape)
    expected_range_bin = targets.delay_s[0] * wf.subcarrier_spacing_hz * wf.num_subcarriers
    expected_doppler_bin = (targets.doppler_hz[0] * wf.symbol_interval_s * wf.num_symbols) % (
        wf.num_symbols
    )
    assert range_bin == round(expected_range_bin) % wf.num_subcarriers
    assert doppler_bin == round(expected_doppler_bin) % wf.num_symbols
    # and the bins mean what they should: range and radial velocity of the target
    range_m = range_bin * SPEED_OF_LIGHT_MPS / (2 * wf.subcarrier_spacing_hz * wf.num_subcarriers)
    true_range = np.hypot(*np.subtract(position, sc.rsus[0].position_m))
    assert range_m == pytest.approx(
        true_range, abs=SPEED_OF_LIGHT_MPS / (2 * wf.subcarrier_spacing_hz * wf.num_subcarriers)
    )


def test_receive_beam_scan_peaks_at_true_angle():
    sc = scenario_with_noise(-60.0)
    targets, frame = pointed_frame(sc, (-12.0, 10.0), (12.0, 0.0))
    y = (frame.samples / frame.tx_symbols).reshape(frame.samples.shape[0], -1)

    def peak(grid):
        b = steering_vector(grid, sc.radio.array.num_rx_antennas)
        return grid[np.argmax(np.sum(np.abs(b.conj() @ y) ** 2, axis=1))]

    coarse = peak(np.linspace(0.0, np.pi, 1801))  # 1.7 mrad steps, main lobe ~60 mrad wide
    fine = peak(np.linspace(coarse - 2e-3, coarse + 2e-3, 401))  # then 10 urad steps
    assert fine == pytest.approx(targets.theta_rx_rad[0], abs=2e-4)


def test_noise_floor_is_the_configured_variance():
    sc = scenario_with_noise(-80.0)
    rsu = np.array(sc.rsus[0].position_m)
    empty = Targets.build(sc, rsu, rsu, np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0))
    frame = synthesize_ofdm_echo(
        np.random.default_rng(1),
        sc,
        empty,
        np.zeros((0, sc.radio.array.num_tx_antennas)),
        np.zeros(0),
    )
    assert np.mean(np.abs(frame.samples) ** 2) == pytest.approx(sc.radio.sensing_noise_w, rel=0.02)


def test_measurement_errors_follow_reported_variances():
    sc = scenario_with_noise(20.0)  # low SNR so that the errors are measurable
    sc = dataclasses.replace(
        sc,
        radar=dataclasses.replace(
            sc.radar, waveform=dataclasses.replace(sc.radar.waveform, detection_threshold_db=-20.0)
        ),
    )
    rsu = np.array(sc.rsus[0].position_m)
    targets = Targets.build(
        sc, rsu, rsu, np.array([[-8.0, 10.0]]), np.array([[12.0, 0.0]]), np.array([sc.radar.kappa])
    )
    w = steering_vector(targets.theta_tx_rad + 0.01, sc.radio.array.num_tx_antennas)
    rng = np.random.default_rng(3)
    z_range, z_angle = [], []
    for _ in range(3000):
        m = synthesize_measurements(rng, sc, targets, w, np.array([1.0])).detections
        true_range = SPEED_OF_LIGHT_MPS * targets.delay_s[0] / 2
        z_range.append((m.range_m[0] - true_range) / np.sqrt(m.range_variance_m2[0]))
        z_angle.append(
            (m.azimuth_rad[0] - targets.theta_rx_rad[0]) / np.sqrt(m.azimuth_variance_rad2[0])
        )
    for z in (np.array(z_range), np.array(z_angle)):
        assert abs(np.mean(z)) < 0.1
        assert np.std(z) == pytest.approx(1.0, abs=0.06)


def test_strongest_per_vehicle_keeps_each_vehicles_best_dwell():
    def dwell(vehicles, snrs, beam):
        n = len(vehicles)
        values = [np.asarray(snrs, float)] * 9
        detections = Detections(*values[:5], np.asarray(snrs, float), *values[6:])
        return Measurements(detections, np.asarray(vehicles), np.full(n, beam))

    merged = strongest_per_vehicle(
        [dwell([2, 0], [5.0, 30.0], 0), dwell([0, 1, 2], [40.0, 9.0, 1.0], 3)]
    )
    assert merged.vehicle_index.tolist() == [0, 1, 2]
    assert merged.detections.snr_db.tolist() == [40.0, 9.0, 5.0]
    assert merged.beam_index.tolist() == [3, 3, 0]
    assert len(strongest_per_vehicle([dwell([], [], 0)]).detections) == 0
