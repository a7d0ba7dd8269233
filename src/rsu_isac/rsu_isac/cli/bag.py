"""``rsu-isac bag``: record, inspect and play rosbag2 bags."""

from __future__ import annotations

import argparse
import sys


def _bag_record(path, args: argparse.Namespace) -> int:
    """Record topics of a running graph (all, or --topics) for --duration wall seconds or
    until Ctrl-C; message types are taken from the graph."""
    import time

    import rclpy

    from rsu_isac.bags.record import BagRecorder, discover_topics

    with rclpy.init():
        probe = rclpy.create_node("rsu_isac_bag_probe")
        deadline = time.monotonic() + args.wait
        while True:  # DDS discovery takes a few seconds
            rclpy.spin_once(probe, timeout_sec=0.1)
            try:
                topics = discover_topics(probe, args.topics)
                break
            except ValueError as exc:
                if time.monotonic() > deadline:
                    print(f"rsu-isac bag: {exc}", file=sys.stderr)
                    return 1
        try:
            recorder = BagRecorder(path, topics)
        except FileExistsError as exc:
            print(f"rsu-isac bag: {exc}", file=sys.stderr)
            return 1
        end = time.monotonic() + args.duration if args.duration > 0 else float("inf")
        try:
            while time.monotonic() < end:
                rclpy.spin_once(recorder, timeout_sec=0.1)
        except KeyboardInterrupt:
            pass
        finally:
            recorder.close()
    print(f"recorded {sum(recorder.counts.values())} messages on {len(topics)} topics to {path}")
    return 0


def _bag_info(path) -> int:
    """Topics, types and message counts as read from the file; where the bag's metadata
    claims other counts, both."""
    from rsu_isac.bags.files import bag_contents

    contents = bag_contents(path)
    print(f"{path}: {contents.messages} messages, {contents.duration_s:.3f} s")
    for t in contents.topics:
        claim = "" if t.claimed == t.messages else f"  (metadata claims {t.claimed})"
        print(f"  {t.topic:<32} {t.msgtype:<44} {t.messages}{claim}")
    return 0


def _bag_play(path, args: argparse.Namespace) -> int:
    import time

    import rclpy
    from rclpy.signals import SignalHandlerOptions

    from rsu_isac.bags.play import BagPlayer
    from rsu_isac.platform.process import stop_requests

    # Ctrl-C and launch's SIGINT (both reach a launched player) only ask it to stop: rclpy's
    # own handler would shut the context down under a running spin_once, which then fails
    # with "RCLError: ... context is not valid" instead of ending cleanly
    stop = stop_requests()

    def spin(timeout_s: float = 0.0) -> None:
        if stop:
            raise KeyboardInterrupt
        rclpy.spin_once(player, timeout_sec=timeout_s)

    with rclpy.init(signal_handler_options=SignalHandlerOptions.NO):
        player = BagPlayer(path, args.topics, args.qos)
        deadline = time.monotonic() + args.wait_subscribers
        try:
            while not player.matched(player.topics) and time.monotonic() < deadline:
                spin(0.05)
            while True:
                player.play(args.rate, spin=spin)
                if not args.loop:
                    break
        except KeyboardInterrupt:
            pass
        finally:
            player.close()
    print(f"published {player.published} messages from {path}")
    return 0


def _cmd_bag(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rsu_isac.bags.files import BagError

    path = Path(args.bag)
    commands = {"record": _bag_record, "info": lambda p, _: _bag_info(p), "play": _bag_play}
    try:
        return commands[args.bag_command](path, args)
    except (BagError, FileExistsError, ValueError) as exc:
        print(f"rsu-isac bag: {exc}", file=sys.stderr)
        return 1


def add_commands(sub) -> None:
    bag = sub.add_parser("bag", help="record, inspect or play rosbag2 bags (MCAP, sqlite3)")
    bag.add_argument("bag_command", choices=("info", "play", "record"))
    bag.add_argument("bag", help="bag directory")
    bag.add_argument("--rate", type=float, default=1.0, help="play: rate factor (0 = max)")
    bag.add_argument("--loop", action="store_true", help="play: start over at the end")
    bag.add_argument("--topics", nargs="+", help="play / record: only these topics")
    bag.add_argument(
        "--wait-subscribers",
        type=float,
        default=0.0,
        help="play: wait up to this many seconds until every played topic has a subscriber",
    )
    bag.add_argument(
        "--duration", type=float, default=0.0, help="record: wall seconds (0: until Ctrl-C)"
    )
    bag.add_argument(
        "--wait", type=float, default=10.0, help="record: seconds to wait for the topics"
    )
    bag.add_argument(
        "--qos", default="reliable", choices=("reliable", "best_effort"), help="play: QoS"
    )
    bag.set_defaults(func=_cmd_bag)
