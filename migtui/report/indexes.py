"""New and dropped indexes: the ``index_inventory`` snapshots (every index of the user tables, taken
at the start of each phase and on an interval) compared between the baseline and post.

An index is new when its oid is in the last post snapshot and not in the last baseline one (a
rebuilt index of the same name is new too: its scans start again at 0), dropped when it is the
other way round. A new index's ``idx_scan`` at the end is its scans since it was created (unless the
statistics were reset). It is flagged unused when it had no scan at all although it existed for at
least ``report.unused_index_after`` of post."""

from __future__ import annotations

from typing import Any

from migtui.redact import redact
from migtui.report.statements import snapshot_rows
from migtui.schema import parse_duration

UNUSED_AFTER = 300.0
"""Seconds of post an index must exist without a scan before it is flagged unused."""


def unused_after(config: dict[str, Any]) -> float:
    value = ((config or {}).get("report") or {}).get("unused_index_after")
    return parse_duration(value) if value is not None else UNUSED_AFTER


def index_changes(con: Any, run_id: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"available", "why", "unused_after", "new", "dropped"}``; a new index: name, relation, scans,
    bytes, valid, first seen (epoch), seconds of post it existed, unused; a dropped one: name,
    relation, scans before, bytes."""
    after = unused_after(config or {})
    snaps = [(ph, ts, {r["index_oid"]: r for r in rows}) for ph, ts, rows in snapshot_rows(con, run_id, "index_inventory")]
    base = [s for s in snaps if s[0] == "baseline"]
    post = [s for s in snaps if s[0] == "post"]
    if not base or not post:
        return {"available": False, "why": "no index list (index_inventory) in both the baseline and post",
                "unused_after": after, "new": [], "dropped": []}
    b, (_, end, p) = base[-1][2], post[-1]
    post_start = post[0][1]
    first_seen = {}
    for _, ts, rows in snaps:
        for oid in rows:
            first_seen.setdefault(oid, ts)
    new = []
    for oid, r in p.items():
        if oid in b:
            continue
        existed = end - max(first_seen[oid], post_start)
        scans = int(r["idx_scan"] or 0)
        new.append({"index": redact(r["index_name"]), "relation": redact(r["relation"]), "scans": scans,
                    "bytes": r["index_bytes"], "valid": bool(r["is_valid"]), "first_seen": first_seen[oid],
                    "post_seconds": round(existed, 3), "unused": scans == 0 and existed >= after})
    dropped = [{"index": redact(r["index_name"]), "relation": redact(r["relation"]), "scans_before": r["idx_scan"],
                "bytes": r["index_bytes"]} for oid, r in b.items() if oid not in p]
    new.sort(key=lambda e: (not e["unused"], e["index"]))
    dropped.sort(key=lambda e: e["index"])
    return {"available": True, "why": "", "unused_after": after, "new": new, "dropped": dropped}
