"""The loop: build the run, tick, store, publish, finish. See :mod:`migtui.engine`."""

from __future__ import annotations

import collections
import queue
import threading
import time
import traceback
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

from migtui.api import BuildContext, capabilities
from migtui.config import Config
from migtui.engine.commands import Commands
from migtui.engine.frame import Frame, FrameBuilder
from migtui.engine.parts import RunParts
from migtui.engine.polling import Polling
from migtui.engine.state import EngineUpdate, Series, SourceState
from migtui.errors import MigtuiError, StoreError
from migtui.metrickinds import declared_kinds
from migtui.model import Event, Level, MetricSpec, PanelSpec, Phase, Sample, TableSnapshot
from migtui.plugins import Guard, GuardError, PluginHost
from migtui.redact import redact
from migtui.store import Store
from migtui.workers import DaemonExecutor, in_background


class Engine(Polling, Commands):
    """Build from a loaded :class:`Config`; ``run(duration)`` or ``start()``/``stop()``."""

    def __init__(self, config: Config, *, store: Store | None, host: PluginHost | None = None,
                 phase: Phase | str = Phase.BASELINE, baseline_run: str | None = None,
                 headless: bool = True, clock: Callable[[], float] = time.time,
                 run_name: str | None = None, connect_check: bool = False) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.headless = headless
        self.host = host or PluginHost(disabled=config["plugins"]["disable"])
        self.phase = Phase(phase)
        self.tick_no = 0
        self.started_at = clock()
        self.name = run_name or config.name
        self.run_id = store.create_run(self.name, config.snapshot(), baseline_of=baseline_run) if store else "memory"
        self.baseline_run = baseline_run
        self.series: dict[tuple[str, str, Any], Series] = {}
        self.snapshots: dict[str, TableSnapshot] = {}
        self._stored_snapshots: dict[tuple[str, str], tuple[int, float]] = {}
        self.sources: dict[str, SourceState] = {}
        self.collectors: dict[str, Any] = {}
        self.guards: dict[str, Guard] = {}
        self.recent_events: collections.deque[Event] = collections.deque(maxlen=500)
        self._subscribers: list[Callable[[EngineUpdate], None]] = []
        self._pending_events: list[Event] = []
        self._events_lock = threading.Lock()
        self._results: queue.Queue[tuple[str, float, Any, BaseException | None]] = queue.Queue()
        self._commands: queue.Queue[tuple[Callable[[], Any], Future[Any]]] = queue.Queue()
        self._stop = threading.Event()
        self._wake = threading.Event()
        """Set by a poll result, a command, an event or stop(): the loop wakes (see :meth:`run`)."""
        self._thread: threading.Thread | None = None
        self._pool = DaemonExecutor(max_workers=8, thread_name_prefix="migtui-collect")
        self._closed = False
        self.status = "running"
        """How the run ended: finished, incomplete (a store write still failing), failed."""
        self.busy_at_exit: list[str] = []
        """Plugins still inside a call when the run ended (exit does not wait for them)."""
        self.unstored: Any = None
        """What the store could not write at exit (store_recovery.Unstored), or None."""
        self.store_ok = True
        headless_opts = config["headless"]
        self.alert_only = bool(headless and headless_opts["alert_only"])
        """Headless, told to only alert: triggers record what they would do and never act."""
        self.auto_confirm = bool(headless and headless_opts["act"])
        """Headless, told to act: trigger actions that would ask an operator run without asking."""
        self.frozen = False
        self.panels: list[PanelSpec] = []
        self.metric_kinds: list[tuple[str, tuple[MetricSpec, ...]]] = []
        """(source, specs) of the metrics sources declare a kind for outside their panels."""
        self.parts: RunParts | None = None
        """The run's parts (actions, baseline, triggers, throttle, control, plugin components), built
        explicitly by :meth:`_build`; see :class:`migtui.engine.parts.RunParts`."""
        self._frames = FrameBuilder()
        self.frame: Frame | None = None
        """The latest published :class:`~migtui.engine.frame.Frame`: what every front end renders."""
        self._build()
        if connect_check:
            self._connect_check()
        self.emit(Event("run", self.name, f"run {self.run_id} started in phase {self.phase.value}", Level.INFO,
                        {"run_id": self.run_id, "config": str(config.path), "sources": list(self.collectors),
                         "metric_kinds": declared_kinds(self.panels, config["report"]["metrics"],
                                                        self.metric_kinds)}))
        self.frame = self._frames.build(self, "tick", self.clock())

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        sql_dirs = [self.config.resolve_path(p) for p in self.config["sql_dirs"]]
        built: dict[str, Any] = {}
        plugin_sql = [(plugin, Path(path)) for plugin, path, target in self.host.sql_dirs if target == "postgres"]
        for item in self.config["sources"]:
            ctx = BuildContext(config=self.config, item=item, sql_dirs=sql_dirs, sources=built,
                               plugin_sql_dirs=plugin_sql)
            collector = self.host.build("source", item, ctx)
            built[item.name] = collector
            self.add_source(collector, type=item.type, plugin=self.host.plugin_of("source", item.type),
                            name=item.name)
        self.panels.extend(self.host.panels(self.config))
        try:
            self.parts = RunParts(self)
        except MigtuiError:  # e.g. a squatted control socket: the run fails, its parts are closed
            self.finish("failed")
            raise

    def add_source(self, collector: Any, *, type: str, plugin: str, name: str | None = None) -> None:
        """Poll ``collector`` as a source of this run (configured sources, and those a run component
        adds through :meth:`migtui.api.RunContext.add_source`)."""
        name = name or collector.name
        if name in self.collectors:
            raise MigtuiError(f"a source is already named {name!r}")
        self.collectors[name] = collector
        self.guards[name] = Guard(name)
        self.sources[name] = SourceState(name=name, type=type, plugin=plugin,
                                         interval=float(getattr(collector, "interval", None) or self.config.interval),
                                         timeout=float(getattr(collector, "timeout", None) or 5.0))
        try:
            self.panels.extend(collector.panels())
        except Exception as exc:  # noqa: BLE001
            self.emit(Event("error", name, f"panels() failed: {redact(exc)}", Level.WARN))
        try:
            self.metric_kinds.append((name, capabilities(collector).metric_kinds()))
        except Exception as exc:  # noqa: BLE001
            self.emit(Event("error", name, f"metric_kinds failed: {redact(exc)}", Level.WARN))

    def _connect_check(self) -> None:
        """Open every collector that can be opened, so a wrong DSN, password or database is one
        clear error at start rather than a stream of error events."""
        for name, collector in self.collectors.items():
            if not capabilities(collector).opens:
                continue
            try:
                self.guards[name].call(collector.open, timeout=self.sources[name].timeout)
            except GuardError as exc:
                self.finish("failed")
                raise MigtuiError(f"source {name!r}: {exc.detail}") from None

    # ------------------------------------------------------------------ events

    def subscribe(self, fn: Callable[[EngineUpdate], None]) -> None:
        """Call ``fn(update)`` after every tick, on the engine thread (be quick; hand off)."""
        self._subscribers.append(fn)

    def emit(self, event: Event) -> Event:
        """Record an event (thread-safe): stamped with run and phase, stored with the next flush."""
        event.run = self.run_id
        event.phase = self.phase
        event.message = redact(event.message)
        with self._events_lock:
            self._pending_events.append(event)
            self.recent_events.append(event)
        if self.store is not None:
            self.store.add_event(event)
        self._wake.set()  # published at once, not at the next tick
        return event

    # ------------------------------------------------------------------ ticks

    def tick(self, now: float | None = None, *, wait: float = 0.0) -> EngineUpdate:
        """One tick: launch due collectors, take finished results, evaluate, store, publish.
        ``wait`` (seconds) lets a caller (tests, ``sql run``) wait for collectors launched now."""
        now = self.clock() if now is None else now
        self._run_commands()
        # take the polls that finished since the last step first: a source whose result is waiting
        # in the queue is no longer in flight, and must not skip this tick's poll
        samples, snaps = self._drain(now)
        self._launch_due(now)
        if wait:
            in_flight = sum(1 for s in self.sources.values() if s.in_flight)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and self._results.qsize() < in_flight:
                time.sleep(0.01)
        more_samples, more_snaps = self._drain(now)
        samples += more_samples
        snaps += more_snaps
        self._mark_stale(now)
        self._ingest(now, samples, snaps)
        self._evaluate(now, samples, snaps)
        self._flush_store()
        self.tick_no += 1
        return self._publish(now, samples, snaps, "tick")

    def react(self, now: float | None = None) -> EngineUpdate | None:
        """Between ticks: run queued commands, take the results that arrived, evaluate triggers on
        them at once, launch the sources now due, and publish (when anything happened). Samples are
        written to the store at the next tick; events before they are published."""
        now = self.clock() if now is None else now
        self._run_commands()
        samples, snaps = self._drain(now)
        self._launch_due(now)
        if samples or snaps:
            self._ingest(now, samples, snaps)
            self._evaluate(now, samples, snaps)
        if not self._pending_events:
            return self._publish(now, samples, snaps, "result") if samples or snaps else None
        # events are rare (transitions, actions, errors): written before anyone prints them, so a
        # line the headless printer showed is in the store even if migtui is killed right after
        self._flush_store()
        return self._publish(now, samples, snaps, "result")

    def _evaluate(self, now: float, samples: list[Sample], snaps: list[TableSnapshot]) -> None:
        """Triggers, phase requests, pause watching: on every tick and on every result."""
        if self.parts is not None:
            self.parts.step(now, samples, snaps)

    def _publish(self, now: float, samples: list[Sample], snaps: list[TableSnapshot], kind: str) -> EngineUpdate:
        with self._events_lock:
            events, self._pending_events = self._pending_events, []
        self.frame = self._frames.build(self, kind, now)
        update = EngineUpdate(self.tick_no, now, self.phase, samples, snaps, events, kind=kind, frame=self.frame)
        for fn in list(self._subscribers):
            try:
                fn(update)
            except Exception:  # noqa: BLE001 - a front end's bug must not stop monitoring
                traceback.print_exc()
        return update

    def _flush_store(self) -> None:
        if self.store is None:
            return
        try:
            self.store.flush()
            if not self.store_ok:
                self.store_ok = True
                self.emit(Event("error", "store", f"writing to {self.store.path} works again", Level.INFO))
        except StoreError as exc:
            if self.store_ok:
                self.store_ok = False
                self.emit(Event("error", "store", f"{exc}; monitoring goes on in memory and writing is retried "
                                "every tick", Level.ERROR, {"path": str(self.store.path)}))

    # ------------------------------------------------------------------ loop

    def run(self, duration: float | None = None) -> None:
        """Run until ``duration`` seconds passed or :meth:`stop` is called (blocking).

        The loop sleeps until the first of: a poll result arrives, a command or an event comes in,
        a source is due, the next tick is due. A result is evaluated at once (:meth:`react`); the
        tick (every ``interval``) also marks stale sources and writes the store."""
        deadline = None if duration is None else time.monotonic() + duration
        interval = self.config.interval
        next_tick = time.monotonic()
        try:
            while not self._stop.is_set():
                if time.monotonic() >= next_tick:
                    self.tick()
                    next_tick += interval
                    next_tick = max(next_tick, time.monotonic())
                else:
                    self.react()
                now_m = time.monotonic()
                if deadline is not None and now_m >= deadline:
                    break
                wake = min(next_tick, now_m + self._until_due(self.clock()))
                if deadline is not None:
                    wake = min(wake, deadline)
                self._wake.wait(max(0.0, wake - now_m))
                self._wake.clear()
        finally:
            self.finish()

    def _run_commands(self) -> None:
        while True:
            try:
                fn, fut = self._commands.get_nowait()
            except queue.Empty:
                return
            self._run_command(fn, fut)

    def _run_command(self, fn: Callable[[], Any], fut: Future[Any]) -> None:
        try:
            result = fn()
            self._refresh_frame()  # the caller's next look (ctl status, a key) sees what it did
            fut.set_result(result)
        except BaseException as exc:  # noqa: BLE001
            fut.set_exception(exc)
            if not isinstance(exc, Exception):
                raise  # Ctrl-C (KeyboardInterrupt) during a command still stops the watch

    def _refresh_frame(self) -> Frame:
        """A new frame without publishing an update (after a command)."""
        self.frame = self._frames.build(self, "result", self.clock())
        return self.frame

    def fresh_frame(self, timeout: float = 2.0) -> Frame:
        """A frame built now on the engine thread, so it shows every command and action result so far
        (``ctl status`` right after ``ctl pause``); the latest published one if the loop is busy."""
        try:
            return self.call(self._refresh_frame, timeout=timeout)
        except Exception:  # noqa: BLE001 - a busy or closing loop: the last frame still answers
            return self.frame

    def start(self) -> threading.Thread:
        """Run the loop in a background thread (the TUI does this)."""
        self._thread = threading.Thread(target=self.run, name="migtui-engine", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def call(self, fn: Callable[[], Any], timeout: float | None = 10.0) -> Any:
        """Run ``fn`` on the engine thread (or here, if the loop is not running) and return its result."""
        if threading.current_thread() is self._thread:
            return fn()
        if self._thread is None or not self._thread.is_alive():
            result = fn()
            self._refresh_frame()
            return result
        fut: Future[Any] = Future()
        self._commands.put((fn, fut))
        self._wake.set()
        return fut.result(timeout=timeout)

    def finish(self, status: str = "finished") -> None:
        """Write the last batch and mark the run finished (idempotent). Never waits on a plugin: a
        collector still inside a call is left to its daemon thread and named in ``busy_at_exit``.
        A write still failing makes the run ``incomplete`` and keeps the rest in a recovery file."""
        if self._closed:
            return
        self._closed = True
        if self.parts is not None:
            self.parts.close()
        self.busy_at_exit = self.parts.busy_at_exit() if self.parts is not None else []
        self.busy_at_exit += self._close_collectors()
        if self.busy_at_exit:
            self.emit(Event("error", "plugins", f"not waiting for {', '.join(self.busy_at_exit)}: still busy "
                            "at exit", Level.WARN, {"busy": self.busy_at_exit}))
        self._flush_store()
        if self.store is not None and self.store.pending and status == "finished":
            status = "incomplete"
        self.status = status
        self.emit(Event("run", self.name, f"run {self.run_id} {status}", Level.INFO if status == "finished"
                        else Level.ERROR, {"status": status}))
        self._flush_store()
        if self.store is not None:
            self.store.finish_run(self.run_id, status)
            self.unstored = self.store.save_recovery()
            if self.unstored is not None:
                self.recent_events.append(Event("error", "store", self.unstored.describe(), Level.ERROR))
        with self._events_lock:
            events, self._pending_events = self._pending_events, []
        now = self.clock()
        try:
            self.frame = self._frames.build(self, "tick", now)
        except Exception:  # noqa: BLE001 - the last frame is a courtesy; exit goes on
            traceback.print_exc()
        final = EngineUpdate(self.tick_no, now, self.phase, [], [], events, frame=self.frame)
        for fn in list(self._subscribers):
            try:
                fn(final)
            except Exception:  # noqa: BLE001
                traceback.print_exc()
        for guard in self.guards.values():
            guard.shutdown()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _close_collectors(self, timeout: float = 2.0) -> list[str]:
        """Close the collectors that are not inside a call, all at once, waiting at most ``timeout``
        seconds; returns the names of those still busy (in a call, or in a close that did not end)."""
        busy = [name for name in self.collectors if self.guards[name].busy]
        closing = {name: in_background(c.close, f"migtui-close-{name}")
                   for name, c in self.collectors.items() if name not in busy}
        deadline = time.monotonic() + timeout
        busy += [name for name, done in closing.items() if not done.wait(max(0.0, deadline - time.monotonic()))]
        return busy

    def close(self) -> None:
        self.stop()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=4)
        self.finish()
        if self.store is not None:
            self.store.close()
