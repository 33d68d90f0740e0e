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

The first poll and a per-poll budget keep it cheap on the server: see :class:`Stagger` and
:func:`plan_poll`; a query's cost comes from its header (``-- cost: cheap | moderate | expensive``)
until it has run once, then from its last run.
"""

from __future__ import annotations

import math
from typing import Iterable, Protocol


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


GUESS_MS = {"cheap": 1.0, "moderate": 5.0, "expensive": 25.0}
"""Server time assumed for a query that has not run yet on this connection, by its header's cost."""


class Job(Protocol):
    cadence: Cadence
    cost: str
    est_ms: float
    deferred: int


class Stagger:
    """Cheap from the first poll: the moderate and expensive jobs do not all land in the first
    poll. Each starts at half its own interval at the earliest (a 60 s query's first run about 30 s
    in: its data is never fresher than a minute anyway), shortest interval first, one per poll.
    Call :meth:`poll` once per poll."""

    def __init__(self, jobs: Iterable[Job]) -> None:
        self.waiting = sorted((j for j in jobs if j.cost != "cheap"), key=lambda j: j.cadence.interval)
        for job in self.waiting:
            job.cadence.next_due = math.inf
        self.start: float | None = None

    def poll(self, now: float, poll: float) -> None:
        if self.start is None:
            self.start = now
        elif self.waiting and now >= self.start + self.waiting[0].cadence.interval / 2 - poll / 2:
            self.waiting.pop(0).cadence.next_due = now


def run_now(job: Job, stagger: Stagger | None, now: float) -> None:
    """Make ``job`` due at ``now`` besides its interval (a phase starts, a reader has work), also
    when it still waits for its first run in ``stagger``."""
    job.cadence.next_due = min(job.cadence.next_due, now)
    if stagger is not None and job in stagger.waiting:
        stagger.waiting.remove(job)


def plan_poll(jobs: Iterable[Job], now: float, poll: float, budget_ms: float = 0.0) -> list[Job]:
    """The due jobs to run in this poll, in order: the cheap ones (what keeps the cockpit live), then
    the others most overdue first. With a budget (server milliseconds per poll, 0 = none), a
    moderate or expensive job whose estimate does not fit in what is left waits for the next poll;
    a job that has waited runs even if it alone exceeds the budget (one such per poll), so nothing
    starves."""
    due = [j for j in jobs if j.cadence.due(now, poll)]
    due.sort(key=lambda j: (j.cost != "cheap", -j.deferred, -j.cadence.overdue(now), j.cadence.interval))
    out: list[Job] = []
    spent, over = 0.0, False
    for job in due:
        if budget_ms > 0 and job.cost != "cheap" and spent + job.est_ms > budget_ms:
            if over or not job.deferred:
                job.deferred += 1
                continue
            over = True
        job.deferred = 0
        spent += job.est_ms
        out.append(job)
    return out
