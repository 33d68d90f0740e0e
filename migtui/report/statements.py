"""Queries that got slower: the ``statements_top`` snapshots of pg_stat_statements (cumulative per
``queryid``) turned into each statement's mean time in the baseline and after the migration, in
three groups kept apart:

- the application's statements that got slower (the point of the section), and those that
  appeared only after the migration;
- the migration's own statements: first seen during the migration, or run by the migration's
  sessions (the migration watch's ``migration_statements``: the queryids of the sessions it took for
  the migration's; ``long_running`` snapshots with the migration's application_name);
- migtui's own statements (marked ``/* migtui */``, told apart by ``statements_text``): never listed
  as slower, only their total cost.

Baseline: between the first and the last baseline snapshot (or the cumulative mean at the last one
when it ran no calls in between). Post: between the first and the last post snapshot that list it
(``statements_top`` runs at the start of each phase, so none of the migration's time is mixed in),
or from its last snapshot before post when post has no earlier one. A statement counts as slower only when its mean grew by more than ``report.slower_by``
(a fraction) and by at least ``report.slower_min_ms``, with at least ``report.slower_min_calls``
calls in both windows. The normalized text comes from the ``statements_text`` snapshots (masked and
redacted when collected, redacted again here; escaped by the renderer)."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from migtui.redact import redact

SLOWER_BY = 0.10
"""A statement is listed as slower when its mean grew by more than this fraction ..."""
SLOWER_MIN_MS = 0.1
"""... and by at least this many milliseconds ..."""
SLOWER_MIN_CALLS = 10
"""... with at least this many calls in the baseline and in post."""
TOP = 10
MIGRATION_APP = "migration"
"""The application_name ``migtui run`` gives the migration's sessions when the config names none."""


def statement_options(config: dict[str, Any]) -> dict[str, float]:
    """The thresholds from the run's config (``report`` section), with their defaults."""
    opts = (config or {}).get("report") or {}
    pick = lambda key, default: float(opts[key]) if opts.get(key) is not None else default  # noqa: E731
    return {"slower_by": pick("slower_by", SLOWER_BY), "slower_min_ms": pick("slower_min_ms", SLOWER_MIN_MS),
            "slower_min_calls": pick("slower_min_calls", SLOWER_MIN_CALLS)}


def snapshot_rows(con: Any, run_id: str, name: str, phase: str | None = None) -> list[tuple[str, float, list[dict[str, Any]]]]:
    """(phase, epoch, rows as dicts) of one snapshot name, in time order."""
    sql = "SELECT phase, epoch(ts), columns, rows FROM snapshots WHERE run_id = ? AND name = ?"
    args: list[Any] = [run_id, name]
    if phase is not None:
        sql += " AND phase = ?"
        args.append(phase)
    out = []
    for ph, ts, columns, rows in con.execute(sql + " ORDER BY ts", args).fetchall():
        cols = json.loads(columns)
        out.append((ph, float(ts), [dict(zip(cols, r)) for r in json.loads(rows)]))
    return out


def _snapshots(con: Any, run_id: str) -> list[tuple[str, dict[Any, dict[str, Any]]]]:
    out = []
    for phase, _, rows in snapshot_rows(con, run_id, "statements_top"):
        if rows and not {"queryid", "calls", "total_exec_ms"} <= set(rows[0]):
            continue
        out.append((phase, {r["queryid"]: r for r in rows if r["queryid"] is not None and r["calls"] is not None}))
    return out


def _window(a: dict[str, Any] | None, b: dict[str, Any]) -> tuple[int, float]:
    """(calls, total ms) between two cumulative rows of one statement (``a`` None: since the reset)."""
    if a is None or b["calls"] < a["calls"]:
        return int(b["calls"]), float(b["total_exec_ms"] or 0)
    return int(b["calls"] - a["calls"]), float((b["total_exec_ms"] or 0) - (a["total_exec_ms"] or 0))


def _texts(con: Any, run_id: str) -> tuple[dict[Any, str], dict[str, Any]]:
    """The normalized text by queryid, and migtui's own cost from the ``statements_text`` snapshots
    (each read lists all of migtui's statements: their calls and time between the first read and the
    last, and their share of all statements' time in the database then)."""
    texts: dict[Any, str] = {}
    first: dict[Any, tuple[float, dict[str, Any]]] = {}
    last: dict[Any, dict[str, Any]] = {}
    span: list[float] = []
    db_ms: list[float] = []  # every statement's time in the database at each read
    for _, ts, rows in snapshot_rows(con, run_id, "statements_text"):
        span.append(ts)
        if rows and rows[0].get("db_exec_ms") is not None:
            db_ms.append(float(rows[0]["db_exec_ms"]))
        for r in rows:
            q = r.get("queryid")
            if r.get("query") and q not in texts:
                texts[q] = redact(r["query"])
            if r.get("migtui") and r.get("calls") is not None:
                first.setdefault(q, (ts, r))
                last[q] = r
    calls, total = 0, 0.0
    for q, row in last.items():
        ts, f = first[q]
        if f is not row:
            c, t = _window(f, row)
        elif ts > span[0]:  # not there at the first read: all its calls are in the window
            c, t = _window(None, row)
        else:
            c, t = 0, 0.0
        calls, total = calls + c, total + t
    db_total = db_ms[-1] - db_ms[0] if len(db_ms) > 1 and len(db_ms) == len(span) else None
    return texts, {"statements": len(last), "calls": calls, "total_ms": round(total, 3),
                   "seconds": round(span[-1] - span[0], 3) if span else 0.0, "ids": sorted(last, key=str),
                   "share": total / db_total if db_total and db_total > 0 and total <= db_total else None}


def _migration_apps(config: dict[str, Any]) -> set[str]:
    """The migration's application_name patterns (``migration.application_name`` may be a glob)."""
    names = {str((config.get("migration") or {}).get("application_name") or "")}
    names |= {str(s.get("migration_application_name") or "") for s in config.get("sources") or ()
              if isinstance(s, dict)}
    return (names - {""}) or {MIGRATION_APP}


def _migration_queryids(con: Any, run_id: str, apps: set[str]) -> set[Any]:
    """The queryids the migration's sessions ran: those the migration watch saw in the sessions it took
    for the migration's (``migration_statements``), and those running in sessions with the migration's
    application_name during the migration (``long_running`` snapshots)."""
    seen = {r["query_id"] for _, _, rows in snapshot_rows(con, run_id, "migration_statements") for r in rows}
    seen |= {r["query_id"] for _, _, rows in snapshot_rows(con, run_id, "long_running", "migration") for r in rows
             if any(fnmatch.fnmatchcase(str(r.get("application_name") or ""), app) for app in apps)}
    return seen - {None}


def slower_queries(con: Any, run_id: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"available", "why", "options", "slower", "new_after", "migration", "migtui"}``; each statement:
    queryid, text, username, calls and mean ms before and after, the change, its share of post time."""
    config = config or {}
    opts = statement_options(config)
    snaps = _snapshots(con, run_id)
    base = [s for p, s in snaps if p == "baseline"]
    before_post = [s for p, s in snaps if p != "post"]
    post = [s for p, s in snaps if p == "post"]
    texts, own = _texts(con, run_id)
    empty = {"available": False, "options": opts, "slower": [], "new_after": [], "migration": [], "migtui": own,
             "new_during_migration": []}
    if not base or not post:
        return {**empty, "why": "no pg_stat_statements snapshots (statements_top) in both the baseline and post"}
    own_ids = set(own["ids"])
    p1 = post[-1]
    seen_base = set().union(*base)
    seen_before = set().union(*before_post)
    during = (seen_before - seen_base) | _migration_queryids(con, run_id, _migration_apps(config))
    def last(snaps: list[dict[Any, dict[str, Any]]], q: Any) -> dict[str, Any] | None:
        """The statement's row in the latest of ``snaps`` that lists it (a statement can drop out of
        the top list for a while)."""
        return next((s[q] for s in reversed(snaps) if q in s), None)

    def after(q: Any, row: dict[str, Any]) -> tuple[int, float]:
        """(calls, total ms) after the migration: from the first post snapshot that lists the statement
        (no migration time mixed in), or from its last row before post when post has no earlier one."""
        first = next((s[q] for s in post if q in s), None)
        if first is not None and first is not row and first["calls"] < row["calls"]:
            return _window(first, row)
        return _window(last(before_post, q), row)

    windows = {q: after(q, row) for q, row in p1.items() if q not in own_ids}  # (calls, total ms) in post
    all_post = sum(total for _, total in windows.values() if total > 0) or 1.0
    slower, new_after = [], []
    min_calls = opts["slower_min_calls"]
    for q, row in p1.items():
        if q in own_ids or q in during:
            continue
        calls_after, total_after = windows[q]
        entry = {"queryid": q, "text": texts.get(q), "username": row.get("username"), "calls_after": calls_after,
                 "mean_after_ms": total_after / calls_after if calls_after else None,
                 "share_after": max(0.0, total_after) / all_post}
        if q not in seen_before:
            new_after.append(entry)
            continue
        if q not in seen_base or calls_after < max(1, min_calls):
            continue
        b0, b1 = next(s[q] for s in base if q in s), last(base, q)
        calls_b, total_b = _window(b0 if b0 is not b1 else None, b1)
        if not calls_b:
            calls_b, total_b = _window(None, b1)
        if calls_b < max(1, min_calls):
            continue
        mean_b = total_b / calls_b
        change = entry["mean_after_ms"] - mean_b
        entry.update(calls_before=calls_b, mean_before_ms=mean_b, change_ms=change,
                     total_change_ms=change * calls_after)
        if entry["mean_after_ms"] > mean_b * (1 + opts["slower_by"]) and change >= opts["slower_min_ms"]:
            slower.append(entry)
    slower.sort(key=lambda e: (-e["total_change_ms"], -e["change_ms"]))
    new_after.sort(key=lambda e: -e["share_after"])
    return {"available": True, "why": "", "options": opts, "slower": slower[:TOP], "new_after": new_after[:TOP],
            "migration": _migration_statements(snaps, during - own_ids, texts), "migtui": own,
            "new_during_migration": sorted(during - own_ids, key=str)[:TOP]}


def _migration_statements(snaps: list[tuple[str, dict[Any, dict[str, Any]]]], ids: set[Any],
                          texts: dict[Any, str]) -> list[dict[str, Any]]:
    """The migration's statements with their calls and time during the migration (from the last
    snapshot before it to the last one in it; cumulative at the end of the run when it had none)."""
    before = [s for p, s in snaps if p == "baseline"]
    during = [s for p, s in snaps if p == "migration"] or [snaps[-1][1]]
    a, b = (before[-1] if before else {}), during[-1]
    out = []
    for q in ids:
        row = b.get(q) or next((s[q] for _, s in reversed(snaps) if q in s), None)
        if row is None:
            out.append({"queryid": q, "text": texts.get(q), "username": None, "calls": None, "total_ms": None,
                        "mean_ms": None})
            continue
        calls, total = _window(a.get(q), row)
        out.append({"queryid": q, "text": texts.get(q), "username": row.get("username"), "calls": calls,
                    "total_ms": total, "mean_ms": total / calls if calls else None})
    out.sort(key=lambda e: -(e["total_ms"] or 0))
    return out[:TOP]
