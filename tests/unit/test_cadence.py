"""A repeating job on jittered polls keeps its own interval on average (migtui_postgres.schedule)."""

from __future__ import annotations

import random

import pytest

from migtui_postgres.schedule import Cadence


@pytest.mark.parametrize("interval", [1.0, 2.0, 2.5, 10.0])
def test_runs_at_its_interval_on_jittered_polls(interval: float) -> None:
    rnd = random.Random(7)
    cadence = Cadence(interval)
    runs = 0
    for k in range(600):  # one poll a second for 10 minutes, each up to 50 ms early or late
        now = 1000.0 + k + rnd.uniform(-0.05, 0.05)
        if cadence.due(now, 1.0):
            cadence.ran(now, 1.0)
            runs += 1
    assert abs(runs - 600 / interval) <= 0.1 * 600 / interval


def test_a_job_that_fell_behind_does_not_run_on_every_poll_to_catch_up() -> None:
    cadence = Cadence(5.0)
    cadence.ran(0.0, 1.0)
    ran = [t for t in range(60, 80) if cadence.due(t, 1.0) and (cadence.ran(t, 1.0) or True)]
    assert ran == [60, 65, 70, 75]


class _Job:
    def __init__(self, name: str, cost: str, interval: float, est_ms: float) -> None:
        self.name, self.cost, self.est_ms, self.deferred = name, cost, est_ms, 0
        self.cadence = Cadence(interval)


def test_costly_jobs_start_late_one_per_poll_and_a_budget_starves_none() -> None:
    from migtui_postgres.schedule import Stagger, plan_poll

    jobs = [_Job("sessions", "cheap", 1.0, 2.0), _Job("catalog", "moderate", 4.0, 5.0),
            _Job("tables", "expensive", 6.0, 40.0), _Job("indexes", "expensive", 6.0, 40.0)]
    stagger = Stagger(jobs)
    polls = []
    for t in range(12):
        stagger.poll(float(t), 1.0)
        ran = plan_poll(jobs, float(t), 1.0, budget_ms=10.0)
        for job in ran:
            job.cadence.ran(float(t), 1.0)
        polls.append([j.name for j in ran])
    assert polls[0] == ["sessions"]  # the first poll is cheap
    assert all(p[0] == "sessions" for p in polls)  # the cheap job every poll
    first = {name: next(t for t, p in enumerate(polls) if name in p) for name in ("catalog", "tables", "indexes")}
    assert first["catalog"] == 2 and first["catalog"] < first["tables"] < first["indexes"]
    # each expensive job alone is over the budget: it waits a poll, then runs; never two in one poll
    assert all(len([n for n in p if n in ("tables", "indexes")]) <= 1 for p in polls)
    assert all(n in [x for p in polls for x in p] for n in ("tables", "indexes"))
