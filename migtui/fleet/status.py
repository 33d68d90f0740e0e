"""What one watch's ``GET /status`` says, read tolerantly: any field may be missing or of the wrong
type (an older or newer watch, or a hostile one); what cannot be read is ``None`` and shows as ``-``.

The shape (see docs/fleet.md): ``run``, ``name``/``database``, ``phase``, ``progress: {percent,
eta_seconds}``, ``throttle: {throttled, reason}``, ``triggers: [{name, state, value, threshold,
action}]``, ``sources: [{name, state, last_error}]``, ``verdict``, ``lock_waits``, ``lag_seconds``,
``time``. Strings are kept as they came; only :mod:`migtui.safetext` renders them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from migtui.model import as_number

VERDICTS = ("ok", "warn", "pause", "rollback", "inconclusive")
VERDICT_RANK = {"rollback": 5, "pause": 4, "warn": 3, "inconclusive": 2, "ok": 0}
"""Worse first when sorting; an unknown verdict ranks 1, an unreachable watch 6."""
TRIGGER_RANK = {"firing": 3, "inconclusive": 2, "pending": 1, "ok": 0}


@dataclass(frozen=True)
class Trigger:
    name: str
    state: str
    value: float | None = None
    threshold: float | str | None = None
    """A number, or the watch's own text of the condition (``"> 1"``)."""
    action: str | None = None


@dataclass(frozen=True)
class Status:
    run: str | None = None
    database: str | None = None
    phase: str | None = None
    percent: float | None = None
    eta_seconds: float | None = None
    throttled: bool | None = None
    throttle_reason: str | None = None
    worst_trigger: Trigger | None = None
    triggers_firing: int = 0
    lock_waits: float | None = None
    lag_seconds: float | None = None
    verdict: str | None = None
    time: float | None = None
    sources_down: tuple[str, ...] = ()


def _num(v: Any) -> float | None:
    """A number in the JSON (text that looks like one is not taken as one)."""
    return None if isinstance(v, str) else as_number(v, finite=True)


def _str(v: Any) -> str | None:
    if v is None or isinstance(v, (dict, list)):
        return None
    return str(v)


def _get(d: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(d, Mapping):
            return None
        d = d.get(key)
    return d


def _threshold(v: Any) -> float | str | None:
    return _num(v) if not isinstance(v, str) else (v.strip() or None)


def _triggers(doc: Mapping[str, Any]) -> list[Trigger]:
    rows = doc.get("triggers")
    if not isinstance(rows, list):
        rows = doc.get("trigger_states")  # the frame's shape, as `ctl status --json` has it
    out = []
    for r in rows if isinstance(rows, list) else ():
        if not isinstance(r, Mapping):
            continue
        out.append(Trigger(name=_str(r.get("name")) or "?", state=(_str(r.get("state")) or "?").lower(),
                           value=_num(r.get("value")), threshold=_threshold(r.get("threshold")),
                           action=_str(r.get("action"))))
    return out


def parse_status(doc: Any) -> Status:
    """A :class:`Status` from the decoded JSON of ``/status`` (anything: a list, a number, ...)."""
    if not isinstance(doc, Mapping):
        return Status()
    progress = doc.get("progress")
    percent = _num(_get(progress, "percent")) if isinstance(progress, Mapping) else _num(progress)
    if percent is None:
        percent = _num(doc.get("percent")) or _num(_get(doc, "components", "migration", "progress", "percent"))
    eta = _num(_get(progress, "eta_seconds")) if isinstance(progress, Mapping) else None
    if eta is None:
        eta = _num(doc.get("eta_seconds")) or _num(_get(doc, "components", "migration", "progress", "eta_seconds"))
    throttle = doc.get("throttle")
    throttled = throttle if isinstance(throttle, bool) else _get(throttle, "throttled")
    triggers = _triggers(doc)
    worst = max(triggers, key=lambda t: TRIGGER_RANK.get(t.state, 0), default=None)
    if worst is not None and TRIGGER_RANK.get(worst.state, 0) == 0:
        worst = None
    sources = doc.get("sources")
    down = tuple(_str(s.get("name")) or "?" for s in (sources if isinstance(sources, list) else ())
                 if isinstance(s, Mapping) and s.get("state") not in (None, "ok"))
    verdict = _str(doc.get("verdict"))
    return Status(
        run=_str(doc.get("run")), database=_str(doc.get("database")) or _str(doc.get("name")),
        phase=_str(doc.get("phase")), percent=percent, eta_seconds=eta,
        throttled=throttled if isinstance(throttled, bool) else None,
        throttle_reason=_str(_get(throttle, "reason")),
        worst_trigger=worst, triggers_firing=sum(1 for t in triggers if t.state == "firing"),
        lock_waits=_num(doc.get("lock_waits")), lag_seconds=_num(doc.get("lag_seconds")),
        verdict=verdict.lower() if verdict else None, time=_num(doc.get("time")), sources_down=down)
