"""The status document of a running watch: one function builds what ``migtui ctl status --json``
prints and what ``GET /status`` serves, from one :class:`~migtui.engine.frame.Frame`.

Besides the frame's run, phase, sources, triggers, silences, throttle and components it carries the
few numbers a fleet needs at a glance (``progress``, ``lock_waits``, ``lag_seconds``) and a
``verdict`` a deployment gate can act on (:func:`verdict`). Every string goes through redaction.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from migtui.model import as_number
from migtui.redact import redact_obj

VERDICTS = ("ok", "warn", "pause", "rollback", "inconclusive")
PROGRESS = ("migration.percent", "migration.eta_seconds")
LOCK_WAITS = "lock_waits_summary.waiting"
LAG_SECONDS = "replication_lag.replay_lag_seconds"


def verdict(frame: Any) -> str:
    """``rollback`` when a rollback trigger fires; else ``pause`` when a pause or throttle trigger
    fires, or the migration is paused or throttled; else ``warn`` when any other trigger fires; else
    ``inconclusive`` when a trigger cannot be evaluated or a source cannot be polled; else ``ok``."""
    if frame is None:
        return "inconclusive"
    firing = {str(r.get("action")) for r in frame.triggers or () if r.get("state") == "firing"}
    if "rollback" in firing:
        return "rollback"
    throttle = frame.throttle or {}
    if firing & {"pause", "throttle"} or frame.paused or throttle.get("throttled"):
        return "pause"
    if firing:
        return "warn"
    if any(r.get("state") == "inconclusive" for r in frame.triggers or ()) \
            or any(s.state != "ok" for s in frame.sources.values()):
        return "inconclusive"
    return "ok"


def _number(frame: Any, metric: str) -> float | None:
    return as_number(frame.value(metric))


def status_document(frame: Any, describe_actions: Callable[[str], list[str]]) -> dict[str, Any]:
    """The whole status of the run in ``frame`` (JSON-ready, redacted)."""
    f = frame
    percent, eta = (_number(f, m) for m in PROGRESS)
    return redact_obj({
        "run": f.run_id, "name": f.name, "database": f.name, "phase": f.phase.value, "tick": f.tick,
        "time": f.now, "now": f.now, "store": f.store_path, "pid": os.getpid(),
        "verdict": verdict(f),
        "progress": {"percent": percent, "eta_seconds": eta},
        "lock_waits": _number(f, LOCK_WAITS), "lag_seconds": _number(f, LAG_SECONDS),
        "sources": [{"name": s.name, "type": s.type, "state": s.state, "last_error": s.last_error}
                    for s in f.sources.values()],
        "paused": f.paused,
        "actions": {v: describe_actions(v) for v in f.action_verbs},
        "triggers": f.trigger_summary,
        "trigger_states": [dict(r) for r in f.triggers or ()],
        "silences": [dict(r) for r in f.silences],
        "throttle": dict(f.throttle),
        "components": {name: dict(st) for name, st in f.components.items()},
        "recent_events": [ev.as_json() for ev in f.events[-10:]],
    })
