"""The throttle in a report: every period the migration was throttled (from the run's ``throttle``
events: one when it started, one when it was released) and the time spent throttled."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def throttle_timeline(events: list[dict[str, Any]], run_end: str | None) -> dict[str, Any]:
    """``{"periods": [{"start", "end", "seconds", "reason", "released"}], "seconds", "count"}``; a
    throttle still in force at the end of the run ends at ``run_end`` (``released`` False)."""
    periods: list[dict[str, Any]] = []
    open_: dict[str, Any] | None = None
    for e in events:
        op = e["kind"] == "throttle" and e["data"].get("op")
        if op == "throttle" and open_ is None:
            open_ = {"start": e["ts"], "reason": e["data"].get("reason") or e["message"]}
        elif op == "release" and open_ is not None:
            periods.append(_period(open_, e["ts"], True))
            open_ = None
    if open_ is not None:
        periods.append(_period(open_, run_end or open_["start"], False))
    return {"periods": periods, "seconds": round(sum(p["seconds"] for p in periods), 3), "count": len(periods)}


def _period(open_: dict[str, Any], end: str, released: bool) -> dict[str, Any]:
    seconds = (datetime.fromisoformat(end) - datetime.fromisoformat(open_["start"])).total_seconds()
    return {**open_, "end": end, "seconds": round(max(0.0, seconds), 3), "released": released}
