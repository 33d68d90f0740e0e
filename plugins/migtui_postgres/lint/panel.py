"""The cockpit's panel "Pending migration": the config's pending migration (:mod:`.resolve`:
``migration.files``, ``migration.command`` of a known tool, or a tool detected on the server) linted
again and again while the run is in the phases ``migration.lint_phases`` names (the baseline by
default), with live evidence.

The analysis is a source like any other (the engine polls it on a worker thread, never on the UI loop,
and polls of it never overlap). It keeps one read-only connection across polls (the lint's, with
statement_timeout and lock_timeout, so it never waits on a lock), connects again on the next poll when
that connection broke, and closes it at exit (the engine closes sources off the exit path). Each poll
yields one :class:`TableSnapshot` ``pending_migration``: a row per statement with its file:line, the
risk, the sessions it would queue behind right now, the locks it takes, its findings and a short SQL
excerpt, each cell in a short form that fits an 80-column terminal (``pid 4211 idle-in-tx 4m``,
``AccessExclusive orders``); the panel wraps a cell rather than cut it. The cockpit draws it from the
frame like any other table (every cell through :mod:`migtui.safetext`).

The run component ``lint`` records what the report needs: an event ``lint`` whenever the findings or
the blockers change (the first analysis included), carrying the statements in a compact form."""

from __future__ import annotations

import os
import threading
from typing import Any, Sequence

from migtui.api import (CollectContext, Event, Level, PanelSpec, RunComponent, RunContext, Sample, TableSnapshot,
                        TableSpec)
from migtui_postgres.lint.live import _ago as _age
from migtui_postgres.lint.resolve import shown_path as _shown_path

SOURCE = "pending-migration"
TABLE = "pending_migration"
COLUMNS = ("statement", "risk", "blockers", "findings", "locks", "sql")
"""In the order the cockpit gives way: a narrow window drops the last columns first."""
SQL_EXCERPT = 40
STATES = {"idle in transaction": "idle-in-tx", "idle in transaction (aborted)": "idle-in-tx-aborted",
          "active": "active", "idle": "idle", "": "backend"}


def _blockers(st: dict[str, Any]) -> list[dict[str, Any]]:
    """The sessions ``st`` would queue behind now, once each (over every relation it locks)."""
    seen: dict[Any, dict[str, Any]] = {}
    for rel in ((st.get("live") or {}).get("relations") or ()):
        for b in rel["blockers"]:
            seen.setdefault(b["pid"], {**b, "relation": rel["relation"]})
    return list(seen.values())


def _risk(st: dict[str, Any]) -> str:
    live = st.get("live")
    if live:
        return str(live["risk"])
    sev = {f["severity"] for f in st["findings"] if not f.get("ignored")}
    return "error" if "error" in sev else ("warn" if "warn" in sev else "-")


def compact(st: dict[str, Any], base: str) -> dict[str, Any]:
    """One statement as the panel and the report show it (plain JSON values)."""
    return {"file": _shown_path(st["file"], base), "line": st["line"], "sql": " ".join(st["sql"].split())[:300],
            "locks": [dict(lk) for lk in st["locks"]], "risk": _risk(st), "rewrites": st["rewrites"],
            "scans": st["scans"],
            "findings": [{"rule": f["rule"], "severity": f["severity"], "message": f["message"]}
                         for f in st["findings"] if not f.get("ignored")],
            "blockers": [{"pid": b["pid"], "state": b["state"], "xact_age_s": b["xact_age_s"],
                          "relation": b["relation"], "query": b["query"]} for b in _blockers(st)],
            "message": (st.get("live") or {}).get("message", "")}


def blocker_cell(blockers: list[dict[str, Any]]) -> str:
    """``pid 4211 idle-in-tx 4m`` (the oldest first), ``+2`` for the others; ``none``."""
    if not blockers:
        return "none"
    b = blockers[0]
    more = f" +{len(blockers) - 1}" if len(blockers) > 1 else ""
    return f"pid {b['pid']} {STATES.get(b['state'] or '', b['state'])} {_age(b['xact_age_s'])}{more}"


def lock_cell(locks: list[dict[str, Any]]) -> str:
    """``AccessExclusive orders, ShareRowExclusive customers`` (pg_locks names without ``Lock``)."""
    return ", ".join(f"{lk['mode'].removesuffix('Lock')} {lk['relation']}" for lk in locks) or "-"


def statement_cell(file: str, line: int) -> str:
    """``V9__total.sql:4``; a tool's name as given (``alembic:b2:3``, ``django:shop.0002:5``)."""
    return f"{os.path.basename(file) if os.sep in file else file}:{line}"


def row(item: dict[str, Any]) -> tuple[Any, ...]:
    """The panel's row of one statement, in :data:`COLUMNS` order."""
    sql = item["sql"]
    return (statement_cell(item["file"], item["line"]), item["risk"], blocker_cell(item["blockers"]),
            " ".join(f["rule"] for f in item["findings"]) or "-", lock_cell(item["locks"]),
            sql if len(sql) <= SQL_EXCERPT else sql[:SQL_EXCERPT - 1] + "…")


class PendingCollector:
    """The source ``pending-migration``: the config's pending migration linted once per poll, in the lint
    phases, over one connection kept across polls."""

    server = ""

    def __init__(self, config: Any, dsn: str, *, interval: float, phases: Sequence[str], sample: float) -> None:
        self.name = SOURCE
        self.config = config
        self.dsn = dsn
        self.interval = interval
        self.timeout = max(10.0, sample + 8.0)
        self.phases = set(phases)
        self.sample = sample
        self._lock = threading.Lock()
        self.conn: Any = None
        self.connects = 0
        """How many times the source connected (once, unless a connection broke)."""
        self._asked: dict[Any, Any] = {}  # Alembic's and Django's answers (resolve.ASK_EVERY)
        self.latest: dict[str, Any] | None = None
        """The last analysis: ``{ts, origin, statements: [compact], errors, warnings}`` (replaced whole)."""

    def _connection(self) -> tuple[Any, str]:
        """The kept connection, connected again when there is none or it broke; ``(conn, warning)``."""
        from migtui_postgres.lint import live
        from migtui_postgres.pgconn import close_quietly

        if self.conn is not None and (self.conn.closed or self.conn.broken):
            close_quietly(self.conn)
            self.conn = None
        if self.conn is None and self.dsn:
            conn, _, warning = live.connect(self.dsn)
            if warning:
                return None, warning
            self.conn, self.connects = conn, self.connects + 1
        return self.conn, ""

    def collect(self, ctx: CollectContext) -> list[Sample | TableSnapshot]:
        if ctx.phase.value not in self.phases:
            return []  # the panel keeps the last analysis
        from migtui_postgres.lint.resolve import analyse

        conn, warning = self._connection()
        result = analyse(self.config, conn, sample=self.sample, cache=self._asked)
        if conn is not None and conn.broken:  # next poll connects again
            self.close()
        if result is None:  # a tool's layout under migration.project, but no tool on the server (yet)
            result = {"origin": "", "statements": [], "errors": [], "warnings": [], "error": "",
                      "notes": ["no pending migration known: no migration tool's history table on the server "
                                "(set migration.files or migration.command to name it)"]}
        base = str(self.config.resolve_path("."))
        items = [compact(st, base) for st in result["statements"]]
        warnings = ([warning] if warning else []) + list(result["warnings"])
        errors = [{**e, "file": _shown_path(e["file"], base)} for e in result["errors"]]
        rows = [row(i) for i in items]
        rows += [(statement_cell(e["file"], e["line"]), "error", "-", f"parse-error: {e['message']}", "-", "")
                 for e in errors]
        if result["error"]:
            rows.append(("cannot lint", "error", "-", result["error"], "-", ""))
        rows += [("note", "-", "-", n, "-", "") for n in result["notes"]]
        rows += [("warning", "-", "-", w, "-", "") for w in warnings]
        with self._lock:
            self.latest = {"ts": ctx.now, "origin": result["origin"], "statements": items, "errors": errors,
                           "warnings": ([result["error"]] if result["error"] else []) + list(result["notes"])
                           + warnings}
        return [TableSnapshot(ctx.now, self.name, TABLE, COLUMNS, rows)]

    def panels(self) -> list[PanelSpec]:
        return [PanelSpec("schema", "Pending migration", tables=(
            TableSpec(TABLE, "Pending migration (locks, risk, blockers now)", render="wrap", columns=COLUMNS),),
            source=self.name)]

    def snapshot(self) -> dict[str, Any] | None:
        with self._lock:
            return self.latest

    def close(self) -> None:
        from migtui_postgres.pgconn import close_quietly

        conn, self.conn = self.conn, None
        close_quietly(conn)


def _digest(latest: dict[str, Any]) -> Any:
    return repr([(i["file"], i["line"], i["risk"], [f["rule"] for f in i["findings"]],
                  sorted(b["pid"] for b in i["blockers"])) for i in latest["statements"]] + [latest["errors"]])


class PendingLint(RunComponent):
    """The run component ``lint``: an event ``lint`` each time the analysis' findings or blockers change."""

    name = "lint"

    def __init__(self, run: RunContext, collector: PendingCollector) -> None:
        self.run = run
        self.collector = collector
        self._shown: Any = None
        self._latest: dict[str, Any] | None = None

    def on_step(self, now: float, samples: Sequence[Sample], snapshots: Sequence[TableSnapshot]) -> None:
        latest = self.collector.snapshot()
        if latest is None or latest is self._latest:
            return
        self._latest = latest
        digest = _digest(latest)
        if digest == self._shown:
            return
        self._shown = digest
        items = latest["statements"]
        findings = sum(len(i["findings"]) for i in items)
        blocked = [i for i in items if i["blockers"]]
        msg = f"pending migration: {len(items)} statements, {findings} findings"
        if blocked:
            b = blocked[0]["blockers"][0]
            msg += (f"; {os.path.basename(blocked[0]['file'])}:{blocked[0]['line']} would queue behind pid {b['pid']} "
                    f"({b['state'] or 'backend'} {_age(b['xact_age_s'])})")
        level = Level.WARN if blocked or latest["errors"] or any(
            f["severity"] == "error" for i in items for f in i["findings"]) else Level.INFO
        self.run.emit(Event("lint", "pending migration", msg, level, dict(latest)))

    def status(self) -> dict[str, Any]:
        latest = self.collector.snapshot()
        return {"phases": sorted(self.collector.phases), "analysed_at": latest["ts"] if latest else None,
                "statements": len(latest["statements"]) if latest else 0}


ASKED = ("alembic", "django")
ASK_TIMEOUT = 60.0
"""More time for an analysis that may have to ask Alembic or Django (each starts a Python that connects)."""


def named_tools(config: Any, opts: dict[str, Any]) -> list[str]:
    """The tools the config names for its pending migration, without a server: ``["files"]`` for
    ``migration.files``, the tool of a ``migration.command`` migtui knows, else the tools whose
    conventional layout is in ``migration.project`` (whether one is on the server is each analysis'
    business); ``[]``: none."""
    from migtui.api import from_command, layouts_under

    if opts["files"]:
        return ["files"]
    project = from_command(opts["command"], config.path.parent) if opts["command"] else None
    if project is not None:
        return [project.tool]
    return layouts_under(config.resolve_path(opts["project"] or "."))


def build_component(run: RunContext) -> PendingLint | None:
    """The ``migtui_run_components`` factory: None unless the config names a migration
    (:func:`named_tools`) and has a postgres source."""
    from migtui_postgres.migration_config import parse_migration_config
    from migtui_postgres.pgconn import postgres_sources

    config = run.config
    opts = parse_migration_config(config.raw.get("migration"), "migration")
    sources = postgres_sources(config)
    tools = named_tools(config, opts) if sources and opts["lint_phases"] else []
    if not tools:
        return None
    collector = PendingCollector(config, sources[0][1], interval=float(opts["lint_interval"]),
                                 phases=opts["lint_phases"], sample=float(opts["lint_sample"]))
    if any(t in ASKED for t in tools):
        collector.timeout += ASK_TIMEOUT
    run.add_source(collector, type="lint")
    return PendingLint(run, collector)


__all__ = ["PendingCollector", "PendingLint", "build_component"]
