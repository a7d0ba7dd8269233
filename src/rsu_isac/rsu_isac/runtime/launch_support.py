"""What ``launch/*.launch.py`` need, so that the launch files stay declarations: the
launch arguments, their translation into the graph options of rsu_isac.runtime.graph (the same
description ``rsu-isac sim`` starts), and launch_ros Node actions for the node specs.

launch and launch_ros come with a ROS 2 install, not with the pip set-up: they are
imported inside :func:`launch_nodes` only.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from rsu_isac.core.scenario import resolve_scenario
from rsu_isac.runtime.graph import (
    GraphOptions,
    NodeSpec,
    node_environment,
    node_graph,
    stack_inputs,
)

# name -> (default, description), in the order ``ros2 launch -s`` shows them
ARGUMENTS = {
    "scenario": ("seed000", "scenario name in config/scenarios or path to a .yaml"),
    "policy": ("predictive_mrt", "beamforming policy (optimisation or learned: ppo, ...)"),
    "checkpoint": ("", "learned policy's checkpoint folder; empty = the shipped one"),
    "engine": ("embedded", "traffic engine: embedded | sumo"),
    "abstraction": ("signal", "radar echo: signal | measurement"),
    "duration": ("0.0", "simulated seconds; 0 = until shut down"),
    "seed": ("-1", "random seed; -1 = the scenario's"),
    "real_time_factor": ("1.0", "simulated s per wall-clock s; 0 = as fast as lockstep allows"),
    "camera_period_slots": ("5", "a camera frame every N slots; 0 = none"),
    "aoi_policy": ("", "camera schedule (adds camera_semantics, aoi_scheduler); empty = none"),
    "deadline_s": (
        "0.0",
        "policy's decision deadline [s], then the last beams re-pointed; 0 = wait",
    ),
    "constant_modulus": ("false", "phase-shifter beams, 003 eq. (9b)"),
    "sensing_fraction": ("0.05", "power share of the sensing beam (002's sensing power ratio)"),
    "user_sinr_share": ("0.0", "isac_ocs: share of its SINR each user keeps under the sensing "
                        "beam; 0 = 002's follower (no user constraint)"),
    "rf_snr_db": ("nan", "reference vehicle's echo SNR [dB] (003 Fig. 5); nan = the scenario's"),
    "v2x_share": ("-1.0", "share of vehicles sending their own reports (CAM-shaped); "
                  "-1 = the scenario's"),
    "sensor_qos": ("reliable", "radar/echo, camera/image_raw and v2x/reports subscriptions: "
                   "reliable | best_effort (real drivers)"),
    "use_sim_time": ("true", "the stack's clock: /clock (true) or the wall clock (false)"),
    "namespace": ("", "every node under this namespace (site_a: /site_a/rsu0/tracks); adds to "
                  "an enclosing PushRosNamespace"),
    "remappings": ("", "topic remappings for every node, 'from:=to' separated by ';' "
                   "(/beamforming/command:=/v2x/beams)"),
}  # fmt: skip

# rsu.launch.py serves real sensors: drivers publish best effort, and time is the wall clock
REAL_SENSOR_DEFAULTS = {"sensor_qos": "best_effort", "use_sim_time": "false"}


def declared_arguments(defaults: dict[str, str] | None = None) -> list:
    """DeclareLaunchArgument actions of ARGUMENTS, with ``defaults`` in place of theirs."""
    from launch.actions import DeclareLaunchArgument

    chosen = defaults or {}
    return [
        DeclareLaunchArgument(name, default_value=chosen.get(name, default), description=text)
        for name, (default, text) in ARGUMENTS.items()
    ]


def graph_options(values: dict[str, str], config_dir: Path) -> GraphOptions:
    """GraphOptions from launch-argument strings."""
    name = values["scenario"]
    return GraphOptions(
        scenario=resolve_scenario(name, config_dir / "scenarios"),
        scenario_arg=name,
        policy=values["policy"],
        checkpoint=values["checkpoint"],
        engine=values["engine"],
        abstraction=values["abstraction"],
        duration_s=float(values["duration"]),
        seed=int(values["seed"]),
        real_time_factor=float(values["real_time_factor"]),
        camera_period_slots=int(values["camera_period_slots"]),
        aoi_policy=values["aoi_policy"],
        deadline_s=float(values["deadline_s"]),
        constant_modulus=values["constant_modulus"].lower() == "true",
        sensing_fraction=float(values["sensing_fraction"]),
        user_sinr_share=float(values["user_sinr_share"]),
        rf_snr_db=None if math.isnan(snr := float(values["rf_snr_db"])) else snr,
        v2x_share=None if (share := float(values["v2x_share"])) < 0 else share,
        sensor_qos=values["sensor_qos"],
        use_sim_time=values["use_sim_time"].lower() == "true",
    )


def _argument_values(context) -> dict[str, str]:
    """Every argument of ARGUMENTS as the launch ``context`` has it (else its default)."""
    return {name: context.launch_configurations.get(name, d) for name, (d, _) in ARGUMENTS.items()}


PLAYER_WAIT_S = 60.0  # the replay's player waits this long for the stack's subscriptions


def replay_player(context, config_dir: Path) -> list:
    """The player of replay.launch.py: ``rsu-isac bag play`` of the ``bag`` argument's
    inputs to the stack only (runtime.graph.stack_inputs: never the tracks, detections and
    commands the stack publishes itself) at its ``rate``, looped with ``loop``, /clock from
    the bag's timeline, once the stack subscribes (at most PLAYER_WAIT_S)."""
    from launch.actions import ExecuteProcess, Shutdown

    get = context.launch_configurations.get
    inputs = stack_inputs(graph_options(_argument_values(context), config_dir))
    namespace = get("namespace", "").strip("/")
    if namespace:  # the bag was recorded under the same namespace
        inputs = [f"/{namespace}{topic}" for topic in inputs]
    command = [sys.executable, "-m", "rsu_isac.cli", "bag", "play", get("bag")]
    command += ["--rate", get("rate", "1.0"), "--wait-subscribers", str(PLAYER_WAIT_S)]
    command += ["--topics", *inputs]
    if get("loop", "false").lower() == "true":
        command.append("--loop")
    return [
        ExecuteProcess(
            cmd=command,
            name="bag_player",
            output="screen",
            on_exit=Shutdown(reason="the bag has been played"),
        )
    ]


def remapping_rules(text: str) -> list[tuple[str, str]]:
    """(from, to) pairs of the ``remappings`` argument ('a:=b;c:=d'); a rule that is not
    'from:=to' with two valid topic names raises ValueError naming it."""
    from rclpy.exceptions import InvalidTopicNameException
    from rclpy.validate_topic_name import validate_topic_name

    rules = []
    for rule in filter(None, (r.strip() for r in text.split(";"))):
        source, sep, target = rule.partition(":=")
        try:
            if not sep:
                raise ValueError("not 'from:=to'")
            for name in (source, target):
                validate_topic_name(name)
        except (InvalidTopicNameException, ValueError) as exc:
            why = str(exc).splitlines()[0]
            raise ValueError(f"launch argument 'remappings': '{rule}': {why}") from None
        rules.append((source, target))
    return rules


def _namespace(context, spec: NodeSpec) -> str | None:
    """The node's namespace under the ``namespace`` argument, relative (so that an
    enclosing PushRosNamespace applies too); None for the root."""
    parts = [
        context.launch_configurations.get("namespace", "").strip("/"),
        spec.namespace.strip("/"),
    ]
    joined = "/".join(p for p in parts if p)
    return joined or None


def launch_nodes(graph: str, context, config_dir: Path) -> list:
    """launch_ros Node actions of ``graph`` for the launch arguments in ``context``. Every
    node is required: when one exits - the simulator at the end of ``duration``, a node
    that cannot start (``policy:=bogus``) - the launch shuts the others down and ends."""
    from launch.actions import Shutdown
    from launch_ros.actions import Node

    specs: list[NodeSpec] = node_graph(graph, graph_options(_argument_values(context), config_dir))
    remappings = remapping_rules(context.launch_configurations.get("remappings", ""))
    return [
        Node(
            package="rsu_isac",
            executable=spec.name,
            name=spec.name,
            namespace=_namespace(context, spec),
            remappings=remappings,
            parameters=[str(config_dir / spec.params_file), dict(spec.overrides)],
            additional_env=node_environment(),
            output="screen",
            emulate_tty=True,
            on_exit=Shutdown(reason=f"{spec.name} exited"),
        )
        for spec in specs
    ]
