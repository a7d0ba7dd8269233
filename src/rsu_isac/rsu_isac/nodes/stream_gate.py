"""Plausibility gate for the slot numbers and stamps of a message stream.

One rogue value (a slot of 2^63, a stamp 50 s in the past, a bag that loops) must neither
latch a node's state nor reset it. A value within ``[last - behind, last + ahead]`` of the
last accepted one continues the stream. Anything else is dropped, unless it starts a new
timeline: ``resync_after`` consecutive out-of-window values that continue each other
(a looped bag, a restarted simulator), or one that the node's own clock confirms (the clock
jumped with it). Then the stream restarts there and the caller resets what it holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

SLOT_WINDOW = 50  # slots (1 s at 20 ms) a slot number may run ahead of or lag its stream


class Verdict(Enum):
    ACCEPT = "accept"
    RESET = "reset"  # a new timeline: accept, after resetting the stream's state
    DROP = "drop"


@dataclass
class StreamGate:
    """Gate over one stream's slots (int) or stamps (seconds)."""

    ahead: float  # the furthest a value may run ahead of the last accepted one
    behind: float = 0.0  # the furthest it may lag behind (out-of-order delivery)
    resync_after: int = 3  # consecutive continuing out-of-window values that restart
    last: float | None = None
    _candidate: list[float] = field(default_factory=list)

    @staticmethod
    def for_slots() -> StreamGate:
        """The gate of a stream of slot numbers (SLOT_WINDOW either way)."""
        return StreamGate(ahead=SLOT_WINDOW, behind=SLOT_WINDOW)

    def check(self, value: float, clock_now: float | None = None) -> Verdict:
        """The verdict on ``value``; ``clock_now`` (same unit) is the node's clock where it
        runs on the stream's timeline (sim time), None where it does not."""
        if self.last is None:
            self.last = value
            return Verdict.ACCEPT
        if self.last - self.behind <= value <= self.last + self.ahead:
            self.last = max(self.last, value)
            self._candidate.clear()
            return Verdict.ACCEPT
        clock_agrees = clock_now is not None and abs(clock_now - value) <= self.ahead
        if self._candidate and 0 <= value - self._candidate[-1] <= self.ahead:
            self._candidate.append(value)
        else:
            self._candidate = [value]
        if clock_agrees or len(self._candidate) >= self.resync_after:
            self.last = value
            self._candidate.clear()
            return Verdict.RESET
        return Verdict.DROP

    def describe(self, value: float) -> str:
        """Why ``value`` was dropped, for the log line."""
        return (
            f"{value:g} is outside [{self.last - self.behind:g}, {self.last + self.ahead:g}] "
            f"of the stream (last {self.last:g}); {len(self._candidate)} of "
            f"{self.resync_after} values needed to restart it there"
        )
