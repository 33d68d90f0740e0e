"""Operator actions on a real PostgreSQL: cooperative pause of a batched backfill, rollback SQL and
shell rollbacks (audited in the store), cancel / terminate of real backends, dry-run, confirmation."""

from __future__ import annotations

import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from migtui.errors import ActionError, ConfigError
from migtui_postgres.pause import DEFAULT_KEY, check_sql, is_paused, wait_if_paused

pytestmark = pytest.mark.pg


def _key() -> int:
    return random.randint(10_000_000, 2**40)


def _table(pg: Any, rows: int = 2000) -> str:
    name = f"items_{random.randint(0, 10**9)}"
    with pg.connect() as conn:
        conn.execute(f"CREATE TABLE {name} (id int PRIMARY KEY, v int)")
        conn.execute(f"INSERT INTO {name} SELECT g, NULL FROM generate_series(1, %s) g", [rows])
    return name


def _done(pg: Any, table: str) -> int:
    with pg.connect() as conn:
        return conn.execute(f"SELECT count(*) FROM {table} WHERE v IS NOT NULL").fetchone()[0]


def _advisory_holders(pg: Any, key: int) -> list[tuple[int, str]]:
    with pg.connect() as conn:
        return conn.execute(
            "SELECT l.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.mode = 'ExclusiveLock' "
            "AND ((l.classid::bigint << 32) | l.objid::bigint) = %s", [key]).fetchall()


class _Stopped(Exception):
    pass


class Backfill(threading.Thread):
    """A batched backfill the way a migration script writes one, checking the pause between batches."""

    def __init__(self, dsn: str, table: str, key: int, batch: int = 50) -> None:
        super().__init__(daemon=True)
        self.dsn, self.table, self.key, self.batch = dsn, table, key, batch
        self.batches = 0
        self.paused_seen = threading.Event()
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with psycopg.connect(self.dsn, application_name="backfill") as conn:
                while not self.stop.is_set():
                    wait_if_paused(conn, self.key, poll=0.02, on_wait=self._waiting)
                    cur = conn.execute(
                        f"UPDATE {self.table} SET v = id * 2 WHERE id IN "
                        f"(SELECT id FROM {self.table} WHERE v IS NULL ORDER BY id LIMIT %s)", [self.batch])
                    conn.commit()
                    if cur.rowcount == 0:
                        return
                    self.batches += 1
                    time.sleep(0.01)
        except _Stopped:
            pass
        except BaseException as exc:  # noqa: BLE001
            self.error = exc

    def _waiting(self, waited: float) -> None:
        """``on_wait``: the pause is seen; a stopped backfill (test teardown, the pause still held)
        ends now instead of waiting for the resume that will not come."""
        self.paused_seen.set()
        if self.stop.is_set():
            raise _Stopped


def _config(pg: Any, key: int, rollback: str = "") -> str:
    return f"""
    sources:
      - {{type: postgres, name: db, dsn: "{pg.dsn}", include: [activity_summary]}}
    actions:
      pause:
        - {{type: pg_pause, key: {key}}}
    {rollback}
    """


def _action_events(engine: Any) -> list[Any]:
    engine.store.flush()
    return engine.store.events(engine.run_id, kinds=["action"])


def test_pause_stops_a_real_backfill_and_resume_lets_it_finish(pg: Any, make_engine: Any) -> None:
    key = _key()
    table = _table(pg)
    engine = make_engine(_config(pg, key))
    backfill = Backfill(pg.dsn, table, key)
    backfill.start()
    deadline = time.monotonic() + 20
    while backfill.batches < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert backfill.batches >= 3

    [result] = engine.pause(who="dba", why="replica lag").result(timeout=20)
    assert result.ok, result.message
    assert backfill.paused_seen.wait(20), "the backfill never saw the pause"
    holders = _advisory_holders(pg, key)
    assert len(holders) == 1 and holders[0][1] == "migtui-pause"

    frozen_batches, frozen_rows = backfill.batches, _done(pg, table)
    time.sleep(0.4)
    assert backfill.batches == frozen_batches
    assert _done(pg, table) == frozen_rows < 2000
    assert backfill.is_alive()

    # pausing twice is fine: still one lock, still paused
    [again] = engine.pause(who="dba").result(timeout=20)
    assert again.ok and "already paused" in again.message
    assert len(_advisory_holders(pg, key)) == 1
    with pg.connect() as probe:
        assert is_paused(probe, key)
        assert probe.execute(check_sql(key)).fetchone()[0] is False

    [resumed] = engine.resume(who="dba").result(timeout=20)
    assert resumed.ok, resumed.message
    backfill.join(30)
    assert not backfill.is_alive() and backfill.error is None
    assert _done(pg, table) == 2000
    assert _advisory_holders(pg, key) == []
    [again] = engine.resume(who="dba").result(timeout=20)
    assert again.ok and "not paused" in again.message

    events = _action_events(engine)  # one event per request, its steps as data
    assert [(e.subject, e.data["stage"], e.data["ok"], e.data["who"]) for e in events] == [
        ("pause", "result", True, "dba"), ("pause", "result", True, "dba"), ("resume", "result", True, "dba"),
        ("resume", "result", True, "dba")]
    assert events[0].data["why"] == "replica lag" and events[0].data["steps"][0]["type"] == "pg_pause"
    assert [e.data.get("paused") for e in events] == [True, None, False, None]  # what changed, once
    assert "migration paused" in events[0].message and "migration resumed" in events[2].message
    assert all(e.phase.value == "baseline" for e in events)  # a pause does not change the phase
    assert engine.phase.value == "baseline"


def test_action_messages_name_the_server(pg: Any, make_engine: Any) -> None:
    """A pause says which server holds it (host:port/database, never a password), not "the configured
    server" (a missing helper was hidden by a bare except)."""
    from psycopg.conninfo import conninfo_to_dict

    d = conninfo_to_dict(pg.dsn)
    where = f"{d.get('host') or 'local socket'}:{d.get('port') or '5432'}/{pg.dbname}"
    key = _key()
    engine = make_engine(_config(pg, key))
    assert where in engine.describe_actions("pause")[0]
    [result] = engine.pause(who="dba").result(timeout=20)
    assert result.ok and where in result.message, result.message
    assert "the configured server" not in result.message
    [resumed] = engine.resume(who="dba").result(timeout=20)
    assert resumed.ok


def test_wait_if_paused_leaves_no_transaction_open(pg: Any) -> None:
    key = _key()
    with pg.connect() as holder, psycopg.connect(pg.dsn) as worker:
        holder.execute("SELECT pg_advisory_lock(%s)", [key])
        waits: list[float] = []
        t = threading.Thread(target=lambda: wait_if_paused(worker, key, poll=0.02, on_wait=waits.append))
        t.start()
        deadline = time.monotonic() + 10
        while not waits and time.monotonic() < deadline:
            time.sleep(0.01)
        assert waits
        pid = worker.info.backend_pid
        state = holder.execute("SELECT state, backend_xmin FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
        assert state[0] == "idle" and state[1] is None  # no snapshot held while paused
        holder.execute("SELECT pg_advisory_unlock(%s)", [key])
        t.join(10)
        assert not t.is_alive()
    assert DEFAULT_KEY == int.from_bytes(b"migtui", "big")


def test_rollback_sql_and_shell_run_confirmed_and_are_audited(pg: Any, make_engine: Any, tmp_path: Path) -> None:
    key = _key()
    table = _table(pg, rows=10)
    with pg.connect() as conn:
        conn.execute(f"UPDATE {table} SET v = 1")
    (tmp_path / "undo.sql").write_text(
        f"UPDATE {table} SET v = NULL;\n"
        "DO $$ BEGIN RAISE NOTICE 'backfill undone'; END $$;\n"
        "SHOW lock_timeout;\n")
    marker = tmp_path / "downgraded.txt"
    (tmp_path / "downgrade.py").write_text(
        "import os, sys\n"
        "with open(sys.argv[1], 'a') as f:\n"
        "    f.write(os.environ['MIGTUI_WHO'] + ' ' + os.environ['DOWNGRADE_TARGET'] + '\\n')\n"
        "print('downgrade done')\n"
        "print('connecting with ' + os.environ['DB_PASSWORD'])\n")
    rollback = f"""
      rollback:
        - {{type: pg_rollback_sql, name: undo, file: undo.sql, lock_timeout: 250ms}}
        - type: shell
          name: downgrade
          command: ["{sys.executable}", downgrade.py, "{marker}"]
          env: {{DOWNGRADE_TARGET: "${{TARGET_REV}}", DB_PASSWORD: "${{DB_PASSWORD}}"}}
          timeout: 30s
    """
    engine = make_engine(_config(pg, key, rollback), env={"TARGET_REV": "base", "DB_PASSWORD": "s3cr3t-pw"})
    plan = engine.describe_actions("rollback")
    assert len(plan) == 2 and "undo.sql" in plan[0] and "lock_timeout 0.25s" in plan[0]
    assert "needs confirmation" in plan[0] and "downgrade" in plan[1]

    # not confirmed: refused, nothing runs
    refused = engine.rollback(who="dba").result(timeout=20)
    assert [r.ok for r in refused] == [False, False]
    assert _done(pg, table) == 10 and not marker.exists()

    # dry run: described and recorded, nothing runs
    dry = engine.request_action("rollback", who="dba", dry_run=True).result(timeout=20)
    assert all(r.ok and r.dry_run for r in dry)
    assert _done(pg, table) == 10 and not marker.exists()

    undo, downgrade = engine.rollback(who="dba", why="error rate", confirmed=True).result(timeout=30)
    assert undo.ok, undo.message
    assert "NOTICE: backfill undone" in undo.output and "250ms" in undo.output
    assert _done(pg, table) == 0
    assert downgrade.ok, downgrade.message
    assert marker.read_text() == "dba base\n"
    assert "downgrade done" in downgrade.output and "s3cr3t-pw" not in downgrade.output

    # a second rollback does not run the steps again
    again = engine.rollback(who="dba", confirmed=True).result(timeout=30)
    assert all(r.ok for r in again) and marker.read_text() == "dba base\n"

    events = _action_events(engine)
    stages = [(e.data.get("stage"), e.data.get("action"), e.data.get("ok")) for e in events
              if e.subject == "rollback"]
    assert ("refused", None, False) in stages
    results = [e for e in events if e.subject == "rollback" and e.data.get("stage") == "result"]
    dry_events = [e for e in results if e.data["dry_run"]]
    real = [e for e in results if not e.data["dry_run"]]
    assert [e.data["actions"] for e in dry_events] == [["undo", "downgrade"]]  # one event, two steps
    steps = real[0].data["steps"]
    assert [(st["action"], st["ok"], st["type"]) for st in steps] == [
        ("undo", True, "pg_rollback_sql"), ("downgrade", True, "shell")]
    assert "backfill undone" in steps[0]["output"]
    assert steps[1]["result"]["exit_code"] == 0 and real[0].data["why"] == "error rate"
    assert all("s3cr3t-pw" not in str(e.data) + e.message for e in events)


def test_rollback_sql_is_one_transaction_with_lock_timeout(pg: Any, make_engine: Any, tmp_path: Path) -> None:
    table = _table(pg, rows=5)
    (tmp_path / "undo.sql").write_text(
        f"CREATE TABLE {table}_log (msg text);\nINSERT INTO {table}_log VALUES ('started');\n"
        f"UPDATE {table} SET v = 42;\n")
    rollback = """
      rollback:
        - {type: pg_rollback_sql, file: undo.sql, lock_timeout: 200ms, confirm: false}
    """
    engine = make_engine(_config(pg, _key(), rollback))
    with pg.connect() as blocker:
        blocker.execute("BEGIN")
        blocker.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        [result] = engine.rollback(who="dba").result(timeout=30)
        blocker.execute("ROLLBACK")
    assert not result.ok
    assert "lock_timeout" in result.message and "rolled back" in result.message
    with pg.connect() as conn:
        exists = conn.execute("SELECT to_regclass(%s)", [f"{table}_log"]).fetchone()[0]
    assert exists is None  # the whole file was rolled back
    assert _done(pg, table) == 0


def test_rollback_files_only_from_the_configured_folder(pg: Any, make_engine: Any, tmp_path: Path) -> None:
    outside = tmp_path.parent / f"outside_{random.randint(0, 10**9)}.sql"
    outside.write_text("SELECT 1;")
    rollback = f"""
      rollback:
        - {{type: pg_rollback_sql, file: ../{outside.name}}}
    """
    with pytest.raises(ConfigError, match="outside the rollback folder"):
        make_engine(_config(pg, _key(), rollback))
    (tmp_path / "own.sql").write_text("BEGIN;\nSELECT 1;\nCOMMIT;\n")
    rollback = """
      rollback:
        - {type: pg_rollback_sql, file: own.sql, confirm: false}
    """
    engine = make_engine(_config(pg, _key(), rollback))
    [result] = engine.rollback(who="dba").result(timeout=20)
    assert not result.ok and "controls its own transaction" in result.message
    [chosen] = engine.request_action("rollback", who="dba", confirmed=True,
                                     target={"file": "../" + outside.name, "again": True}).result(timeout=20)
    assert not chosen.ok and "not a .sql file inside" in chosen.message


def test_cancel_an_active_statement_and_terminate_an_idle_in_transaction_blocker(pg: Any, make_engine: Any) -> None:
    table = _table(pg, rows=5)
    engine = make_engine(_config(pg, _key()))

    # cancel: a long active statement
    active = psycopg.connect(pg.dsn, autocommit=True, application_name="migration")
    caught: list[BaseException] = []

    def long_statement() -> None:
        try:
            active.execute("SELECT pg_sleep(60)")
        except BaseException as exc:  # noqa: BLE001
            caught.append(exc)

    t = threading.Thread(target=long_statement)
    t.start()
    pid = active.info.backend_pid
    with pg.connect() as conn:
        def state() -> str:
            return conn.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and state() != "active":
            time.sleep(0.02)
        assert state() == "active", "the long statement never started"
    plan = engine.describe_actions("cancel", {"pid": pid})
    assert plan and f"pid {pid}" in plan[0]
    [cancelled] = engine.request_action("cancel", who="dba", confirmed=True, target={"pid": pid}).result(timeout=20)
    assert cancelled.ok, cancelled.message
    t.join(20)
    assert caught and isinstance(caught[0], psycopg.errors.QueryCanceled)
    assert active.execute("SELECT 1").fetchone()[0] == 1  # the session survives a cancel
    active.close()

    # terminate: an idle-in-transaction session holding a lock that blocks a reader
    blocker = psycopg.connect(pg.dsn, application_name="migration")
    blocker.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")  # leaves the transaction open
    bpid = blocker.info.backend_pid
    read: list[int] = []
    reader = threading.Thread(target=lambda: read.append(
        psycopg.connect(pg.dsn, autocommit=True).execute(f"SELECT count(*) FROM {table}").fetchone()[0]))
    reader.start()
    # a cancel does not end an idle-in-transaction session
    [not_cancelled] = engine.request_action("cancel", who="dba", confirmed=True,
                                            target={"pid": bpid}).result(timeout=20)
    assert not not_cancelled.ok and "terminate" in not_cancelled.output
    [terminated] = engine.request_action("terminate", who="dba", confirmed=True,
                                         target={"pid": bpid}).result(timeout=20)
    assert terminated.ok, terminated.message
    reader.join(20)
    assert read == [5]
    with pytest.raises(psycopg.OperationalError):
        blocker.execute("SELECT 1")
    blocker.close()

    events = _action_events(engine)
    subjects = [(e.subject, e.data.get("ok")) for e in events if e.data.get("stage") == "result"]
    assert subjects == [("cancel", True), ("cancel", False), ("terminate", True)]
    assert all(e.data["target"]["pid"] in (pid, bpid) for e in events if e.data.get("stage") == "result")


def test_never_touches_migtuis_own_backends(pg: Any, make_engine: Any) -> None:
    key = _key()
    engine = make_engine(_config(pg, key) + """
      rollback:
        - {type: pg_terminate, application_name: migtui-pause, confirm: false}
    """)
    [paused] = engine.pause(who="dba").result(timeout=20)
    assert paused.ok
    holder_pid = paused.data["pid"]
    [refused] = engine.request_action("terminate", who="dba", confirmed=True,
                                      target={"pid": holder_pid}).result(timeout=20)
    assert not refused.ok and "migtui's own" in refused.message
    [nothing] = engine.rollback(who="dba").result(timeout=20)
    assert nothing.ok and "nothing to terminate" in nothing.message
    assert [p for p, _ in _advisory_holders(pg, key)] == [holder_pid]
    engine.resume(who="dba").result(timeout=20)


def test_terminate_by_application_name_from_config(pg: Any, make_engine: Any) -> None:
    engine = make_engine(_config(pg, _key()) + """
      rollback:
        - {type: pg_terminate, name: kill-backfill, application_name: nightly-backfill, confirm: false}
    """)
    victims = [psycopg.connect(pg.dsn, application_name="nightly-backfill") for _ in range(2)]
    bystander = psycopg.connect(pg.dsn, application_name="web")
    for v in victims:
        v.execute("SELECT 1")  # idle in transaction
    [result] = engine.rollback(who="trigger:error_rate").result(timeout=20)
    assert result.ok, result.message
    assert sorted(result.data["done"]) == sorted(v.info.backend_pid for v in victims)
    assert bystander.execute("SELECT 1").fetchone()[0] == 1
    for conn in (*victims, bystander):
        conn.close()


def test_dry_run_pause_does_nothing(pg: Any, make_engine: Any) -> None:
    key = _key()
    engine = make_engine(_config(pg, key))
    [result] = engine.request_action("pause", who="dba", dry_run=True).result(timeout=20)
    assert result.ok and result.dry_run and f"advisory lock {key}" in result.message
    assert _advisory_holders(pg, key) == []
    assert not engine.parts.actions.paused
    configured = make_engine(_config(pg, key).replace(f"key: {key}}}", f"key: {key}, dry_run: true}}"))
    [result] = configured.pause(who="dba").result(timeout=20)
    assert result.dry_run and _advisory_holders(pg, key) == []
    [event] = [e for e in _action_events(configured) if e.data.get("stage") == "result"]
    assert event.data["dry_run"] is True and event.data["ok"] is True


def test_unconfigured_verb_is_a_clear_error(pg: Any, make_engine: Any) -> None:
    engine = make_engine(_config(pg, _key()))
    with pytest.raises(ActionError, match="no action is configured for 'rollback'"):
        engine.rollback(who="dba", confirmed=True)
    [event] = [e for e in _action_events(engine) if e.subject == "rollback"]
    assert event.data["stage"] == "unavailable"


def test_identical_requests_are_coalesced(make_engine: Any, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    count = tmp_path / "count"
    (tmp_path / "wait_gate.py").write_text(
        "import os, sys, time\n"
        "open(sys.argv[2], 'a').write('x')\n"
        "while not os.path.exists(sys.argv[1]):\n"
        "    time.sleep(0.01)\n")
    engine = make_engine(f"""
    actions:
      pause:
        - type: shell
          command: ["{sys.executable}", wait_gate.py, "{gate}", "{count}"]
          timeout: 30s
    """)
    first = engine.pause(who="key")
    second = engine.pause(who="ctl:0")
    assert second is first
    gate.write_text("go")
    [result] = first.result(timeout=30)
    assert result.ok
    assert count.read_text() == "x"
    events = _action_events(engine)
    assert any(e.data.get("stage") == "coalesced" and e.data["who"] == "ctl:0" for e in events)


def test_sample_config_with_actions_works_as_it_is(pg: Any, make_engine: Any) -> None:
    root = Path(__file__).resolve().parents[2]
    engine = make_engine(str(root / "sample_configs" / "actions.yaml"), env={"MIGTUI_DSN": pg.dsn})
    runner = engine.parts.actions
    assert runner.verbs() == ["pause", "resume", "rollback", "cancel", "terminate"]
    plan = engine.describe_actions("rollback")
    assert [line.split(":")[0] for line in plan] == ["pg_cancel", "undo-backfill (pg_rollback_sql)",
                                                     "alembic-downgrade (shell)"]
    assert "undo_backfill.sql" in plan[1] and "alembic downgrade -1" in plan[2]
    results = engine.request_action("rollback", who="dba", dry_run=True).result(timeout=20)
    assert all(r.ok and r.dry_run for r in results)
    assert "release advisory lock 120299474679145" in engine.describe_actions("resume")[0]


def test_a_lost_pause_lock_is_reported(pg: Any, make_engine: Any) -> None:
    key = _key()
    engine = make_engine(_config(pg, key))
    [paused] = engine.pause(who="dba").result(timeout=20)
    assert paused.ok and engine.parts.actions.paused
    with pg.connect() as conn:  # someone ends migtui's pause session
        conn.execute("SELECT pg_terminate_backend(%s)", [paused.data["pid"]])
    deadline = time.monotonic() + 20
    tick = 0
    while engine.parts.actions.paused and time.monotonic() < deadline:
        tick += 1
        engine.tick(now=time.time() + 10 * tick)
        time.sleep(0.05)
    assert not engine.parts.actions.paused
    [lost] = [e for e in _action_events(engine) if e.data.get("stage") == "lost"]
    assert "pause lost" in lost.message and lost.level.value == "error"
    assert _advisory_holders(pg, key) == []
    [again] = engine.pause(who="dba").result(timeout=20)  # pausing again takes a new lock
    assert again.ok and "already" not in again.message
    assert len(_advisory_holders(pg, key)) == 1


def test_exiting_while_paused_releases_the_pause_and_says_so(pg: Any, make_engine: Any) -> None:
    key = _key()
    engine = make_engine(_config(pg, key))
    [paused] = engine.pause(who="dba").result(timeout=20)
    assert paused.ok and len(_advisory_holders(pg, key)) == 1
    run_id, store_path = engine.run_id, engine.store.path
    engine.close()
    assert _advisory_holders(pg, key) == []  # fail-open: the migration is not left paused forever
    from migtui.store import Store

    store = Store.open(store_path, read_only=True)
    try:
        [released] = [e for e in store.events(run_id, ["action"]) if e.data.get("stage") == "released_on_exit"]
    finally:
        store.close()
    assert "migration can go on" in released.message


def test_exit_messages_say_which_pauses_end_and_which_stay(pg: Any, make_engine: Any, tmp_path: Path) -> None:
    """Exiting while paused: the PostgreSQL pause ends with migtui's session (and says so); a Deployment
    and an Argo Rollout pause stay in force after migtui exits, and the exit message lists them."""
    from tests.servers import k8s_api as k

    key = _key()
    with k.FakeKubeAPI() as api:
        api.add(k.deployment("checkout"), k.rollout("checkout-canary", phase="Healthy", pause_reason=None))
        kc = api.kubeconfig(tmp_path)
        engine = make_engine(f"""
            sources:
              - {{type: postgres, name: db, dsn: "{pg.dsn}", include: [activity_summary]}}
            actions:
              pause:
                - {{type: pg_pause, key: {key}}}
                - {{type: k8s_deployment, name: hold-checkout, deployment: checkout, kubeconfig: "{kc}", context: fake}}
                - {{type: argo_rollout, name: hold-canary, rollout: checkout-canary, kubeconfig: "{kc}", context: fake}}
            """)
        results = engine.pause(who="dba").result(timeout=30)
        assert all(r.ok for r in results), [r.message for r in results]
        run_id, store_path = engine.run_id, engine.store.path
        engine.close()
        assert _advisory_holders(pg, key) == []  # the session-bound pause ended
        assert api.get("Deployment", "checkout")["spec"]["paused"] is True  # these did not
        assert api.get("Rollout", "checkout-canary")["spec"]["paused"] is True
    from migtui.store import Store

    store = Store.open(store_path, read_only=True)
    try:
        exits = [e for e in store.events(run_id, ["action"])
                 if e.data.get("stage") in ("released_on_exit", "in_force_on_exit")]
    finally:
        store.close()
    text = "\n".join(e.message for e in exits)
    ended = [e for e in exits if e.data.get("ended")]
    stays = [e for e in exits if e.data.get("stays")]
    assert ended and stays, text
    assert ended[0].data["ended"] == ["pg_pause"] and "advisory lock" in ended[0].message
    assert sorted(stays[0].data["stays"]) == ["hold-canary", "hold-checkout"]
    assert "deployment shop/checkout" in stays[0].message and "checkout-canary" in stays[0].message
    assert "stay" in stays[0].message and stays[0].level.value in ("warn", "error")
