"""How long each act of the demo lasts: the full show, and a short one for tests (``--fast``)."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Scenario:
    scale: float = 1.0
    """Orders = scale x 1,000,000."""
    interval: float = 2.0
    """Engine tick and scrape interval (seconds)."""
    baseline: float = 30.0
    """Load only, before the migration starts."""
    report_hold: float = 6.0
    """A report query that CREATE INDEX CONCURRENTLY has to wait for."""
    lock_hold: float = 15.0
    """How long the idle-in-transaction session blocks the ALTER TABLE (and the workload behind it)."""
    settle: float = 6.0
    """Pause between acts, so each one is visible on its own."""
    batch_rows: int = 5_000
    batch_sleep: float = 0.25
    burst_at: float = 0.3
    """Fraction of the backfill after which the API starts to suffer."""
    latency_ms: float = 2_600.0
    """Injected latency (trips the warn trigger: p95 > 2000 ms)."""
    latency_lead: float = 8.0
    """Seconds of latency alone before the errors start (warn, then pause)."""
    error_ratio: float = 0.07
    """Injected share of HTTP 500s (trips the pause trigger at 0.05, stays under rollback's 0.1)."""
    burst_max: float = 90.0
    """If nothing pauses the backfill within this long, the burst ends by itself."""
    resume_after: float = 15.0
    """Headless: seconds the backfill stays paused before the scripted operator resumes it."""
    ending: str = "resume"
    """Headless: what the scripted operator does with the paused backfill: resume or rollback."""
    post: float = 30.0
    """After the migration: watch the post phase."""
    writers: int = 3
    readers: int = 2
    think_time: float = 0.03
    standby: bool = False
    """A streaming standby whose replay lag spikes during the backfill: a throttle trigger holds it."""
    lag_at_batch: int = 3
    """The standby's replay pauses after this many batches of the backfill."""
    lag_hold: float = 12.0
    """...for this long."""
    throttle_resume_after: float = 8.0
    """The throttle trigger's resume_after."""

    def scaled(self, **changes: object) -> "Scenario":
        return replace(self, **changes)  # type: ignore[arg-type]

    def estimate(self) -> float:
        """Rough length of the whole scenario in seconds (for messages)."""
        batches = max(1, int(1_000_000 * self.scale) // self.batch_rows)
        backfill = batches * (self.batch_sleep + 0.05 * self.batch_rows / 5_000)
        return (self.baseline + self.report_hold + self.lock_hold + 3 * self.settle + backfill
                + self.latency_lead + self.resume_after + self.post + 10)


FULL = Scenario()

FAST = Scenario(scale=0.05, interval=1.0, baseline=6.0, report_hold=3.0, lock_hold=5.0, settle=1.5,
                batch_rows=500, batch_sleep=0.12, burst_at=0.1, latency_lead=3.0, burst_max=20.0,
                resume_after=4.0, post=4.0, writers=2, readers=2, think_time=0.03, lag_hold=5.0,
                throttle_resume_after=2.0)
"""A short run for tests and CI: the same acts, 50,000 orders, under a minute."""


def scenario_for(*, fast: bool = False, scale: float | None = None, rollback: bool = False,
                 standby: bool = False) -> Scenario:
    base = (FAST if fast else FULL).scaled(standby=standby)
    if scale is not None:
        base = base.scaled(scale=scale)
    if rollback:
        base = base.scaled(ending="rollback")
    return base
