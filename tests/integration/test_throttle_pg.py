"""The throttle on a real PostgreSQL: a batched backfill using ``wait_if_paused`` stops while a
throttle signal holds (a flag file, an HTTP endpoint answering 429, a signal that cannot be
measured) and goes on by itself once every signal has been clear for ``resume_after``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import wait_until
from tests.integration.test_actions_pg import Backfill, _advisory_holders, _key, _table

pytestmark = pytest.mark.pg


@pytest.fixture
def backfills() -> Any:
    started: list[Backfill] = []

    def start(dsn: str, table: str, key: int) -> Backfill:
        backfill = Backfill(dsn, table, key, batch=20)
        started.append(backfill)
        backfill.start()
        return backfill

    yield start
    for backfill in started:
        backfill.stop.set()
        backfill.join(10)


def _throttle_events(engine: Any) -> list[Any]:
    engine.store.flush()
    return engine.store.events(engine.run_id, kinds=["throttle"])


def _config(pg: Any, key: int, flags: dict[str, Path], triggers: str, extra_sources: str = "") -> str:
    files = ", ".join(f"{k}: {v}" for k, v in flags.items())
    return f"""
    interval: 100ms
    sources:
      - {{type: flag_file, name: flags, interval: 100ms, files: {{{files}}}}}
    {extra_sources}
    actions:
      pause:
        - {{type: pg_pause, key: {key}, dsn: "{pg.dsn}"}}
    triggers:
    {triggers}
    """


def _flag_trigger(name: str, flag: str, resume_after: str = "300ms") -> str:
    return (f"  - {{name: {name}, source: flags, metric: flag.present, labels: {{flag: {flag}}}, above: 0.5, "
            f"action: throttle, resume_after: {resume_after}}}\n    ")


def _moving(backfill: Backfill) -> bool:
    seen = backfill.batches
    wait_until(lambda: backfill.batches > seen + 2 or backfill.error, "the backfill to run batches", timeout=20)
    assert backfill.error is None, backfill.error
    return True


def _held(backfill: Backfill) -> bool:
    """The backfill saw the pause and runs no batch any more."""
    backfill.paused_seen.clear()
    wait_until(backfill.paused_seen.is_set, "the backfill to wait in wait_if_paused", timeout=20)
    frozen = backfill.batches
    backfill.paused_seen.clear()
    wait_until(backfill.paused_seen.is_set, "the backfill to wait again", timeout=20)
    return backfill.batches == frozen


def _watching(pg: Any, make_engine: Any, backfills: Any, flags: dict[str, Path], triggers: str) -> tuple[Any, Backfill, int]:
    """A running watch with these flag files and triggers, and a real backfill that is moving."""
    key, table = _key(), _table(pg, rows=100_000)
    engine = make_engine(_config(pg, key, flags, triggers))
    engine.start()
    backfill = backfills(pg.dsn, table, key)
    assert _moving(backfill)
    return engine, backfill, key


def test_a_flag_file_throttles_a_real_backfill_and_it_resumes_by_itself(pg: Any, make_engine: Any, backfills: Any,
                                                                          tmp_path: Path) -> None:
    flag = tmp_path / "throttle.flag"
    engine, backfill, key = _watching(pg, make_engine, backfills, {"hold": flag}, _flag_trigger("flag", "hold"))

    flag.touch()
    wait_until(lambda: engine.frame.throttle.get("throttled"), "the throttle")
    assert _held(backfill)
    assert [h[1] for h in _advisory_holders(pg, key)] == ["migtui-pause"]
    status = engine.fresh_frame().throttle
    assert status["reason"].startswith("flag: flag.present = 1")
    assert status["triggers"]["flag"]["throttled"] is True

    flag.unlink()
    wait_until(lambda: not engine.frame.throttle.get("throttled"), "the release")
    assert _moving(backfill)
    assert _advisory_holders(pg, key) == []
    events = _throttle_events(engine)
    assert [e.data["op"] for e in events] == ["throttle", "release"], [e.message for e in events]
    assert "throttled: flag: flag.present = 1" in events[0].message
    assert "migration paused" in events[0].message
    assert "every throttle signal clear" in events[1].message and "migration resumed" in events[1].message
    # the throttle's pause and resume are its own events, not also two action events
    engine.store.flush()
    assert engine.store.events(engine.run_id, kinds=["action"]) == []


def test_two_overlapping_throttle_triggers_resume_only_when_both_are_clear(pg: Any, make_engine: Any, backfills: Any,
                                                                             tmp_path: Path) -> None:
    a, b = tmp_path / "a.flag", tmp_path / "b.flag"
    engine, backfill, _key_ = _watching(pg, make_engine, backfills, {"a": a, "b": b},
                                        _flag_trigger("flag-a", "a") + _flag_trigger("flag-b", "b"))

    a.touch()
    wait_until(lambda: engine.frame.throttle.get("throttled"), "the throttle")
    b.touch()
    wait_until(lambda: engine.frame.throttle["triggers"]["flag-b"]["throttled"], "the second signal")
    a.unlink()
    wait_until(lambda: not engine.frame.throttle["triggers"]["flag-a"]["throttled"], "flag-a clear for resume_after")
    assert engine.fresh_frame().throttle["throttled"], "one signal that says throttle wins"
    assert _held(backfill)

    b.unlink()
    wait_until(lambda: not engine.frame.throttle.get("throttled"), "the release")
    assert _moving(backfill)
    assert [e.data["op"] for e in _throttle_events(engine)] == ["throttle", "release"]


def test_a_manual_pause_is_not_lifted_by_a_throttle_release(pg: Any, make_engine: Any, backfills: Any, tmp_path: Path) -> None:
    flag = tmp_path / "throttle.flag"
    engine, backfill, key = _watching(pg, make_engine, backfills, {"hold": flag}, _flag_trigger("flag", "hold"))

    flag.touch()
    wait_until(lambda: engine.frame.throttle.get("throttled") and engine.frame.paused, "the throttle's pause")
    [result] = engine.pause(who="dba", why="looking at it").result(timeout=20)
    assert result.ok
    flag.unlink()
    wait_until(lambda: not engine.frame.throttle.get("throttled"), "the release")
    release = _throttle_events(engine)[-1]
    assert "stays paused (paused by dba)" in release.message
    assert engine.fresh_frame().paused
    assert _held(backfill)
    assert len(_advisory_holders(pg, key)) == 1


def test_a_signal_that_cannot_be_measured_throttles_fail_closed(pg: Any, make_engine: Any, backfills: Any, tmp_path: Path) -> None:
    """A source that fails for stale_after throttles with 'cannot measure'; on_stale: open does not."""
    folder = tmp_path / "flags"
    folder.mkdir()
    flag = folder / "throttle.flag"
    triggers = (_flag_trigger("flag", "hold").replace("resume_after: 300ms", "resume_after: 300ms, stale_after: 500ms")
                + "  - {name: open, source: flags, metric: flag.present, labels: {flag: other}, above: 0.5, "
                  "action: throttle, stale_after: 500ms, on_stale: open}\n    ")
    engine, backfill, _key_ = _watching(pg, make_engine, backfills, {"hold": flag, "other": tmp_path / "other.flag"},
                                        triggers)

    folder.rmdir()
    folder.write_text("")  # a file where the flag's folder was: the flag cannot be checked, the source fails
    wait_until(lambda: engine.frame.throttle.get("throttled"), "the fail-closed throttle")
    status = engine.fresh_frame().throttle
    assert "cannot measure flag.present" in status["triggers"]["flag"]["reason"]
    assert status["triggers"]["open"]["throttled"] is False
    assert _held(backfill)

    folder.unlink()
    folder.mkdir()
    wait_until(lambda: not engine.frame.throttle.get("throttled"), "the release once measured and clear")
    assert _moving(backfill)


def test_active_backends_per_core_of_a_local_server(pg: Any, make_engine: Any) -> None:
    """backends_per_core: a session running a statement counts; the core count is this host's."""
    import os
    import threading

    import psycopg

    engine = make_engine(f"""
    sources:
      - {{type: postgres, name: db, dsn: "{pg.dsn}", interval: 200ms, include: [backends_per_core]}}
    """)
    engine.start()
    def sleep(conn: Any) -> None:
        try:
            conn.execute("SELECT pg_sleep(20)")
        except psycopg.errors.QueryCanceled:
            pass

    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        busy = threading.Thread(target=sleep, args=(conn,), daemon=True)
        busy.start()
        active = wait_until(lambda: engine.frame.value("backends_per_core.active") >= 1 and
                            engine.frame.value("backends_per_core.active"), "the busy session counted")
        cores = os.cpu_count()
        assert engine.frame.value("backends_per_core.cpu_cores") == cores
        per_core = engine.frame.value("backends_per_core.active_per_core")
        assert per_core > 0 and abs(per_core * cores - round(per_core * cores)) < 1e-9
        conn.cancel()
        busy.join(10)
    assert active >= 1


def test_real_standby_replay_lag_throttles_the_backfill(embedded_pg: Any, make_engine: Any, backfills: Any) -> None:
    """A streaming standby whose replay is paused (pg_wal_replay_pause) falls behind while WAL is
    written on the primary: replay lag in bytes crosses the limit, the backfill is held; replay
    resumes, the lag clears, and after resume_after the backfill goes on by itself."""
    import psycopg

    from migtui.embedded import EmbeddedPostgres
    from migtui.errors import MigtuiError

    key, table = _key(), _table(embedded_pg, rows=100_000)
    standby = EmbeddedPostgres()
    try:
        try:  # the standby reports its replay position every second (default 10 s)
            standby.init_standby(embedded_pg.embedded, wal_receiver_status_interval="1")
        except MigtuiError as exc:
            pytest.skip(str(exc))
        standby.start()
        engine = make_engine(f"""
        interval: 200ms
        sources:
          - {{type: postgres, name: primary, dsn: "{embedded_pg.dsn}", interval: 200ms, include: [replication_lag],
              intervals: {{replication_lag: 200ms}}}}
        actions:
          pause:
            - {{type: pg_pause, key: {key}, source: primary}}
        triggers:
          - {{name: replay-lag, source: primary, metric: replication_lag.replay_lag_bytes, above: 4000000,
              clear: 1000000, action: throttle, resume_after: 500ms}}
        """)
        engine.start()
        wait_until(lambda: engine.frame.latest("replication_lag.replay_lag_bytes"), "the standby in pg_stat_replication")
        backfill = backfills(embedded_pg.dsn, table, key)
        assert _moving(backfill)
        assert not engine.fresh_frame().throttle["throttled"]

        with psycopg.connect(standby.dsn, autocommit=True) as replica:
            replica.execute("SELECT pg_wal_replay_pause()")
            with psycopg.connect(embedded_pg.dsn, autocommit=True) as primary:
                primary.execute("CREATE TABLE wal_burst AS SELECT g, repeat('x', 100) AS pad "
                                "FROM generate_series(1, 60000) g")
            wait_until(lambda: engine.frame.throttle.get("throttled"), "the replay-lag throttle")
            assert engine.fresh_frame().throttle["reason"].startswith("replay-lag: replication_lag.replay_lag_bytes = ")
            assert _held(backfill)
            replica.execute("SELECT pg_wal_replay_resume()")
        wait_until(lambda: not engine.frame.throttle.get("throttled"), "the release once the standby caught up")
        assert _moving(backfill)
        assert [e.data["op"] for e in _throttle_events(engine)] == ["throttle", "release"]
    finally:
        standby.cleanup()


def test_requested_checkpoints_per_minute(pg: Any, make_engine: Any) -> None:
    """checkpoint_pressure: CHECKPOINTs run between two polls show as requested checkpoints per minute."""
    import psycopg

    engine = make_engine(f"""
    sources:
      - {{type: postgres, name: db, dsn: "{pg.dsn}", interval: 200ms, include: [checkpoint_pressure],
          intervals: {{checkpoint_pressure: 1s}}}}
    """)
    engine.start()
    wait_until(lambda: engine.frame.latest("checkpoint_pressure.requested_per_min"), "a first rate")
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        for _ in range(3):
            conn.execute("CHECKPOINT")
    # 3 checkpoints within a few polls of about a second: far more than one a minute
    assert wait_until(lambda: engine.frame.value("checkpoint_pressure.requested_per_min") > 5,
                      "the checkpoints counted per minute")


def test_a_lost_throttle_pause_is_taken_again(pg: Any, make_engine: Any, backfills: Any, tmp_path: Path) -> None:
    """Fail closed: the pause lock's session is terminated while the throttle holds; migtui sees the
    pause lost and pauses again, and the backfill is held again."""
    import psycopg

    flag = tmp_path / "throttle.flag"
    engine, backfill, key = _watching(pg, make_engine, backfills, {"hold": flag}, _flag_trigger("flag", "hold"))
    flag.touch()
    wait_until(lambda: engine.frame.throttle.get("throttled") and engine.frame.paused, "the throttle's pause")
    [(pid, _name)] = _advisory_holders(pg, key)
    with psycopg.connect(pg.dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_until(lambda: [e for e in _throttle_events(engine) if e.data.get("op") == "repause"], "the pause taken again")
    wait_until(lambda: len(_advisory_holders(pg, key)) == 1 and _advisory_holders(pg, key)[0][0] != pid,
               "a new pause lock")
    assert _held(backfill)
    flag.unlink()
    wait_until(lambda: not engine.frame.throttle.get("throttled"), "the release")
    assert _moving(backfill)
