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


def _config(dsn: str) -> str:
    return (f"name: io-conflicts\ninterval: 1s\nsources:\n"
            f"  - type: postgres\n    name: db\n    dsn: '{dsn}'\n"
            f"    include: [io_stats, database_conflicts]\n"
            f"    intervals: {{io_stats: 1s, database_conflicts: 1s}}\n")


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
