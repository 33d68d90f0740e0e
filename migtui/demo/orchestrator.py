"""Runs the whole demo: server, data, API, load, config, engine, scripted migration; then cleans up.

:class:`Demo` owns everything it starts and stops it all in :meth:`Demo.shutdown` (idempotent, also
on Ctrl-C, SIGTERM and SIGHUP): the migration thread, the engine (its run is marked finished in the
store), the workload sessions, the HTTP service and the embedded PostgreSQL, then the temp folder.
Nothing it starts blocks the interpreter's exit (every thread is a daemon).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

from migtui.demo.migration import FlagBoard, ScriptedMigration
from migtui.demo.scenario import Scenario
from migtui.demo.service import MetricsServer, ShopService
from migtui.demo.shop import DBNAME, ShopSize, create_database, load_shop
from migtui.model import Event, Level, Phase


def process_age() -> float:
    """Seconds since this process started (Linux /proc), else 0."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


class Demo:
    """``setup()``, then ``run_headless()`` or ``run_cockpit()``; ``shutdown()`` always."""

    def __init__(self, scenario: Scenario, store_path: Path, *, headless: bool, duration: float | None = None,
                 say: Callable[[str], None] | None = None, keep_dir: bool = False) -> None:
        self.sc = scenario
        self.store_path = Path(store_path)
        self.headless = headless
        self.duration = duration
        self.say = say or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.keep_dir = keep_dir
        self.started = time.monotonic() - process_age()
        self.timings: dict[str, float] = {}
        self.dir: Path | None = None
        self.pg: Any = None
        self.standby: Any = None
        self.service = ShopService()
        self.flags = FlagBoard()
        self.api: MetricsServer | None = None
        self.workload: Any = None
        self.engine: Any = None
        self.migration: ScriptedMigration | None = None
        self.config_path: Path | None = None
        self.missing: list[str] = []
        self.finished = threading.Event()
        self._first_samples = False
        self._shutdown_steps: list[tuple[str, Callable[[], Any]]] | None = None
        self._resume_timer: threading.Timer | None = None
        self.signal: int | None = None
        """The signal that ended the cockpit (SIGTERM, SIGHUP), if one did."""

    # ------------------------------------------------------------------ set-up

    def _mark(self, name: str, t: float) -> None:
        self.timings[name] = round(time.monotonic() - t, 2)

    def setup(self) -> None:
        from migtui.store import Store

        # The store first: a store held by another migtui is a one-line error before anything starts.
        store = Store.open(self.store_path)
        try:
            for path, samples in store.imported:  # as watch does: an earlier run's recovery file, and
                self.say(f"demo: imported {samples} samples that an earlier run could not store, from {path}")
            store.interrupted_runs()  # runs whose end was never recorded stop reading `running`
            self._setup(store)
        except BaseException:
            if self.engine is None:
                store.close()
            raise

    def _setup(self, store: Any) -> None:
        from migtui.config import load_config
        from migtui.demo.configfile import demo_config, write_config
        from migtui.demo.standins import PLUGIN_NAME, DemoPlugin
        from migtui.demo.workload import Workload
        from migtui.embedded import EmbeddedPostgres
        from migtui.engine import Engine
        from migtui.plugins import PluginHost

        sc = self.sc
        self.dir = Path(tempfile.mkdtemp(prefix="migtui-demo-"))
        t = time.monotonic()
        self.pg = EmbeddedPostgres(self.dir / "pg")
        self.say(f"demo: starting an embedded PostgreSQL in {self.pg.data} ...")
        self.pg.start()
        self._mark("postgres start", t)
        size = ShopSize.for_scale(sc.scale)
        t = time.monotonic()
        self.say(f"demo: loading the shop: {size.orders:,} orders, {size.customers:,} customers, "
                 f"{size.products:,} products ...")
        create_database(self.pg.dsn)
        db_dsn = self.pg.dsn_for(DBNAME)
        self.load_report = load_shop(db_dsn, size)
        self._mark("data load", t)
        if sc.standby:
            from migtui.demo.standby import DemoStandby

            t = time.monotonic()
            self.say("demo: starting a streaming standby (pg_basebackup) ...")
            self.standby = DemoStandby(self.pg, self.dir / "standby").start()
            self._mark("standby start", t)
        t = time.monotonic()
        self.api = MetricsServer(self.service).start()
        self.workload = Workload(db_dsn, self.service, size, writers=sc.writers, readers=sc.readers,
                                 think_time=sc.think_time).start()
        self.say(f"demo: shop API metrics on {self.api.url}; {len(self.workload.sessions)} client sessions running")
        host = PluginHost(extra_plugins=[(PLUGIN_NAME, DemoPlugin(self))])
        cfg = demo_config(db_dsn=db_dsn, api_url=self.api.url, scenario=sc, headless=self.headless,
                          available=host.types.keys())
        self.missing = list(cfg.get("x_demo_missing", []))
        self.config_path = write_config(self.dir / "demo.yaml", cfg)
        config = load_config(self.config_path)
        # A run name of its own: trigger states are restored from the previous run of the same name,
        # and an earlier demo that was quit while a trigger fired must not keep this one from pausing.
        self.engine = Engine(config, store=store, host=host, phase=Phase.BASELINE, headless=self.headless,
                             run_name=time.strftime("demo %Y-%m-%d %H:%M:%S"))
        self._mark("engine build", t)
        self.migration = ScriptedMigration(db_dsn, self.engine, self.service, sc, flags=self.flags,
                                           rows_total=size.orders, headless=self.headless, standby=self.standby)
        self.engine.subscribe(self._on_update)
        self.engine.emit(Event("note", "demo", f"demo ready: PostgreSQL {self.pg.port}, shop API {self.api.url}, "
                               f"{size.orders:,} orders loaded in {self.timings['data load']:.1f}s",
                               Level.INFO, {"who": "demo", "data_dir": str(self.pg.data), "config": str(self.config_path),
                                            "api": self.api.url, "timings": dict(self.timings),
                                            "load": self.load_report.seconds, "missing": self.missing,
                                            "scenario": {"scale": sc.scale, "estimate_s": round(sc.estimate())}}))
        for part in self.missing:
            self.engine.emit(Event("note", "demo", f"demo: {part} is not installed; that part of the demo is "
                                   "left out", Level.WARN, {"who": "demo", "missing": part}))

    # ------------------------------------------------------------------ engine updates

    def _on_update(self, update: Any) -> None:
        if self.migration is None:
            return
        if not self._first_samples and update.samples:
            self._first_samples = True
            age = round(time.monotonic() - self.started, 2)
            self.timings["first samples"] = age
            self.engine.emit(Event("note", "demo", f"first samples {age:.1f}s after `migtui demo` started; "
                                   "the scripted migration begins with its baseline", Level.INFO,
                                   {"who": "demo", "startup_s": age, "timings": dict(self.timings)}))
            self.migration.start()
        for ev in update.events:
            self.migration.on_event(ev)
            if (self.headless and ev.kind == "action" and (ev.data or {}).get("paused") is True):
                self._schedule_resume()

    def _schedule_resume(self) -> None:
        if self._resume_timer is not None and self._resume_timer.is_alive():
            return
        wait = self.sc.resume_after
        verb = "rolls back the migration" if self.sc.ending == "rollback" else "resumes the backfill"
        self.engine.emit(Event("note", "demo", f"headless demo: the scripted operator {verb} in {wait:g}s "
                               "(in the cockpit, that is your call: u resumes, r rolls back)",
                               Level.INFO, {"who": "demo operator"}))

        def decide() -> None:
            if self.finished.is_set() or self.engine is None:
                return
            try:
                if self.sc.ending == "rollback":
                    self.engine.rollback(who="demo operator", why="the headless demo plays a rollback",
                                         confirmed=True)
                else:
                    self.engine.resume(who="demo operator", why="the API recovered while paused")
            except Exception as exc:  # noqa: BLE001 - e.g. actions unavailable
                self.engine.emit(Event("note", "demo", f"headless demo: {self.sc.ending} failed: {exc}", Level.WARN,
                                       {"who": "demo operator"}))

        self._resume_timer = threading.Timer(wait, decide)
        self._resume_timer.daemon = True
        self._resume_timer.start()

    # ------------------------------------------------------------------ running

    def run_headless(self) -> None:
        """Tick until the scenario is over (or ``duration``), Ctrl-C or SIGTERM."""
        engine = self.engine
        engine.start()
        deadline = None if self.duration is None else time.monotonic() + self.duration
        try:
            while True:
                if deadline is not None and time.monotonic() >= deadline:
                    break
                if deadline is None and self.migration is not None and self.migration.done.is_set():
                    time.sleep(self.sc.interval * 1.5)  # one more tick shows the end
                    break
                if not engine.running:
                    break
                time.sleep(0.2)
        finally:
            self.finished.set()

    def run_cockpit(self) -> None:
        """The cockpit (what ``run_cockpit`` does), keeping the app so that SIGTERM / SIGHUP can end it
        cleanly and Ctrl-C quits like ``q`` instead of only explaining how to quit."""
        import signal

        try:
            from migtui.tui.app import MigtuiApp
        except ImportError:  # an older cockpit: its own entry point
            from migtui.tui.app import run_cockpit

            try:
                run_cockpit(self.engine)
            finally:
                self.finished.set()
            return
        import inspect

        css = getattr(MigtuiApp, "CSS_PATH", None)
        if isinstance(css, str) and not Path(css).is_absolute():
            css = str(Path(inspect.getfile(MigtuiApp)).parent / css)

        class DemoCockpit(MigtuiApp):  # type: ignore[misc, valid-type]
            # Ctrl-C quits like q (asking first during the migration phase), instead of Textual's
            # default of only explaining how to quit.
            BINDINGS = [("ctrl+c", "quit", "Quit")]
            CSS_PATH = css

        app = DemoCockpit(self.engine, start_engine=True)

        def ask_exit() -> None:
            try:
                app.call_from_thread(app.exit)
            except Exception:  # noqa: BLE001 - the app already ended
                pass

        def on_signal(signum: int, frame: Any) -> None:
            self.signal = signum
            threading.Thread(target=ask_exit, name="migtui-demo-exit", daemon=True).start()

        old = {}
        for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if sig is not None:
                old[sig] = signal.signal(sig, on_signal)
        stop_timer = None
        if self.duration is not None:  # --duration: the cockpit closes by itself
            stop_timer = threading.Timer(self.duration, ask_exit)
            stop_timer.daemon = True
            stop_timer.start()
        try:
            app.run()
        finally:
            if stop_timer is not None:
                stop_timer.cancel()
            for sig, handler in old.items():
                signal.signal(sig, handler)
            self.finished.set()
            self.engine.close()

    # ------------------------------------------------------------------ tear-down

    def shutdown(self) -> None:
        """Stop everything this demo started, in order (never raises). Calling it again (after a
        second Ctrl-C interrupted a step) skips that step and goes on with the rest."""
        if self._shutdown_steps is None:
            self.finished.set()
            steps: list[tuple[str, Callable[[], Any]]] = []
            if self._resume_timer is not None:
                steps.append(("resume timer", self._resume_timer.cancel))
            if self.migration is not None:
                steps.append(("migration", self.migration.stop))
            if self.engine is not None:
                steps.append(("engine", self.engine.close))
            if self.standby is not None:
                steps.append(("standby", self.standby.stop))
            if self.workload is not None:
                steps.append(("workload", self.workload.stop))
            if self.api is not None:
                steps.append(("shop API", self.api.stop))
            if self.pg is not None:
                steps.append(("PostgreSQL", lambda: self.pg.stop("fast")))
                steps.append(("PostgreSQL (immediate)", self._stop_pg_hard))
            if self.dir is not None and not self.keep_dir:
                steps.append(("temp folder", lambda: shutil.rmtree(self.dir, ignore_errors=True)))
            self._shutdown_steps = steps
        while self._shutdown_steps:
            name, fn = self._shutdown_steps.pop(0)
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - keep stopping the rest
                self.say(f"demo: stopping the {name} failed: {type(exc).__name__}: {exc}")

    def _stop_pg_hard(self) -> None:
        """If the server is still up after the fast stop (it was busy or stuck), stop it immediately."""
        if self.pg is not None and _postmaster_alive(self.pg.data):
            self.pg._started = True  # stop() is a no-op once it thinks the server is down
            self.pg.stop("immediate")

    @property
    def run_id(self) -> str | None:
        return getattr(self.engine, "run_id", None)


def _postmaster_alive(data_dir: Path) -> bool:
    pid_file = Path(data_dir) / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
