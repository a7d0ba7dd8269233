"""The one description of the node graph (docs/architecture.md): which nodes run, in
which namespace, with which parameter file and overrides. ``launch/*.launch.py`` (a real
ROS 2 install) and ``rsu-isac sim`` (pip-only, one process per node) both build their
processes from it, so the two can never drift.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from rsu_isac.beamforming.policies import SENSING_FRACTION
from rsu_isac.core.scenario import Scenario
from rsu_isac.core.tracker import road_side
from rsu_isac.platform.paths import config_dir
from rsu_isac.platform.workspace import DDS_PROFILES_FILE, DDS_PROFILES_VARIABLE

GRAPHS = ("sim", "rsu")  # with the simulator, or the stack alone (real sensors, bag replay)
# Every node process runs OpenBLAS on one thread: the graph's processes share the cores, and
# OpenBLAS's idle threads spin after each call, starving the other nodes (`rsu-isac sim`,
# seed000, 2 cores: radar_processing 83 -> 30 ms p50 per slot, traffic_sim 40 -> 11 ms). The
# same for torch's OpenMP threads in the nodes that run a network (aoi_scheduler with lstm /
# hmoe, a learned beamforming policy): `rsu-isac sim --scenario seed003 --aoi-policy hmoe`,
# aoi_scheduler 133 -> 3.5 ms p50 per slot.
NODE_ENVIRONMENT = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def node_environment() -> dict[str, str]:
    """The variables of NODE_ENVIRONMENT and the Fast DDS profile (config/fastdds.xml),
    where the caller's environment does not set them."""
    wanted = {**NODE_ENVIRONMENT, DDS_PROFILES_VARIABLE: str(config_dir() / DDS_PROFILES_FILE)}
    return {name: os.environ.get(name, value) for name, value in wanted.items()}


@dataclass(frozen=True)
class NodeSpec:
    """One node process."""

    name: str  # node name (also the console script / module in rsu_isac.nodes)
    namespace: str  # "" or "/<rsu>"
    params_file: str  # file in config/
    overrides: dict[str, object] = field(default_factory=dict)

    @property
    def module(self) -> str:
        return f"rsu_isac.nodes.{self.name}"

    @property
    def fully_qualified_name(self) -> str:
        return f"{self.namespace}/{self.name}"

    def ros_args(self, config_dir: Path) -> list[str]:
        """``--ros-args`` arguments of the process (rclpy command-line syntax)."""
        args = ["--ros-args", "-r", f"__node:={self.name}"]
        if self.namespace:
            args += ["-r", f"__ns:={self.namespace}"]
        args += ["--params-file", str(config_dir / self.params_file)]
        for key, value in self.overrides.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            args += ["-p", f"{key}:={text}"]
        return args


@dataclass(frozen=True)
class GraphOptions:
    scenario: Scenario
    scenario_arg: str  # the name or path the user gave
    policy: str = "predictive_mrt"
    checkpoint: str = ""  # a learned policy's checkpoint folder; "": the shipped one
    engine: str = "embedded"
    abstraction: str = "signal"
    duration_s: float = 10.0
    seed: int = -1  # -1: the scenario's
    real_time_factor: float = 0.0  # as fast as lockstep allows
    camera_period_slots: int = 5  # a camera frame every N slots; 0 = none
    aoi_policy: str = ""  # "": radar only; else camera_semantics + aoi_scheduler with it
    deadline_s: float = 0.0  # the policy's decision deadline; 0: wait (lockstep, reproducible)
    constant_modulus: bool = False  # phase-shifter beams, 003 eq. (9b)
    sensing_fraction: float = SENSING_FRACTION  # power share of the sensing beam (002 rho_s)
    user_sinr_share: float = 0.0  # isac_ocs: SINR share users keep under the sensing beam
    rf_snr_db: float | None = None  # the reference vehicle's echo SNR; None: the scenario's
    v2x_share: float | None = None  # share of vehicles sending reports; None: the scenario's
    sensor_qos: str = "reliable"  # raw sensor subscriptions (nodes.qos.SENSOR_QOS)
    use_sim_time: bool = True  # the stack's clock: /clock (simulator, bag) or the wall clock


def node_graph(graph: str, options: GraphOptions) -> list[NodeSpec]:
    """The nodes of ``graph`` (one of GRAPHS): per receiving RSU a radar_processing (its
    instrumented range: the road's farthest echo, ``Scenario.max_echo_range_m``) and an
    ekf_tracker in its namespace; with an ``aoi_policy``, a camera_semantics and an
    aoi_scheduler in the camera RSU's (the first RSU's) namespace; one beamforming_policy
    for all RSUs, and for ``sim`` the traffic_sim that closes the loop (last, so that the
    stack is up before slot 1). Every node but the simulator runs on simulated time."""
    if graph not in GRAPHS:
        raise ValueError(f"unknown graph '{graph}'; valid: {', '.join(GRAPHS)}")
    sc = options.scenario
    common = {"use_sim_time": options.use_sim_time}
    scenario = {
        "scenario": options.scenario_arg,
        **({} if options.rf_snr_db is None else {"rf_snr_db": float(options.rf_snr_db)}),
    }
    nodes = []
    for i in sc.receivers():
        rsu = sc.rsus[i]
        ns = f"/{rsu.name}"
        radar = {
            **common,
            "max_range_m": sc.max_echo_range_m(i),
            "sensor_qos": options.sensor_qos,
            "array_position_m": list(rsu.position_m),
            "illuminator_position_m": list(sc.rsus[sc.illuminator(i)].position_m),
            "road_side": int(road_side(sc, i)),
        }
        nodes.append(NodeSpec("radar_processing", ns, "radar_processing.param.yaml", radar))
        nodes.append(
            NodeSpec(
                "ekf_tracker",
                ns,
                "ekf_tracker.param.yaml",
                {
                    **common,
                    **scenario,
                    "rsu": rsu.name,
                    "seed": options.seed,
                    "sensor_qos": options.sensor_qos,
                },
            )
        )
    if options.aoi_policy:
        ns = f"/{sc.rsus[0].name}"
        camera = {**common, **scenario, "sensor_qos": options.sensor_qos}
        nodes.append(NodeSpec("camera_semantics", ns, "camera_semantics.param.yaml", camera))
        nodes.append(
            NodeSpec(
                "aoi_scheduler",
                ns,
                "aoi_scheduler.param.yaml",
                {**camera, "policy": options.aoi_policy, "seed": options.seed},
            )
        )
    nodes.append(
        NodeSpec(
            "beamforming_policy",
            "",
            "beamforming_policy.param.yaml",
            {
                **common,
                **scenario,
                "policy": options.policy,
                **({"checkpoint": options.checkpoint} if options.checkpoint else {}),
                **({"deadline_s": options.deadline_s} if options.deadline_s else {}),
                **({"constant_modulus": True} if options.constant_modulus else {}),
                "sensing_fraction": options.sensing_fraction,
                "user_sinr_share": options.user_sinr_share,
            },
        )
    )
    if graph == "sim":
        nodes.append(
            NodeSpec(
                "traffic_sim",
                "",
                "traffic_sim.param.yaml",
                {
                    **scenario,
                    "engine": options.engine,
                    "abstraction": options.abstraction,
                    "duration_s": options.duration_s,
                    "seed": options.seed,
                    "real_time_factor": options.real_time_factor,
                    "camera_period_slots": options.camera_period_slots,
                    **({} if options.v2x_share is None else {"v2x_share": options.v2x_share}),
                },
            )
        )
    return nodes


def stack_outputs(scenario: Scenario) -> list[str]:
    """The topics the ``rsu`` graph publishes itself (every RSU's detections, point cloud,
    tracks, their markers and CPMs, the beamforming command and its markers): a replay
    plays a bag without them, or the recorded outputs would meet the stack's own (two
    publishers on /rsu0/tracks)."""
    own = ("radar/detections", "radar/points", "tracks", "tracks/markers", "cpm")
    per_rsu = [f"/{r.name}/{t}" for r in scenario.rsus for t in own]
    return [*per_rsu, "/beamforming/command", "/beamforming/markers"]


def stack_inputs(options: GraphOptions) -> list[str]:
    """The sensor topics the ``rsu`` graph of ``options`` subscribes to: every receiving
    RSU's echoes and vehicle reports, and the camera's frames and calibration with an AoI
    schedule."""
    sc = options.scenario
    topics = [
        f"/{sc.rsus[i].name}/{t}" for i in sc.receivers() for t in ("radar/echo", "v2x/reports")
    ]
    if options.aoi_policy:
        camera = f"/{sc.rsus[0].name}/camera"
        topics += [f"{camera}/image_raw", f"{camera}/camera_info"]
    return topics
