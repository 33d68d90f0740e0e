"""io_stats (pg_stat_io) and database_conflicts (pg_stat_database_conflicts) as a user sees them:
samples of the engine over a real server, while real I/O happens.

A DBA reads io_stats to see whether a backfill or an index build is thrashing shared buffers: the
rates must land on the backend type and context that did the I/O, and integrate back to the bytes
written. database_conflicts must yield its per-second rates everywhere (zeros on a primary), and on
a real hot standby count the query that a replayed ACCESS EXCLUSIVE lock cancelled.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import psycopg
import pytest
from psycopg import sql

from tests.conftest import migtui_cmd

IO_BACKEND_TYPES = {"client backend", "autovacuum worker", "background worker", "checkpointer",
                    "background writer", "other"}
IO_CONTEXTS = {"normal", "bulkread", "bulkwrite", "vacuum"}
CONFLICT_RATES = ("confl_tablespace", "confl_lock", "confl_snapshot", "confl_bufferpin", "confl_deadlock")


def _config(dsn: str, *more: str) -> str:
    queries = ["io_stats", "database_conflicts", *more]
    return (f"name: io-conflicts\ninterval: 1s\nsources:\n"
            f"  - type: postgres\n    name: db\n    dsn: '{dsn}'\n"
            f"    include: [{', '.join(queries)}]\n"
            f"    intervals: {{{', '.join(q + ': 1s' for q in queries)}}}\n")


def poll_until(engine: Any, probe: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Tick the engine (each tick waits for the poll it launches) until ``probe`` is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        engine.tick(wait=5)
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def series(engine: Any, metric: str, **labels: str) -> list[Any]:
    return [s for s in engine.series.values() if s.metric == metric
            and all(s.labels.get(k) == v for k, v in labels.items())]


def one(engine: Any, metric: str, **labels: str) -> Any:
    found = series(engine, metric, **labels)
    assert len(found) == 1, f"{metric} {labels}: {[s.labels for s in found]}"
    return found[0]


def integrate(points: list[tuple[float, float]], after: float) -> float:
    """A ``*_per_s`` series back to the counter's increase since the poll at ``after``: each rate is
    the delta since the previous poll divided by the time between the two."""
    total = 0.0
    for (t0, _), (t1, rate) in zip(points, points[1:]):
        if t0 >= after:
            total += rate * (t1 - t0)
    return total


def errors_about(engine: Any, query: str) -> list[Any]:
    return [e for e in engine.recent_events if e.kind == "error" and query in e.subject]


@contextlib.contextmanager
def scratch_table(dsn: str, prefix: str) -> Iterator[str]:
    name = f"{prefix}_{os.getpid()}_{time.monotonic_ns() % 10**6}"
    try:
        yield name
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))


# ---------------------------------------------------------------------------------------------- io_stats


def test_io_stats_rates_show_a_bulk_write_on_the_backend_type_and_context_that_did_it(
        embedded_pg: Any, make_engine: Any) -> None:
    if embedded_pg.version < 16:
        pytest.skip("pg_stat_io appeared in PostgreSQL 16")
    engine = make_engine(_config(embedded_pg.dsn))
    # two polls: the first one only remembers the counters, the second one has rates
    poll_until(engine, lambda: series(engine, "io_stats.hits_per_s", backend_type="client backend"),
               "the first io_stats rates")
    baseline = one(engine, "io_stats.extend_bytes_per_s", backend_type="client backend", context="normal").last[0]

    with scratch_table(embedded_pg.dsn, "io_backfill") as inserted, \
            scratch_table(embedded_pg.dsn, "io_ctas") as ctas:
        with psycopg.connect(embedded_pg.dsn, autocommit=True, application_name="test-backfill") as conn:
            # a backfill: INSERT ... SELECT goes through the shared buffer pool (context normal),
            # CREATE TABLE AS through a bulkwrite ring; the checkpoint writes the dirty buffers out
            conn.execute(sql.SQL("CREATE TABLE {} (id int, pad text)").format(sql.Identifier(inserted)))
            conn.execute(sql.SQL("INSERT INTO {} SELECT g, repeat('x', 80) FROM generate_series(1, 100000) g")
                         .format(sql.Identifier(inserted)))
            conn.execute(sql.SQL("CREATE TABLE {} AS SELECT * FROM {}")
                         .format(sql.Identifier(ctas), sql.Identifier(inserted)))
            conn.execute("SELECT pg_stat_force_next_flush()")  # the backend's counters, now not in 1s
            conn.execute("CHECKPOINT")
            sizes = dict(conn.execute(
                "SELECT relname, pg_relation_size(oid) FROM pg_class WHERE relname IN (%s, %s)",
                [inserted, ctas]).fetchall())
        assert sizes[inserted] > 8 * 2**20 and sizes[ctas] > 8 * 2**20

        def grown() -> bool:
            normal = one(engine, "io_stats.extend_bytes_per_s", backend_type="client backend", context="normal")
            bulk = one(engine, "io_stats.extend_bytes_per_s", backend_type="client backend", context="bulkwrite")
            ckpt = one(engine, "io_stats.writes_per_s", backend_type="checkpointer", context="normal")
            return (integrate(list(normal.points), baseline) >= 0.99 * sizes[inserted]
                    and integrate(list(bulk.points), baseline) >= 0.99 * sizes[ctas]
                    and integrate(list(ckpt.points), baseline) > 0)

        poll_until(engine, grown, "io_stats to count the backfill's extends and the checkpoint's writes")

    # the rates are per second, and nothing is counted twice: the backfill's bytes show once
    normal = one(engine, "io_stats.extend_bytes_per_s", backend_type="client backend", context="normal")
    assert max(v for t, v in normal.points if t > baseline) > 0
    assert integrate(list(normal.points), baseline) < 4 * sizes[inserted]
    # from PG18 one extend may cover several blocks: bytes are the volume, never fewer than a block each
    extends = dict(one(engine, "io_stats.extends_per_s", backend_type="client backend", context="bulkwrite").points)
    for t, bytes_per_s in one(engine, "io_stats.extend_bytes_per_s", backend_type="client backend",
                              context="bulkwrite").points:
        assert bytes_per_s >= 8192 * extends[t] * 0.999, "extend_bytes counts bytes, not operations"

    # the series a user gets: fixed labels, a handful of backend types, no series for I/O that a
    # backend type never does (pg_stat_io's NULLs), no raw counters next to the rates
    io = [s for s in engine.series.values() if s.metric.startswith("io_stats.")]
    assert {tuple(sorted(s.labels)) for s in io} == {("backend_type", "context")}
    assert {s.labels["backend_type"] for s in io} == IO_BACKEND_TYPES
    assert {s.labels["context"] for s in io} <= IO_CONTEXTS
    assert len({(s.labels["backend_type"], s.labels["context"]) for s in io}) <= 20
    assert all(s.metric.endswith("_per_s") for s in io)
    assert not series(engine, "io_stats.reads_per_s", backend_type="checkpointer")
    assert not series(engine, "io_stats.hits_per_s", backend_type="background writer")
    assert not errors_about(engine, "io_stats")


# ---------------------------------------------------------------------------------------------- database_conflicts


def test_database_conflicts_are_zero_rates_on_a_primary_and_io_stats_waits_for_pg16(
        pg: Any, make_engine: Any, tmp_path: Path, cli_env: dict[str, str]) -> None:
    engine = make_engine(_config(pg.dsn))
    poll_until(engine, lambda: series(engine, "database_conflicts.confl_lock_per_s"),
               "the first database_conflicts rates")
    poll_until(engine, lambda: len(one(engine, "database_conflicts.confl_lock_per_s").points) >= 2,
               "a second database_conflicts poll")

    for column in CONFLICT_RATES:
        s = one(engine, f"database_conflicts.{column}_per_s")
        assert s.labels == {}, "one row: this database"
        assert [v for _, v in s.points] == [0.0] * len(s.points), f"{column} on a primary"
    logicalslot = series(engine, "database_conflicts.confl_active_logicalslot_per_s")
    if pg.version >= 16:
        assert [v for _, v in logicalslot[0].points] == [0.0] * len(logicalslot[0].points)
    else:
        assert logicalslot == [], "no such column before PG16: NULL, so no series"
    assert not series(engine, "database_conflicts.confl_lock"), "counters are reported as rates only"
    assert not errors_about(engine, "database_conflicts")

    io = [s for s in engine.series.values() if s.metric.startswith("io_stats.")]
    if pg.version >= 16:
        assert io
    else:
        assert io == [] and not errors_about(engine, "io_stats"), "skipped quietly below PG16"

    config = tmp_path / "run.yaml"
    config.write_text(_config(pg.dsn))
    out = subprocess.run([*migtui_cmd(), "sql", "run", "io_stats", "--config", str(config)], env=cli_env,
                         capture_output=True, text=True, timeout=60)
    if pg.version >= 16:
        assert out.returncode == 0, out.stderr
        assert out.stdout.split()[:2] == ["tag_backend_type", "tag_context"]
        assert "client backend" in out.stdout and "checkpointer" in out.stdout
    else:
        assert out.returncode == 1
        assert "io_stats" in out.stderr and "needs PostgreSQL 16+" in out.stderr


@contextlib.contextmanager
def hot_standby_of(primary: Any) -> Iterator[Any]:
    """A streaming hot standby of the embedded server (pg_basebackup -R), which cancels a conflicting
    query at once (max_standby_streaming_delay = 0) instead of after the default 30 s."""
    from migtui.embedded import EmbeddedPostgres
    from migtui.errors import MigtuiError

    standby = EmbeddedPostgres()
    try:
        try:
            standby.init_standby(primary, max_standby_streaming_delay="0")
        except MigtuiError as exc:
            pytest.skip(str(exc))
        standby.start()
        yield standby
    finally:
        standby.cleanup()


def test_a_hot_standby_counts_the_query_a_migrations_alter_table_cancelled(
        embedded_pg: Any, make_engine: Any) -> None:
    """The trap: an ALTER TABLE on the primary replays as an ACCESS EXCLUSIVE lock on the replica and
    cancels the report query reading that table there."""
    table = f"replica_read_{os.getpid()}"
    with psycopg.connect(embedded_pg.dsn, autocommit=True) as primary:
        primary.execute(sql.SQL("CREATE TABLE {} AS SELECT g AS id FROM generate_series(1, 1000) g")
                        .format(sql.Identifier(table)))
    try:
        with hot_standby_of(embedded_pg.embedded) as standby:
            replica_dsn = standby.dsn_for(embedded_pg.dbname)

            def replayed() -> bool:
                with contextlib.suppress(psycopg.OperationalError), \
                        psycopg.connect(replica_dsn, autocommit=True, connect_timeout=5) as conn:
                    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", [table]).fetchone()[0]
                return False

            deadline = time.monotonic() + 60
            while not replayed():
                if time.monotonic() > deadline:
                    pytest.fail("the standby did not replay the table")
                time.sleep(0.2)

            engine = make_engine(_config(replica_dsn, "database_counters"))
            poll_until(engine, lambda: series(engine, "database_conflicts.confl_lock_per_s")
                       and series(engine, "database_counters.conflicts_per_s"), "the first rates on the standby")
            baseline = min(one(engine, "database_conflicts.confl_lock_per_s").last[0],
                           one(engine, "database_counters.conflicts_per_s").last[0])
            assert not series(engine, "io_stats.extends_per_s", backend_type="checkpointer")

            reader = psycopg.connect(replica_dsn, autocommit=True, application_name="test-replica-report")
            error: list[BaseException] = []
            try:
                import threading

                def report() -> None:
                    try:
                        reader.execute(sql.SQL("SELECT pg_sleep(60) FROM {} LIMIT 1").format(sql.Identifier(table)))
                    except psycopg.Error as exc:
                        error.append(exc)

                thread = threading.Thread(target=report, daemon=True)
                thread.start()
                with psycopg.connect(replica_dsn, autocommit=True) as watcher:
                    deadline = time.monotonic() + 30
                    while not watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                                              "'test-replica-report' AND state = 'active'").fetchone()[0]:
                        if time.monotonic() > deadline:
                            pytest.fail("the report query did not start on the standby")
                        time.sleep(0.1)
                with psycopg.connect(embedded_pg.dsn, autocommit=True, application_name="test-migration") as mig:
                    mig.execute(sql.SQL("ALTER TABLE {} ADD COLUMN note text").format(sql.Identifier(table)))
                thread.join(timeout=60)
                assert error and "conflict with recovery" in str(error[0]), error
                reader.execute("SELECT 1")  # idle again: the backend flushes its conflict counter
            finally:
                reader.close()

            poll_until(engine, lambda: integrate(list(one(engine, "database_conflicts.confl_lock_per_s").points),
                                                 baseline) >= 0.999,
                       "database_conflicts to count the cancelled query")
            conflicts = {c: integrate(list(one(engine, f"database_conflicts.{c}_per_s").points), baseline)
                         for c in CONFLICT_RATES}
            assert conflicts["confl_lock"] == pytest.approx(1.0)
            assert conflicts["confl_tablespace"] == conflicts["confl_deadlock"] == 0
            # the Data panel's one line: the total from pg_stat_database, over its warn threshold
            poll_until(engine, lambda: integrate(list(one(engine, "database_counters.conflicts_per_s").points),
                                                 baseline) >= 0.999, "database_counters to count it too")
            [spec] = [m for p in engine.panels for m in p.metrics if m.metric == "database_counters.conflicts_per_s"]
            assert max(v for _, v in one(engine, spec.metric).points) >= spec.warn > 0
            assert not errors_about(engine, "database_conflicts")
    finally:
        with psycopg.connect(embedded_pg.dsn, autocommit=True) as primary:
            primary.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
