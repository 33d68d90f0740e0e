"""The throttle: pause the migration while a ``throttle`` trigger says the database is hurting, and
resume it by itself once every such trigger has been clear for its ``resume_after``.

Rules (gh-ost's and Spirit's, see docs/throttle.md):

- any throttle trigger that holds holds the throttle (one signal that says throttle wins); the
  migration goes on only when all of them are clear;
- a trigger holds while it is ``firing`` (its ``clear`` hysteresis decides when that ends), then for
  ``resume_after`` seconds of measured, clear signal;
- fail closed: a trigger whose signal has not been measured for ``stale_after`` holds, with the
  reason "cannot measure <metric>", unless it says ``on_stale: open``; while a signal is merely
  unmeasured (not yet stale) a trigger keeps what it was doing;
- dry-run and silenced throttle triggers report but never hold;
- ``migtui ctl throttle [--for 10m]`` forces the throttle, ``ctl no-throttle`` lifts the forced one;
- a throttle pauses through the configured ``pause`` actions (``who = "throttle"``) unless the
  migration is already paused, and its release resumes only a pause the throttle made: an
  operator's pause stays;
- every throttle and every release is ONE ``throttle`` event with its reason (when a pause or
  resume action runs, that request's result is this event);
- a pause of the throttle's that is lost while it holds (the lock's session ended) is taken again.

A throttle never escalates: it asks for nothing stronger than pause, and only for itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from migtui.errors import ActionError, MigtuiError
from migtui.model import Event, Level, as_number
from migtui.triggers.rules import TriggerSpec, fmt_num

if TYPE_CHECKING:  # pragma: no cover
    from migtui.engine import Engine

WHO = "throttle"
"""Who the throttle's pause and resume requests are from (``paused_by`` while it holds a pause)."""


@dataclass
class _Hold:
    """One throttle trigger's part of the throttle."""

    spec: TriggerSpec
    holding: bool = False
    reason: str = ""
    since: float | None = None
    clear_since: float | None = None
    utilization: float | None = None


class Throttle:
    """The engine's ``throttle`` part (built after the triggers; :meth:`on_tick` after them)."""

    def __init__(self, engine: Engine, triggers: Any, actions: Any) -> None:
        self.engine = engine
        self.triggers = triggers
        self.actions = actions
        self.holds = {s.name: _Hold(s) for s in triggers.specs if s.throttles}
        self.throttled = False
        self.reason = ""
        self.since: float | None = None
        self.forced_until: float | None = None
        self.forced_by = ""
        self.paused_it = False
        """The throttle's own pause request succeeded and has not been resumed yet."""
        self._pause_pending = False
        """The throttle's pause request is queued or running (its result not in yet)."""
        self.started = engine.clock()
        self.periods: list[tuple[float, float | None, str]] = []
        """(start, end or None, reason) of every throttle of this run."""

    # ------------------------------------------------------------------ evaluation

    def on_tick(self, now: float, samples: Any = None, snapshots: Any = None) -> None:
        rows = {r["name"]: r for r in self.triggers.status(now)} if self.holds else {}
        specs = {s.name: s for s in self.triggers.specs}
        for name, hold in self.holds.items():
            row = rows.get(name)
            hold.spec = specs.get(name, hold.spec)  # `ctl set` replaces a running trigger's spec
            if row is not None:
                self._step(hold, row, now)
        if self.forced_until is not None and now >= self.forced_until:
            self.forced_until, self.forced_by = None, ""
        reasons = self._reasons(now)
        if reasons and not self.throttled:
            self._throttle(now, reasons[0])
        elif not reasons and self.throttled:
            self._release(now)
        elif reasons:
            self.reason = reasons[0]
            if self.paused_it and not self.actions.paused and self.actions.running is None:
                self._repause(reasons[0])

    def _repause(self, reason: str) -> None:
        """The throttle's pause was lost while it still holds (the pause lock's session ended): fail
        closed, pause again (one ``throttle`` event, op ``repause``)."""
        self.paused_it = False
        self._request("pause", reason, f"throttled again (its pause was lost): {reason}",
                      {"op": "repause", "throttled": True, "reason": reason, "since": self.since})

    def _step(self, hold: _Hold, row: Mapping[str, Any], now: float) -> None:
        spec = hold.spec
        hold.utilization = row.get("utilization")
        if row.get("dry_run") or row.get("silenced_until"):
            hold.holding, hold.reason, hold.clear_since = False, "", None
            return
        measured_at = row.get("measured_at")
        unmeasured_for = now - (measured_at if measured_at is not None else self.started)
        fresh = row["state"] != "inconclusive" and row.get("value") is not None and unmeasured_for < spec.stale_after
        if row["state"] == "firing":
            self._hold(hold, now, f"{spec.name}: {spec.metric} = {_num(row.get('value'))}, limit {spec.threshold_text()}")
        elif not fresh and unmeasured_for >= spec.stale_after and spec.on_stale == "closed":
            why = row.get("reason") or "no data"
            self._hold(hold, now, f"{spec.name}: cannot measure {spec.metric} for {fmt_num(round(unmeasured_for))}s "
                                  f"({why})")
        elif fresh and hold.holding:
            hold.clear_since = now if hold.clear_since is None else hold.clear_since
            if now - hold.clear_since >= spec.resume_after:
                hold.holding, hold.reason, hold.since, hold.clear_since = False, "", None, None
        # not measured but not stale yet: the trigger keeps what it was doing

    @staticmethod
    def _hold(hold: _Hold, now: float, reason: str) -> None:
        if not hold.holding:
            hold.since = now
        hold.holding, hold.reason, hold.clear_since = True, reason, None

    def _reasons(self, now: float) -> list[str]:
        out = []
        if self.forced_until is not None:
            until = "" if math.isinf(self.forced_until) else f" for {fmt_num(round(self.forced_until - now))}s more"
            out.append(f"forced by {self.forced_by}{until}")
        out += [h.reason for h in self.holds.values() if h.holding]
        return out

    # ------------------------------------------------------------------ acting

    def _throttle(self, now: float, reason: str) -> None:
        self.throttled, self.reason, self.since = True, reason, now
        self.periods.append((now, None, reason))
        data = {"op": "throttle", "throttled": True, "reason": reason, "since": now,
                "triggers": [n for n, h in self.holds.items() if h.holding]}
        if self.actions.paused:
            self._emit(f"throttled: {reason}; the migration was already paused by {self.actions.paused_by or 'someone'}",
                       Level.PAUSE, data)
            return
        if getattr(self.engine, "alert_only", False):
            self._emit(f"throttled: {reason}; not paused (alert-only mode: triggers never act)", Level.WARN, data)
            return
        if not self.actions.actions.get("pause"):
            self._emit(f"throttled: {reason}; no pause action is configured, so only the throttle status "
                       "says so", Level.WARN, data)
            return
        self._request("pause", reason, f"throttled: {reason}", data)

    def _release(self, now: float) -> None:
        held = now - (self.since or now)
        reason = f"every throttle signal clear after {fmt_num(round(held, 1))}s throttled"
        data = {"op": "release", "throttled": False, "reason": reason, "since": self.since, "seconds": held}
        self.throttled, self.reason, self.since = False, "", None
        if self.periods:
            start, _end, why = self.periods[-1]
            self.periods[-1] = (start, now, why)
        # the throttle's own pause, done or still queued (a resume queues behind it: one action thread)
        ours = self.paused_it or self._pause_pending
        taken_over = self.actions.paused and self.actions.paused_by not in ("", WHO)
        mine = ours and not taken_over
        self.paused_it = False
        if not mine:
            kept = (f"; the migration stays paused (paused by {self.actions.paused_by})"
                    if self.actions.paused else "")
            self._emit(f"throttle released: {reason}{kept}", Level.INFO, data)
            return
        self._request("resume", reason, f"throttle released: {reason}", data)

    def _request(self, verb: str, why: str, head: str, data: dict[str, Any]) -> None:
        def announce(ev: Event) -> Event:
            if verb == "pause":
                self._pause_pending = False
                self.paused_it = bool(ev.data.get("ok")) and self.throttled
            text = ev.message.replace(", resume to let it go on", ", it resumes by itself once every signal is clear")
            return Event("throttle", WHO, f"{head}; {text}", ev.level if verb == "pause" or not ev.data.get(
                "ok", True) else Level.INFO, {**ev.data, **data, "why": why})

        try:  # the reason is in the head of the one event: the request itself says no why
            self._pause_pending = verb == "pause"
            self.engine.request_action(verb, who=WHO, why="", confirmed=True, announce=announce)
        except ActionError as exc:
            self._pause_pending = False
            self._emit(f"{head}; {verb} could not be requested: {exc}", Level.ERROR, data)

    def _emit(self, message: str, level: Level, data: dict[str, Any]) -> None:
        self.engine.emit(Event("throttle", WHO, message, level, data))

    # ------------------------------------------------------------------ operator commands (engine thread)

    def force(self, who: str, seconds: float | None = None) -> dict[str, Any]:
        """``ctl throttle [--for]``: throttle now, until :meth:`lift` (or for ``seconds``)."""
        if seconds is not None and seconds <= 0:
            raise MigtuiError("a forced throttle needs a positive duration")
        now = self.engine.clock()
        self.forced_until, self.forced_by = (math.inf if seconds is None else now + seconds), who
        self.on_tick(now)
        return self.status(now)

    def lift(self, who: str) -> dict[str, Any]:
        """``ctl no-throttle``: end a forced throttle (the triggers' own holds stay)."""
        if self.forced_until is None:
            raise MigtuiError("no forced throttle to lift" + (f"; throttled by {self.reason}" if self.throttled else ""))
        self.forced_until, self.forced_by = None, ""
        self.engine.emit(Event("throttle", WHO, f"forced throttle lifted by {who}", Level.INFO,
                               {"op": "lift", "who": who}))
        now = self.engine.clock()
        self.on_tick(now)
        return self.status(now)

    # ------------------------------------------------------------------ status

    def status(self, now: float | None = None) -> dict[str, Any]:
        """``{throttled, reason, since, forced_until, forced_by, triggers: {name: {throttled, reason,
        since, utilization}}}`` (plain data: frames and ``ctl status`` carry it)."""
        forced = self.forced_until
        return {
            "throttled": self.throttled, "reason": self.reason, "since": self.since,
            "forced_until": None if forced is None or math.isinf(forced) else forced, "forced": forced is not None,
            "forced_by": self.forced_by,
            "triggers": {n: {"throttled": h.holding, "reason": h.reason, "since": h.since,
                             "utilization": as_number(h.utilization, finite=True),
                             "clear_for": None if h.clear_since is None or now is None else now - h.clear_since,
                             "resume_after": h.spec.resume_after}
                         for n, h in self.holds.items()},
        }

    def close(self) -> None:
        return None


def _num(v: Any) -> str:
    return fmt_num(float(v)) if isinstance(v, (int, float)) else str(v)


# --------------------------------------------------------------------------- control socket commands

CTL_COMMANDS = ("throttle", "no-throttle", "set")
SETTABLE = {"threshold": "threshold", "clear": "clear", "for": "for_"}


def ctl_command(engine: Any, req: Mapping[str, Any], who: str) -> dict[str, Any]:
    """``{"cmd": "throttle", "seconds": 600}``, ``{"cmd": "no-throttle"}`` and ``{"cmd": "set",
    "trigger": NAME, "values": {"threshold": "5", "clear": "2", "for": "30s"}}``, run on the engine
    thread; MigtuiError (one line) for a bad request."""
    import concurrent.futures

    from migtui.schema import parse_duration

    cmd = req["cmd"]
    parts = getattr(engine, "parts", None)
    if parts is None:
        raise MigtuiError("this watch has no throttle (it is still being built)")
    if cmd == "set":
        name = str(req.get("trigger") or "").strip()
        raw = req.get("values")
        if not name or not isinstance(raw, dict) or not raw:
            raise MigtuiError("set needs a trigger and at least one of threshold=, clear=, for=")
        values: dict[str, float] = {}
        for key, text in raw.items():
            if key not in SETTABLE:
                raise MigtuiError(f"cannot set {key!r}; use threshold=, clear= or for=")
            try:
                values[SETTABLE[key]] = parse_duration(text) if key == "for" else _finite(text)
            except ValueError as exc:
                raise MigtuiError(f"{key}={text}: {exc}") from None
        fn: Any = lambda: parts.triggers.change(name, who, **values)  # noqa: E731
    elif cmd == "throttle":
        seconds = req.get("seconds")
        try:
            secs = None if seconds in (None, "") else parse_duration(seconds)
        except ValueError as exc:
            raise MigtuiError(f"throttle --for: {exc}") from None
        fn = lambda: parts.throttle.force(who, secs)  # noqa: E731
    else:
        fn = lambda: parts.throttle.lift(who)  # noqa: E731
    try:
        out = engine.call(fn, timeout=10.0)
    except concurrent.futures.TimeoutError:
        raise MigtuiError(f"{cmd}: the engine did not take the command within 10s; try again") from None
    if isinstance(out, Event):
        return {"ok": True, "message": out.message, "event": out.as_json()}
    return {"ok": True, "throttle": out}


def _finite(text: Any) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


# --------------------------------------------------------------------------- GET /throttle

def http_answer(frame: Any) -> tuple[int, dict[str, Any]]:
    """The freno / gh-ost ``--throttle-http`` answer for a frame: 200 when the migration may go on,
    429 with the reason when it is throttled or paused (what ``GET /throttle`` serves)."""
    t = dict(getattr(frame, "throttle", None) or {}) if frame is not None else {}
    if frame is None:
        return 429, {"ok": False, "throttled": True, "reason": "migtui is starting: no status yet"}
    if t.get("throttled"):
        return 429, {"ok": False, "throttled": True, "reason": t.get("reason") or "throttled", "since": t.get("since")}
    if frame.paused:
        return 429, {"ok": False, "throttled": False, "paused": True,
                     "reason": f"paused by {frame.paused_by or 'an operator'}"}
    return 200, {"ok": True, "throttled": False, "reason": ""}
