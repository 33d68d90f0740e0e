"""The PostgreSQL collector: runs the SQL catalog on a read-only monitoring connection.

The connection is harmless by construction: application_name ``migtui``, autocommit, read-only
transactions, ``statement_timeout`` and ``lock_timeout`` on every query (each query's own timeout
from its header, capped by the config), ``idle_in_transaction_session_timeout``. Each query runs on
its own interval. A query that times out is an error event and is retried at its next interval; a
query the role may not run is skipped with one warning naming the privilege; a lost connection is
reconnected with backoff on the next poll.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from migtui.api import (Catalog, Event, Field, Level, MetricSpec, PanelSpec, Query, Sample, Schema, SourceError,
                        TableSnapshot, Variant, catalog_panels, check_params, load_catalog, param_defaults, redact,
                        validate)
from migtui_postgres.pgconn import close_quietly, describe_target, first_line, is_local
from migtui_postgres.rows import metric_samples, plain
from migtui_postgres.schedule import GUESS_MS, Cadence, Stagger, plan_poll, run_now
from migtui_postgres.statement_text import TEXT, TOP, TextCapture

OLDEST_SUPPORTED = 13

SCHEMA = Schema({
    "type": Field("str", required=True),
    "name": Field("str"),
    "dsn": Field("str", default="", dsn=True,
                 doc="libpq URI or key=value string; empty means libpq's PG* environment variables."),
    "interval": Field("duration", minimum=0.1, doc="How often the collector wakes (default: the config's interval)."),
    "timeout": Field("duration", default=10.0, doc="Whole-poll timeout (the host gives up after it)."),
    "statement_timeout": Field("duration", default=2.0, doc="Cap on every monitoring query."),
    "lock_timeout": Field("duration", default=0.2, doc="lock_timeout on the monitoring connection."),
    "connect_timeout": Field("duration", default=5.0, doc="Give up connecting after this long."),
    "include": Field("list", items="str", default=list, doc="Only these catalog queries (default: all)."),
    "exclude": Field("list", items="str", default=list, doc="Catalog queries to skip."),
    "intervals": Field("dict", items="duration", default=dict, doc="Per-query interval overrides."),
    "params": Field("dict", default=dict, doc="Values for the queries' :params."),
    "tables": Field("list", items="str", default=list, doc="The tables the migration touches."),
    "poll_budget": Field("duration", default=0.0, minimum=0.0,
                         doc="Server time one poll may spend on moderate and expensive queries (e.g. 20ms; "
                             "0 = no cap): the least urgent wait for the next poll."),
    "application_name": Field("str", default="migtui",
                              doc="application_name of the monitoring connection (its own queries are told apart)."),
    "migration_application_name": Field("str", default="",
                                        doc="application_name of the migration's sessions (to spot them)."),
})


@dataclass
class QueryState:
    query: Query
    variant: Variant | None
    interval: float
    cadence: Cadence = field(init=False)
    failing: bool = False
    skipped_reason: str = ""
    last_error: str = ""
    prev: dict[Any, tuple[float, float]] = field(default_factory=dict)  # (col, labels) -> (ts, value)
    runs: int = 0
    last_ms: float = 0.0
    deferred: int = 0
    """Polls this query has waited for (the poll budget)."""

    def __post_init__(self) -> None:
        self.cadence = Cadence(self.interval)

    @property
    def cost(self) -> str:
        return self.query.cost

    @property
    def est_ms(self) -> float:
        """Its server time in the next poll: the last run's, or its header's cost class before that."""
        return self.last_ms if self.runs else GUESS_MS.get(self.query.cost, 1.0)


class PostgresCollector:
    """A collector over one PostgreSQL server (see module docstring)."""

    def __init__(self, name: str, opts: dict[str, Any], catalog: Catalog, *, default_interval: float) -> None:
        self.name = name
        self.opts = opts
        self.catalog = catalog
        self.interval = float(opts.get("interval") or default_interval)
        self.timeout = float(opts["timeout"])
        self.dsn = opts["dsn"]
        self.conn: Any = None
        self.server_version = 0
        self.server_version_text = ""
        self.extensions: dict[str, tuple[int, ...]] = {}
        self.states: dict[str, QueryState] = {}
        self._backoff = 0.0
        self._next_connect = 0.0
        self._connect_error = ""
        self._timeout_ms = 0
        self._stagger: Stagger | None = None
        self._phase: Any = None
        self._text = TextCapture()
        self.connected = False
        self.params = {k: v for k, v in opts["params"].items()}
        if opts["tables"] and "tables" not in self.params:
            self.params["tables"] = list(opts["tables"])
        if not self.params.get("cpu_cores") and is_local(self.dsn):
            self.params["cpu_cores"] = os.cpu_count() or 0  # backends_per_core: this host is the server's
        unknown = [q for q in [*opts["include"], *opts["exclude"]] if q not in catalog.queries]
        if unknown:
            raise SourceError(f"source {name!r}: unknown catalog queries {', '.join(unknown)}; see `migtui sql list`")

    opens = True
    """Capability flag (migtui.api.Collector): :meth:`open` connects, for the check at start."""

    @property
    def server(self) -> str:
        """Capability (migtui.api.Collector): the server's major version once connected, e.g. PG16."""
        return f"PG{self.server_version // 10000}" if self.server_version > 0 else ""

    @property
    def session_names(self) -> tuple[str, ...]:
        """Capability (migtui.api.Collector): the migration's application_name on this server."""
        return (str(self.opts.get("migration_application_name") or ""),)

    # ------------------------------------------------------------------ connection

    def connect(self) -> None:
        import psycopg

        o = self.opts
        ms = lambda sec: f"{int(sec * 1000)}ms"  # noqa: E731
        options = (f"-c statement_timeout={ms(o['statement_timeout'])} -c lock_timeout={ms(o['lock_timeout'])} "
                   f"-c default_transaction_read_only=on -c idle_in_transaction_session_timeout=10s")
        try:
            # prepare_threshold=0: each statement is parsed once per connection (and planned once where
            # it has no parameters), not at every run
            self.conn = psycopg.connect(self.dsn, autocommit=True, application_name=o["application_name"],
                                        connect_timeout=max(1, int(o["connect_timeout"])), options=options,
                                        prepare_threshold=0)
        except psycopg.Error as exc:
            raise SourceError(f"cannot connect to PostgreSQL ({describe_target(self.dsn)}): "
                              f"{redact(first_line(exc))}") from None
        info = self.conn.info
        self.server_version = info.server_version
        if self.server_version // 10000 < OLDEST_SUPPORTED:
            major = self.server_version // 10000
            self.conn.close()
            self.conn = None
            raise SourceError(f"PostgreSQL {major} at {describe_target(self.dsn)} is older than the oldest "
                              f"supported version ({OLDEST_SUPPORTED})")
        with self.conn.cursor() as cur:
            cur.execute("SELECT /* migtui */ extname, extversion FROM pg_extension")
            self.extensions = {}
            for extname, extversion in cur.fetchall():
                try:
                    self.extensions[extname] = tuple(int(p) for p in str(extversion).split("."))
                except ValueError:
                    pass
            cur.execute("SELECT /* migtui */ version()")
            self.server_version_text = str(cur.fetchone()[0])
        self._timeout_ms = int(o["statement_timeout"] * 1000)
        self._plan()
        self.connected = True
        self._backoff = 0.0

    def open(self) -> None:
        """Connect now (the engine's start-up check); later polls reconnect on their own."""
        if self.conn is None or self.conn.closed:
            self.connect()

    def selected(self) -> list[Query]:
        """The catalog queries this source runs (its include / exclude options)."""
        include, exclude = set(self.opts["include"]), set(self.opts["exclude"])
        return [q for q in self.catalog if (not include or q.name in include) and q.name not in exclude]

    def _plan(self) -> None:
        old = self.states
        self.states = {}
        for q in self.selected():
            variant = q.variant_for(self.server_version, self.extensions)
            interval = float(self.opts["intervals"].get(q.name, q.interval))
            st = QueryState(q, variant, interval)
            if q.name in old:
                st.prev, st.skipped_reason = old[q.name].prev, old[q.name].skipped_reason
            if variant is None:
                st.skipped_reason = (f"needs extension {q.extension}" if q.extension else
                                     f"needs PostgreSQL {q.min_version}+")
            self.states[q.name] = st
        self._stagger = None  # a new connection: the expensive queries start one per poll again

    def close(self) -> None:
        close_quietly(self.conn)
        self.conn = None
        self.connected = False

    # ------------------------------------------------------------------ collecting

    def collect(self, ctx: Any) -> Iterator[Sample | TableSnapshot | Event]:
        import psycopg

        now = ctx.now if ctx is not None else time.time()
        if self.conn is None or self.conn.closed:
            if time.monotonic() < self._next_connect:
                # the same words until the next attempt, so the event log gets no line per poll
                raise SourceError(f"{self._connect_error}; reconnecting every {self._backoff:.0f}s")
            try:
                self.connect()
            except SourceError as exc:
                self._backoff = min(30.0, max(1.0, self._backoff * 2))
                self._next_connect = time.monotonic() + self._backoff
                self._connect_error = str(exc)
                raise SourceError(f"{self._connect_error}; reconnecting every {self._backoff:.0f}s") from None
        yield Sample(now, self.name, "pg.up", 1.0)
        runnable = [st for st in self.states.values()
                    if st.variant is not None and not st.skipped_reason.startswith("permission")]
        if self._stagger is None:
            self._stagger = Stagger(runnable)
        self._stagger.poll(now, self.interval)
        self._force_due(runnable, getattr(ctx, "phase", None), now)
        planned = plan_poll(runnable, now, self.interval, float(self.opts["poll_budget"]) * 1000)
        planned.sort(key=lambda st: st.query.name == TEXT)  # after statements_top: its new statements' text
        for st in planned:
            st.cadence.ran(now, self.interval)
            try:
                yield from self._run(st, now)
                if st.failing:
                    st.failing = False
                    yield Event("error", f"{self.name}/{st.query.name}", f"query {st.query.name} works again",
                                Level.INFO, {"source": self.name, "query": st.query.name, "recovered": True})
            except psycopg.errors.InsufficientPrivilege as exc:
                need = ", ".join(st.query.privileges) or "more privileges"
                st.skipped_reason = f"permission denied (needs {need})"
                yield Event("error", f"{self.name}/{st.query.name}",
                            f"skipping {st.query.name}: permission denied; grant {need} to the monitoring role",
                            Level.WARN, {"source": self.name, "query": st.query.name, "needs": need,
                                         "error": redact(first_line(exc))})
            except psycopg.errors.QueryCanceled as exc:
                yield from self._query_failed(st, f"timed out ({redact(first_line(exc))}); retried in "
                                                  f"{st.interval:g}s")
            except (psycopg.errors.LockNotAvailable, psycopg.errors.FeatureNotSupported,
                    psycopg.errors.UndefinedObject, psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn,
                    psycopg.errors.UndefinedFunction, psycopg.errors.DataException,
                    psycopg.errors.ObjectNotInPrerequisiteState) as exc:
                yield from self._query_failed(st, redact(first_line(exc)))
            except psycopg.OperationalError as exc:
                self.close()
                raise SourceError(f"lost the connection to {describe_target(self.dsn)}: "
                                  f"{redact(first_line(exc))}") from None
            except psycopg.Error as exc:
                if self.conn is None or self.conn.closed:
                    self.close()
                    raise SourceError(f"lost the connection to {describe_target(self.dsn)}: "
                                      f"{redact(first_line(exc))}") from None
                yield from self._query_failed(st, redact(first_line(exc)))

    def _force_due(self, runnable: list[QueryState], phase: Any, now: float) -> None:
        """Due now besides their intervals: the ``at_phase_start`` queries on a phase's first poll,
        and ``statements_text`` when statements wait for their text (see :mod:`~migtui_postgres.statement_text`)."""
        started = phase != self._phase
        self._phase = phase
        for st in runnable:
            if (started and st.query.at_phase_start) or (st.query.name == TEXT and self._text.urgent(now, st.interval)):
                run_now(st, self._stagger, now)

    def _query_failed(self, st: QueryState, message: str) -> Iterator[Event]:
        first = not st.failing or message != st.last_error
        st.failing, st.last_error = True, message
        if first:
            yield Event("error", f"{self.name}/{st.query.name}", f"query {st.query.name}: {message}", Level.WARN,
                        {"source": self.name, "query": st.query.name})

    def params_for(self, query: Query) -> dict[str, Any]:
        values = param_defaults(query)
        values.update({k: v for k, v in self.params.items() if k in query.params})
        if query.name == TEXT and "queryids" in query.params:
            values["queryids"] = self._text.params(int(values.get("limit") or 500))
        elif query.name == TOP and "exclude_queryids" in query.params:
            values["exclude_queryids"] = self._text.exclude(values.get("exclude_queryids"))
        return values

    def run_query(self, name: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run one catalog query once (``migtui sql run``): (columns, rows)."""
        if self.conn is None:
            self.connect()
        st = self.states.get(name)
        if st is None:
            self.catalog.get(name)
            raise SourceError(f"query {name!r} is excluded by this source's include/exclude options")
        if st.variant is None:
            raise SourceError(f"query {name!r} does not run here: {st.skipped_reason}")
        return self._execute(st)

    def _execute(self, st: QueryState) -> tuple[list[str], list[tuple[Any, ...]]]:
        timeout_ms = int(min(st.query.timeout, self.opts["statement_timeout"]) * 1000)
        with self.conn.cursor() as cur:
            if timeout_ms != self._timeout_ms:  # the connection is only ours: set it when it changes
                self._timeout_ms = 0
                cur.execute(f"SET /* migtui */ statement_timeout = {timeout_ms}")
                self._timeout_ms = timeout_ms
            started = time.perf_counter()
            cur.execute(st.variant.sql, self.params_for(st.query))
            cols = [d.name for d in cur.description or ()]
            rows = cur.fetchall() if cur.description else []
        st.runs += 1
        st.last_ms = (time.perf_counter() - started) * 1000
        return cols, rows

    def _run(self, st: QueryState, now: float) -> Iterator[Sample | TableSnapshot]:
        cols, rows = self._execute(st)
        q = st.query
        if q.kind == "table":
            cells = [tuple(plain(v) for v in r) for r in rows]
            if q.name == TOP:
                self._text.saw(cols, cells)
            elif q.name == TEXT:
                cells = self._text.ran(now, cols, cells)
            yield TableSnapshot(now, self.name, q.name, cols, cells)
            return
        if q.name.startswith("progress_"):
            # progress also feeds the panels' progress tables (pid, phase, relation, done/total)
            yield TableSnapshot(now, self.name, q.name, [c[4:] if c.startswith("tag_") else c for c in cols],
                                [tuple(plain(v) for v in r) for r in rows])
        samples, st.prev = metric_samples(q, self.name, cols, rows, st.prev, now)
        yield from samples

    # ------------------------------------------------------------------ panels

    def panels(self) -> list[PanelSpec]:
        """The panels the catalog's headers declare (``-- panel:``, ``-- show:``...), for this source."""
        return catalog_panels([(q.name, q.display) for q in self.selected() if q.display is not None], self.name)

    @property
    def metric_kinds(self) -> list[MetricSpec]:
        """What kind each metric is (the queries' ``-- kinds:`` lines, :mod:`migtui.sqlkinds`), and ``pg.up``."""
        return [MetricSpec("pg.up", "server reachable", kind="health", direction="lower_is_worse"),
                *(spec for q in self.selected() for spec in q.kinds)]


_IDENT = r'(?:[^\W\d][\w$]*|"(?:[^"]|"")+")'
_TABLE_NAME = re.compile(rf"^{_IDENT}(?:\.{_IDENT}){{0,2}}$")


def _check_tables(opts: dict[str, Any], node: Any, path: str) -> None:
    """Every ``tables:`` entry must be a table name as SQL writes it (``orders``, ``app.orders``,
    ``"Odd Name"``): the queries pass them to ``to_regclass``, where one malformed name would fail
    the whole query for every table."""
    from migtui.api import error_at

    items = node.get("tables") if isinstance(node, dict) else None
    for i, name in enumerate(opts["tables"]):
        if not _TABLE_NAME.match(name):
            raise error_at(items if items is not None else node, i if items is not None else "tables",
                           f"{path}.tables[{i}]", f"{name!r} is not a table name; write it as SQL does, "
                           'e.g. orders, app.orders or "Odd Name" (double quotes around special characters)')


def build(ctx: Any) -> PostgresCollector:
    opts = validate(SCHEMA, ctx.options, ctx.path)
    _check_tables(opts, ctx.options, ctx.path)
    extra: list[tuple[str, Path]] = [(f"sql_dirs:{p}", Path(p)) for p in ctx.sql_dirs]
    catalog = load_catalog([*ctx.plugin_sql_dirs, *extra])
    params_node = ctx.options.get("params") if isinstance(ctx.options.get("params"), dict) else ctx.options
    opts["params"] = check_params(catalog.queries.values(), opts["params"], params_node, f"{ctx.path}.params")
    return PostgresCollector(ctx.name, opts, catalog, default_interval=ctx.config.interval)
