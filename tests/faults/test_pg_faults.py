"""Faults of the monitored PostgreSQL, caused for real: a restart (fast and immediate shutdown),
migtui's own monitoring connection terminated, a monitoring query stuck behind a lock and a slow
one. The engine is driven tick by tick (``engine.tick(wait=...)``) while the fault happens."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

TRIGGER = """
triggers:
  - {name: db-up, metric: pg.up, below: 1, action: warn}
"""


def _config(dsn: str, extra: str = "") -> str:
    return (f"name: faults\ninterval: 0.5s\nsources:\n"
            f"  - {{type: postgres, name: db, dsn: '{dsn}', include: [activity_summary, connections]}}\n" + extra)


def _tick_until(engine: Any, cond: Any, timeout: float, seen: list[str] | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        engine.tick(wait=3)
        if seen is not None:
            seen.append(engine.sources["db"].state)
        if cond():
            return True
        time.sleep(0.2)
    return False


def _errors(engine: Any) -> list[Any]:
    return [e for e in engine.recent_events if e.kind == "error" and e.subject == "db"]


def _trigger_states(engine: Any) -> list[str]:
    return [e.data.get("state") for e in engine.recent_events if e.kind == "trigger" and e.subject == "db-up"]


def _assert_gap_recorded(engine: Any, states_seen: list[str], samples_before: int) -> None:
    errors = _errors(engine)
    failed = [e for e in errors if not e.data.get("recovered")]
    recovered = [e for e in errors if e.data.get("recovered")]
    assert failed, "the lost connection must be an error event"
    assert any("lost the connection" in e.message or "cannot connect" in e.message for e in failed), \
        [e.message for e in failed]
    assert len(recovered) == 1, [e.message for e in errors]
    assert recovered[0].data["gap_seconds"] > 0
    assert "recovered after" in recovered[0].message
    assert "error" in states_seen, "the source is shown failing during the gap"
    assert engine.sources["db"].state == "ok"
    assert engine.sources["db"].samples > samples_before  # samples resume after the gap
    # the trigger did not pass silently through the gap: inconclusive, then back to ok/resolved
    states = _trigger_states(engine)
    assert "inconclusive" in states, states
    assert states[-1] in ("ok", "resolved"), states


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_restart_mid_run_is_a_recorded_gap(embedded_pg: Any, make_engine: Any, mode: str) -> None:
    server = embedded_pg.embedded
    engine = make_engine(_config(embedded_pg.dsn, TRIGGER))
    assert _tick_until(engine, lambda: engine.sources["db"].state == "ok", 60)
    # let the trigger engine settle on ok first
    assert _tick_until(engine, lambda: "ok" in _trigger_states(engine) or engine.tick_no > 3, 10)
    samples_before = engine.sources["db"].samples

    done = threading.Event()

    def restart() -> None:
        try:
            server.restart(mode)
        finally:
            done.set()

    t = threading.Thread(target=restart)
    t.start()
    states_seen: list[str] = []
    try:
        # ticks keep going while the server is down and after it is back
        assert _tick_until(engine, lambda: done.is_set() and any(e.data.get("recovered") for e in _errors(engine)),
                           60, states_seen)  # not longer: a source quarantined for a minute must fail here
    finally:
        t.join(timeout=90)
    assert server.running
    _tick_until(engine, lambda: _trigger_states(engine)[-1:] in (["ok"], ["resolved"]), 60)  # asserted below
    _assert_gap_recorded(engine, states_seen, samples_before)
    assert engine.value("pg.up") == 1.0

    # the gap is in the store too, for the report
    engine.store.flush()
    stored = engine.store.events(engine.run_id, kinds=["error"])
    assert any(e.data.get("gap_seconds") for e in stored)


def test_own_connection_terminated_reconnects(pg: Any, make_engine: Any) -> None:
    engine = make_engine(_config(pg.dsn, TRIGGER))
    assert _tick_until(engine, lambda: engine.sources["db"].state == "ok", 60)
    _tick_until(engine, lambda: "ok" in _trigger_states(engine) or engine.tick_no > 3, 10)
    samples_before = engine.sources["db"].samples
    pid = engine.collectors["db"].conn.info.backend_pid
    with psycopg.connect(pg.dsn, autocommit=True) as admin:
        app = admin.execute("SELECT application_name FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]
        assert app == "migtui"
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
    states_seen: list[str] = []
    assert _tick_until(engine, lambda: any(e.data.get("recovered") for e in _errors(engine)), 60, states_seen)
    _tick_until(engine, lambda: _trigger_states(engine)[-1:] in (["ok"], ["resolved"]), 60)  # asserted below
    _assert_gap_recorded(engine, states_seen, samples_before)
    assert engine.collectors["db"].conn.info.backend_pid != pid


SLOW_AND_LOCKED = {
    "locked_count.sql": ("-- name: locked_count\n-- description: rows of a table a migration locks\n"
                         "-- kind: metrics\n-- min_version: 13\n-- interval: 0.5s\n-- timeout: 5s\n"
                         "-- privileges: none\nSELECT /* migtui */ count(*) AS n FROM fault_locked\n"),
    "slow_query.sql": ("-- name: slow_query\n-- description: a query slower than its timeout\n"
                       "-- kind: metrics\n-- min_version: 13\n-- interval: 0.5s\n-- timeout: 0.3s\n"
                       "-- privileges: none\nSELECT /* migtui */ 1 AS slept FROM pg_sleep(3)\n"),
}


def test_locked_and_slow_queries_time_out_and_the_tick_goes_on(pg: Any, make_engine: Any, tmp_path: Path) -> None:
    sqldir = tmp_path / "extra_sql"
    sqldir.mkdir()
    for name, text in SLOW_AND_LOCKED.items():
        (sqldir / name).write_text(text)
    with pg.connect() as setup:
        setup.execute("DROP TABLE IF EXISTS fault_locked")
        setup.execute("CREATE TABLE fault_locked (id int)")
        setup.execute("INSERT INTO fault_locked SELECT generate_series(1, 10)")
    engine = make_engine(
        f"name: faults\ninterval: 0.5s\nsql_dirs: [{sqldir}]\nsources:\n"
        f"  - {{type: postgres, name: db, dsn: '{pg.dsn}', lock_timeout: 200ms, statement_timeout: 2s,"
        f" include: [activity_summary, locked_count, slow_query]}}\n")
    holder = psycopg.connect(pg.dsn)
    try:
        holder.execute("LOCK TABLE fault_locked IN ACCESS EXCLUSIVE MODE")  # transaction left open
        t0 = time.time()
        for i in range(6):
            engine.tick(now=t0 + i, wait=30)  # waits only until the poll is in
        lock_errors = [e for e in engine.recent_events if e.subject == "db/locked_count"]
        slow_errors = [e for e in engine.recent_events if e.subject == "db/slow_query"]
        assert len(lock_errors) == 1 and "lock timeout" in lock_errors[0].message, lock_errors
        assert len(slow_errors) == 1 and "statement timeout" in slow_errors[0].message, slow_errors
        assert "timed out" in slow_errors[0].message and "retried in" in slow_errors[0].message
        # the poll itself never timed out or overlapped; the other query kept producing samples
        assert engine.guards["db"].total_failures == 0
        assert engine.sources["db"].state == "ok"
        sessions = engine.series[("db", "activity_summary.sessions", ())].points
        assert len(sessions) >= 3
        assert not engine.latest("locked_count.n") and not engine.latest("slow_query.slept")
    finally:
        holder.rollback()
        holder.close()
    # the lock is gone: the query works again and says so
    t1 = time.time() + 100
    engine.tick(now=t1, wait=30)
    assert engine.value("locked_count.n") == 10
    assert any(e.subject == "db/locked_count" and e.data.get("recovered") for e in engine.recent_events)
    with pg.connect() as conn:
        conn.execute("DROP TABLE IF EXISTS fault_locked")


def test_an_unreachable_server_is_logged_once_per_backoff_step_not_once_per_poll(make_engine: Any) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    engine = make_engine(f"""
        name: unreachable
        interval: 0.25s
        sources:
          - {{type: postgres, name: gone, dsn: "host=127.0.0.1 port={dead_port} dbname=x user=x connect_timeout=1"}}
        """)
    polls = 0
    deadline = time.monotonic() + 60
    while polls < 28 and time.monotonic() < deadline:  # ~7 s: connection attempts at 0, 1, 3 and 7 s
        engine.tick(wait=30)
        polls += 1
        time.sleep(0.25)
    assert engine.sources["gone"].state == "error" and not engine.guards["gone"].quarantined
    messages = [e.message for e in engine.recent_events if e.kind == "error" and e.subject == "gone"]
    assert messages and all("cannot connect to PostgreSQL" in m for m in messages), messages
    assert all("reconnecting every" in m for m in messages), messages
    assert len(messages) <= 5, messages  # one per backoff step (1s, 2s, 4s, 8s), not one per poll
