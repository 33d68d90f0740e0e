"""Backfill progress for the ``migration`` source: the ``migration.backfill`` config, the counter and
the rate / ETA behind it.

The counter never waits on a relation lock (DESIGN "the monitor never waits on a lock"):

- before it touches the table (``count(*)``, ``EXPLAIN``, a progress-table read) it asks
  ``pg_locks`` whether any other session holds or waits for an AccessExclusiveLock on it (the only
  mode that conflicts with the AccessShareLock a read takes, and a *waiting* one queues every new
  reader behind it). If one does, the count is skipped with the reason (who holds or waits, and
  their statement) and only catalog estimates (``pg_class.reltuples``) are used until the table is
  free;
- the statements that do touch the table run with a ``lock_timeout`` of
  :data:`TABLE_LOCK_TIMEOUT`, so a lock queued between the check and the read costs at most that,
  and a lock timeout is a skipped sample with its reason, never an error that drops the connection.

``total: auto`` is the job's size when the migration starts (the phase is no longer baseline, or the
migration watch sees one running): the first remaining count, taken before it started. When there
was no count before the migration started (migtui started late, or the table was locked), the
total is the planner's estimate of the predicate at that moment (statistics from the last ANALYZE,
before the backfill; never less than the count), or the catalog's row estimate when the table is
locked. Rows to do that appear later raise it.
"""

from __future__ import annotations

import collections
import json
import math
import re
from typing import Any

from migtui.api import Event, Field, Level, Sample, Schema, error_at, redact
from migtui_postgres.pgconn import first_line, scrub_query
from migtui_postgres.schedule import Cadence

EXACT_COUNT_GIVE_UP = 3
"""Exact backfill counts that time out this many times in a row switch to the planner's estimate."""
TABLE_LOCK_TIMEOUT = 0.05
"""Seconds a statement that reads the backfill table may wait for its lock (after the pg_locks check)."""

_IDENT = re.compile(r'^(?:[A-Za-z_][A-Za-z0-9_$]*|"[^"]+")(?:\.(?:[A-Za-z_][A-Za-z0-9_$]*|"[^"]+"))?$')


def table_name(value: Any) -> None:
    if not _IDENT.match(str(value)):
        raise ValueError(f"expected a table name like orders or app.orders, got {value!r}")


def _no_semicolon(value: Any) -> None:
    if ";" in str(value):
        raise ValueError("one SQL expression only (no ';')")


def _total(value: Any, parent: Any, key: Any, path: str) -> Any:
    if isinstance(value, bool):
        raise error_at(parent, key, path, f"expected auto, estimate or a number, got {value!r}")
    if isinstance(value, (int, float)):
        if value <= 0:
            raise error_at(parent, key, path, f"must be positive, got {value!r}")
        return float(value)
    text = str(value).strip().lower()
    if text in ("auto", "estimate"):
        return text
    try:
        return float(text)
    except ValueError:
        raise error_at(parent, key, path, f"expected auto, estimate or a number, got {value!r}") from None


BACKFILL_SCHEMA = Schema({
    "table": Field("str", check=table_name, doc="The table the backfill writes (with `predicate`)."),
    "predicate": Field("str", check=_no_semicolon,
                       doc="SQL condition of the rows still to do (or done, with counts: done), e.g. note IS NULL."),
    "counts": Field("str", default="remaining", choices=("remaining", "done"),
                    doc="Whether `predicate` matches the rows remaining (default) or the rows done."),
    "total": Field(_total, default="auto",
                   doc="auto (the job's size when the migration starts: the remaining count then, or the "
                       "planner's estimate if there was no count before it started; the table estimate with "
                       "counts: done), estimate (pg_class.reltuples) or a number."),
    "count": Field("str", default="exact", choices=("exact", "estimate"),
                   doc="exact: count(*) under statement_timeout, falling back to the planner's estimate when it "
                       "times out; estimate: always the planner's estimate (EXPLAIN, no scan). Neither runs "
                       "while the table is locked (catalog estimates then)."),
    "progress_table": Field("str", check=table_name,
                            doc="Instead of table+predicate: a table the migration updates with its progress."),
    "done_column": Field("str", default="rows_done", check=table_name,
                         doc="Column of the progress table with the rows done so far."),
    "total_column": Field("str", default="", doc="Column of the total in progress_table (optional)."),
    "where": Field("str", default="", check=_no_semicolon, doc="Which row of progress_table (SQL condition)."),
    "interval": Field("duration", default=10.0, minimum=1, doc="How often to count."),
    "statement_timeout": Field("duration", default=2.0, doc="Cap on the count query."),
    "name": Field("str", default="", doc="Label for the samples (default: the table's name)."),
})


class RateTracker:
    """(ts, done) points over a window -> rows per second and ETA."""

    def __init__(self, window: float) -> None:
        self.window = window
        self.points: collections.deque[tuple[float, float]] = collections.deque()

    def add(self, ts: float, done: float) -> None:
        if self.points and done < self.points[-1][1]:
            self.points.clear()  # restarted or another phase
        self.points.append((ts, done))
        while len(self.points) > 2 and ts - self.points[0][0] > self.window:
            self.points.popleft()

    def rate(self) -> float:
        if len(self.points) < 2:
            return math.nan
        (t0, d0), (t1, d1) = self.points[0], self.points[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else math.nan

    def eta(self, total: float) -> float:
        if not self.points or math.isnan(total):
            return math.nan
        left = total - self.points[-1][1]
        if left <= 0:
            return 0.0
        r = self.rate()
        return left / r if r and r > 0 and not math.isnan(r) else math.nan


def j(v: float | None) -> float | None:
    """A number for a snapshot row (None for NaN)."""
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 3)


_LOCK_HOLDER = """
SELECT /* migtui */ l.pid, l.granted, coalesce(a.application_name, ''), coalesce(a.query, '')
FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.relation = to_regclass(%s) AND l.mode = 'AccessExclusiveLock'
  AND l.pid <> pg_backend_pid()
ORDER BY l.granted DESC, l.pid LIMIT 1"""


def lock_in_the_way(cur: Any, table: str) -> tuple[int, str] | None:
    """``(pid, description)`` of a session that holds or waits for an AccessExclusiveLock on ``table``
    (a read of the table would queue behind it), else None. Catalog and pg_locks only: no lock taken."""
    cur.execute(_LOCK_HOLDER, [table])
    row = cur.fetchone()
    if row is None:
        return None
    pid, granted, app, query = row
    how = "holds" if granted else "waits for"
    who = f"pid {pid}" + (f" ({scrub_query(app, 60)})" if app else "")
    return int(pid), f"{who} {how} an AccessExclusiveLock on it: {scrub_query(query, 100)}"


class TableLimits:
    """``with TableLimits(cur, st, restore_st, restore_lt):`` the statements inside run with
    ``statement_timeout`` ``st`` and the short :data:`TABLE_LOCK_TIMEOUT`; the session's own limits
    come back afterwards."""

    def __init__(self, cur: Any, statement_timeout: float, restore_statement: float, restore_lock: float) -> None:
        self.cur, self.st, self.rst, self.rlt = cur, statement_timeout, restore_statement, restore_lock

    def _set(self, st: float, lt: float) -> None:
        self.cur.execute("SELECT /* migtui */ set_config('statement_timeout', %s, false), "
                         "set_config('lock_timeout', %s, false)", [f"{int(st * 1000)}ms", f"{max(1, int(lt * 1000))}ms"])

    def __enter__(self) -> "TableLimits":
        self._set(self.st, TABLE_LOCK_TIMEOUT)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._set(self.rst, self.rlt)


class BackfillCounter:
    """Counts one backfill (``migration.backfill``) every ``interval``; see the module docstring."""

    def __init__(self, bf: dict[str, Any], *, source: str, statement_timeout: float, lock_timeout: float,
                 rate_window: float) -> None:
        self.bf = bf
        self.source = source
        self.session_limits = (statement_timeout, lock_timeout)
        self.label = bf["name"] or bf["table"] or bf["progress_table"]
        self.rate = RateTracker(rate_window)
        self.total: float | None = None
        self.total_fixed = False
        self.cadence = Cadence(float(bf["interval"]))
        self.exact_timeouts = 0
        self.skipped_for: int | None = None
        self.done: float = math.nan
        self.row: tuple[Any, ...] | None = None

    def due(self, now: float, poll: float) -> bool:
        """Whether a count is due on this poll (polls every ``poll`` seconds); if so, it is taken."""
        if not self.cadence.due(now, poll):
            return False
        self.cadence.ran(now, poll)
        return True

    def poll(self, cur: Any, now: float, started: bool) -> list[Sample | Event]:
        import psycopg

        table = self.bf["progress_table"] or self.bf["table"]
        out: list[Sample | Event] = []
        lock = lock_in_the_way(cur, table)
        if lock is not None:
            return self._skipped(cur, lock, started, out)
        try:
            with TableLimits(cur, float(self.bf["statement_timeout"]), *self.session_limits):
                done, total, how = self._progress_table(cur) if self.bf["progress_table"] else \
                    self._predicate(cur, started, out)
        except psycopg.errors.LockNotAvailable:
            return self._skipped(cur, (0, f"a lock on it was not free within {TABLE_LOCK_TIMEOUT * 1000:g}ms"),
                                 started, out)
        except psycopg.errors.QueryCanceled as exc:
            out.append(Event("error", self.source, f"backfill count on {self.label} timed out "
                             f"({redact(first_line(exc))})", Level.WARN, {"source": self.source}))
            return out
        except psycopg.Error as exc:
            if getattr(cur.connection, "broken", False):
                raise
            out.append(Event("error", self.source, f"backfill progress of {self.label}: {redact(first_line(exc))}",
                             Level.WARN, {"source": self.source}))
            return out
        if self.skipped_for is not None:
            out.append(Event("note", self.source, f"backfill count of {self.label} resumed: the table is free",
                             Level.INFO, {"type": "migration", "table": self.label, "skipped": False}))
            self.skipped_for = None
        if done is None:
            return out
        out.extend(self._samples(now, done, total, how))
        return out

    # -- the two ways of knowing progress

    def _progress_table(self, cur: Any) -> tuple[float | None, float, str]:
        bf = self.bf
        cols = bf["done_column"] + (f", {bf['total_column']}" if bf["total_column"] else "")
        where = f" WHERE {bf['where']}" if bf["where"] else ""
        cur.execute(f"SELECT /* migtui */ {cols} FROM {bf['progress_table']}{where} LIMIT 1")
        row = cur.fetchone()
        if row is None:
            return None, math.nan, ""
        total = float(row[1]) if bf["total_column"] and row[1] is not None else (
            bf["total"] if isinstance(bf["total"], float) else math.nan)
        return float(row[0] or 0), total, "progress table"

    def _predicate(self, cur: Any, started: bool, out: list[Sample | Event]) -> tuple[float, float, str]:
        bf = self.bf
        n, how = self._count(cur, out)
        if isinstance(bf["total"], float):
            self.total = bf["total"]
        elif bf["total"] == "estimate" or bf["counts"] == "done":
            if bf["total"] == "estimate" or not self.total_fixed:
                self.total = self._reltuples(cur)
        elif self.total is None and started:  # no count before the migration started: what the planner
            self.total = max(n, self._size_at_start(cur))  # knew then (statistics from before the backfill)
        elif self.total is None or n > self.total:
            self.total = n  # the first remaining count is the job's size; rows to do may be added
        if started:
            self.total_fixed = True
        total = self.total if self.total is not None else math.nan
        done = n if bf["counts"] == "done" else max(0.0, total - n)
        return done, total, how

    def _count(self, cur: Any, out: list[Sample | Event]) -> tuple[float, str]:
        """Rows matching the predicate: exact under the timeout, else the planner's estimate."""
        import psycopg

        bf = self.bf
        if bf["count"] == "exact" and self.exact_timeouts < EXACT_COUNT_GIVE_UP:
            try:
                cur.execute(f"SELECT /* migtui */ count(*) FROM {bf['table']} WHERE {bf['predicate']}")
                self.exact_timeouts = 0
                return float(cur.fetchone()[0]), "exact"
            except psycopg.errors.QueryCanceled:
                self.exact_timeouts += 1
                if self.exact_timeouts >= EXACT_COUNT_GIVE_UP:
                    out.append(Event("note", self.source, f"counting {bf['table']} exactly timed out "
                                     f"{EXACT_COUNT_GIVE_UP} times in a row (statement_timeout "
                                     f"{float(bf['statement_timeout']):g}s): using the planner's estimate "
                                     "from now on", Level.WARN, {"type": "migration", "table": bf["table"]}))
        return self._planner_rows(cur), "estimate"

    def _planner_rows(self, cur: Any, predicate: str | None = None) -> float:
        where = self.bf["predicate"] if predicate is None else predicate
        cur.execute(f"EXPLAIN (FORMAT JSON) SELECT /* migtui */ 1 FROM {self.bf['table']} WHERE {where}")
        plan = cur.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        return float(plan[0]["Plan"]["Plan Rows"])

    def _size_at_start(self, cur: Any) -> float:
        """Rows matching the predicate by the last ANALYZE: its selectivity times ``reltuples`` (the planner
        alone scales the row count by the table's current size, which the backfill's dead rows inflate)."""
        rows = self._planner_rows(cur)
        analyzed = self._reltuples(cur)
        if math.isnan(analyzed) or analyzed <= 0:
            return rows
        everything = self._planner_rows(cur, "true")
        return round(analyzed * rows / everything) if everything > 0 else rows

    def _reltuples(self, cur: Any) -> float:
        cur.execute("SELECT /* migtui */ reltuples::float8 FROM pg_class WHERE oid = to_regclass(%s)",
                    [self.bf["table"] or self.bf["progress_table"]])
        row = cur.fetchone()
        return float(row[0]) if row and row[0] is not None and row[0] >= 0 else math.nan

    # -- results

    def _skipped(self, cur: Any, lock: tuple[int, str], started: bool, out: list[Sample | Event]) -> list[Sample | Event]:
        """The table is locked: no count; catalog estimates only, and the reason, once per episode."""
        pid, why = lock
        if self.bf["table"] and not self.total_fixed and not isinstance(self.bf["total"], float):
            if self.total is None:
                self.total = self._reltuples(cur)  # catalog only: the planner would need the lock
            if started:
                self.total_fixed = True
        if self.skipped_for != pid:
            self.skipped_for = pid
            out.append(Event("note", self.source, f"backfill count of {self.label} skipped: {why}; migtui does not "
                             "queue behind it and counts again once the table is free", Level.WARN,
                             {"type": "migration", "table": self.label, "skipped": True, "pid": pid or None}))
        total = self.total if self.total is not None else math.nan
        self.row = ("backfill", self.label, f"skipped: locked by pid {pid}" if pid else "skipped: lock timeout",
                    j(self.done), j(total), "rows", j(self._pct(self.done, total)), j(self.rate.rate()),
                    j(self.rate.eta(total)))
        return out

    @staticmethod
    def _pct(done: float, total: float) -> float:
        return 100.0 * done / total if total and not math.isnan(total) and not math.isnan(done) else math.nan

    def _samples(self, now: float, done: float, total: float, how: str) -> list[Sample | Event]:
        self.done = done
        self.rate.add(now, done)
        rate, eta = self.rate.rate(), self.rate.eta(total)
        pct = self._pct(done, total)
        lab = {"table": self.label}
        self.row = ("backfill", self.label, how, done, j(total), "rows", j(pct), j(rate), j(eta))
        return [Sample(now, self.source, "migration.rows_done", done, lab),
                Sample(now, self.source, "migration.rows_total", total, lab),
                Sample(now, self.source, "migration.rows_per_s", rate, lab),
                Sample(now, self.source, "migration.eta_seconds", eta, lab),
                Sample(now, self.source, "migration.percent", pct, lab)]
