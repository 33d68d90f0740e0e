"""Migration-tool awareness, automatic phases, and progress / ETA (run component ``migration``).

Every few seconds, on its own monitoring connection (read-only, ``statement_timeout``,
``lock_timeout``, application_name ``migtui``), a collector named ``migration``:

- probes with ``to_regclass()`` (no table lock) for the history tables of Alembic, Flyway, Django,
  Rails, Prisma, golang-migrate, goose, Sqitch, Liquibase, Atlas and pgroll, reads each detected
  tool's current / last applied / running migration, and matches advisory locks in ``pg_locks``
  to the tools' known keys (reference/postgres-sql.md section 5);
- decides whether a migration is running: a tool's advisory lock is held, its history shows a
  started-not-finished row (Prisma, golang-migrate ``dirty``, Atlas partial, pgroll active,
  Liquibase lock), a session inside a transaction holds a lock on a history table (Alembic takes
  one for its whole transaction), the history changed since the last poll, DDL ran since the last
  poll (the catalog changed), or one of the migration's sessions is still connected (see
  :mod:`migtui_postgres.detection`: advisory and DDL locks, index builds, DDL statements,
  application_name, the history's writer);
- with ``auto_phase: true`` switches the run baseline -> migration when one starts and
  migration -> post when it has finished (nothing running for ``finish_after``), never backwards;
- reports DDL progress from ``pg_stat_progress_create_index / _cluster / _copy`` and backfill
  progress (a table + predicate, or a progress table the migration updates; see
  :mod:`migtui_postgres.progress`) with the rate over ``rate_window`` and the ETA.

It never waits on a relation lock: a history table (or the backfill table) that another session
holds or waits for an AccessExclusiveLock on is not read that poll, the reads that run use a short
``lock_timeout``, and a lock or statement timeout is a skipped sample with its reason; only a broken
connection is dropped.

Samples (source ``migration``): ``migration.running``, ``migration.tool.detected|running|applied``
{tool}, ``migration.ddl.percent|done|total|rows_per_s|eta_seconds`` {pid, command, relation},
``migration.rows_done|rows_total|rows_per_s|eta_seconds|percent`` {table}. Snapshots
``migration_tools`` and ``migration_progress``. Tool changes are ``note`` events with
``data.type = "migration"``; phase switches are ordinary ``phase`` events (who ``migtui``).

Here: the collector. DDL progress is read by :mod:`migtui_postgres.ddl_progress`; the run component
that builds the collector and applies its phase requests is :mod:`migtui_postgres.migration_component`.
"""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass
from typing import Any, Iterator

from migtui.api import Event, Level, MetricSpec, PanelSpec, Phase, Sample, SourceError, TableSnapshot, TableSpec, redact
from migtui_postgres.ddl_progress import ddl_samples
from migtui_postgres.detection import CatalogWatch, SessionTracker
from migtui_postgres.history import HISTORY_TABLES, READERS, ToolState, _one, match_advisory
from migtui_postgres.migration_config import TOOLS
from migtui_postgres.pgconn import close_quietly, connect_monitor, describe_target, first_line, scrub_query
from migtui_postgres.progress import BackfillCounter, RateTracker, TableLimits

SOURCE_NAME = "migration"


# --------------------------------------------------------------------------- the collector


@dataclass
class PhaseRequest:
    to: Phase
    why: str


class MigrationCollector:
    """The ``migration`` source: see the module docstring. ``collect`` runs in a worker thread."""

    @property
    def session_names(self) -> tuple[str, ...]:
        """Capability (migtui.api.Collector): application_name patterns of the migration's sessions."""
        val = self.opts.get("application_name")
        return tuple(str(v) for v in val) if isinstance(val, (list, tuple)) else (str(val or ""),)

    def __init__(self, opts: dict[str, Any], dsn: str, *, source: str, app_pattern: str = "") -> None:
        self.name = SOURCE_NAME
        self.opts = opts
        self.dsn = dsn
        self.source = source
        self.interval = float(opts["interval"])
        bf_timeout = float((opts["backfill"] or {}).get("statement_timeout", 0) or 0)
        self.timeout = max(5.0, float(opts["statement_timeout"]) * 8 + bf_timeout * 2 + 2.0)
        self.tools = list(opts["tools"] or TOOLS)
        self.conn: Any = None
        self.dbname = ""
        self.server_version = 0
        self.states: dict[str, ToolState] = {}
        self.known: dict[str, tuple[str, int]] = {}  # tool -> version key last seen
        self.was_running = False
        self.seen_running = False
        self.idle_since: float | None = None
        self.finished_reported = False
        self.phase_requests: queue.Queue[PhaseRequest] = queue.Queue()
        self.ddl_rates: dict[tuple[Any, ...], RateTracker] = {}
        self.backfill = BackfillCounter(
            opts["backfill"], source=SOURCE_NAME, statement_timeout=float(opts["statement_timeout"]),
            lock_timeout=float(opts["lock_timeout"]), rate_window=float(opts["rate_window"])) if opts["backfill"] else None
        self.ddl_progress: list[tuple[Any, ...]] = []
        self.sessions: list[dict[str, Any]] = []
        self.phase = Phase.BASELINE
        self.catalog = CatalogWatch()
        self.tracker = SessionTracker(app_pattern=opts["application_name"] or app_pattern,
                                      finish_after=float(opts["finish_after"]))
        self.ddl_pids: dict[int, str] = {}
        self.statement_ids: set[int] = set()
        self.new_statements: list[tuple[int, int, str]] = []
        """(queryid, pid, application_name) seen in the migration's sessions since the last snapshot."""

    @property
    def backfill_total(self) -> float | None:
        return self.backfill.total if self.backfill is not None else None

    @property
    def last_progress(self) -> list[tuple[Any, ...]]:
        """Rows of the ``migration_progress`` table: DDL in progress, then the backfill."""
        return self.ddl_progress + ([self.backfill.row] if self.backfill is not None and self.backfill.row else [])

    # -- connection

    def connect(self) -> None:
        self.conn = connect_monitor(self.dsn, statement_timeout=float(self.opts["statement_timeout"]),
                                    lock_timeout=float(self.opts["lock_timeout"]))
        self.server_version = self.conn.info.server_version
        with self.conn.cursor() as cur:
            self.dbname = str(_one(cur, "SELECT /* migtui */ current_database()")[0])

    def close(self) -> None:
        close_quietly(self.conn)
        self.conn = None

    @property
    def metric_kinds(self) -> list[MetricSpec]:
        """The kinds of the metrics the panel does not show (reports draw their timelines)."""
        return [MetricSpec("migration.running", kind="state"), MetricSpec("migration.tool.*", kind="state"),
                MetricSpec("migration.rows_*", kind="progress"), MetricSpec("migration.ddl.*", kind="progress")]

    def panels(self) -> list[PanelSpec]:
        return [PanelSpec("data", "Migration progress", metrics=(
            MetricSpec("migration.percent", "backfill", "%", kind="progress"),
            MetricSpec("migration.rows_per_s", "rows/s", "/s", kind="progress"),
            MetricSpec("migration.eta_seconds", "ETA", "s", kind="progress"),
            MetricSpec("migration.ddl.percent", "DDL", "%", kind="progress"),
        ), tables=(TableSpec("migration_tools", "Migration tools"),
                   TableSpec("migration_progress", "Progress (DDL and backfill)", render="progress")),
            source=self.name)]

    # -- one poll

    def collect(self, ctx: Any) -> Iterator[Sample | TableSnapshot | Event]:
        import psycopg

        now = ctx.now if ctx is not None else time.time()
        if ctx is not None:
            self.phase = Phase(ctx.phase)
        if self.conn is None or self.conn.closed:
            self.connect()
        out: list[Sample | TableSnapshot | Event] = []
        try:
            with self.conn.cursor() as cur:
                out.extend(ddl_samples(self, cur, now))  # first: an index build names its session for _tools
                out.extend(self._tools(cur, now))
                if self.backfill is not None and self.backfill.due(now, self.interval):
                    started = self.phase != Phase.BASELINE or self.was_running
                    out.extend(self.backfill.poll(cur, now, started))
        except (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled) as exc:
            if self.conn.broken:
                self.close()
                raise SourceError(f"migration watch lost {describe_target(self.dsn)}: "
                                  f"{redact(first_line(exc))}") from None
            # a timeout is a skipped sample with its reason; the connection (and detection) goes on
            out.append(Event("error", SOURCE_NAME, f"migration watch: sample skipped ({redact(first_line(exc))})",
                             Level.WARN, {"source": SOURCE_NAME, "skipped": True}))
        except psycopg.OperationalError as exc:
            self.close()
            raise SourceError(f"migration watch lost {describe_target(self.dsn)}: {redact(first_line(exc))}") from None
        yield from out
        if self.new_statements:
            yield TableSnapshot(now, self.name, "migration_statements", ["query_id", "pid", "application_name"],
                                self.new_statements)
            self.new_statements = []
        yield TableSnapshot(now, self.name, "migration_progress",
                            ["kind", "what", "phase", "done", "total", "unit", "percent", "rate_per_s", "eta_seconds"],
                            list(self.last_progress))

    def _probe(self, cur: Any) -> dict[str, list[tuple[str, int]]]:
        """History tables of the tools, in any schema (catalog lookups only: no table is opened)."""
        tools, schemas, rels = [], [], []
        for tool in self.tools:
            for rel in HISTORY_TABLES[tool]:
                schema, _, name = rel.rpartition(".")
                tools.append(tool)
                schemas.append(schema or None)
                rels.append(name)
        cur.execute("""
            SELECT /* migtui */ c.tool, quote_ident(n.nspname) || '.' || quote_ident(r.relname), r.oid::bigint,
                   n.nspname::text
            FROM unnest(%s::text[], %s::text[], %s::text[]) AS c(tool, schema_name, rel)
            JOIN pg_class r ON r.relname = c.rel AND r.relkind IN ('r', 'p')
            JOIN pg_namespace n ON n.oid = r.relnamespace AND (c.schema_name IS NULL OR n.nspname = c.schema_name)
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
              AND (cardinality(%s::text[]) = 0 OR n.nspname = ANY(%s::text[]) OR c.schema_name IS NOT NULL)
            ORDER BY c.tool, n.nspname = ANY(current_schemas(false)) DESC, n.nspname""",
                    [tools, schemas, rels, list(self.opts["schemas"]), list(self.opts["schemas"])])
        found: dict[str, list[tuple[str, int]]] = {}
        self.found_schemas = set()
        for tool, name, oid, nsp in cur.fetchall():
            if (name, int(oid)) not in found.get(tool, []):
                found.setdefault(tool, []).append((name, int(oid)))
                self.found_schemas.add(nsp)
        # schema_migrations: golang-migrate has a `dirty` column, Rails does not
        sm = {oid for tool in ("rails", "golang-migrate") for _, oid in found.get(tool, [])}
        if sm:
            cur.execute("SELECT /* migtui */ attrelid::bigint FROM pg_attribute WHERE attrelid = ANY(%s::oid[]) "
                        "AND attname = 'dirty' AND NOT attisdropped", [list(sm)])
            dirty = {int(r[0]) for r in cur.fetchall()}
            if "rails" in found:
                found["rails"] = [(n, o) for n, o in found["rails"] if o not in dirty]
            if "golang-migrate" in found:
                found["golang-migrate"] = [(n, o) for n, o in found["golang-migrate"] if o in dirty]
        return {t: v for t, v in found.items() if v}

    def _locks(self, cur: Any, rel_oids: list[int]) -> list[tuple[Any, ...]]:
        cur.execute("""
            SELECT /* migtui */ l.pid, l.locktype, l.mode, l.granted, l.relation::bigint, l.classid::bigint,
                   l.objid::bigint, l.objsubid, a.application_name, a.state,
                   extract(epoch FROM clock_timestamp() - a.xact_start)::float8, left(a.query, 200)
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.pid <> pg_backend_pid()
              AND coalesce(a.application_name, '') NOT LIKE 'migtui%%'
              AND a.datname = current_database() AND a.backend_type = 'client backend'
              AND (l.locktype = 'advisory'
                   OR (l.locktype = 'relation' AND (l.relation = ANY(%s::oid[])
                       -- DDL on an existing, permanent user table (not a temp table an app creates)
                       OR (l.mode = 'AccessExclusiveLock' AND EXISTS (
                           SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                           WHERE c.oid = l.relation AND c.relpersistence IN ('p', 'u')
                             AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                             AND n.nspname NOT LIKE 'pg\\_%%')))))
            """, [rel_oids])
        return cur.fetchall()

    def _read_histories(self, cur: Any, found: dict[str, list[tuple[str, int]]],
                        locks: list[tuple[Any, ...]]) -> dict[str, ToolState]:
        """Each tool's history, read under a short lock_timeout; a history table that another session
        holds or waits for an AccessExclusiveLock on is not read (the read would queue behind it): the
        tool keeps what the last poll read, with the reason."""
        import psycopg

        in_the_way = {int(r[4]): int(r[0]) for r in locks if r[1] == "relation" and r[2] == "AccessExclusiveLock"}
        states: dict[str, ToolState] = {}
        with TableLimits(cur, float(self.opts["statement_timeout"]), float(self.opts["statement_timeout"]),
                         float(self.opts["lock_timeout"])):
            for tool, rels in found.items():
                st = ToolState(tool, rels[0][0])
                blocker = next((in_the_way[oid] for _, oid in rels if oid in in_the_way), None)
                try:
                    if blocker is not None:
                        raise psycopg.errors.LockNotAvailable(f"pid {blocker} holds or waits for an "
                                                              "AccessExclusiveLock on it")
                    READERS[tool](cur, st)
                except psycopg.errors.LockNotAvailable as exc:
                    prev = self.states.get(tool)
                    if prev is not None:
                        st.current, st.applied, st.last_applied_at = prev.current, prev.applied, prev.last_applied_at
                    st.hint = f"history not read this poll: {redact(first_line(exc))}"
                except Exception as exc:  # noqa: BLE001 - an unexpected table shape must not stop the rest
                    if cur.connection.broken:
                        raise
                    st.state, st.error = "error", redact(first_line(exc))
                states[tool] = st
        return states

    def _tools(self, cur: Any, now: float) -> Iterator[Sample | TableSnapshot | Event]:
        found = self._probe(cur)
        rel_oids = [oid for v in found.values() for _, oid in v]
        locks = self._locks(cur, rel_oids)
        catalog = self.catalog.changes(cur)
        oid_tool = {oid: tool for tool, v in found.items() for _, oid in v}
        schemas = sorted({"public", *self.opts["schemas"], *getattr(self, "found_schemas", set())})
        states = self._read_histories(cur, found, locks)
        ddl_sessions: list[tuple[int, float, str]] = []
        signs = dict(self.ddl_pids)  # pid -> a strong sign that the session is the migration's
        for pid, locktype, mode, granted, relation, classid, objid, objsubid, app, state, xact_s, query in locks:
            if locktype == "advisory":
                tool = match_advisory(classid, objid, objsubid, self.dbname, schemas) if granted else None
                if tool and tool in self.tools:
                    st = states.setdefault(tool, ToolState(tool, "(no history table yet)"))
                    st.signals.append(f"advisory lock held by pid {pid}")
                    st.pid, st.since = pid, xact_s
                    signs[pid] = f"holds {tool}'s advisory lock"
                continue
            tool = oid_tool.get(relation)
            if tool and xact_s is not None:
                st = states[tool]
                st.signals.append(f"pid {pid} holds {mode} on {st.table} in a transaction")
                st.pid, st.since = pid, xact_s
                signs[pid] = f"holds {mode} on {st.table}"
                if not st.running and query:
                    st.running = scrub_query(query)
            elif mode == "AccessExclusiveLock" and granted and xact_s is not None and self.opts["detect_ddl"]:
                ddl_sessions.append((pid, xact_s, scrub_query(query)))
                signs[pid] = "holds an AccessExclusiveLock"
        changed = [t for t, st in states.items() if t in self.known and st.version_key() != self.known[t]]
        tracked = self.tracker.poll(cur, signs=signs, history_changed=changed[0] if changed else "",
                                    catalog_changed=bool(catalog)) if self.opts["detect_ddl"] or \
            self.tracker.app_pattern else []
        for sess, _ in tracked:  # the report keeps the migration's statements apart (migration_statements)
            if sess.query_id is not None and sess.query_id not in self.statement_ids:
                self.statement_ids.add(sess.query_id)
                self.new_statements.append((sess.query_id, sess.pid, sess.app))
        for st in states.values():
            lock_signal = bool(st.signals)
            if st.in_progress_row:
                if lock_signal or st.tool == "pgroll":  # pgroll: the expand phase lasts until `complete`
                    st.state = "running"
                elif st.tool == "liquibase":
                    st.state = "locked"
                elif st.tool == "golang-migrate":
                    st.state = "dirty"
                else:  # prisma / atlas: started, not finished, nobody holds the tool's lock: it died
                    st.state = "failed"
            elif lock_signal:
                st.state = "running"
            elif st.failed_row:
                st.state = "failed"
        running_tools = [t for t, st in states.items() if st.state in ("running", "locked")]
        ddl_pids = {p for p, _, _ in ddl_sessions}
        others = [(sess, w) for sess, w in tracked if sess.pid not in ddl_pids]
        running = bool(running_tools or ddl_sessions or tracked or catalog or changed)
        why = ", ".join([*(f"{t}: {'; '.join(states[t].signals) or states[t].running}" for t in running_tools),
                         *(f"DDL session pid {p}" for p in sorted(ddl_pids)),
                         *(f"session pid {sess.pid}" + (f" ({sess.app})" if sess.app else "") + f": {w}"
                           for sess, w in others),
                         *(f"{t} history changed" for t in changed if t not in running_tools),
                         *(f"catalog: {c}" for c in catalog)])
        if catalog:
            yield Event("note", "migration", f"DDL ran since the last poll: {'; '.join(catalog)}", Level.INFO,
                        {"type": "migration", "change": "catalog", "what": catalog})
        # events: detection and changes
        for tool, st in states.items():
            key = st.version_key()
            if tool not in self.known:
                yield Event("note", f"migration:{tool}",
                            f"{tool} detected ({st.table}): current {st.current or 'none'}, {st.applied} applied",
                            Level.INFO, {"type": "migration", "tool": tool, "table": st.table, "current": st.current,
                                         "applied": st.applied, "change": "detected"})
            elif key != self.known[tool]:
                old = self.known[tool][0]
                yield Event("note", f"migration:{tool}", f"{tool}: {old or 'none'} -> {st.current or 'none'} applied",
                            Level.INFO, {"type": "migration", "tool": tool, "from": old, "to": st.current,
                                         "applied": st.applied, "change": "applied"})
            prev = self.states.get(tool)
            if prev is None or prev.state != st.state:
                if st.state != "idle" or prev is not None:
                    level = Level.WARN if st.state in ("dirty", "failed", "locked", "error") else Level.INFO
                    detail = st.running or "; ".join(st.signals) or st.error
                    yield Event("note", f"migration:{tool}", f"{tool}: {st.state}" + (f" ({detail})" if detail else "")
                                + (f"; {st.hint}" if st.hint and level == Level.WARN else ""), level,
                                {"type": "migration", "tool": tool, "state": st.state, "running": st.running,
                                 "pid": st.pid, "hint": st.hint, "change": "state"})
            self.known[tool] = key
        self.states = states
        self.sessions = [{"pid": p, "xact_seconds": s, "query": q} for p, s, q in ddl_sessions]
        yield from self._running_changed(running, why, now)
        for tool, st in states.items():
            lab = {"tool": tool}
            yield Sample(now, self.name, "migration.tool.detected", 1.0, lab)
            yield Sample(now, self.name, "migration.tool.running", 1.0 if st.state in ("running", "locked") else 0.0, lab)
            yield Sample(now, self.name, "migration.tool.applied", float(st.applied), lab)
        yield Sample(now, self.name, "migration.running", 1.0 if running else 0.0)
        rows = [(st.tool, st.table, st.state, st.current, st.applied, st.last_applied_at, st.running,
                 st.pid, round(st.since, 1) if st.since is not None else None, st.hint or st.error)
                for st in states.values()]
        for sess, w in others:
            rows.append(("session", sess.app, sess.state, "", None, "", scrub_query(sess.query), sess.pid,
                         round(sess.age, 1), w))
        for p, s, q in ddl_sessions:
            rows.append(("ddl", "", "running", "", None, "", q, p, round(s, 1), "holds an AccessExclusiveLock"))
        yield TableSnapshot(now, self.name, "migration_tools",
                            ["tool", "table", "state", "current", "applied", "last_applied_at", "running", "pid",
                             "seconds", "hint"], rows)

    def _request(self, to: Phase, why: str) -> None:
        if self.opts["auto_phase"]:
            self.phase_requests.put(PhaseRequest(to, why))

    def _running_changed(self, running: bool, why: str, now: float) -> Iterator[Event]:
        if running and not self.seen_running:
            self.seen_running = True
            self.idle_since = None
            self.finished_reported = False
            yield Event("note", "migration", f"migration started: {why}", Level.INFO,
                        {"type": "migration", "change": "started", "why": why})
            self._request(Phase.MIGRATION, f"migration started: {why}")
        elif not running and self.was_running:
            self.idle_since = now
        elif running:
            self.idle_since = None
        if (not running and self.seen_running and self.idle_since is not None and not self.finished_reported
                and now - self.idle_since >= float(self.opts["finish_after"])):
            self.finished_reported = True
            self.seen_running = False
            summary = ", ".join(f"{t} at {s.current or 'none'}" for t, s in self.states.items()) or "no tool"
            yield Event("note", "migration", f"migration finished ({summary})", Level.INFO,
                        {"type": "migration", "change": "finished", "tools": {t: s.current for t, s in self.states.items()}})
            self._request(Phase.POST, f"migration finished ({summary})")
        self.was_running = running
