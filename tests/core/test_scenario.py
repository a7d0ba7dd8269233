"""Scenario files: every shipped one loads; each kind of bad file fails with one clear line."""

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

from rsu_isac.core.scenario import (
    Scenario,
    load_named_scenario,
    load_scenario,
    scenario_names,
)
from rsu_isac.core.schema import SchemaError
from rsu_isac.platform.paths import scenarios_dir

SHIPPED = {"seed000", "seed002", "seed003", "seed004", "urban", "dense_city", "rural"}


def test_all_shipped_scenarios_load():
    assert set(scenario_names(scenarios_dir())) >= SHIPPED
    for name in scenario_names(scenarios_dir()):
        scenario = load_named_scenario(name, scenarios_dir())
        assert isinstance(scenario, Scenario) and scenario.name == name
        assert scenario.source.strip(), f"{name} must say where its numbers come from"


def test_paper_settings_are_what_the_papers_say():
    s000 = load_named_scenario("seed000", scenarios_dir())
    assert (s000.radio.array.num_tx_antennas, s000.radio.carrier_frequency_hz) == (32, 30e9)
    assert [v.x_m for v in s000.traffic.initial_vehicles] == [-5.0, -15.0, -25.0]
    assert s000.road.lanes[0].y_m == 10.0 and s000.radar.kappa == 10 + 10j
    s004 = load_named_scenario("seed004", scenarios_dir())
    assert s004.rsu_positions_m.tolist() == [[0.0, 30.0], [0.0, -30.0]]
    s003 = load_named_scenario("seed003", scenarios_dir())
    k = len(s003.traffic.initial_vehicles)
    assert k * s003.aoi.vision_energy_j == 40.0  # 40 J/slot of continuous vision
    assert s003.aoi.full_frame_energy_j == 40.0


def write_variant(tmp_path, mutate, name="seed000"):
    data = yaml.safe_load((scenarios_dir() / f"{name}.yaml").read_text())
    data = copy.deepcopy(data)
    # PyYAML (YAML 1.1) reads 30.0e9 as a string; keep numbers numeric for the dump
    data["radio"]["carrier_frequency_hz"] = 30e9
    mutate(data)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def error_of(path) -> str:
    with pytest.raises(SchemaError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "\n" not in message, "one line per error"
    return message


def test_missing_key(tmp_path):
    path = write_variant(tmp_path, lambda d: d["radio"].pop("max_power_dbm"))
    assert error_of(path) == (
        "scenario seed000.yaml: missing key 'radio.max_power_dbm' "
        "(float; allowed [-30, 80]; dBm; power budget P_max per RSU)"
    )


def test_negative_power(tmp_path):
    path = write_variant(tmp_path, lambda d: d["radio"].update(circuit_power_w=-1.0))
    assert error_of(path) == (
        "scenario seed000.yaml: key 'radio.circuit_power_w' = -1.0 is out of range: "
        "allowed [0, 100000]; W; static circuit power P_c"
    )


def test_zero_antennas(tmp_path):
    path = write_variant(tmp_path, lambda d: d["radio"]["array"].update(num_tx_antennas=0))
    assert error_of(path) == (
        "scenario seed000.yaml: key 'radio.array.num_tx_antennas' = 0 is out of range: "
        "allowed [1, 1024]; transmit ULA elements N_t"
    )


def test_unknown_channel_model(tmp_path):
    path = write_variant(tmp_path, lambda d: d["radio"]["channel"].update(model="nakagami"))
    assert error_of(path) == (
        "scenario seed000.yaml: key 'radio.channel.model': unknown value 'nakagami'; "
        "allowed: los_pathloss, multipath, rayleigh"
    )


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda d: d["radio"].update(typo_key=1), "unknown key 'radio.typo_key'"),
        (lambda d: d["radio"]["array"].update(num_rx_antennas=3.5), "expected an integer"),
        (lambda d: d["road"].update(x_max_m=-50.0), "key 'road.x_max_m': must exceed x_min_m"),
        (
            lambda d: d["traffic"]["initial_vehicles"][0].update(lane=3),
            "key 'traffic.initial_vehicles[0].lane': 3 is not a lane index",
        ),
        (lambda d: d["traffic"].update(class_probabilities=[0.5, 0.2, 0.2]), "must sum to 1"),
        (lambda d: d.update(name="other"), "key 'name' = 'other' must match the file name"),
        # combined sizes: a frame needing 128 GiB, 20,000 vehicles on a 200 m lane
        (
            lambda d: (
                d["radio"]["array"].update(num_rx_antennas=1024)
                or d["radar"]["waveform"].update(num_symbols=4096, num_subcarriers=512)
            ),
            "key 'radar.waveform': a radar frame of 1024 x 4096 x 512 samples",
        ),
        (
            lambda d: d["traffic"].update(
                initial_vehicles=[{"x_m": 0.0, "lane": 0, "vehicle_class": "car"}] * 20000
            ),
            "key 'traffic.initial_vehicles': 20000 vehicles in lane 0",
        ),
    ],
)
def test_other_bad_files_name_the_key(tmp_path, mutate, fragment):
    assert fragment in error_of(write_variant(tmp_path, mutate))


def test_not_yaml(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("radio: [unclosed\n")
    assert "not valid YAML" in error_of(path)


def test_unknown_scenario_lists_valid_ones():
    with pytest.raises(SchemaError, match=r"unknown scenario 'nope'; valid scenarios: .*seed000"):
        load_named_scenario("nope", scenarios_dir())


def test_yaml_1_2_floats():
    text = (scenarios_dir() / "seed004.yaml").read_text()
    assert "30.0e9" in text
    assert load_named_scenario("seed004", scenarios_dir()).radar.delay_coefficient_s == 6.7e-7


@pytest.mark.parametrize("name", ["seed002", "seed004", "urban"])
def test_max_echo_range_is_the_farthest_road_point(name):
    """Against a dense grid of road points (bistatic seed002: half the tx -> point -> rx
    path); a transmit-only RSU hears no echo."""

    scenario = load_named_scenario(name, scenarios_dir())
    road = scenario.road
    ys = [lane.y_m for lane in road.lanes]
    half = road.lane_width_m / 2
    x, y = np.meshgrid(
        np.linspace(road.x_min_m, road.x_max_m, 401),
        np.linspace(min(ys) - half, max(ys) + half, 41),
    )
    points = np.stack([x.ravel(), y.ravel()], axis=1)
    for i, rsu in enumerate(scenario.rsus):
        tx = scenario.illuminator(i)
        if rsu.role == "transmit":
            assert tx is None
            with pytest.raises(ValueError, match="receives no echo"):
                scenario.max_echo_range_m(i)
            continue
        path = np.linalg.norm(points - rsu.position_m, axis=1)
        path += np.linalg.norm(points - scenario.rsus[tx].position_m, axis=1)
        assert scenario.max_echo_range_m(i) == pytest.approx(np.max(path) / 2, rel=1e-9)
    # the RSUs that run a radar and a tracker: all but the transmit-only one
    assert scenario.receivers() == [i for i, r in enumerate(scenario.rsus) if r.role != "transmit"]


@pytest.mark.parametrize(
    "text",
    [
        "root:$6$secretsalt$hash:19000:0:99999:7:::\n",  # /etc/shadow
        "seed: the secret passphrase\n",
        "[secret1, secret2]\n",
    ],
)
def test_an_error_never_prints_the_files_content(tmp_path, text):
    """A path to the wrong file (``--scenario /etc/shadow``) named its first line."""
    path = tmp_path / "wrong.yaml"
    path.write_text(text)
    message = error_of(path)
    assert "secret" not in message, message


def test_unreadable_and_endless_files_fail_with_one_line(tmp_path):
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00garbage")
    assert error_of(tmp_path / "binary.yaml").endswith("not UTF-8 text")
    assert error_of(Path("/dev/zero")).endswith("larger than 1 MiB")


def test_with_vehicles_places_that_many_and_keeps_them_coming():
    from rsu_isac.core.scenario import with_vehicles

    urban = load_named_scenario("urban", scenarios_dir())
    placed = with_vehicles(urban, 10)
    initial = placed.traffic.initial_vehicles
    assert len(initial) == 10 and {v.lane for v in initial} == {0, 1, 2, 3}
    assert all(urban.road.x_min_m < v.x_m < urban.road.x_max_m for v in initial)
    # Little's law: lambda L / v per lane times the lanes is the count
    rate = placed.traffic.arrival_rate_per_lane_per_s
    speed = urban.traffic.speed.mean_mps
    assert rate * urban.road.length_m / speed * len(urban.road.lanes) == pytest.approx(10)
    with pytest.raises(ValueError, match="do not fit"):
        with_vehicles(urban, 1000)
