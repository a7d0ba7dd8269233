"""Bags: a run recorded by `rsu-isac sim --record` opens with rosbags from its own stored
definitions, and the sample bag replays through the stack into tracks and a report."""

import json
import subprocess
import sys

import numpy as np
import pytest
from rosbags.highlevel import AnyReader

from tests.ros_helpers import REPO

pytestmark = pytest.mark.ros
SAMPLE = REPO / "bags" / "seed000_measurement"


def rsu_isac(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rsu_isac.cli", *args],
        cwd=REPO,
        check=False,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_recorded_bag_opens_with_its_own_definitions(tmp_path):
    bag = tmp_path / "bag"
    result = rsu_isac(
        "sim", "--abstraction", "measurement", "--duration", "1", "--camera-period", "25",
        "--out", str(tmp_path / "run"), "--record", str(bag),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert (bag / "metadata.yaml").is_file() and list(bag.glob("*.mcap"))
    with AnyReader([bag]) as reader:  # no type store given: the bag's definitions are used
        topics = {c.topic: c for c in reader.connections}
        assert {"/clock", "/sim/ground_truth", "/rsu0/radar/echo", "/rsu0/tracks"} <= set(topics)
        assert topics["/rsu0/tracks"].msgcount >= 45
        truth, tracks = None, None
        for connection, _, raw in reader.messages():
            msg = reader.deserialize(raw, connection.msgtype)
            if connection.topic == "/sim/ground_truth":
                truth = msg
            elif connection.topic == "/rsu0/tracks":
                tracks = msg
    xy = np.array([[v.x_m, v.y_m] for v in truth.vehicles])
    confirmed = [t for t in tracks.tracks if t.status == 1]
    assert len(confirmed) == len(xy) == 3
    for t in confirmed:
        assert np.min(np.hypot(*(xy - [t.position.x, t.position.y]).T)) < 0.5


def test_sample_bag_replays_through_the_stack(tmp_path):
    info = rsu_isac("bag", "info", str(SAMPLE))
    assert info.returncode == 0 and "/rsu0/radar/echo" in info.stdout
    result = rsu_isac("replay", "--bag", str(SAMPLE), "--rate", "2", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["tracked_vehicle_share"] >= 0.95
    assert report["range_rmse_m"] < 0.1
    assert set(report["node_latency_ms"]) == {
        "/rsu0/radar_processing",
        "/rsu0/ekf_tracker",
        "/beamforming_policy",
    }


def test_bag_record_takes_what_bag_play_publishes(tmp_path):
    player = subprocess.Popen(
        [sys.executable, "-m", "rsu_isac.cli", "bag", "play", str(SAMPLE), "--loop"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        out = tmp_path / "copy"
        result = rsu_isac(
            "bag", "record", str(out), "--topics", "/sim/ground_truth", "/rsu0/radar/echo",
            "--duration", "4",
        )  # fmt: skip
    finally:
        player.terminate()
        player.wait(timeout=20)
    assert result.returncode == 0, result.stderr[-2000:]
    with AnyReader([out]) as reader:
        counts = {c.topic: c.msgcount for c in reader.connections}
        assert set(counts) == {"/sim/ground_truth", "/rsu0/radar/echo"}
        assert min(counts.values()) >= 20  # 50 per second of bag time, minus discovery
        _, _, raw = next(iter(reader.messages()))
        assert raw
