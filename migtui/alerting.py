"""From trigger transitions to notifications: grouping, repeat interval, delivery in a worker.

The engine, once per tick::

    dispatcher.submit(transitions, run=run_id, phase=phase, now=now)  # cheap, never blocks
    dispatcher.tick(now)                  # decides what is due, hands it to the worker thread
    for event in dispatcher.drain_events():   # delivery results (kind "alert") so far
        store/emit(event)

Policy (Alertmanager-like, simplified; one group per run):

- a new firing alert, or one whose level rose, goes out ``group_wait`` after it appeared (default 0:
  the next tick), together with everything else due;
- other changes (resolved, lower level) wait until ``group_interval`` has passed since the last
  notification, so a flapping metric is coalesced into its state at that moment;
- ``resolved`` is only sent once the alert has stayed resolved for ``resolve_wait``; if it fires
  again before that, nothing is sent at all (no page, no resolve, no page again);
- a firing alert that nobody acknowledged is sent again after ``repeat_interval``;
- dry-run and silenced triggers never notify; acknowledged ones do not repeat.

Each alerter call runs under :class:`migtui.plugins.Guard` (timeout, quarantine), in a worker
thread, so a slow webhook never holds up the tick.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from migtui.alerting_config import defaults as alerting_defaults
from migtui.api import Alert, DeliveryResult
from migtui.model import Event, Level, Phase
from migtui.plugins import Guard, GuardError
from migtui.redact import redact

def build_alerters(host: Any, config: Any) -> list[Any]:
    """Build every alerter of ``config['alerters']`` with the plugin host (errors name the entry)."""
    from migtui.api import BuildContext

    return [host.build("alerter", item, BuildContext(config=config, item=item)) for item in config["alerters"]]


@dataclass
class _Key:
    current: Alert
    changed_at: float
    notified_status: str | None = None
    notified_level: Level | None = None
    notified_at: float = 0.0
    resolved_at: float | None = None
    acked: bool = False


@dataclass
class Delivery:
    """One batch for the worker."""

    alerts: list[Alert]
    ts: float
    test: bool = False
    results: list[tuple[str, DeliveryResult]] = field(default_factory=list)


class AlertDispatcher:
    """Turns trigger transitions into alerts, groups them, and delivers them in a worker thread."""

    def __init__(self, alerters: Sequence[Any], *, options: Mapping[str, Any] | None = None,
                 key_prefix: str = "migtui", guards: Mapping[str, Guard] | None = None) -> None:
        opts = alerting_defaults()  # options given by a test or a caller may be partial
        opts.update({k: v for k, v in (options or {}).items() if v is not None})
        self.group_wait = float(opts["group_wait"])
        self.group_interval = float(opts["group_interval"])
        self.repeat_interval = float(opts["repeat_interval"])
        self.resolve_wait = float(opts["resolve_wait"])
        self.timeout = float(opts["timeout"])
        self.key_prefix = opts.get("key_prefix") or key_prefix
        self.alerters = list(alerters)
        self.guards = dict(guards or {})
        for a in self.alerters:
            self.guards.setdefault(a.name, Guard(f"alerter {a.name}", max_failures=5, quarantine_for=60.0))
        self._keys: dict[str, _Key] = {}
        self._silenced: dict[str, float] = {}  # trigger name -> until (from silence events)
        self._last_batch = 0.0
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._events: list[Event] = []
        self._events_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()
        self._run = ""
        self._phase: Phase = Phase.MIGRATION

    # -- input

    def key_for(self, trigger: str) -> str:
        return f"{self.key_prefix}/{trigger}"

    def submit(self, items: Iterable[Any], *, run: str, phase: Phase | str, now: float) -> None:
        """Take this tick's transitions (and ack/silence events from the trigger engine)."""
        self._run, self._phase = run, Phase(phase)
        for item in items:
            if isinstance(item, Event):
                self._observe_event(item)
                continue
            tr = item
            if not tr.alerting:
                if tr.silenced and tr.state in ("ok", "resolved"):
                    self._resolve(tr, run, phase, now)
                continue
            if tr.state in ("firing", "inconclusive"):
                self._fire(tr, run, phase, now)
            elif tr.state in ("ok", "resolved"):
                self._resolve(tr, run, phase, now)

    def _observe_event(self, ev: Event) -> None:
        data = ev.data or {}
        op = data.get("op")
        if op == "ack":
            k = self._keys.get(self.key_for(ev.subject))
            if k is not None:
                k.acked = True
        elif op == "silence":
            for name in data.get("triggers") or []:
                self._silenced[str(name)] = max(self._silenced.get(str(name), 0.0), float(data.get("until") or 0))
        elif op == "unsilence":
            for name in data.get("triggers") or []:
                self._silenced.pop(str(name), None)

    def _alert(self, tr: Any, status: str, run: str, phase: Phase | str, now: float, starts: float) -> Alert:
        spec = tr.spec
        annotations = {"trigger": tr.name, "threshold": tr.threshold, "action": spec.action,
                       "state": tr.state}
        if tr.reason:
            annotations["reason"] = tr.reason
        if spec.description:
            annotations["description"] = spec.description
        if tr.requested:
            annotations["requested"] = tr.requested
        labels = {"trigger": tr.name, "metric": spec.metric, **{k: str(v) for k, v in tr.labels.items()}}
        if status == "resolved":
            summary = f"resolved: {tr.message()}"
        else:
            summary = tr.message()
        return Alert(key=self.key_for(tr.name), status=status, level=tr.level if status == "firing" else
                     (self._keys[self.key_for(tr.name)].current.level if self.key_for(tr.name) in self._keys
                      else Level(spec.action)),
                     summary=redact(summary), run=run, phase=Phase(phase), labels=labels,
                     annotations=annotations, starts_at=starts, ends_at=now if status == "resolved" else None,
                     value=tr.value)

    def _fire(self, tr: Any, run: str, phase: Phase | str, now: float) -> None:
        key = self.key_for(tr.name)
        k = self._keys.get(key)
        starts = k.current.starts_at if k is not None and k.current.status == "firing" else now
        if k is not None and k.notified_status == "firing" and k.current.status == "resolved":
            starts = k.current.starts_at  # flapped back before 'resolved' went out: same incident
        alert = self._alert(tr, "firing", run, phase, now, starts)
        if k is None:
            self._keys[key] = _Key(alert, now)
        else:
            k.current, k.changed_at, k.resolved_at = alert, now, None
            if tr.acked_by:
                k.acked = True

    def _resolve(self, tr: Any, run: str, phase: Phase | str, now: float) -> None:
        key = self.key_for(tr.name)
        k = self._keys.get(key)
        if k is None or k.current.status == "resolved":
            return
        k.current = self._alert(tr, "resolved", run, phase, now, k.current.starts_at)
        k.changed_at, k.resolved_at, k.acked = now, now, False

    # -- deciding

    def due(self, now: float) -> list[Alert]:
        """The alerts to send now (and mark them as notified). Pure bookkeeping, no I/O."""
        escalations: list[Alert] = []
        others: list[Alert] = []
        for k in self._keys.values():
            a = k.current
            if self._silenced.get(a.annotations.get("trigger", ""), 0.0) > now:
                continue  # silenced after it fired: no repeats, no updates until the silence ends
            if a.status == "firing":
                if k.notified_status != "firing" or (k.notified_level is not None and
                                                     Level(a.level).rank > k.notified_level.rank):
                    if now - k.changed_at >= self.group_wait:
                        escalations.append(a)
                elif Level(a.level) != k.notified_level:
                    others.append(a)  # level went down (e.g. rollback -> warn)
                elif not k.acked and now - k.notified_at >= self.repeat_interval:
                    others.append(a)
            elif a.status == "resolved" and k.notified_status == "firing":
                if k.resolved_at is not None and now - k.resolved_at >= self.resolve_wait:
                    others.append(a)
        if not escalations and not others:
            return []
        if not escalations and now - self._last_batch < self.group_interval:
            return []
        batch = escalations + others
        for a in batch:
            k = self._keys[a.key]
            k.notified_status, k.notified_level, k.notified_at = a.status, Level(a.level), now
        self._last_batch = now
        return batch

    def tick(self, now: float) -> list[Alert]:
        """Hand what is due to the worker (or deliver inline when no worker runs). Returns the batch."""
        batch = self.due(now)
        if batch:
            if self._thread is not None and self._thread.is_alive():
                self._idle.clear()
                self._queue.put(Delivery(batch, now))
            else:
                self._store(self.deliver(batch))
        return batch

    def send_now(self, alerts: Sequence[Alert], now: float) -> None:
        """Deliver alerts that are not about a trigger (e.g. the store cannot be written) right away,
        outside grouping and repeats; results come back through :meth:`drain_events` as usual."""
        if not alerts:
            return
        if self._thread is not None and self._thread.is_alive():
            self._idle.clear()
            self._queue.put(Delivery(list(alerts), now))
        else:
            self._store(self.deliver(alerts))

    # -- delivering

    def deliver(self, alerts: Sequence[Alert], *, test: bool = False) -> list[Event]:
        """Send ``alerts`` through every alerter (blocking, each under its Guard). Returns events."""
        events = []
        for name, result in self._send_all(alerts):
            events.append(self._event(name, result, alerts, test))
        return events

    def _send_all(self, alerts: Sequence[Alert]) -> list[tuple[str, DeliveryResult]]:
        out = []
        for alerter in self.alerters:
            out.append((alerter.name, self._send_one(alerter, alerts)))
        return out

    def _send_one(self, alerter: Any, alerts: Sequence[Alert]) -> DeliveryResult:
        guard = self.guards[alerter.name]
        try:
            result = guard.call(alerter.send, list(alerts), timeout=self.timeout)
        except GuardError as exc:
            return DeliveryResult(False, redact(f"{alerter.name}: {exc.reason}: {exc}"), 0)
        if not isinstance(result, DeliveryResult):
            return DeliveryResult(False, f"{alerter.name}: send() returned {type(result).__name__}, "
                                  "not a DeliveryResult", 0)
        result.message = redact(result.message)
        return result

    def _event(self, name: str, result: DeliveryResult, alerts: Sequence[Alert], test: bool) -> Event:
        firing = [a.annotations.get("trigger", a.key) for a in alerts if a.status == "firing"]
        resolved = [a.annotations.get("trigger", a.key) for a in alerts if a.status == "resolved"]
        what = []
        if firing:
            what.append("firing: " + ", ".join(firing))
        if resolved:
            what.append("resolved: " + ", ".join(resolved))
        verb = "sent" if result.ok else "FAILED"
        msg = f"{'test alert' if test else 'alert'} {verb} via {name}" + (f" ({'; '.join(what)})" if what and not test else "")
        if not result.ok:
            msg += f": {result.message}"
        return Event(kind="alert", subject=name, level=Level.INFO if result.ok else Level.ERROR,
                     message=redact(msg), ts=time.time(), run=alerts[0].run if alerts else self._run,
                     phase=Phase(alerts[0].phase) if alerts else self._phase,
                     data={"alerter": name, "ok": result.ok, "attempts": result.attempts,
                           "status": result.status, "result": redact(result.message), "test": test,
                           "alerts": [{"key": a.key, "status": a.status, "level": Level(a.level).value}
                                      for a in alerts]})

    def _store(self, events: Iterable[Event]) -> None:
        with self._events_lock:
            self._events.extend(events)

    def drain_events(self) -> list[Event]:
        """Delivery results (kind ``alert``) produced since the last call; thread-safe."""
        with self._events_lock:
            out, self._events = self._events, []
        return out

    # -- worker thread

    def start(self) -> "AlertDispatcher":
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._worker, name="migtui-alerts", daemon=True)
            self._thread.start()
        return self

    def _worker(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                self._idle.set()
                return
            try:
                self._store(self.deliver(item.alerts, test=item.test))
            except Exception as exc:  # noqa: BLE001 - never let the worker die
                self._store([Event(kind="error", subject="alerting", level=Level.ERROR,
                                   message=redact(f"alert delivery failed: {type(exc).__name__}: {exc}"),
                                   run=self._run, phase=self._phase)])
            finally:
                if self._queue.empty():
                    self._idle.set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until the worker has delivered everything queued (tests, shutdown)."""
        return self._idle.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)
        for g in self.guards.values():
            g.shutdown()
        for a in self.alerters:
            close = getattr(a, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:  # noqa: BLE001
                    pass


def make_test_alert(*, run: str = "", phase: Phase | str = Phase.BASELINE, key_prefix: str = "migtui",
               now: float | None = None) -> Alert:
    now = time.time() if now is None else now
    return Alert(key=f"{key_prefix}/test", status="firing", level=Level.WARN,
                 summary="migtui test alert: if you can read this, alert delivery works",
                 run=run, phase=Phase(phase), labels={"trigger": "test"},
                 annotations={"trigger": "test", "description": "sent by `migtui alert test`"},
                 starts_at=now, test=True)


def send_test_alert(alerters: Sequence[Any], *, run: str = "", phase: Phase | str = Phase.BASELINE,
                    timeout: float = 60.0, key_prefix: str = "migtui") -> list[tuple[str, DeliveryResult]]:
    """For ``migtui alert test``: send one test alert through every alerter, each under a Guard,
    and return ``(alerter name, DeliveryResult)`` per alerter. Stateful receivers (PagerDuty,
    Alertmanager) get the matching 'resolved' right after, so no incident stays open. The
    alerters are closed afterwards."""
    alert = make_test_alert(run=run, phase=phase, key_prefix=key_prefix)
    disp = AlertDispatcher(alerters, options={"timeout": timeout}, key_prefix=key_prefix)
    out = []
    try:
        for a in alerters:
            result = disp._send_one(a, [alert])
            if result.ok and getattr(a, "stateful", False):
                resolved = Alert(**{**alert.__dict__, "status": "resolved", "ends_at": time.time()})
                second = disp._send_one(a, [resolved])
                if not second.ok:
                    result = DeliveryResult(False, f"test alert sent, but resolving it failed: {second.message}",
                                            result.attempts + second.attempts, second.status)
                else:
                    result = DeliveryResult(True, result.message + " (and resolved)",
                                            result.attempts + second.attempts, result.status)
            out.append((a.name, result))
    finally:
        for g in disp.guards.values():
            g.shutdown()
        for a in alerters:
            close = getattr(a, "close", None)
            if callable(close):
                close()
    return out
