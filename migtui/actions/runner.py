"""The action runner of one engine: requests (coalesced, confirmed, one verb at a time on its own
thread), the pause state, the check that a pause still holds, and what stays in force at exit."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from migtui.actions.configured import CONFIGURABLE_VERBS, PAUSE_CHECK_EVERY, VERBS, Configured, build_actions
from migtui.actions.steps import result_event, run_step
from migtui.api import ActionRequest
from migtui.errors import ActionError
from migtui.model import ActionResult, Event, Level
from migtui.redact import redact, redact_obj
from migtui.workers import DaemonExecutor, in_background

if TYPE_CHECKING:  # pragma: no cover
    from migtui.engine import Engine


@dataclass
class _Pending:
    key: tuple[Any, ...]
    future: Future
    who: str
    started: float = field(default_factory=time.time)


class ActionRunner:
    """See the module docstring. Built by the engine; use ``engine.request_action``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.paused = False
        self.paused_by = ""
        self.running: str | None = None
        self.last: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._pending: dict[tuple[Any, ...], _Pending] = {}
        self._executor = DaemonExecutor(max_workers=1, thread_name_prefix="migtui-actions")
        self._closed = False
        self.busy_at_exit: list[str] = []
        """Actions still inside a call (or a close) when migtui exited: exit did not wait for them."""
        self._checking = False
        self._last_check = 0.0
        self.actions: dict[str, list[Configured]] = build_actions(engine)

    # ------------------------------------------------------------------ queries

    def verbs(self) -> list[str]:
        return [v for v in VERBS if self.actions.get(v)] + sorted(v for v in self.actions if v not in VERBS)

    def _request_obj(self, verb: str, who: str, why: str, dry_run: bool, target: dict[str, Any]) -> ActionRequest:
        return ActionRequest(verb=verb, who=who, why=why, run=self.engine.run_id, phase=self.engine.phase,
                             dry_run=dry_run, target=dict(target))

    def describe(self, verb: str, target: dict[str, Any] | None = None) -> list[str]:
        """Exactly what ``verb`` would run, one line per action (for the confirmation modal)."""
        lines = []
        for c in self.actions.get(verb, []):
            req = self._request_obj(verb, "operator", "", c.dry_run, target or {})
            try:
                text = str(c.action.describe(req))
            except Exception as exc:  # noqa: BLE001 - a plugin bug must not break the modal
                text = f"(cannot describe: {type(exc).__name__}: {redact(exc)})"
            marks = []
            if c.dry_run:
                marks.append("dry run")
            if c.confirm:
                marks.append("needs confirmation")
            tail = f" [{', '.join(marks)}]" if marks else ""
            lines.append(redact(f"{c.label()}: {text}{tail}"))
        return lines

    def needs_confirmation(self, verb: str) -> bool:
        return any(c.confirm and not c.dry_run for c in self.actions.get(verb, []))

    def status(self) -> dict[str, Any]:
        return {"paused": self.paused, "paused_by": self.paused_by, "running": self.running,
                "verbs": {v: self.describe(v) for v in self.verbs()}, "last": self.last}

    # ------------------------------------------------------------------ requests

    def request(self, verb: str, *, who: str = "operator", why: str = "", confirmed: bool = False,
                dry_run: bool | None = None, target: dict[str, Any] | None = None,
                announce: Callable[[Event], Event] | None = None) -> Future:
        """Queue every action of ``verb``; returns a Future of ``list[ActionResult]``.

        ``announce`` turns the request's result event into the one recorded (the throttle records
        its pause as its own ``throttle`` event). Raises ActionError (after recording an event) when
        no action is available for ``verb``."""
        target = dict(target or {})
        global_dry = bool(dry_run)
        actions = self.actions.get(verb, [])
        base = {"who": who, "why": why, "verb": verb, "target": redact_obj(target), "dry_run": global_dry}
        if not actions:
            needs = sorted({e.implicit_for for e in self.engine.host.types.values()
                            if e.kind == "action" and e.implicit_for and verb in e.verbs})
            hint = ("; configure it under actions: in the config" if verb in CONFIGURABLE_VERBS else
                    f"; it needs a {' or '.join(needs)} source" if needs else "")
            msg = f"no action is configured for {verb!r}{hint}"
            self.engine.emit(Event("action", verb, f"{verb} requested by {who}: {msg}", Level.WARN,
                                   {**base, "ok": False, "stage": "unavailable"}))
            raise ActionError(msg)
        if self._closed:
            raise ActionError("the engine is shutting down; actions are no longer accepted")
        key = (verb, json.dumps(target, sort_keys=True, default=str), global_dry)
        with self._lock:
            pending = self._pending.get(key)
            if pending is not None:
                self.engine.emit(Event("action", verb, f"{verb} requested by {who}: already in progress "
                                       f"(requested by {pending.who}); not run twice", Level.INFO,
                                       {**base, "stage": "coalesced"}))
                return pending.future
            refused = [c for c in actions if c.confirm and not (c.dry_run or global_dry)] if not confirmed else []
            if refused:
                names = ", ".join(c.label() for c in refused)
                msg = f"{verb} refused: {names} needs confirmation and the request was not confirmed"
                self.engine.emit(Event("action", verb, f"{msg} (requested by {who})", Level.WARN,
                                       {**base, "ok": False, "stage": "refused",
                                        "actions": [c.name for c in refused]}))
                results = [ActionResult(False, f"not run: {verb} needs confirmation",
                                        data={"action": c.name, "type": c.type, "refused": True}) for c in actions]
                fut: Future = Future()
                fut.set_result(results)
                return fut
            fut = Future()
            self._pending[key] = _Pending(key, fut, who)
        try:
            self._executor.submit(self._run_verb, key, verb, actions, who, why, global_dry, target, announce)
        except RuntimeError as exc:  # executor shut down
            with self._lock:
                self._pending.pop(key, None)
            raise ActionError(f"cannot run {verb}: {exc}") from None
        return fut

    def _run_verb(self, key: tuple[Any, ...], verb: str, actions: list[Configured], who: str, why: str,
                  global_dry: bool, target: dict[str, Any], announce: Callable[[Event], Event] | None = None) -> None:
        """Run every action of ``verb`` in order, then record the whole request as one ``action`` event
        (stage ``result``): who, why, ``ok`` (all steps ok), each step's outcome under ``steps``, and
        ``paused`` when the request paused or resumed the migration."""
        fut = self._pending[key].future
        results: list[ActionResult] = []
        steps: list[dict[str, Any]] = []
        self.running = verb
        try:
            for c in actions:
                req = self._request_obj(verb, who, why, global_dry or c.dry_run, target)
                result, step = run_step(c, req)
                results.append(result)
                steps.append(step)
            real = [(c, r) for c, r in zip(actions, results) if not r.dry_run]
            if verb == "resume" and real and all(r.ok for _, r in real):
                for c in self.actions.get("pause", []):
                    c.in_force = ""
            paused: bool | None = None
            if verb == "pause" and any(r.ok for _, r in real) and not self.paused:
                self.paused, self.paused_by, paused = True, who, True
            elif verb == "pause" and any(r.ok for _, r in real) and self.paused_by == "throttle":
                self.paused_by = who  # an operator's pause over the throttle's: its release leaves it
            elif verb == "resume" and real and all(r.ok for _, r in real) and self.paused:
                self.paused, self.paused_by, paused = False, "", False
            event = result_event(verb, who, why, global_dry, target, steps, paused, self.engine.phase)
            self.engine.emit(announce(event) if announce is not None else event)
            self.last[verb] = [{"action": c.name, "ok": r.ok, "message": r.message, "dry_run": r.dry_run,
                                "ts": time.time()} for c, r in zip(actions, results)]
        except BaseException as exc:  # noqa: BLE001 - never leave the Future hanging
            fut.set_exception(exc)
            return
        finally:
            self.running = None
            with self._lock:
                self._pending.pop(key, None)
        fut.set_result(results)

    # ------------------------------------------------------------------ watching the pause

    def on_tick(self, now: float, samples: Any, snapshots: Any) -> None:
        """While paused, check every few seconds (in the action thread, never here) that the pause
        still holds: a pause lock dies with its session, and the migration then goes on."""
        if not self.paused or self._checking or now - self._last_check < PAUSE_CHECK_EVERY or self._closed:
            return
        self._last_check = now
        self._checking = True
        try:
            self._executor.submit(self._check_pause)
        except RuntimeError:
            self._checking = False

    def _check_pause(self) -> None:
        try:
            lost = []
            for c in self.actions.get("pause", []):
                check = getattr(c.action, "check", None)
                if check is None or c.dry_run:
                    continue
                try:
                    held = c.guard.call(check, timeout=10.0)
                except Exception:  # noqa: BLE001 - cannot tell: count it as lost, loudly
                    held = False
                if held is False:
                    lost.append(c)
                    c.in_force = ""
            if lost and self.paused:
                self.paused, self.paused_by = False, ""
                names = ", ".join(c.label() for c in lost)
                self.engine.emit(Event("action", "pause", f"pause lost: {names} no longer holds the pause (its "
                                       "session ended); the migration can go on. Pause again if needed.",
                                       Level.ERROR, {"stage": "lost", "actions": [c.name for c in lost],
                                                     "paused": False}))
        finally:
            self._checking = False

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._say_what_stays()
        # exit never waits on a plugin: an action still inside a call is left running, and each close
        # gets 2 s at most (all at once); both are named in busy_at_exit
        closing: dict[str, threading.Event] = {}
        seen: set[int] = set()
        for items in self.actions.values():
            for c in items:
                if id(c.action) in seen:
                    continue
                seen.add(id(c.action))
                closer = getattr(c.action, "close", None)
                if c.guard.busy:
                    self.busy_at_exit.append(c.label())
                elif closer is not None:
                    closing[c.label()] = in_background(closer, f"migtui-close-{c.name}")
                c.guard.shutdown()
        deadline = time.monotonic() + 2.0
        self.busy_at_exit += [name for name, done in closing.items()
                              if not done.wait(max(0.0, deadline - time.monotonic()))]

    def _say_what_stays(self) -> None:
        """At exit: which pauses end with migtui's session and which stay in force (listed by name and
        what they did), from what was recorded when they ran; no plugin is called."""
        held = [c for c in self.actions.get("pause", []) if c.in_force and not c.dry_run]
        ended = [c for c in held if c.pause_scope == "session"]
        stays = [c for c in held if c.pause_scope != "session"]
        if ended:
            what = "; ".join(f"{c.label()}: {c.in_force}" for c in ended)
            self.engine.emit(Event("action", "resume", f"migtui is exiting: its session-bound pause ends with its "
                                   f"session, so the migration can go on ({what})", Level.WARN,
                                   {"stage": "released_on_exit", "paused": False, "who": "migtui",
                                    "ended": [c.name for c in ended]}))
        if stays:
            what = "; ".join(f"{c.label()}: {c.in_force}" for c in stays)
            self.engine.emit(Event("action", "pause", f"migtui is exiting, but {len(stays)} pause"
                                   f"{'s stay' if len(stays) > 1 else ' stays'} in force until resumed by hand: "
                                   f"{what}", Level.ERROR,
                                   {"stage": "in_force_on_exit", "paused": True, "who": "migtui",
                                    "stays": [c.name for c in stays]}))
        for c in held:
            c.in_force = ""
        self.paused = False
