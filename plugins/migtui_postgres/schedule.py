"""When each monitoring query is due: its own interval, kept on average, on polls that arrive every
``poll`` seconds with some jitter.

A query whose interval equals the poll interval must run on every poll, even on a poll that comes
a few milliseconds early; a query every 2.5 s on 1 s polls runs on polls 0, 2 (or 3), 5, 7, 10...
so that it averages 2.5 s. Hence: a query is due when at most half a poll (or half its own
interval, if shorter) is left until its due time, and the next due time is the previous one plus
the interval (the phase is kept), not "now plus the interval" (which drifts a little later on every
run and skips a poll whenever a tick is early). A query that fell behind (the source was down, or
the poll budget deferred it) restarts its phase from now instead of running on every poll to
catch up.
"""

from __future__ import annotations


class Cadence:
    """The due time of one repeating job (see the module docstring)."""

    __slots__ = ("interval", "next_due")

    def __init__(self, interval: float, first_due: float = 0.0) -> None:
        self.interval = float(interval)
        self.next_due = float(first_due)

    def slack(self, poll: float) -> float:
        return min(poll, self.interval) / 2

    def due(self, now: float, poll: float) -> bool:
        return now >= self.next_due - self.slack(poll)

    def overdue(self, now: float) -> float:
        """How late it is, as a fraction of its interval (0 when on time, negative when early)."""
        return (now - self.next_due) / self.interval

    def ran(self, now: float, poll: float) -> None:
        """It ran at ``now``: the next due time keeps the phase, unless it fell behind."""
        nxt = self.next_due + self.interval
        if nxt - self.slack(poll) <= now:  # behind (a missed poll, a deferral): no catch-up burst
            nxt = now + self.interval
        self.next_due = nxt
