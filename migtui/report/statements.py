"""Queries that got slower: the ``statements_top`` snapshots of pg_stat_statements (cumulative per
``queryid``) turned into each statement's mean time in the baseline and after the migration.

Baseline: between the first and the last baseline snapshot (or the cumulative mean at the last one
when it ran no calls in between). Post: between the last snapshot before post and the last post
snapshot. Statements first seen during the migration are the migration's (or its side effects'),
listed apart from those that appeared only after it."""

from __future__ import annotations

import json
from typing import Any

SLOWER_BY = 0.10
"""A statement is listed as slower when its mean grew by more than this fraction."""
TOP = 10


def _snapshots(con: Any, run_id: str) -> list[tuple[str, dict[Any, dict[str, Any]]]]:
    out = []
    for phase, columns, rows in con.execute("SELECT phase, columns, rows FROM snapshots WHERE run_id = ? AND "
                                            "name = 'statements_top' ORDER BY ts", [run_id]).fetchall():
        cols = json.loads(columns)
        if not {"queryid", "calls", "total_exec_ms"} <= set(cols):
            continue
        by_id = {}
        for r in json.loads(rows):
            row = dict(zip(cols, r))
            if row["queryid"] is not None and row["calls"] is not None:
                by_id[row["queryid"]] = row
        out.append((phase, by_id))
    return out


def _window(a: dict[str, Any] | None, b: dict[str, Any]) -> tuple[int, float]:
    """(calls, total ms) between two cumulative rows of one statement (``a`` None: since the reset)."""
    if a is None or b["calls"] < a["calls"]:
        return int(b["calls"]), float(b["total_exec_ms"] or 0)
    return int(b["calls"] - a["calls"]), float((b["total_exec_ms"] or 0) - (a["total_exec_ms"] or 0))


def slower_queries(con: Any, run_id: str) -> dict[str, Any]:
    """``{"available", "why", "slower", "new_after", "new_during_migration"}``; each statement:
    queryid, username, calls and mean ms before and after, the change, and its share of post time."""
    snaps = _snapshots(con, run_id)
    base = [s for p, s in snaps if p == "baseline"]
    before_post = [s for p, s in snaps if p != "post"]
    post = [s for p, s in snaps if p == "post"]
    if not base or not post:
        return {"available": False, "slower": [], "new_after": [], "new_during_migration": [],
                "why": "no pg_stat_statements snapshots (statements_top) in both the baseline and post"}
    b0, b1, m, p1 = base[0], base[-1], before_post[-1], post[-1]
    seen_base = set().union(*base)
    seen_before = set().union(*before_post)
    post_totals = {q: _window(m.get(q), row)[1] for q, row in p1.items()}
    all_post = sum(v for v in post_totals.values() if v > 0) or 1.0
    slower, new_after = [], []
    for q, row in p1.items():
        calls_after, total_after = _window(m.get(q), row)
        entry = {"queryid": q, "username": row.get("username"), "calls_after": calls_after,
                 "mean_after_ms": total_after / calls_after if calls_after else None,
                 "share_after": max(0.0, total_after) / all_post}
        if q not in seen_before:
            new_after.append(entry)
            continue
        if q not in seen_base or not calls_after:
            continue
        calls_b, total_b = _window(b0.get(q) if len(base) > 1 else None, b1[q])
        if not calls_b:
            calls_b, total_b = _window(None, b1[q])
        mean_b = total_b / calls_b if calls_b else None
        if mean_b is None or entry["mean_after_ms"] is None:
            continue
        entry.update(calls_before=calls_b, mean_before_ms=mean_b, change_ms=entry["mean_after_ms"] - mean_b,
                     total_change_ms=total_after - mean_b * calls_after)
        if entry["mean_after_ms"] > mean_b * (1 + SLOWER_BY):
            slower.append(entry)
    slower.sort(key=lambda e: -e["change_ms"])
    new_after.sort(key=lambda e: -e["share_after"])
    during = sorted(seen_before - seen_base)
    return {"available": True, "why": "", "slower": slower[:TOP], "new_after": new_after[:TOP],
            "new_during_migration": during[:TOP]}
