"""``migtui demo --standby``: a real streaming standby of the demo's server and a scripted spike in
its replay lag. The demo's config then has a ``throttle`` trigger on the standby's replay lag
(bytes, seen from the primary): the backfill stops by itself while the standby falls behind and
goes on by itself once it has caught up (see docs/throttle.md)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

from migtui.model import Level

LAG_LIMIT = 2_000_000
"""Bytes of replay lag above which the demo's backfill is throttled."""
LAG_CLEAR = 500_000
"""...and below which it counts as clear again (hysteresis)."""


def throttle_trigger(resume_after: float) -> dict[str, Any]:
    """The demo config's throttle trigger on the standby's replay lag."""
    return {"name": "standby-replay-lag", "source": "shop-db", "metric": "replication_lag.replay_lag_bytes",
            "above": LAG_LIMIT, "clear": LAG_CLEAR, "action": "throttle", "resume_after": f"{resume_after:g}s"}


class DemoStandby:
    """A hot standby of ``primary`` (an :class:`~migtui.embedded.EmbeddedPostgres`) in ``folder``."""

    def __init__(self, primary: Any, folder: Path) -> None:
        from migtui.embedded import EmbeddedPostgres

        self.primary = primary
        self.pg = EmbeddedPostgres(folder)
        self._spiked = False

    def start(self) -> "DemoStandby":
        # the standby reports its replay position every second (default 10 s), so the lag is seen at once
        self.pg.init_standby(self.primary, wal_receiver_status_interval="1")
        self.pg.start()
        return self

    def spike(self, hold: float, note: Callable[..., Any], stop: threading.Event) -> None:
        """Once: pause WAL replay on the standby for ``hold`` seconds (in a thread), then resume it."""
        if self._spiked:
            return
        self._spiked = True

        def run() -> None:
            import psycopg

            try:
                with psycopg.connect(self.pg.dsn, autocommit=True, connect_timeout=5) as conn:
                    conn.execute("SELECT pg_wal_replay_pause()")
                    note(f"standby: WAL replay paused for {hold:g}s (a scripted spike in replay lag); the "
                         f"throttle holds the backfill while the lag is above {LAG_LIMIT:,} bytes", act="standby")
                    stop.wait(hold)
                    conn.execute("SELECT pg_wal_replay_resume()")
                    note("standby: WAL replay resumed; the backfill goes on by itself once the lag has been "
                         "clear for resume_after", act="standby")
            except Exception as exc:  # noqa: BLE001 - the demo goes on without its spike
                note(f"standby: the replay-lag spike failed: {type(exc).__name__}: {exc}", Level.WARN, act="standby")

        threading.Thread(target=run, name="migtui-demo-standby", daemon=True).start()

    def stop(self) -> None:
        self.pg.stop("fast")
