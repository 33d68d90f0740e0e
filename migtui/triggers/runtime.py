"""Triggers, baselines and alert delivery for one run (built by the engine: ``engine.parts``).

- ``triggers``: every tick, evaluates the config's triggers against the engine's in-memory series
  (:class:`EngineMetricView`), emits every transition as a ``trigger`` event, hands transitions to
  the :class:`~migtui.alerting.AlertDispatcher` (deliveries run in its worker thread) and asks the
  actions extension for the requested ``pause`` / ``rollback`` (strongest wins, once per escalation).
  At start it restores trigger states, acknowledgements and silences from the previous run of the
  same name in the store, so a restarted watch does not ask for the same rollback twice.
- ``baseline``: ``capture(who)`` computes baseline statistics in DuckDB from this run's baseline
  phase; they are also captured automatically when the run leaves the baseline phase, and loaded
  from ``--baseline RUN_ID`` when given.

The keeper is built first and handed to the runtime, whose view reads baselines through it:
``TriggerRuntime(engine, BaselineKeeper(engine))``. Neither looks for the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

from migtui.errors import ActionError, MigtuiError
from migtui.model import Event, Level, Phase, Sample, TableSnapshot, labels_key
from migtui.redact import redact
from migtui.triggers.baseline import BaselineKey, compute_baseline, load_baselines
from migtui.triggers.machine import TriggerEngine
from migtui.triggers.view import BaselineStats, SourceStatus

if TYPE_CHECKING:  # pragma: no cover
    from migtui.engine import Engine


class EngineMetricView:
    """A :class:`migtui.triggers.MetricView` over the engine's series and source states (no copies)."""

    def __init__(self, engine: Engine, baselines: BaselineKeeper | None = None) -> None:
        self.engine = engine
        self.baselines = baselines

    def latest(self, metric: str) -> list[Sample]:
        prefix = metric[:-1] if metric.endswith("*") else None
        out = []
        for ser in list(self.engine.series.values()):
            if (ser.metric != metric) if prefix is None else not ser.metric.startswith(prefix):
                continue
            last = ser.last
            if last is not None:
                out.append(Sample(last[0], ser.source, ser.metric, last[1], ser.labels))
        return out

    def recent(self, source: str, metric: str, labels: Mapping[str, str]) -> list[Sample]:
        ser = self.engine.series.get((source, metric, labels_key(labels)))
        if ser is None:
            return []
        return [Sample(ts, source, metric, v, ser.labels) for ts, v in list(ser.points)]

    def baseline(self, source: str, metric: str, labels: Mapping[str, str]) -> BaselineStats | None:
        return self.baselines.baseline(source, metric, labels) if self.baselines is not None else None

    def source_status(self, source: str) -> SourceStatus | None:
        st = self.engine.sources.get(source)
        if st is None:
            return None
        ok = st.state not in ("error", "quarantined")
        return SourceStatus(ok=ok, last_ok=st.last_ok, last_error=st.last_error_at, error=st.last_error,
                            consecutive_errors=0 if ok else max(1, st.errors))


class BaselineKeeper:
    """The ``baseline`` extension: capture and load baseline statistics; the triggers read them
    through :meth:`baseline` (and the cockpit through :attr:`stats`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.stats: dict[BaselineKey, BaselineStats] = {}
        """The loaded statistics by (source, metric, labels_key); replaced whole on every load."""
        self.captured = False
        self.loaded_from: str | None = None
        if engine.baseline_run and engine.store is not None:
            self.load(engine.baseline_run)

    def baseline(self, source: str, metric: str, labels: Mapping[str, str]) -> BaselineStats | None:
        return self.stats.get((source, metric, labels_key(labels)))

    def load(self, run_id: str) -> int:
        if self.engine.store is None:
            return 0
        self.stats = load_baselines(self.engine.store.cursor(), run_id, "baseline")
        self.loaded_from = run_id
        return len(self.stats)

    def capture(self, who: str = "operator") -> Event:
        store = self.engine.store
        if store is None:
            raise MigtuiError("baseline statistics need a store (run without --no-store)")
        store.flush()
        n = compute_baseline(store.cursor(), self.engine.run_id, "baseline")
        self.captured = True
        loaded = self.load(self.engine.run_id) if n else 0
        msg = (f"baseline captured by {who}: statistics of {n} series" if n else
               f"baseline not captured ({who}): no samples in the baseline phase yet")
        return self.engine.emit(Event("baseline", who, msg, Level.INFO if n else Level.WARN,
                                      {"series": n, "loaded": loaded, "run_id": self.engine.run_id, "who": who}))

    def on_phase(self, old: Any, new: Any) -> None:
        if Phase(old) == Phase.BASELINE and Phase(new) != Phase.BASELINE and not self.captured \
                and not self.engine.baseline_run:
            try:
                self.capture(who="auto")
            except MigtuiError as exc:
                self.engine.emit(Event("error", "baseline", str(exc), Level.WARN))


class TriggerRuntime:
    """The ``triggers`` extension."""

    def __init__(self, engine: Engine, baselines: BaselineKeeper | None = None) -> None:
        from migtui.alerting import AlertDispatcher, build_alerters

        self.engine = engine
        config = engine.config
        self.specs = list(config.get("triggers") or [])
        self.view = EngineMetricView(engine, baselines)
        interval = config.interval
        self.triggers = TriggerEngine(self.specs, default_max_age=max(60.0, 5 * interval))
        alerters = build_alerters(engine.host, config)
        self.dispatcher = AlertDispatcher(alerters, options=config["alerting"], key_prefix=engine.name)
        if alerters:
            self.dispatcher.start()
        self.requests: list[tuple[float, str, str]] = []
        """(ts, verb, trigger) of every action the triggers asked for (tests, status)."""
        self._store_alert: Any = None
        """The firing 'store' alert while the store cannot be written (resolved when writes work again)."""
        self._restore()

    def _restore(self) -> None:
        store = self.engine.store
        if store is None or not self.specs:
            return
        try:
            prev = store.latest_run_named(self.engine.name, exclude=self.engine.run_id)
            if prev is None:
                return
            n = self.triggers.restore(store.events(prev, kinds=["trigger"]), now=self.engine.clock())
        except Exception as exc:  # noqa: BLE001 - a bad old store must not stop monitoring
            self.engine.emit(Event("error", "triggers", f"cannot restore trigger states: {redact(exc)}", Level.WARN))
            return
        if n:
            states = ", ".join(f"{r.name} {r.state}" for r in self.triggers.status() if r.state not in ("ok", "resolved"))
            self.engine.emit(Event("trigger", "restore", f"restored trigger states from run {prev}: {states}",
                                   Level.INFO, {"op": "restore", "from_run": prev, "count": n}))

    # -- per tick

    def on_tick(self, now: float, samples: Sequence[Sample], snapshots: Sequence[TableSnapshot]) -> None:
        transitions = self.triggers.evaluate(now, self.view)
        for tr in transitions:
            self.engine.emit(tr.event())
        if self.dispatcher.alerters:
            self.dispatcher.submit(transitions, run=self.engine.run_id, phase=self.engine.phase, now=now)
            self.dispatcher.tick(now)
            self._store_health(now)
            for ev in self.dispatcher.drain_events():
                self.engine.emit(ev)
        for tr in transitions:
            if tr.requested in ("pause", "rollback"):
                self._act(now, tr)

    def _store_health(self, now: float) -> None:
        """Alert (once) when the store cannot be written, and send 'resolved' when it works again.
        The engine records the error event; samples wait in memory meanwhile (see Store.flush)."""
        from dataclasses import replace

        from migtui.api import Alert

        store = self.engine.store
        if store is None:
            return
        if not self.engine.store_ok and self._store_alert is None:
            problem = store.last_error or f"{store.path}: write failed"
            self._store_alert = Alert(
                key=self.dispatcher.key_for("store"), status="firing", level=Level.WARN,
                summary=redact(f"migtui cannot write its store: {problem}; monitoring and triggers go on "
                               "in memory and writing is retried every tick"),
                run=self.engine.run_id, phase=self.engine.phase, labels={"trigger": "store", "metric": "store"},
                annotations={"trigger": "store", "description": "the DuckDB store cannot be written"},
                starts_at=now)
            self.dispatcher.send_now([self._store_alert], now)
        elif self.engine.store_ok and self._store_alert is not None:
            resolved = replace(self._store_alert, status="resolved", ends_at=now,
                               summary=f"migtui writes its store {store.path} again")
            self._store_alert = None
            self.dispatcher.send_now([resolved], now)

    def _act(self, now: float, tr: Any) -> None:
        verb = tr.requested
        self.requests.append((now, verb, tr.name))
        if self.engine.alert_only:
            self.engine.emit(Event("action", verb, f"{verb} requested by trigger {tr.name}: not run "
                                   "(alert-only mode)", Level.WARN, {"trigger": tr.name, "stage": "alert_only"}))
            return
        why = tr.message()
        try:
            # confirm: false on the trigger acts without asking; otherwise the action's own
            # confirmation setting decides (rollback asks by default).
            self.engine.request_action(verb, who=f"trigger {tr.name}", why=why,
                                       confirmed=tr.confirm is False or self.engine.auto_confirm)
        except ActionError:
            pass  # the actions extension recorded why (e.g. nothing configured for the verb)

    # -- operator commands (call on the engine thread, e.g. through engine.call)

    def acknowledge(self, name: str, who: str) -> Event:
        ev = self.engine.emit(self.triggers.acknowledge(name, who, now=self.engine.clock()))
        self.dispatcher.submit([ev], run=self.engine.run_id, phase=self.engine.phase, now=ev.ts)
        return ev

    def silence(self, target: str, seconds: float, who: str) -> Event:
        ev = self.engine.emit(self.triggers.silence(target, seconds, who, now=self.engine.clock()))
        self.dispatcher.submit([ev], run=self.engine.run_id, phase=self.engine.phase, now=ev.ts)
        return ev

    def unsilence(self, target: str, who: str) -> Event:
        ev = self.engine.emit(self.triggers.unsilence(target, who, now=self.engine.clock()))
        self.dispatcher.submit([ev], run=self.engine.run_id, phase=self.engine.phase, now=ev.ts)
        return ev

    def change(self, name: str, who: str, **values: Any) -> Event:
        """``migtui ctl set``: a running trigger's threshold / clear / for (see TriggerEngine.change)."""
        ev = self.engine.emit(self.triggers.change(name, who, now=self.engine.clock(), **values))
        self.specs = list(self.triggers.specs)
        return ev

    def status(self, now: float | None = None) -> list[dict[str, Any]]:
        """Per-trigger rows: name, state, since, value, threshold, action, level, reason,
        silenced_until, silenced_by, acked_by, dry_run, metric."""
        return [r.as_dict() for r in self.triggers.status(self.engine.clock() if now is None else now)]

    def silences(self, now: float | None = None) -> list[dict[str, Any]]:
        """The silences in force: ``[{"target", "until", "who", "triggers"}]``, soonest to end first."""
        return self.triggers.silences(self.engine.clock() if now is None else now)

    def summary(self) -> str:
        """One short line for the headless status line and ``ctl status``."""
        rows = self.triggers.status(self.engine.clock())
        if not rows:
            return ""
        bad = [r for r in rows if r.state in ("firing", "pending", "inconclusive")]
        if not bad:
            return f"triggers ok ({len(rows)})"
        order = {"firing": 0, "inconclusive": 1, "pending": 2}
        bad.sort(key=lambda r: (order[r.state], -Level(r.level).rank if r.level in ("warn", "pause", "rollback")
                                else 0))
        parts = [f"{r.name} {r.state}" + (" (silenced)" if r.silenced_until else "") for r in bad[:3]]
        more = f" +{len(bad) - 3}" if len(bad) > 3 else ""
        return "triggers: " + ", ".join(parts) + more

    def close(self) -> None:
        self.dispatcher.wait_idle(5.0)
        for ev in self.dispatcher.drain_events():
            self.engine.emit(ev)
        self.dispatcher.close()

