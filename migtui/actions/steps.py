"""Running one action (dry run, rollback once, the guard's backstop, redaction) and the one ``action``
event that records a whole request."""

from __future__ import annotations

import json
import time
from typing import Any

from migtui.api import ActionRequest
from migtui.actions.configured import Configured
from migtui.model import ActionResult, Event, Level
from migtui.plugins import GuardError
from migtui.redact import redact, redact_obj

MAX_OUTPUT = 4000
"""Characters of an action's output kept in its event (head and tail)."""


def truncate(text: str, limit: int = MAX_OUTPUT) -> str:
    """Keep the head and the tail of long output, with a marker of what was cut."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    return f"{text[:head]}\n... [{len(text) - limit} characters cut] ...\n{text[-tail:]}"


def run_step(c: Configured, req: ActionRequest) -> tuple[ActionResult, dict[str, Any]]:
    """Run one action; its result and its step for the request's event."""
    verb, dry, target = req.verb, req.dry_run, req.target
    data: dict[str, Any] = {"action": c.name, "label": c.label(), "type": c.type, "plugin": c.plugin,
                            "dry_run": dry}
    try:
        description = str(c.action.describe(req))
    except Exception as exc:  # noqa: BLE001
        description = f"(cannot describe: {type(exc).__name__}: {redact(exc)})"
    data["description"] = redact(description)
    started = time.monotonic()
    if dry:
        result = ActionResult(True, f"dry run: would {description}", dry_run=True)
    elif verb == "rollback" and c.succeeded_at is not None and not target.get("again"):
        at = time.strftime("%H:%M:%S", time.localtime(c.succeeded_at))
        result = ActionResult(True, f"already rolled back at {at}; not run again (target again=true forces it)",
                              data={"skipped": True})
    else:
        try:
            # the plugin applies its own timeout; the guard is the backstop for one that hangs
            backstop = c.timeout + min(2.0, max(0.2, c.timeout * 0.1))
            result = c.guard.call(c.action.run, req, timeout=backstop)
            if not isinstance(result, ActionResult):
                result = ActionResult(False, f"plugin {c.plugin!r} returned {type(result).__name__}, "
                                             "not an ActionResult")
        except GuardError as exc:
            result = ActionResult(False, redact(exc))
        except Exception as exc:  # noqa: BLE001
            result = ActionResult(False, f"{type(exc).__name__}: {redact(exc)}")
        if result.ok and not result.dry_run:
            c.succeeded_at = time.time()
    data.update({"ok": bool(result.ok), "message": redact(result.message),
                 "output": truncate(redact(result.output or "")),
                 "result": redact_obj(_jsonable(result.data)),
                 "seconds": round(time.monotonic() - started, 3)})
    if result.dry_run:
        data["dry_run"] = True
    if verb == "pause" and result.ok and not result.dry_run and c.pause_scope != "instant":
        c.in_force = data["description"]  # kept for the exit message: no plugin call at exit
    return result, data


def result_event(verb: str, who: str, why: str, dry_run: bool, target: dict[str, Any],
                 steps: list[dict[str, Any]], paused: bool | None, phase: Any) -> Event:
    """One operator (or trigger) request, start to end: ``pause by dba: ok; migration paused ...``."""
    ok = all(s["ok"] for s in steps)
    dry = all(s["dry_run"] for s in steps)
    shown = "; ".join(f"{s['label']} " + ("dry run" if s["dry_run"] else "ok" if s["ok"] else "FAILED")
                      + f": {s['message']}" for s in steps)
    text = f"{verb} by {who}" + (f" ({why})" if why else "") + f": {shown}"
    if paused is True:
        text += f"; migration paused in phase {phase.value}, resume to let it go on"
    elif paused is False:
        text += "; migration resumed"
    if not ok:
        level = Level.ERROR
    elif dry:
        level = Level.INFO
    else:
        level = {"pause": Level.PAUSE, "rollback": Level.ROLLBACK}.get(verb, Level.INFO)
    data: dict[str, Any] = {"stage": "result", "verb": verb, "who": who, "why": why, "ok": ok,
                            "dry_run": dry_run or dry, "target": redact_obj(target),
                            "actions": [s["action"] for s in steps], "steps": steps}
    if paused is not None:
        data["paused"] = paused
    if len(steps) == 1:  # the common case reads like the step itself
        data.update({k: steps[0][k] for k in ("action", "type", "plugin", "message", "description", "output",
                                              "result", "seconds")})
    return Event("action", verb, text, level, data)


def _jsonable(obj: Any) -> Any:
    try:
        json.dumps(obj, default=str)
        return json.loads(json.dumps(obj, default=str))
    except (TypeError, ValueError):
        return str(obj)

