"""The action runner: pause, resume, rollback (and cancel/terminate of a backend) for one engine.

The engine builds one (``engine.parts.actions``, also ``engine.extensions["actions"]``). At build time it turns the config's
``actions:`` section (``pause`` / ``resume`` / ``rollback`` -> a list of typed items) into action
objects through the plugin host. A key in the cockpit, a ``migtui ctl`` command and a trigger all
go through :meth:`ActionRunner.request`, so they behave the same and are audited the same:

- actions run in one worker thread, never on the caller's thread, one verb at a time, each under
  a :class:`~migtui.plugins.Guard` with a timeout;
- a second identical request while the first is queued or running gets the first one's Future
  (idempotent);
- an action that requires confirmation is refused (an ``action`` event and a failed result) when
  the request is not confirmed; dry-run requests never need confirmation;
- dry-run (the request's ``dry_run`` or the action's own ``dry_run: true``) describes and records
  but never calls the action;
- every request and every result is an ``action`` event (who, why, action name and type,
  dry_run, ok, output truncated and redacted);
- a rollback action that already succeeded in this run is not run again unless the request's target
  says ``{"again": true}`` (a downgrade twice is two downgrades).

``resume`` defaults to undoing the configured ``pause`` actions that know how to undo themselves
(their resume object has ``undoes_pause = True``, e.g. ``pg_pause``), in reverse order.
``cancel`` and ``terminate`` (target: ``{"pid": N}`` from the blocking tree) are available without
configuration when a postgres source exists; the caller asks for confirmation.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

from migtui.api import ActionRequest, BuildContext
from migtui.config import CDict, Field, PluginItem
from migtui.errors import ActionError
from migtui.model import ActionResult, Event, Level
from migtui.plugins import Guard, GuardError
from migtui.redact import redact, redact_obj
from migtui.workers import DaemonExecutor, in_background

if TYPE_CHECKING:  # pragma: no cover
    from migtui.engine import Engine

VERBS = ("pause", "resume", "rollback", "cancel", "terminate")
CONFIGURABLE_VERBS = ("pause", "resume", "rollback")
MAX_OUTPUT = 4000
"""Characters of an action's output kept in its event (head and tail)."""
DEFAULT_TIMEOUT = 60.0
PAUSE_SCOPES = ("session", "instant", "lasting")
PAUSE_CHECK_EVERY = 5.0
"""Seconds between checks that a pause still holds (see :meth:`ActionRunner.on_tick`)."""


def common_fields(verb: str, *, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Field]:
    """Options every action type accepts; plugin schemas include them (``Schema({**common_fields(verb), ...})``)."""
    return {
        "type": Field("str", required=True),
        "name": Field("str", doc="Action name (default: the type)."),
        "confirm": Field("bool", default=default_confirm(verb),
                         doc="Ask the operator before running (default: true for rollback, false otherwise)."),
        "dry_run": Field("bool", default=False, doc="Only describe and record; never act."),
        "timeout": Field("duration", default=timeout, minimum=0.1,
                         doc="How long the action may take before it is recorded as failed."),
    }


def default_confirm(verb: str) -> bool:
    return verb == "rollback"


def truncate(text: str, limit: int = MAX_OUTPUT) -> str:
    """Keep the head and the tail of long output, with a marker of what was cut."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    return f"{text[:head]}\n... [{len(text) - limit} characters cut] ...\n{text[-tail:]}"


@dataclass
class Configured:
    """One built action and its bookkeeping."""

    verb: str
    name: str
    type: str
    plugin: str
    action: Any
    guard: Guard
    confirm: bool
    dry_run: bool
    timeout: float
    implicit: bool = False
    succeeded_at: float | None = None
    in_force: str = ""
    """A pause of this action that is in force: what it did (its description when it succeeded)."""

    @property
    def pause_scope(self) -> str:
        """How long a pause by this action lasts: ``session`` (ends with migtui's own session, like
        ``pg_pause``), ``instant`` (a one-off, e.g. a cancel: nothing stays) or ``lasting`` (stays in
        force until resumed, like a paused Deployment; the default for actions that do not say)."""
        scope = getattr(self.action, "pause_scope", "lasting")
        return scope if scope in PAUSE_SCOPES else "lasting"

    def label(self) -> str:
        return self.name if self.name == self.type else f"{self.name} ({self.type})"


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
        self.actions: dict[str, list[Configured]] = {}
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
        self._build()

    # ------------------------------------------------------------------ building

    def _ctx(self, item: PluginItem) -> BuildContext:
        cfg = self.engine.config
        return BuildContext(config=cfg, item=item, sql_dirs=[cfg.resolve_path(p) for p in cfg["sql_dirs"]],
                            sources=self.engine.collectors)

    def _make(self, verb: str, item: PluginItem, *, implicit: bool = False) -> Configured:
        host = self.engine.host
        action = host.build("action", item, self._ctx(item), verb=verb)
        entry = host.types.get(("action", item.type))
        if entry is not None and entry.verbs and verb not in entry.verbs:
            from migtui.config import error_at

            raise error_at(item.options, "type", f"{item.path}.type",
                           f"action type {item.type!r} cannot {verb}; it supports: {', '.join(entry.verbs)}")
        for attr in ("describe", "run"):
            if not callable(getattr(action, attr, None)):
                from migtui.errors import PluginError

                raise PluginError(f"plugin {host.plugin_of('action', item.type)!r} built action {item.name!r} "
                                  f"without a {attr}() method")
        opts = item.options
        confirm = getattr(action, "confirm", None)
        if confirm is None:
            confirm = bool(opts.get("confirm", default_confirm(verb)))
        timeout = float(getattr(action, "timeout", None) or DEFAULT_TIMEOUT)
        return Configured(verb=verb, name=item.name, type=item.type, plugin=host.plugin_of("action", item.type),
                          action=action, guard=Guard(f"{verb}:{item.name}", max_failures=1_000_000),
                          confirm=bool(confirm), dry_run=bool(getattr(action, "dry_run", False)),
                          timeout=timeout, implicit=implicit)

    def _build(self) -> None:
        configured: Mapping[str, list[PluginItem]] = self.engine.config["actions"] or {}
        for verb, items in configured.items():
            self.actions[verb] = [self._make(verb, item) for item in items]
        if not self.actions.get("resume"):
            derived = []
            for item in reversed(configured.get("pause", [])):
                entry = self.engine.host.types.get(("action", item.type))
                if entry is not None and "resume" in entry.verbs:
                    c = self._make("resume", item)
                    if getattr(c.action, "undoes_pause", False):
                        derived.append(c)
                    else:
                        close = getattr(c.action, "close", None)
                        if close is not None:
                            close()
            if derived:
                self.actions["resume"] = derived
        for entry in sorted(self.engine.host.types.values(), key=lambda e: (e.kind, e.type)):
            sources = self.engine.config.sources_of_type(entry.implicit_for) if entry.implicit_for else []
            if entry.kind != "action" or not sources:
                continue
            for verb in (v for v in entry.verbs if v not in CONFIGURABLE_VERBS and not self.actions.get(v)):
                opts = CDict({"type": entry.type, "name": entry.type, "source": sources[0].name})
                opts.file, opts.line, opts.key_lines = str(self.engine.config.path), None, {}
                item = PluginItem(type=entry.type, name=entry.type, options=opts, path=f"actions.{verb}[implicit]")
                self.actions[verb] = [self._make(verb, item, implicit=True)]

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
        global_dry = bool(dry_run) or bool(getattr(self.engine, "dry_run", False))
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
                result, step = self._run_one(c, verb, who, why, global_dry, target)
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
            event = self._result_event(verb, who, why, global_dry, target, steps, paused)
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

    def _result_event(self, verb: str, who: str, why: str, dry_run: bool, target: dict[str, Any],
                      steps: list[dict[str, Any]], paused: bool | None) -> Event:
        """One operator (or trigger) request, start to end: ``pause by dba: ok; migration paused ...``."""
        ok = all(s["ok"] for s in steps)
        dry = all(s["dry_run"] for s in steps)
        shown = "; ".join(f"{s['label']} " + ("dry run" if s["dry_run"] else "ok" if s["ok"] else "FAILED")
                          + f": {s['message']}" for s in steps)
        text = f"{verb} by {who}" + (f" ({why})" if why else "") + f": {shown}"
        if paused is True:
            text += f"; migration paused in phase {self.engine.phase.value}, resume to let it go on"
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

    def _run_one(self, c: Configured, verb: str, who: str, why: str, global_dry: bool,
                 target: dict[str, Any]) -> tuple[ActionResult, dict[str, Any]]:
        """Run one action; its result and its step for the request's event."""
        dry = global_dry or c.dry_run
        req = self._request_obj(verb, who, why, dry, target)
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


def _jsonable(obj: Any) -> Any:
    try:
        json.dumps(obj, default=str)
        return json.loads(json.dumps(obj, default=str))
    except (TypeError, ValueError):
        return str(obj)

