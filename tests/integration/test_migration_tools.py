"""Migration-tool awareness against a real PostgreSQL, with real Alembic and Django migrations
running in subprocesses while an engine watches: detection, automatic phases, backfill progress."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from migtui.model import Phase
from tests.conftest import scratch_database, wait_until


def _ensure(module: str, dist: str) -> None:
    try:
        __import__(module)
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", dist], check=True, timeout=300)


def _conninfo(dsn: str) -> dict[str, str]:
    from psycopg.conninfo import conninfo_to_dict

    return {k: str(v) for k, v in conninfo_to_dict(dsn).items()}


def _config(pg: Any, extra: str = "") -> str:
    return textwrap.dedent(f"""\
        name: migration-tools
        interval: 0.5s
        sources:
          - type: postgres
            name: db
            dsn: "{pg.dsn}"
            include: [activity_summary]
        migration:
          interval: 0.5s
          auto_phase: true
          finish_after: 1s
        """) + textwrap.indent(textwrap.dedent(extra), "  ")


GATE_WAIT = '''
def wait_for_the_test():
    """Hold the migration (its transaction and locks open) until the test opens the gate: the engine
    gets to see it running however slow the machine is; never longer than 120 s."""
    import os, time
    gate = os.environ["MIGTUI_TEST_GATE"]
    deadline = time.monotonic() + 120
    while not os.path.exists(gate):
        if time.monotonic() > deadline:
            raise RuntimeError("the test never opened the gate")
        time.sleep(0.05)
'''


def _tick_until(engine: Any, cond: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        engine.tick(wait=0.7)
        if cond():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def scratch_db(pg: Any) -> Iterator[Any]:
    """The ``pg`` server with a database of this test's own (``scratch_database``): the tools' history
    tables and advisory locks stay out of the database the other tests share."""
    import dataclasses

    with scratch_database(pg) as dsn:
        yield dataclasses.replace(pg, dsn=dsn, dbname=_conninfo(dsn)["dbname"])


def _config_for(db: Any, extra: str = "") -> str:
    class P:
        dsn = db.dsn

    return _config(P, extra)


# --------------------------------------------------------------------------- Alembic


ALEMBIC_ENV = '''
import os
import psycopg
from alembic import context
from sqlalchemy import create_engine

engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(os.environ["MIGTUI_TEST_TARGET"]))
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
'''

REV1 = '''
from alembic import op
revision = "a1b2c3d4e5f6"
down_revision = None

def upgrade():
    op.execute("CREATE TABLE orders (id serial PRIMARY KEY, note text)")
    op.execute("INSERT INTO orders (note) SELECT NULL FROM generate_series(1, 300)")

def downgrade():
    op.execute("DROP TABLE orders")
'''

REV2 = '''
from alembic import op
revision = "b2c3d4e5f6a7"
down_revision = "a1b2c3d4e5f6"
''' + GATE_WAIT + '''

def upgrade():
    op.execute("ALTER TABLE orders ADD COLUMN status text")
    wait_for_the_test()

def downgrade():
    op.execute("ALTER TABLE orders DROP COLUMN status")
'''


def _alembic_project(tmp: Path, env: str = ALEMBIC_ENV, second: tuple[str, ...] = (REV2,)) -> Path:
    (tmp / "versions").mkdir(parents=True)
    (tmp / "alembic.ini").write_text(f"[alembic]\nscript_location = {tmp}\n")
    (tmp / "env.py").write_text(env)
    (tmp / "script.py.mako").write_text("")
    (tmp / "versions" / "a1_create_orders.py").write_text(REV1)
    for i, text in enumerate(second):
        (tmp / "versions" / f"b{i}_next.py").write_text(text)
    return tmp / "alembic.ini"


def _alembic(ini: Path, dsn: str, *args: str, wait: bool = True) -> Any:
    env = {**os.environ, "MIGTUI_TEST_TARGET": dsn, "MIGTUI_TEST_GATE": str(ini.parent / "gate")}
    cmd = [sys.executable, "-m", "alembic", "-c", str(ini), *args]
    if wait:
        return subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, timeout=120)
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_alembic_detected_and_switches_phases(scratch_db: Any, make_engine: Any, tmp_path: Path) -> None:
    _ensure("alembic", "alembic")
    ini = _alembic_project(tmp_path / "alembic")
    _alembic(ini, scratch_db.dsn, "upgrade", "a1b2c3d4e5f6")

    engine = make_engine(_config_for(scratch_db))
    assert _tick_until(engine, lambda: "alembic" in engine.parts.components["migration"].collector.states)
    st = engine.parts.components["migration"].collector.states["alembic"]
    assert st.current == "a1b2c3d4e5f6" and st.state == "idle"
    assert engine.phase == Phase.BASELINE

    gate = ini.parent / "gate"
    proc = _alembic(ini, scratch_db.dsn, "upgrade", "head", wait=False)
    try:
        assert _tick_until(engine, lambda: engine.phase == Phase.MIGRATION, timeout=60), \
            "the engine did not switch to the migration phase while alembic ran"
        running = engine.parts.components["migration"].collector.states["alembic"]
        assert running.state == "running" and running.pid
        # the sample that switched the phase was taken in baseline: hold the migration until a poll of the
        # migration phase has recorded it running too (checked in the store below)
        switched = time.time()
        [(series, _, _)] = engine.latest("migration.tool.running", {"tool": "alembic"})
        assert _tick_until(engine, lambda: any(ts > switched and v == 1.0 for ts, v in list(series.points)),
                           timeout=60), "no sample of the running migration in the migration phase"
        gate.touch()  # the migration may finish now
        assert _tick_until(engine, lambda: engine.phase == Phase.POST, timeout=60), \
            "the engine did not switch to post after alembic finished"
    finally:
        gate.touch()
        out, _ = proc.communicate(timeout=150)
    assert proc.returncode == 0, out
    assert engine.parts.components["migration"].collector.states["alembic"].current == "b2c3d4e5f6a7"

    engine.finish()
    engine.store.flush()
    events = engine.store.events(engine.run_id)
    phases = [(e.data["from"], e.data["to"], e.data["who"]) for e in events if e.kind == "phase"]
    assert phases == [("baseline", "migration", "migtui"), ("migration", "post", "migtui")]
    notes = [e.message for e in events if e.kind == "note" and e.data.get("type") == "migration"]
    assert any("alembic detected" in m for m in notes)
    assert any("a1b2c3d4e5f6 -> b2c3d4e5f6a7" in m for m in notes)
    # the running flag was stored as samples in the migration phase
    cur = engine.store.cursor()
    n = cur.execute("SELECT count(*) FROM samples_v WHERE run_id = ? AND metric = 'migration.tool.running' "
                    "AND phase = 'migration' AND value = 1", [engine.run_id]).fetchone()[0]
    dbg = cur.execute("SELECT ts, phase, value, labels, metric FROM samples_v WHERE run_id = ? AND metric LIKE 'migration.%running' ORDER BY ts", [engine.run_id]).fetchall()
    assert n >= 1, "\n".join(map(str, dbg))
    snap = cur.execute("SELECT rows FROM snapshots WHERE run_id = ? AND name = 'migration_tools' ORDER BY ts DESC "
                       "LIMIT 1", [engine.run_id]).fetchone()
    assert "b2c3d4e5f6a7" in snap[0]


# --------------------------------------------------------------------------- Django


DJANGO_SETTINGS = '''
import os
from psycopg.conninfo import conninfo_to_dict
d = conninfo_to_dict(os.environ["MIGTUI_TEST_TARGET"])
SECRET_KEY = "test-only"
INSTALLED_APPS = ["shop"]
USE_TZ = True
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": d.get("dbname"),
             "USER": d.get("user", ""), "PASSWORD": d.get("password", ""), "HOST": d.get("host", ""),
             "PORT": d.get("port", "")}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
'''

DJ_0001 = '''
from django.db import migrations, models

class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [migrations.CreateModel("Order", [("id", models.AutoField(primary_key=True)),
                                                   ("note", models.TextField(null=True))])]
'''

DJ_0002 = '''
from django.db import migrations, models
''' + GATE_WAIT + '''

class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.AddField("order", "status", models.TextField(null=True)),
        migrations.RunPython(lambda apps, schema_editor: wait_for_the_test(), migrations.RunPython.noop),
    ]
'''


def _django_project(tmp: Path, second: str = DJ_0002) -> Path:
    app = tmp / "shop"
    (app / "migrations").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text("")
    (app / "migrations" / "__init__.py").write_text("")
    (app / "migrations" / "0001_initial.py").write_text(DJ_0001)
    (app / "migrations" / "0002_status.py").write_text(second)
    (tmp / "settings.py").write_text(DJANGO_SETTINGS)
    return tmp


def _django(project: Path, dsn: str, *args: str, wait: bool = True) -> Any:
    env = {**os.environ, "MIGTUI_TEST_TARGET": dsn, "PYTHONPATH": str(project),
           "DJANGO_SETTINGS_MODULE": "settings", "MIGTUI_TEST_GATE": str(project / "gate")}
    cmd = [sys.executable, "-m", "django", "migrate", *args]
    if wait:
        return subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, timeout=120)
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_django_migrate_detected_and_switches_phases(scratch_db: Any, make_engine: Any, tmp_path: Path) -> None:
    _ensure("django", "django")
    project = _django_project(tmp_path / "dj")
    _django(project, scratch_db.dsn, "shop", "0001")

    engine = make_engine(_config_for(scratch_db))
    assert _tick_until(engine, lambda: "django" in engine.parts.components["migration"].collector.states)
    assert engine.parts.components["migration"].collector.states["django"].current == "shop.0001_initial"
    assert engine.phase == Phase.BASELINE

    gate = project / "gate"
    proc = _django(project, scratch_db.dsn, "shop", wait=False)
    try:
        assert _tick_until(engine, lambda: engine.phase == Phase.MIGRATION, timeout=60), \
            "no migration phase while Django migrated"
        gate.touch()  # the migration may finish now
        assert _tick_until(engine, lambda: engine.phase == Phase.POST, timeout=60), \
            "no post phase after Django finished"
    finally:
        gate.touch()
        out, _ = proc.communicate(timeout=150)
    assert proc.returncode == 0, out
    assert engine.parts.components["migration"].collector.states["django"].current == "shop.0002_status"
    engine.finish()
    events = engine.store.events(engine.run_id)
    started = [e for e in events if e.kind == "note" and e.data.get("change") == "started"]
    assert started and "DDL session" in started[0].message
    assert any("shop.0001_initial -> shop.0002_status" in e.message for e in events if e.kind == "note")


# --------------------------------------------------------------------------- advisory locks, dirty rows


def test_advisory_lock_and_dirty_state(scratch_db: Any, make_engine: Any) -> None:
    import psycopg

    engine = make_engine(_config_for(scratch_db, "") .replace("auto_phase: true", "auto_phase: false"))
    with psycopg.connect(scratch_db.dsn, autocommit=True) as holder, \
            psycopg.connect(scratch_db.dsn, autocommit=True) as setup:
        holder.execute("SELECT pg_advisory_lock(72707369)")  # Prisma's migrate lock
        setup.execute("CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL)")
        setup.execute("INSERT INTO schema_migrations VALUES (20240101, true)")
        setup.execute("CREATE SCHEMA shop")  # a history table outside the search_path is found too
        setup.execute("CREATE TABLE shop.goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, "
                      "is_applied boolean NOT NULL, tstamp timestamp DEFAULT now())")
        setup.execute("INSERT INTO shop.goose_db_version (version_id, is_applied) VALUES (0, true), (20240102, true)")
        coll = engine.parts.components["migration"].collector
        assert _tick_until(engine, lambda: {"prisma", "golang-migrate", "goose"} <= set(coll.states))
        assert coll.states["goose"].current == "20240102" and coll.states["goose"].table == "shop.goose_db_version"
        assert coll.states["prisma"].state == "running"
        assert coll.states["golang-migrate"].state == "dirty"
        assert "migrate force" in coll.states["golang-migrate"].hint
        assert "rails" not in coll.states  # schema_migrations with a dirty column is golang-migrate's
        holder.execute("SELECT pg_advisory_unlock(72707369)")
        assert _tick_until(engine, lambda: "prisma" not in coll.states or coll.states["prisma"].state != "running")
    assert engine.phase == Phase.BASELINE  # auto_phase off


# --------------------------------------------------------------------------- backfill progress


def test_backfill_progress_rate_and_eta(scratch_db: Any, make_engine: Any) -> None:
    import psycopg

    with psycopg.connect(scratch_db.dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, note text)")
        conn.execute("INSERT INTO orders SELECT g, NULL FROM generate_series(1, 2000) g")
    engine = make_engine(_config_for(scratch_db, """\
          backfill:
            table: orders
            predicate: note IS NULL
            total: auto
            interval: 1s
        """))
    coll = engine.parts.components["migration"].collector
    assert _tick_until(engine, lambda: coll.backfill_total is not None)
    assert coll.backfill_total == 2000

    stop = threading.Event()
    eta_seen = threading.Event()

    def backfill() -> None:
        with psycopg.connect(scratch_db.dsn, autocommit=True) as conn:
            for start in range(1, 2001, 100):
                if stop.is_set():
                    return
                if start == 1001:  # half way: go on once the engine has seen the rate (a slow machine ticks late)
                    eta_seen.wait(60)
                conn.execute("UPDATE orders SET note = 'x' WHERE id BETWEEN %s AND %s", [start, start + 99])
                time.sleep(0.25)

    worker = threading.Thread(target=backfill, daemon=True)
    worker.start()
    saw_eta: list[float] = []

    def progressed() -> bool:
        eta = engine.value("migration.eta_seconds")
        if eta == eta and eta > 0:
            saw_eta.append(eta)
            eta_seen.set()
        return engine.value("migration.percent") >= 100.0

    try:
        assert _tick_until(engine, progressed, timeout=90)
    finally:
        stop.set()
        eta_seen.set()
        worker.join(timeout=30)
    engine.finish()
    cur = engine.store.cursor()
    rows = cur.execute("SELECT metric, max(value) FILTER (WHERE NOT isnan(value)) FROM samples_v WHERE run_id = ? "
                       "AND metric LIKE 'migration.r%%' GROUP BY metric", [engine.run_id]).fetchall()
    stats = dict(rows)
    assert stats["migration.rows_total"] == 2000
    assert stats["migration.rows_done"] == 2000
    assert stats["migration.rows_per_s"] > 0
    assert saw_eta, "an ETA was never reported while the backfill ran"
    assert engine.value("migration.eta_seconds") == 0.0


def test_progress_table_and_config_errors(scratch_db: Any, make_engine: Any, tmp_path: Path) -> None:
    import psycopg

    from migtui.errors import ConfigError

    with psycopg.connect(scratch_db.dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE backfill_progress (job text, rows_done bigint, rows_total bigint)")
        conn.execute("INSERT INTO backfill_progress VALUES ('orders', 250, 1000)")
    engine = make_engine(_config_for(scratch_db, """\
          backfill:
            progress_table: backfill_progress
            total_column: rows_total
            where: "job = 'orders'"
            interval: 1s
        """))
    assert _tick_until(engine, lambda: engine.value("migration.percent") == 25.0)
    assert engine.value("migration.rows_total") == 1000

    with pytest.raises(ConfigError) as err:
        make_engine(_config_for(scratch_db, """\
              backfill:
                table: orders
            """))
    assert "migration.backfill.predicate: is required" in str(err.value)
    assert ".yaml:" in str(err.value)
    with pytest.raises(ConfigError) as err:
        make_engine(_config_for(scratch_db, "tools: [alembic, flyweigh]\n"))
    assert "unknown tool 'flyweigh'" in str(err.value) and "migration.tools" in str(err.value)


# --------------------------------------------------------------------------- DDL progress


def test_create_index_concurrently_progress_is_reported(scratch_db: Any, make_engine: Any) -> None:
    import psycopg

    with psycopg.connect(scratch_db.dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE big (id int, v text)")
        conn.execute("INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 5000) g")
    engine = make_engine(_config_for(scratch_db).replace("auto_phase: true", "auto_phase: false"))
    writer = psycopg.connect(scratch_db.dsn)
    writer.execute("INSERT INTO big VALUES (0, 'open writer')")  # an open write transaction: CIC waits for it
    errors: list[BaseException] = []

    def build() -> None:
        try:
            with psycopg.connect(scratch_db.dsn, autocommit=True) as c:
                c.execute("CREATE INDEX CONCURRENTLY big_v ON big (v)")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    t = threading.Thread(target=build, daemon=True)
    t.start()
    coll = engine.parts.components["migration"].collector

    def ddl_rows() -> list[Any]:
        return [r for r in coll.last_progress if r[0] == "ddl"]

    try:
        # a poll may land in the build's first instant ('initializing'): wait for the phase it stays in
        assert _tick_until(engine, lambda: any("waiting for writers" in r[2] for r in ddl_rows()), timeout=60), \
            ddl_rows()
        row = ddl_rows()[0]
        assert "CREATE INDEX CONCURRENTLY" in row[1] and "big" in row[1]
        assert coll.sessions == [] or all("CREATE INDEX" not in s["query"] for s in coll.sessions)
        pct = [v for s, _, v in engine.latest("migration.ddl.percent")]
        assert pct  # the lockers phase has a total: 0 of 1 writers done
    finally:
        writer.commit()
        writer.close()
        t.join(timeout=30)
    assert not errors
    assert _tick_until(engine, lambda: not ddl_rows(), timeout=60)


def test_an_apps_temp_table_is_not_a_migration(scratch_db: Any, make_engine: Any) -> None:
    import psycopg

    with psycopg.connect(scratch_db.dsn, autocommit=True) as c:
        c.execute("CREATE TABLE items (id int)")
    engine = make_engine(_config_for(scratch_db))
    app = psycopg.connect(scratch_db.dsn)
    try:
        app.execute("CREATE TEMP TABLE scratch (x int)")  # AccessExclusiveLock on a temp table, open transaction
        for _ in range(4):
            engine.tick(wait=0.7)
            time.sleep(0.2)
        coll = engine.parts.components["migration"].collector
        assert coll.sessions == [] and not coll.was_running
        ddl = psycopg.connect(scratch_db.dsn)
        try:
            ddl.execute("ALTER TABLE items ADD COLUMN note text")  # real DDL, left open
            assert _tick_until(engine, lambda: coll.was_running, timeout=60)
            assert coll.sessions and coll.sessions[0]["pid"] == ddl.info.backend_pid
            assert engine.phase == Phase.MIGRATION
        finally:
            ddl.rollback()
            ddl.close()
    finally:
        app.rollback()
        app.close()
    assert _tick_until(engine, lambda: engine.phase == Phase.POST, timeout=60)


def test_a_slow_exact_count_falls_back_to_the_estimate(scratch_db: Any, make_engine: Any) -> None:
    import psycopg

    with psycopg.connect(scratch_db.dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE slow (id int, note text)")
        conn.execute("INSERT INTO slow SELECT g, NULL FROM generate_series(1, 3000) g")
        conn.execute("ANALYZE slow")
    engine = make_engine(_config_for(scratch_db, """\
          backfill:
            table: slow
            predicate: note IS NULL AND pg_sleep(0.001) IS NOT NULL
            statement_timeout: 200ms
            interval: 1s
        """))
    coll = engine.parts.components["migration"].collector

    def gave_up() -> bool:
        return any("using the planner's estimate" in e.message for e in engine.recent_events)

    assert _tick_until(engine, gave_up, timeout=60)
    row = next(r for r in coll.last_progress if r[0] == "backfill")
    assert row[2] == "estimate" and row[4] is not None and row[4] > 0


# --------------------------------------------------------------------------- never in the way


def _orders_backfill(db: Any, make_engine: Any, *, auto_phase: str = "true", already: str = "", **kw: Any) -> Any:
    """3,000 orders to backfill (note IS NULL), analyzed (autovacuum off: the statistics stay those of
    before the backfill), and an engine counting them every second."""
    import psycopg

    with psycopg.connect(db.dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, note text) WITH (autovacuum_enabled = false)")
        conn.execute("INSERT INTO orders SELECT g, NULL FROM generate_series(1, 3000) g")
        conn.execute("ANALYZE orders")
        if already:
            conn.execute(already)
    return make_engine(_config_for(db, """\
          backfill:
            table: orders
            predicate: note IS NULL
            interval: 1s
        """).replace("auto_phase: true", f"auto_phase: {auto_phase}"), **kw)


class _LockWaits(threading.Thread):
    """Counts lock waits of migtui's sessions (application_name migtui*): every not-granted pg_locks row
    and every Lock wait event seen, by (pid, query_start), sampled from its own connection."""

    def __init__(self, dsn: str) -> None:
        super().__init__(daemon=True)
        self.dsn = dsn
        self.stop = threading.Event()
        self.waits: set[tuple[Any, ...]] = set()
        self.samples = 0

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True, application_name="lock-wait-counter") as conn:
            while not self.stop.is_set():
                rows = conn.execute(
                    "SELECT a.pid, a.query_start, left(a.query, 80) FROM pg_stat_activity a "
                    "WHERE a.application_name LIKE 'migtui%%' AND a.datname = current_database() "
                    "AND (a.wait_event_type = 'Lock' OR EXISTS "
                    "(SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted))").fetchall()
                self.waits.update(rows)
                self.samples += 1
                time.sleep(0.01)


def test_probe_and_backfill_count_never_queue_behind_a_queued_alter(scratch_db: Any, make_engine: Any) -> None:
    """The trap: an idle-in-transaction reader holds AccessShare on the backfill table and an ALTER TABLE
    is queued behind it. Every statement of the migration watch that takes a lock on that table would
    queue behind the ALTER. migtui must not queue at all, keep its connection (tool and phase detection go
    on) and say why it skipped the count."""
    import psycopg

    engine = _orders_backfill(scratch_db, make_engine, auto_phase="false")
    coll = engine.parts.components["migration"].collector
    assert _tick_until(engine, lambda: coll.backfill_total == 3000)

    reader = psycopg.connect(scratch_db.dsn, application_name="idle-reader")
    reader.execute("SELECT count(*) FROM orders")  # AccessShare held, transaction left open
    alter = psycopg.connect(scratch_db.dsn, autocommit=True, application_name="the-migration")
    alter_done = threading.Event()

    def queued_alter() -> None:
        try:
            alter.execute("ALTER TABLE orders ADD COLUMN status text")
        except psycopg.Error:
            pass
        alter_done.set()

    threading.Thread(target=queued_alter, daemon=True).start()
    counter = _LockWaits(scratch_db.dsn)
    try:
        with psycopg.connect(scratch_db.dsn, autocommit=True) as probe:
            wait_until(lambda: probe.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'the-migration' "
                "AND wait_event_type = 'Lock'").fetchone()[0] == 1, "the ALTER TABLE to queue")
        counter.start()
        for _ in range(10):  # ten polls of the migration watch (0.5s) with two backfill counts due (1s)
            engine.tick(wait=0.7)
            time.sleep(0.2)
        counter.stop.set()
        counter.join(10)
        assert counter.samples > 20
        assert counter.waits == set(), f"migtui waited on a lock {len(counter.waits)} times: " \
            f"{sorted(counter.waits, key=str)[:3]}"
        assert engine.sources["migration"].state == "ok"
        assert not [e for e in engine.recent_events if "migration watch lost" in e.message]
        skipped = [e for e in engine.recent_events
                   if e.subject == "migration" and "skipped" in e.message and "orders" in e.message]
        assert skipped and "ALTER TABLE" in skipped[0].message, [e.message for e in engine.recent_events][-5:]
        row = next(r for r in coll.last_progress if r[0] == "backfill")
        assert "locked" in row[2]
    finally:
        counter.stop.set()
        reader.rollback()
        reader.close()
        alter_done.wait(30)
        alter.close()


def test_total_auto_is_the_size_when_the_migration_started(scratch_db: Any, make_engine: Any) -> None:
    """migtui started while a backfill is 40% done (phase migration): `total: auto` is the job's size at the
    start (the planner's estimate from the statistics taken before the backfill), not the first count
    after the first batches."""
    engine = _orders_backfill(scratch_db, make_engine, already="UPDATE orders SET note = 'x' WHERE id <= 1200",
                              phase="migration")  # the first batches already ran
    coll = engine.parts.components["migration"].collector
    assert _tick_until(engine, lambda: coll.backfill_total is not None)
    assert coll.backfill_total == 3000
    assert _tick_until(engine, lambda: engine.value("migration.rows_done") == 1200)
    assert engine.value("migration.percent") == 40.0


# --------------------------------------------------------------------------- seen while it runs, without `run`


ALEMBIC_ENV_PER_MIGRATION = ALEMBIC_ENV.replace("target_metadata=None)",
                                                "target_metadata=None, transaction_per_migration=True)")

REV_ADD = (REV2.replace(GATE_WAIT, "").replace("    wait_for_the_test()\n", "")
           .replace("b2c3d4e5f6a7", "c3d4e5f6a7b8"))  # the same ALTER, not held

REV_BACKFILL = '''
import os, time
from alembic import op
revision = "d4e5f6a7b8c9"
down_revision = "c3d4e5f6a7b8"

def upgrade():
    with op.get_context().autocommit_block():
        # a batched backfill (one row every 0.1 s, in autocommit) that goes on until the test opens the
        # gate, then finishes; then an index built concurrently
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            done = op.get_bind().exec_driver_sql(
                "UPDATE orders SET status = 'new' WHERE id = (SELECT min(id) FROM orders WHERE status IS NULL)"
            ).rowcount
            if not done or os.path.exists(os.environ["MIGTUI_TEST_GATE"]):
                break
            time.sleep(0.1)
        op.get_bind().exec_driver_sql("UPDATE orders SET status = 'new' WHERE status IS NULL")
        op.execute("CREATE INDEX CONCURRENTLY orders_status ON orders (status)")

def downgrade():
    pass
'''


def _phase_events(engine: Any) -> list[tuple[str, float, str]]:
    return [(e.data["to"], e.ts, e.data.get("why", "")) for e in engine.recent_events if e.kind == "phase"]


def _seen_while_it_runs(engine: Any, proc: Any, gate: Path) -> list[tuple[str, float, str]]:
    """The tool (``proc``, held at ``gate``) must put the run in the migration phase while it runs, keep
    it there through four more polls of its quiet part, and the run reaches post only after it exited."""
    try:
        assert _tick_until(engine, lambda: engine.phase == Phase.MIGRATION, timeout=60), \
            "the tool ran and the engine did not see it"
        for _ in range(4):  # quiet in between (backfill batches, a Python step): still the migration
            engine.tick(wait=0.7)
            time.sleep(0.2)
        assert proc.poll() is None
        assert engine.phase == Phase.MIGRATION, _phase_events(engine)
        gate.touch()
        out, _ = proc.communicate(timeout=150)
        exited = time.time()
        assert proc.returncode == 0, out
        assert _tick_until(engine, lambda: engine.phase == Phase.POST, timeout=60)
    finally:
        gate.touch()
        if proc.poll() is None:
            proc.kill()
    phases = _phase_events(engine)
    assert [p for p, _, _ in phases] == ["migration", "post"]
    assert phases[1][1] > exited, f"post began before the tool exited: {phases}"
    return phases


def test_alembic_per_migration_transactions_and_autocommit_block_are_seen_running(
        scratch_db: Any, make_engine: Any, tmp_path: Path) -> None:
    """transaction_per_migration: alembic_version is locked only for an instant; the autocommit_block (a
    batched backfill, then CREATE INDEX CONCURRENTLY) holds no lock at all. The run must still be in the
    migration phase while alembic runs, and reach post only after it exited."""
    _ensure("alembic", "alembic")
    ini = _alembic_project(tmp_path / "alembic", ALEMBIC_ENV_PER_MIGRATION, (REV_ADD, REV_BACKFILL))
    _alembic(ini, scratch_db.dsn, "upgrade", "a1b2c3d4e5f6")
    engine = make_engine(_config_for(scratch_db))
    coll = engine.parts.components["migration"].collector
    assert _tick_until(engine, lambda: "alembic" in coll.states)
    phases = _seen_while_it_runs(engine, _alembic(ini, scratch_db.dsn, "upgrade", "head", wait=False),
                                 ini.parent / "gate")
    assert "between polls" not in phases[0][2]
    assert coll.states["alembic"].current == "d4e5f6a7b8c9"
    notes = [e.message for e in engine.recent_events if e.data.get("change") == "catalog"]
    assert any("orders_status" in m for m in notes), notes


DJ_0002_NON_ATOMIC = '''
from django.db import migrations, models
''' + GATE_WAIT + '''

class Migration(migrations.Migration):
    atomic = False
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.AddField("order", "status", models.TextField(null=True)),
        migrations.RunPython(lambda apps, schema_editor: wait_for_the_test(), migrations.RunPython.noop),
    ]
'''


def test_django_non_atomic_migration_is_seen_running(scratch_db: Any, make_engine: Any, tmp_path: Path) -> None:
    """atomic = False: every statement in autocommit, no lock held while the Python step runs, the history
    row written at the end. Seen running (its session ran the DDL that changed the catalog) until it exits."""
    _ensure("django", "django")
    project = _django_project(tmp_path / "dj", DJ_0002_NON_ATOMIC)
    _django(project, scratch_db.dsn, "shop", "0001")
    engine = make_engine(_config_for(scratch_db))
    coll = engine.parts.components["migration"].collector
    assert _tick_until(engine, lambda: "django" in coll.states)
    _seen_while_it_runs(engine, _django(project, scratch_db.dsn, "shop", wait=False), project / "gate")
    started = [e.message for e in engine.recent_events if e.data.get("change") == "started"]
    assert started and "ran the DDL that changed the catalog" in started[0], started


def test_a_short_create_index_concurrently_between_two_polls_is_seen(scratch_db: Any, make_engine: Any) -> None:
    """A 0.45 s CREATE INDEX CONCURRENTLY that starts after one poll and ends before the next (1 s apart)
    leaves no progress row and no lock to see; the new index in the catalog is the evidence."""
    import psycopg

    with psycopg.connect(scratch_db.dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE big (id int)")
        conn.execute("INSERT INTO big SELECT g FROM generate_series(1, 300) g")
        conn.execute("CREATE FUNCTION slow_id(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS "
                     "$$ BEGIN PERFORM pg_sleep(0.0015); RETURN $1; END $$")
    engine = make_engine(_config_for(scratch_db).replace("interval: 0.5s", "interval: 1s"))
    coll = engine.parts.components["migration"].collector
    assert _tick_until(engine, lambda: coll.catalog.last is not None)  # the catalog as it was before
    engine.tick(wait=0.9)
    assert engine.phase == Phase.BASELINE and not coll.was_running, [e.message for e in engine.recent_events]
    with psycopg.connect(scratch_db.dsn, autocommit=True) as conn:
        started = time.monotonic()
        conn.execute("CREATE INDEX CONCURRENTLY big_slow ON big (slow_id(id))")
        took = time.monotonic() - started
    seen = lambda: [e.message for e in engine.recent_events if e.data.get("change") == "catalog"]  # noqa: E731
    assert _tick_until(engine, lambda: bool(seen()), timeout=20), took  # at the next poll
    assert any("new index public.big_slow on big" in m for m in seen()), (took, seen())
    assert coll.was_running
    assert _tick_until(engine, lambda: engine.phase == Phase.MIGRATION)
