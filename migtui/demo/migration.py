"""The scripted migration the demo plays, in acts, on its own thread and connection.

1. baseline: load only;
2. schema migration: ``ADD COLUMN orders.total_cents``, then ``CREATE INDEX CONCURRENTLY`` (which
   first waits for a running report query: progress shows its phases);
3. lock trouble: a reporting session sits idle in a transaction holding a lock on ``orders``; an
   ``ALTER TABLE`` without lock_timeout queues behind it, and the order workload queues behind the
   ALTER, until the report session ends;
4. a batched backfill of ``total_cents`` (:mod:`migtui.demo.backfill`) that checks the cooperative
   pause (:func:`migtui_postgres.pause.wait_if_paused`) between batches. Part-way through, the API suffers
   (injected latency, then HTTP 500s) so the seed triggers fire: warn, then pause. A pause relieves
   the API; resume continues the backfill; rollback (``demo/rollback.sql``) ends it;
5. post: the feature flag that reads the new column is rolled out.

Each act is a note event; phases switch through :meth:`Engine.set_phase` (phase events).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migtui.demo.backfill import BackfillAct, MigrationState, Stopped, load_pause
from migtui.demo.scenario import Scenario
from migtui.demo.service import ShopService
from migtui.model import Event, Level, Phase

MIGRATION_SQL = Path(__file__).with_name("migration.sql")
"""The schema statements the acts send, in order (also linted before they run: migration.files)."""


def schema_statements() -> list[str]:
    """The statements of :data:`MIGRATION_SQL` (one per line; comments left out)."""
    lines = MIGRATION_SQL.read_text(encoding="utf-8").splitlines()
    return [ln.strip().rstrip(";") for ln in lines if ln.strip() and not ln.lstrip().startswith("--")]


APPLICATION_NAME = "demo-migration"
REPORT_APPLICATION_NAME = "shop-reporting"
PAUSE_KEY = 707_172
"""Advisory lock key of the demo's cooperative pause (the pg_pause action holds it)."""
FLAG = "checkout.total_cents"


@dataclass
class FlagBoard:
    """The feature flags the flag stand-in reports (name -> enabled, rollout %)."""

    flags: dict[str, tuple[bool, float]] = field(default_factory=lambda: {
        FLAG: (False, 0.0), "search.v2": (True, 100.0), "checkout.express": (True, 25.0)})
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, name: str, enabled: bool, pct: float) -> None:
        with self.lock:
            self.flags[name] = (enabled, pct)

    def snapshot(self) -> dict[str, tuple[bool, float]]:
        with self.lock:
            return dict(self.flags)


STEPS = ("baseline", "add column", "create index concurrently", "lock trouble", "backfill", "post")


class ScriptedMigration(BackfillAct):
    """Runs the acts above against ``dsn``. ``engine`` gets the phase switches and notes."""

    def __init__(self, dsn: str, engine: Any, service: ShopService, scenario: Scenario, *,
                 flags: FlagBoard | None = None, rows_total: int = 0, pause_key: int = PAUSE_KEY,
                 headless: bool = True, standby: Any = None) -> None:
        self.dsn = dsn
        self.engine = engine
        self.service = service
        self.sc = scenario
        self.flags = flags or FlagBoard()
        self.state = MigrationState(rows_total=rows_total)
        self.pause_key = pause_key
        self.headless = headless
        self.sql = schema_statements()
        self.stop_event = threading.Event()
        self.done = threading.Event()
        self._thread: threading.Thread | None = None
        self._conns: list[Any] = []
        self._wait_if_paused = load_pause()
        self._burst_started = 0.0
        self._errors_started = 0.0
        self.standby = standby
        """A :class:`migtui.demo.standby.DemoStandby` whose replay lag spikes during the backfill."""

    # ------------------------------------------------------------------ plumbing

    def start(self) -> "ScriptedMigration":
        self._thread = threading.Thread(target=self.run, name="migtui-demo-migration", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        for conn in list(self._conns):
            try:
                if not conn.closed:
                    conn.cancel_safe(timeout=2.0) if hasattr(conn, "cancel_safe") else conn.cancel()
            except Exception:  # noqa: BLE001
                pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _connect(self, application_name: str = APPLICATION_NAME) -> Any:
        import psycopg

        conn = psycopg.connect(self.dsn, autocommit=True, application_name=application_name, connect_timeout=5)
        self._conns.append(conn)
        return conn

    def _sleep(self, seconds: float) -> None:
        if self.stop_event.wait(max(0.0, seconds)):
            raise Stopped

    def note(self, message: str, level: Level = Level.INFO, **data: Any) -> None:
        self.engine.emit(Event("note", "demo", message, level, {"who": "demo migration", **data}))

    def _step(self, name: str) -> None:
        self.state.step = name
        self.state.step_no = STEPS.index(name)

    def on_event(self, ev: Event) -> None:
        """Follow the operator's (or a trigger's) pause / resume / rollback actions."""
        verb = _action_verb(ev)
        if verb is None:
            return
        if verb == "pause":
            self.state.paused = True
            self.state.pauses += 1
            if not self.headless:
                self.note("the backfill will wait before its next batch: press u to resume, or r to roll back "
                          "(runs demo/rollback.sql)", Level.PAUSE, act="paused")
            if self.state.burst in ("latency", "errors"):
                self.service.clear()
                self.state.burst = "over"
                self.note("the pause takes load off the API: errors and latency go back to normal")
        elif verb == "resume":
            self.state.paused = False
        elif verb == "rollback":
            self.state.rolled_back = True
            self.state.paused = False
            self.flags.set(FLAG, False, 0.0)
            if self.state.burst in ("latency", "errors"):
                self.service.clear()
                self.state.burst = "over"

    # ------------------------------------------------------------------ the acts

    def run(self) -> None:
        import psycopg

        why = "migration finished"
        try:
            self._step("baseline")
            self.note(f"baseline: the shop's load only, for {self.sc.baseline:g}s", act="baseline")
            self._sleep(self.sc.baseline)
            self.engine.set_phase(Phase.MIGRATION, who="demo migration", why="the scripted migration starts")
            conn = self._connect()
            self._add_column(conn)
            self._sleep(self.sc.settle)
            self._create_index(conn)
            self._sleep(self.sc.settle)
            self._lock_trouble(conn)
            self._sleep(self.sc.settle)
            self._backfill(conn)
            if self.state.rolled_back:
                why = "rolled back"
        except Stopped:
            self.done.set()
            return
        except psycopg.Error as exc:
            if self.stop_event.is_set():
                self.done.set()
                return
            if self.state.rolled_back:
                why = "rolled back"
            else:
                self.state.failed = _first_line(exc)
                why = "the scripted migration failed"
                self.engine.emit(Event("error", "demo", f"demo migration failed in {self.state.step}: "
                                       f"{self.state.failed}", Level.ERROR, {"step": self.state.step}))
        except Exception as exc:  # noqa: BLE001 - the demo must still shut down cleanly
            if self.stop_event.is_set():
                self.done.set()
                return
            self.state.failed = f"{type(exc).__name__}: {exc}"
            why = "the scripted migration failed"
            self.engine.emit(Event("error", "demo", f"demo migration failed in {self.state.step}: "
                                   f"{self.state.failed}", Level.ERROR, {"step": self.state.step}))
        finally:
            self.service.clear()
            self._close_conns()
        try:
            self._post(why)
        except Stopped:
            pass
        except Exception as exc:  # noqa: BLE001 - e.g. the engine stopped under us
            if not self.stop_event.is_set():
                self.engine.emit(Event("error", "demo", f"demo post phase failed: {type(exc).__name__}: {exc}",
                                       Level.ERROR, {"step": "post"}))
        finally:
            self.done.set()

    def _add_column(self, conn: Any) -> None:
        self._step("add column")
        t = time.perf_counter()
        for sql in self.sql[:3]:  # SET lock_timeout, ADD COLUMN, RESET lock_timeout
            conn.execute(sql)
        self.note(f"schema: ALTER TABLE orders ADD COLUMN total_cents bigint ({_ms(t)})", act="add column")

    def _create_index(self, conn: Any) -> None:
        self._step("create index concurrently")
        hold = self.sc.report_hold
        report = self._connect(REPORT_APPLICATION_NAME)

        def run_report() -> None:
            try:
                report.execute("SELECT count(*), pg_sleep(%s) FROM orders WHERE status = 'paid'", [hold])
            except Exception:  # noqa: BLE001 - cancelled at shutdown
                pass

        threading.Thread(target=run_report, name="migtui-demo-report", daemon=True).start()
        self._sleep(0.5)
        self.note(f"schema: CREATE INDEX CONCURRENTLY orders_customer_created_idx: it first waits for a "
                  f"{hold:g}s report query that holds an old snapshot", act="create index")
        t = time.perf_counter()
        conn.execute(self.sql[3])  # CREATE INDEX CONCURRENTLY orders_customer_created_idx
        self.note(f"schema: index orders_customer_created_idx is valid ({_ms(t)})", act="create index")

    def _lock_trouble(self, conn: Any) -> None:
        self._step("lock trouble")
        hold = self.sc.lock_hold
        blocker = self._connect(REPORT_APPLICATION_NAME)
        blocker.autocommit = False
        blocker.execute("SELECT count(*) FROM orders WHERE id < 1000")  # AccessShareLock, then idle
        self.note(f"lock trouble: a reporting session is idle in a transaction on orders for {hold:g}s",
                  Level.WARN, act="lock trouble")

        def release() -> None:
            if not self.stop_event.wait(hold):
                try:
                    blocker.rollback()
                except Exception:  # noqa: BLE001
                    pass

        threading.Thread(target=release, name="migtui-demo-blocker", daemon=True).start()
        self._sleep(min(1.0, hold / 4))
        self._wait_for_the_panel(blocker.info.backend_pid, hold / 2)
        self.note("lock trouble: ALTER TABLE orders ALTER COLUMN total_cents SET DEFAULT 0 runs without a "
                  "lock_timeout and queues behind it; every order request now queues behind the ALTER",
                  Level.WARN, act="lock trouble")
        t = time.perf_counter()
        conn.execute(self.sql[4])  # ALTER TABLE orders ALTER COLUMN total_cents SET DEFAULT 0
        self.note(f"lock trouble over: the report session ended and the ALTER went through after {_ms(t)} "
                  "(use a short lock_timeout with retries next time)", act="lock trouble")
        try:
            blocker.close()
        except Exception:  # noqa: BLE001
            pass

    def _wait_for_the_panel(self, pid: int, limit: float) -> None:
        """Hold the ALTER (up to ``limit`` s) until the panel "Pending migration" names ``pid`` as the
        session it would queue behind, so that one sees it before the ALTER is sent."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            snap = self.engine.frame.snapshots.get("pending_migration")
            rows = [r for r in (snap.rows if snap else ()) if f"pid {pid} " in str(r[2])]
            if rows:
                self.note(f"lock trouble: the panel Pending migration names pid {pid} as the session "
                          f"{rows[-1][0]} would queue behind, before the ALTER is sent", Level.WARN,
                          act="lock trouble", pid=pid)
                return
            self._sleep(0.2)

    def _post(self, why: str) -> None:
        self._step("post")
        self.state.finished = True
        self.engine.set_phase(Phase.POST, who="demo migration", why=why)
        if self.state.rolled_back or self.state.failed:
            self.note(f"post: {why}; the feature flag {FLAG} stays off", act="post")
            self._sleep(self.sc.post)
            return
        self.note(f"post: rolling out the feature flag {FLAG} that reads the new column", act="post")
        steps = (10.0, 50.0, 100.0)
        for pct in steps:
            if self.state.rolled_back:
                self.flags.set(FLAG, False, 0.0)
                break
            self.flags.set(FLAG, True, pct)
            self._sleep(self.sc.post / len(steps))

    def _close_conns(self) -> None:
        for conn in self._conns:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass
        self._conns.clear()

    def join(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)


def _action_verb(ev: Event) -> str | None:
    """pause / resume / rollback when ``ev`` is the result of such an action that really ran and worked
    (the ``action`` event of :mod:`migtui.actions` for a whole request: stage ``result``, ``ok``, not a
    dry run, no step skipped)."""
    if ev.kind != "action":
        return None
    data = ev.data or {}
    verb = data.get("verb")
    if verb not in ("pause", "resume", "rollback") or data.get("stage") != "result":
        return None
    if data.get("ok") is not True or data.get("dry_run"):
        return None
    if any((step.get("result") or {}).get("skipped") for step in data.get("steps") or [data]):
        return None
    return str(verb)


def _ms(t: float) -> str:
    s = time.perf_counter() - t
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.1f}s"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
