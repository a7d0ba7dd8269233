"""traffic_sim: the simulated road (docs/architecture.md).

Publishes per slot: /clock, sim/ground_truth, <rsu>/radar/echo for every receiving RSU
(after <rsu>/v2x/reports, the vehicles' own reports heard in the slot, when there are any:
parameter ``v2x_share``), <rsu0>/camera/image_raw (every camera_period_slots, rendered only
while subscribed) with camera_info and the mounting pose (transient local), and
link/metrics (the commanded beams scored on the true channel).
Subscribes beamforming/command. In lockstep mode it waits, after each slot, for the command
of the next slot whenever a command publisher exists (bounded by lockstep_timeout_s), so a
closed-loop run is deterministic; it also holds slot 1 until a command publisher appears
and STARTUP_SETTLE_S more (at most startup_wait_s), like a simulator that starts paused.
As fast as possible (real_time_factor 0) the wait is event-driven: the stepping timer stops
while a command is missing and the command's arrival restarts it, so the simulator leaves
the cores to the nodes it waits for (a WATCHDOG_PERIOD_S timer still ends a wait that times
out). The time from publishing a slot's echoes to the next command is the ``loop`` timing
series on /diagnostics.

Commands are checked before they touch the road: malformed beams, a power budget above
P_max per RSU, a slot further than SLOT_WINDOW (nodes.stream_gate) from the simulator's,
or a command older than the one applied, are logged, counted on /diagnostics and dropped.
"""

from __future__ import annotations

import time

from geometry_msgs.msg import PoseStamped
from rclpy.duration import Duration
from rclpy.exceptions import InvalidTopicNameException
from rclpy.node import Node
from rclpy.validate_topic_name import validate_topic_name
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, Image

from rsu_isac.core.scenario import with_v2x_share
from rsu_isac.nodes.convert import (
    MalformedMessageError,
    beamset_from_msg,
    camera_info_msg,
    camera_pose_msg,
    frame_to_echo_msg,
    image_to_msg,
    link_to_msg,
    measurements_to_echo_msg,
    sim_time,
    vehicles_to_msg,
)
from rsu_isac.nodes.diagnostics import NodeDiagnostics
from rsu_isac.nodes.interop import reports_to_msg
from rsu_isac.nodes.params import ParameterError, declare, declare_scenario
from rsu_isac.nodes.qos import LARGE_SENSOR, LATCHED, RELIABLE
from rsu_isac.nodes.runner import run_node
from rsu_isac.nodes.stream_gate import SLOT_WINDOW
from rsu_isac.sim.traffic import ENGINES
from rsu_isac.sim.world import ABSTRACTIONS, SimConfig, Simulator, SlotOutput
from rsu_isac_interfaces.msg import (
    BeamformingCommand,
    LinkMetrics,
    RadarEcho,
    VehicleReportArray,
    VehicleStateArray,
)

ROAD_FRAME = "road"
AS_FAST_AS_POSSIBLE_PERIOD_S = 1e-4
WATCHDOG_PERIOD_S = 0.01  # the lockstep wait's and paused start's checks while stopped
FLUSH_TIMEOUT_S = 5.0  # longest wait at shutdown for readers to acknowledge the last samples


# The paused start holds slot 1 this much longer once the simulator's own endpoints have
# matched: the policy's reliable, volatile command writer matches the simulator's reader a
# moment after the reader matched it, and drops the commands it sends before (seen once in
# CI: the command for slot 2 lost, 1 late command in 200 slots).
STARTUP_SETTLE_S = 1.0


class TrafficSim(Node):
    """The road: traffic, sensors and link score, one slot per step."""

    def __init__(self) -> None:
        super().__init__("traffic_sim")
        self.scenario = declare_scenario(self)
        share = declare(
            self,
            "v2x_share",
            -1.0,
            "share of vehicles that broadcast their own reports (CAM-shaped); -1 = the "
            "scenario's v2x.equipped_share",
            -1.0,
            1.0,
        )
        if share >= 0.0:
            self.scenario = with_v2x_share(self.scenario, share)
        engine = declare(self, "engine", "embedded", "traffic engine", choices=ENGINES)
        abstraction = declare(
            self, "abstraction", "signal", "radar echo abstraction", choices=ABSTRACTIONS
        )
        seed = declare(self, "seed", -1, "random seed; -1 = the scenario's seed", -1, 2**31 - 1)
        self.lockstep = declare(
            self, "lockstep", True, "wait for the next slot's command when a policy is running"
        )
        self.lockstep_timeout_s = declare(
            self, "lockstep_timeout_s", 5.0, "longest wait for a command [s]", 0.01, 600.0
        )
        self.startup_wait_s = declare(
            self,
            "startup_wait_s",
            10.0,
            "lockstep: longest wait for a policy before slot 1 [s]",
            0.0,
            600.0,
        )
        wait_for = declare(
            self,
            "wait_for_subscribers",
            "",
            "comma-separated topics that need a subscriber before slot 1 (e.g. a recorder's)",
        )
        self._startup_topics = [t.strip() for t in wait_for.split(",") if t.strip()]
        for topic in self._startup_topics:
            try:
                validate_topic_name(topic)
            except InvalidTopicNameException as exc:
                raise ParameterError(
                    f"parameter 'wait_for_subscribers': '{topic}' is not a topic name ({exc})"
                ) from None
        rtf = declare(
            self,
            "real_time_factor",
            1.0,
            "simulated seconds per wall-clock second; 0 = as fast as possible",
            0.0,
            1000.0,
        )
        self.duration_s = declare(
            self, "duration_s", 0.0, "simulated duration [s]; 0 = until shut down", 0.0, 1e7
        )
        camera_period = declare(
            self,
            "camera_period_slots",
            5,
            "render a camera frame every N slots; 0 = no camera",
            0,
            100000,
        )
        misalignment = declare(
            self,
            "misalignment_gain",
            0.5,
            "beam gain |a^H f|^2 below which a vehicle is misaligned",
            0.0,
            1.0,
        )
        recovery = declare(
            self,
            "beam_recovery",
            True,
            "a misaligned vehicle is swept for (003 E_recovery): the sweep's best beam joins "
            "the slot's radar frame",
        )
        self.sim = Simulator(
            self.scenario,
            SimConfig(
                engine=engine,
                abstraction=abstraction,
                seed=self.scenario.seed if seed < 0 else seed,
                camera_period_slots=camera_period,
                misalignment_gain=misalignment,
                beam_recovery=recovery,
            ),
        )
        self.diagnostics = NodeDiagnostics(self)
        self.done = False
        self.commands_received = 0
        self.missed_commands = 0
        self._command_slot = 0
        self._policy = "none"
        self._wait_started: float | None = None
        self._created = time.monotonic()
        self._matched_at: float | None = None  # when the paused start saw every endpoint
        self._echoes_sent_at: float | None = None  # perf_counter when the slot's echoes left

        self._clock_pub = self.create_publisher(Clock, "/clock", RELIABLE)
        self._truth_pub = self.create_publisher(VehicleStateArray, "sim/ground_truth", RELIABLE)
        self._link_pub = self.create_publisher(LinkMetrics, "link/metrics", RELIABLE)
        self._echo_pubs = {
            name: self.create_publisher(RadarEcho, f"{name}/radar/echo", LARGE_SENSOR)
            for name in (self.scenario.rsus[i].name for i in self.scenario.receivers())
        }
        self._report_pubs = {
            name: self.create_publisher(VehicleReportArray, f"{name}/v2x/reports", RELIABLE)
            for name in self._echo_pubs
        }
        self._command_sub = self.diagnostics.subscribe(
            BeamformingCommand, "beamforming/command", self._on_command, RELIABLE
        )
        own = {
            "/clock": self._clock_pub,
            "sim/ground_truth": self._truth_pub,
            "link/metrics": self._link_pub,
            **{f"{name}/radar/echo": pub for name, pub in self._echo_pubs.items()},
        }
        unknown = [t for t in self._startup_topics if t not in own]
        if unknown:
            raise ParameterError(
                f"parameter 'wait_for_subscribers': {', '.join(unknown)} not published by "
                f"traffic_sim (one of {', '.join(own)})"
            )
        # matched subscriptions, not the graph: a reader the graph lists may not be
        # matched to the writer yet, and a volatile writer's first samples would miss it
        self._startup_pubs = [own[t] for t in self._startup_topics]
        self._start_camera()
        self._start_timers(rtf)
        self.get_logger().info(
            f"scenario {self.scenario.name}, engine {engine}, {abstraction} echoes, "
            f"slot {self.scenario.slot_s * 1e3:g} ms, lockstep {self.lockstep}"
        )

    def _start_camera(self) -> None:
        """The camera's publishers, its intrinsics and pose (latched), when it renders."""
        self._camera_wanted = self.sim.camera  # None: no camera frames at all
        if self.sim.camera is None:
            return
        cam = self.scenario.rsus[0].name
        self._camera_frame = f"{cam}_camera_optical"
        self._image_pub = self.create_publisher(Image, f"{cam}/camera/image_raw", LARGE_SENSOR)
        info_pub = self.create_publisher(CameraInfo, f"{cam}/camera/camera_info", LATCHED)
        pose_pub = self.create_publisher(PoseStamped, f"{cam}/camera/pose", LATCHED)
        info_pub.publish(camera_info_msg(self.sim.camera, sim_time(0.0), self._camera_frame))
        pose_pub.publish(camera_pose_msg(self.sim.camera, sim_time(0.0), ROAD_FRAME))

    def _start_timers(self, rtf: float) -> None:
        """The stepping timer (one slot per period, or as fast as possible), and with
        lockstep at rtf 0 the watchdog of the event-driven wait."""
        period = self.scenario.slot_s / rtf if rtf > 0 else AS_FAST_AS_POSSIBLE_PERIOD_S
        self._step_timer = self.create_timer(period, self._tick)
        self._event_driven = rtf == 0 and self.lockstep
        if self._event_driven:
            self.create_timer(WATCHDOG_PERIOD_S, self._tick)

    def _on_command(self, msg: BeamformingCommand) -> None:
        radio = self.scenario.radio
        slot = int(msg.slot)
        if abs(slot - (self.sim.slot + 1)) > SLOT_WINDOW:
            raise MalformedMessageError(
                f"command for slot {slot}, more than {SLOT_WINDOW} slots from the "
                f"next slot {self.sim.slot + 1}"
            )
        if slot < self._command_slot:
            raise MalformedMessageError(
                f"command for slot {slot} is older than the one applied (slot {self._command_slot})"
            )
        beams = beamset_from_msg(
            msg, radio.array.num_tx_antennas, len(self.scenario.rsus), radio.max_power_w
        )
        self.sim.apply(beams)
        self.commands_received += 1
        self._command_slot = slot
        self._policy = msg.policy
        if slot == self.sim.slot + 1 and self._echoes_sent_at is not None:
            self.diagnostics.time(loop=time.perf_counter() - self._echoes_sent_at)
            self._echoes_sent_at = None
        if self._step_timer.is_canceled():
            self._step_timer.reset()

    def _waiting_for_command(self) -> bool:
        """Lockstep: hold the next slot until its command arrives (bounded)."""
        if not self.lockstep:
            return False
        if self.sim.slot == 0:
            return self._paused()
        # the graph is queried only while the next slot's command is missing
        if self._command_slot >= self.sim.slot + 1 or self._command_sub.get_publisher_count() == 0:
            return False
        now = time.monotonic()
        if self._wait_started is None:
            self._wait_started = now
        if now - self._wait_started < self.lockstep_timeout_s:
            return True
        self.missed_commands += 1
        self.get_logger().warning(
            f"no command for slot {self.sim.slot + 1} within {self.lockstep_timeout_s:g} s; "
            "keeping the previous beams"
        )
        return False

    def _paused(self) -> bool:
        """Before slot 1: hold until the policy and the radar nodes are connected and
        STARTUP_SETTLE_S has passed since (at most startup_wait_s in all)."""
        now = time.monotonic()
        if now - self._created >= self.startup_wait_s:
            return False
        unmatched = (
            self._command_sub.get_publisher_count() == 0
            or any(pub.get_subscription_count() == 0 for pub in self._echo_pubs.values())
            or any(pub.get_subscription_count() == 0 for pub in self._startup_pubs)
        )
        if unmatched:
            self._matched_at = None
            return True
        if self._matched_at is None:
            self._matched_at = now
        return now - self._matched_at < STARTUP_SETTLE_S

    def _tick(self) -> None:
        if self.done:
            return
        if self._waiting_for_command():
            if self._event_driven:
                self._step_timer.cancel()  # the command (or the watchdog) resumes
            return
        if self._step_timer.is_canceled():
            self._step_timer.reset()
        self._wait_started = None
        started = time.perf_counter()
        if self._camera_wanted is not None:  # render only for a subscriber (or a bag)
            wanted = self._image_pub.get_subscription_count() > 0
            self.sim.camera = self._camera_wanted if wanted else None
        out = self.sim.step()
        compute_s = time.perf_counter() - started
        stamp = sim_time(out.time_s)
        self._clock_pub.publish(Clock(clock=stamp))
        self._truth_pub.publish(
            vehicles_to_msg(out.vehicles, stamp, out.slot, ROAD_FRAME, out.entry_queue_length)
        )
        self._publish_sensors(out, stamp)
        self._link_pub.publish(
            link_to_msg(out.link, self.sim.beams, stamp, out.slot, self._command_slot, self._policy)
        )
        if self.duration_s > 0 and out.time_s >= self.duration_s - 1e-9:
            self.done = True
            self.get_logger().info(f"simulated {out.time_s:g} s ({out.slot} slots); stopping")
        self.diagnostics.record(time.perf_counter() - started, compute=compute_s)
        if not self.done:  # the next slot's traffic, channel and noise while the stack works
            preparing = time.perf_counter()
            self.sim.prepare()
            self.diagnostics.time(prepare=time.perf_counter() - preparing)

    def _publish_sensors(self, out: SlotOutput, stamp) -> None:
        """The slot's vehicle reports (before the echoes: each tracker fuses them after
        that frame), echoes and camera frame."""
        if len(out.reports):
            msg = reports_to_msg(out.reports, stamp, out.slot, ROAD_FRAME)
            for pub in self._report_pubs.values():
                pub.publish(msg)
        for echo in out.echoes:
            name = self.scenario.rsus[echo.rsu_index].name
            if echo.frame is not None:
                msg = frame_to_echo_msg(echo.frame, self.scenario, stamp, out.slot, name)
            else:
                msg = measurements_to_echo_msg(
                    echo.measurements, self.scenario, stamp, out.slot, name
                )
            self._echo_pubs[name].publish(msg)
        self._echoes_sent_at = time.perf_counter()
        if out.image is not None:
            self._image_pub.publish(image_to_msg(out.image, stamp, self._camera_frame))

    def close(self) -> None:
        """Publish the last diagnostics and wait (bounded) until every reliable reader has
        acknowledged what was sent: a process that exits first takes its unsent samples,
        the last slots' scores among them, with it. After Ctrl-C (rclpy has shut the
        context down) there is nothing left to publish on."""
        if self.context.ok():
            self.diagnostics.publish()
            for pub in (
                self._clock_pub,
                self._truth_pub,
                self._link_pub,
                self.diagnostics.publisher,
            ):
                pub.wait_for_all_acked(Duration(seconds=FLUSH_TIMEOUT_S))
        self.sim.close()


def main(args: list[str] | None = None) -> None:
    run_node(TrafficSim, "traffic_sim", args)


if __name__ == "__main__":
    main()
