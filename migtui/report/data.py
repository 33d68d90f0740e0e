"""The report as plain data (what the JSON format writes): the run, its phases, its events by kind,
the per-series statistics and the checklist. Text from the store is redacted once more here."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from migtui.errors import StoreError
from migtui.redact import redact, redact_obj
from migtui.report.checklist import post_migration_checklist
from migtui.report.health import judge_series
from migtui.report.indexes import index_changes
from migtui.report.statements import slower_queries
from migtui.report.statistics import ALPHA, MIN_SAMPLES, series_statistics
from migtui.report.summary import outcome, what_ran, worst_moment
from migtui.report.lint import lint_section
from migtui.report.throttle import throttle_timeline


def _iso(ts: Any) -> str | None:
    if ts is None:
        return None
    if isinstance(ts, datetime):
        return ts.astimezone(timezone.utc).isoformat()
    return str(ts)


def resolve_run(con: Any, run_id: str) -> str:
    if run_id in (None, "", "latest"):
        row = con.execute("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
        if not row:
            raise StoreError("the store holds no runs yet")
        return str(row[0])
    row = con.execute("SELECT run_id FROM runs WHERE run_id = ?", [run_id]).fetchone()
    if not row:
        raise StoreError(f"no run {run_id!r} in this store; `migtui runs --store FILE` lists them")
    return run_id


def _events(con: Any, run_id: str) -> list[dict[str, Any]]:
    rows = con.execute("SELECT ts, phase, kind, subject, level, message, data FROM events WHERE run_id = ? "
                       "ORDER BY ts, rowid", [run_id]).fetchall()
    out = []
    for ts, phase, kind, subject, level, message, data in rows:
        out.append({"ts": _iso(ts), "phase": phase, "kind": kind, "subject": redact(subject), "level": level,
                    "message": redact(message), "data": redact_obj(json.loads(data)) if data else {}})
    return out


def _phases(run: dict[str, Any], events: list[dict[str, Any]], last_ts: datetime | None) -> list[dict[str, Any]]:
    start = run["started_at"]
    first = next((e["phase"] for e in events), "baseline")
    changes = [e for e in events if e["kind"] == "phase"]
    if changes:
        first = changes[0]["data"].get("from", first)
    segs: list[dict[str, Any]] = []
    cur_phase, cur_start = first, start
    for e in changes:
        ts = datetime.fromisoformat(e["ts"])
        segs.append({"phase": cur_phase, "start": cur_start, "end": ts, "who": None})
        cur_phase, cur_start = e["data"].get("to", e["subject"]), ts
    end = run["ended_at"] or last_ts or cur_start
    segs.append({"phase": cur_phase, "start": cur_start, "end": max(end, cur_start)})
    for i, seg in enumerate(segs):
        seg["seconds"] = round((seg["end"] - seg["start"]).total_seconds(), 3)
        seg["started_by"] = (changes[i - 1]["data"].get("who") if i > 0 else "start")
        seg["why"] = (changes[i - 1]["data"].get("why") if i > 0 else "")
    return [{"phase": s["phase"], "start": _iso(s["start"]), "end": _iso(s["end"]), "seconds": s["seconds"],
             "started_by": s["started_by"], "why": s["why"] or ""} for s in segs]


def build_report(con: Any, run_id: str = "latest", settle: Any = None) -> dict[str, Any]:
    """The report as plain data (what the JSON format writes). ``con``: a DuckDB connection/cursor;
    ``settle``: :meth:`migtui.store.Store.settled` of its store (a run whose end was never recorded
    does not read ``running`` in a report of a store nobody writes)."""
    run_id = resolve_run(con, run_id)
    cols = ["run_id", "name", "started_at", "ended_at", "status", "host", "version", "baseline_of", "config"]
    row = con.execute(f"SELECT {', '.join(cols)} FROM runs WHERE run_id = ?", [run_id]).fetchone()
    run = dict(zip(cols, row))
    if settle is not None:
        run = settle([run])[0]
    events = _events(con, run_id)
    counts = {t: int(con.execute(f"SELECT count(*) FROM {t} WHERE run_id = ?", [run_id]).fetchone()[0])
              for t in ("series", "samples", "snapshots", "events", "baselines")}
    last_ts = con.execute("SELECT max(ts) FROM samples WHERE run_id = ?", [run_id]).fetchone()[0]
    phases = _phases(run, events, last_ts)
    totals: dict[str, float] = {}
    for seg in phases:
        totals[seg["phase"]] = round(totals.get(seg["phase"], 0.0) + seg["seconds"], 3)

    base_run = run["baseline_of"] or run_id
    series = series_statistics(con, run_id, base_run, counts["samples"])

    def kind(k: str) -> list[dict[str, Any]]:
        return [e for e in events if e["kind"] == k]

    report = {
        "format": "migtui-report",
        "format_version": 2,
        "generated_at": datetime.now(timezone.utc).isoformat(),
        "run": {**{k: (_iso(v) if isinstance(v, datetime) else v) for k, v in run.items() if k != "config"},
                "config": redact_obj(json.loads(run["config"])) if run["config"] else {}},
        "baseline_run": base_run,
        "counts": counts,
        "phases": phases,
        "phase_seconds": totals,
        "statistics": {"test": "Mann-Whitney U, two-sided, normal approximation with tie and continuity correction",
                       "alpha": ALPHA, "min_samples": MIN_SAMPLES,
                       "differs_post": sum(1 for s in series if s["post_vs_baseline"].get("verdict") == "differs")},
        "series": series,
        "events": events,
        "triggers": kind("trigger"),
        "alerts": kind("alert"),
        "actions": [e for e in kind("action") if e["data"].get("stage", "result") == "result" or "ok" in e["data"]],
        "checks": kind("check"),
        "errors": kind("error"),
        "notes": kind("note"),
        "lint": lint_section(events),
        "throttle": throttle_timeline(events, phases[-1]["end"] if phases else None),
    }
    judge_series(con, report)
    report["statements"] = slower_queries(con, run_id, report["run"]["config"])
    report["indexes"] = index_changes(con, run_id, report["run"]["config"])
    report["checklist"] = post_migration_checklist(report, con=con)
    report["outcome"] = outcome(report)
    report["what_ran"] = what_ran(report)
    report["worst_moment"] = worst_moment(con, report)
    return report
