"""Act 4 of the scripted migration (:mod:`migtui.demo.migration`): the batched backfill of
``orders.total_cents``. Between batches it checks the cooperative pause
(:func:`migtui_postgres.pause.wait_if_paused`); part-way through, the API it loads suffers (injected
latency, then HTTP 500s) so the seed triggers fire: warn, then pause. A pause relieves the API, resume
goes on, a rollback (``demo/rollback.sql`` drops the column) ends it. With a standby, its replay lag
spikes a few batches in (the throttle holds the backfill).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from migtui.model import Level


class Stopped(Exception):
    """The demo is stopping: every act unwinds."""


class RolledBack(Exception):
    """The migration was rolled back while the backfill waited at its pause point."""


@dataclass
class MigrationState:
    """What the migration stand-in source reports."""

    step: str = "baseline"
    step_no: int = 0
    rows_total: int = 0
    rows_done: int = 0
    paused: bool = False
    pauses: int = 0
    rolled_back: bool = False
    finished: bool = False
    failed: str = ""
    burst: str = "none"  # none | latency | errors | over


def load_pause() -> Callable[..., Any] | None:
    """The postgres plugin's cooperative pause, or None when that plugin is not installed."""
    try:
        from migtui_postgres.pause import wait_if_paused
    except ImportError:
        return None
    return wait_if_paused


class BackfillAct:
    """Mixed into :class:`migtui.demo.migration.ScriptedMigration` (its ``state``, ``sc``, ``note``,
    ``_sleep``, ``service``, ``standby``, ``stop_event`` and ``pause_key``)."""

    state: MigrationState
    sc: Any
    service: Any
    standby: Any
    stop_event: Any
    pause_key: int
    _wait_if_paused: Callable[..., Any] | None
    _burst_started: float
    _errors_started: float
    note: Callable[..., None]
    _sleep: Callable[[float], None]
    _step: Callable[[str], None]

    def _backfill(self, conn: Any) -> None:
        import psycopg

        self._step("backfill")
        sc = self.sc
        top = int(conn.execute("SELECT coalesce(max(id), 0) FROM orders").fetchone()[0])
        self.state.rows_total = top
        pause_note = "between batches it checks the cooperative pause" if self._wait_if_paused else \
            "the cooperative pause (migtui_postgres.pause) is not available in this install"
        self.note(f"data: backfill orders.total_cents in batches of {sc.batch_rows:,} rows ({top:,} rows); "
                  f"{pause_note}", act="backfill", rows=top)
        lo = 1
        final_sweep = False
        while not self.state.rolled_back:
            self._pause_point(conn)
            if self.state.rolled_back:
                break
            hi = lo + sc.batch_rows
            try:
                cur = conn.execute("UPDATE orders SET total_cents = (amount * 100)::bigint "
                                   "WHERE id >= %s AND id < %s AND total_cents IS NULL", [lo, hi])
            except psycopg.errors.UndefinedColumn:
                self.state.rolled_back = True  # rollback.sql dropped the column under us
                break
            self.state.rows_done += max(0, cur.rowcount)
            lo = hi
            if self.standby is not None and lo > sc.lag_at_batch * sc.batch_rows:
                self.standby.spike(sc.lag_hold, self.note, self.stop_event)
            self._drive_burst()
            if lo > top:
                if final_sweep or self.state.burst in ("latency", "errors"):
                    if self.state.burst in ("latency", "errors"):
                        self._sleep(sc.batch_sleep)
                        lo = top + 1
                        continue  # hold the last rows until the burst played out
                    break
                # rows the workload inserted meanwhile
                new_top = int(conn.execute("SELECT coalesce(max(id), 0) FROM orders").fetchone()[0])
                self.state.rows_total = max(self.state.rows_total, new_top)
                top, final_sweep = new_top, True
            self._sleep(sc.batch_sleep)
        if self.state.rolled_back:
            self.note("data: the backfill stopped: the migration was rolled back", Level.WARN, act="backfill")
        else:
            self.note(f"data: backfill done, {self.state.rows_done:,} rows", act="backfill",
                      rows=self.state.rows_done)

    def _pause_point(self, conn: Any) -> None:
        wait = self._wait_if_paused
        if wait is None:
            return
        noted: list[bool] = []

        def on_wait(waited: float) -> None:
            if self.stop_event.is_set():
                raise Stopped
            if self.state.rolled_back:
                raise RolledBack
            if not noted:
                noted.append(True)
                self.note(f"data: the backfill is paused before its next batch (row {self.state.rows_done:,})",
                          Level.PAUSE, act="backfill")
            self.state.paused = True

        try:
            waited = wait(conn, self.pause_key, poll=0.5, on_wait=on_wait)
        except RolledBack:
            self.state.paused = False
            return
        if self.stop_event.is_set():
            raise Stopped
        if noted:
            self.state.paused = False
            self.note(f"data: the backfill goes on after {waited:.0f}s paused at row {self.state.rows_done:,}",
                      act="backfill", paused_s=round(waited, 1))

    def _drive_burst(self) -> None:
        sc, st = self.sc, self.state
        now = time.monotonic()
        ratio = st.rows_done / st.rows_total if st.rows_total else 1.0
        if st.burst == "none" and ratio >= sc.burst_at:
            st.burst = "latency"
            self._burst_started = now
            self.service.inject(latency_ms=sc.latency_ms)
            self.note(f"API: the backfill slows the checkout service down (injected: +{sc.latency_ms:g} ms)",
                      Level.WARN, act="burst", latency_ms=sc.latency_ms)
        elif st.burst == "latency" and now - self._burst_started >= sc.latency_lead:
            st.burst = "errors"
            self._errors_started = now
            self.service.inject(errors=sc.error_ratio)
            self.note(f"API: and now it fails requests (injected: {sc.error_ratio:.0%} HTTP 500)", Level.WARN,
                      act="burst", error_ratio=sc.error_ratio)
        elif st.burst == "errors" and now - self._errors_started >= sc.burst_max:
            st.burst = "over"
            self.service.clear()
            self.note(f"API: nothing paused the backfill within {sc.burst_max:g}s; the injected burst ends "
                      "(are triggers and the pg_pause action installed?)", Level.WARN, act="burst")
