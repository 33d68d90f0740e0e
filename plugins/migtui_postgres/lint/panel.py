"""The cockpit's panel "Pending migration": ``migration.files`` linted again and again while the run is
in the phases ``migration.lint_phases`` names (the baseline by default), with live evidence.

The analysis is a source like any other (the engine polls it on a worker thread, never on the UI loop,
and polls of it never overlap; its connection is the lint's read-only one with statement_timeout and
lock_timeout, so it never waits on a lock). Each poll yields one :class:`TableSnapshot`
``pending_migration``: a row per statement with its file:line, a short SQL excerpt, the locks it takes,
its findings, the risk and the sessions it would queue behind right now (pid, state, transaction age).
The cockpit draws it from the frame like any other table (every cell through :mod:`migtui.safetext`).

The run component ``lint`` records what the report needs: an event ``lint`` whenever the findings or
the blockers change (the first analysis included), carrying the statements in a compact form."""

from __future__ import annotations

import os
import threading
from typing import Any, Sequence

from migtui.api import (CollectContext, Event, Level, PanelSpec, RunComponent, RunContext, Sample, TableSnapshot,
                        TableSpec)
from migtui_postgres.lint.live import _ago as _age

SOURCE = "pending-migration"
TABLE = "pending_migration"
COLUMNS = ("statement", "risk", "blockers", "locks", "findings", "sql")
"""In the order the cockpit gives way: a narrow window drops the last columns first."""
SQL_EXCERPT = 40


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


def _shown_path(name: str, base: str) -> str:
    """A file under the config's folder relative to it; any other as given."""
    if base and os.path.isabs(name) and not os.path.relpath(name, base).startswith(".."):
        return os.path.relpath(name, base)
    return name


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


def row(item: dict[str, Any]) -> tuple[Any, ...]:
    """The panel's row of one statement, in :data:`COLUMNS` order."""
    sql = item["sql"]
    return (f"{os.path.basename(item['file'])}:{item['line']}", item["risk"],
            "; ".join(f"pid {b['pid']} {b['state'] or 'backend'} {_age(b['xact_age_s'])}" for b in item["blockers"])
            or "none",
            ", ".join(f"{lk['mode']} {lk['relation']}" for lk in item["locks"]) or "-",
            ", ".join(f["rule"] for f in item["findings"]) or "-",
            sql if len(sql) <= SQL_EXCERPT else sql[:SQL_EXCERPT - 1] + "…")


class PendingCollector:
    """The source ``pending-migration``: one lint of ``migration.files`` per poll, in the lint phases."""

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
        self.latest: dict[str, Any] | None = None
        """The last analysis: ``{ts, statements: [compact], errors, warnings}`` (replaced whole, never changed)."""

    def collect(self, ctx: CollectContext) -> list[Sample | TableSnapshot]:
        if ctx.phase.value not in self.phases:
            return []  # the panel keeps the last analysis
        from migtui_postgres.lint import lint
        from migtui_postgres.lint.check import _files

        patterns = (self.config.get("migration") or {}).get("files") or []
        files, missing = _files(self.config, patterns)
        result = lint(files, dsn=self.dsn, sample=self.sample)
        base = str(self.config.resolve_path("."))
        items = [compact(st, base) for st in result["statements"]]
        warnings = list(result["warnings"]) + [f"no file matches migration.files {m!r}" for m in missing]
        errors = [{**e, "file": _shown_path(e["file"], base)} for e in result["errors"]]
        rows = [row(i) for i in items]
        rows += [(f"{os.path.basename(e['file'])}:{e['line']}", "error", "-", "-", f"parse-error: {e['message']}", "")
                 for e in errors]
        rows += [("warning", "-", "-", "-", w, "") for w in warnings]
        with self._lock:
            self.latest = {"ts": ctx.now, "statements": items, "errors": errors, "warnings": warnings}
        return [TableSnapshot(ctx.now, self.name, TABLE, COLUMNS, rows)]

    def panels(self) -> list[PanelSpec]:
        return [PanelSpec("schema", "Pending migration", tables=(
            TableSpec(TABLE, "Pending migration (migration.files: locks, risk, blockers now)", columns=COLUMNS),),
            source=self.name)]

    def snapshot(self) -> dict[str, Any] | None:
        with self._lock:
            return self.latest

    def close(self) -> None:
        pass


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


def build_component(run: RunContext) -> PendingLint | None:
    """The ``migtui_run_components`` factory: None unless ``migration.files`` and a postgres source."""
    from migtui_postgres.migration_config import parse_migration_config
    from migtui_postgres.pgconn import postgres_sources

    config = run.config
    opts = parse_migration_config(config.raw.get("migration"), "migration")
    sources = postgres_sources(config)
    if not opts["files"] or not sources or not opts["lint_phases"]:
        return None
    collector = PendingCollector(config, sources[0][1], interval=float(opts["lint_interval"]),
                                 phases=opts["lint_phases"], sample=float(opts["lint_sample"]))
    run.add_source(collector, type="lint")
    return PendingLint(run, collector)


__all__ = ["PendingCollector", "PendingLint", "build_component"]
