"""`migtui watch --headless` against a real PostgreSQL, as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import psycopg

from migtui.store import Store
from tests.conftest import migtui_cmd

CONFIG = """\
name: itest
interval: 1s
sources:
  - type: postgres
    name: db
    dsn: ${MIGTUI_DSN}
"""


def _config(tmp_path: Path, extra: str = "") -> Path:
    p = tmp_path / "watch.yaml"
    p.write_text(CONFIG + extra)
    return p


def _wait_polled(store: Path, env: dict, timeout: float = 60.0) -> None:
    """Until the running watch on ``store`` has polled its source (``ctl status``: db ok, two ticks)."""
    deadline = time.monotonic() + timeout
    status: dict = {}
    while time.monotonic() < deadline:
        proc = subprocess.run([*migtui_cmd(), "ctl", "status", "--json", "--store", str(store)], env=env,
                              capture_output=True, text=True, timeout=60)
        if proc.returncode == 0:
            status = json.loads(proc.stdout).get("status") or {}
            states = {s["name"]: s["state"] for s in status.get("sources", [])}
            if states.get("db") == "ok" and status.get("tick", 0) >= 2:
                return
        time.sleep(0.2)
    raise AssertionError(f"the watch did not poll within {timeout:.0f}s: {status}")


def test_headless_watch_for_a_duration_stores_samples(pg, tmp_path: Path, cli_env: dict) -> None:
    cfg = _config(tmp_path)
    store = tmp_path / "run.duckdb"
    cli_env["MIGTUI_DSN"] = pg.dsn
    out = subprocess.run([*migtui_cmd(), "watch", "--config", str(cfg), "--headless", "--duration", "4s",
                          "--store", str(store)], env=cli_env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "[baseline] itest" in out.stdout  # the status line
    assert "db ok" in out.stdout
    s = Store.open(store, read_only=True)
    try:
        [run] = s.runs()
        assert run["status"] == "finished" and run["samples"] > 0
        metrics = {m for (m,) in s.con.execute("SELECT DISTINCT metric FROM samples_v").fetchall()}
        assert {"pg.up", "activity_summary.sessions"} <= metrics
    finally:
        s.close()
    runs = subprocess.run([*migtui_cmd(), "runs", "--store", str(store), "--json"], env=cli_env,
                          capture_output=True, text=True, timeout=30)
    assert json.loads(runs.stdout)[0]["run_id"] == run["run_id"]


def test_json_lines_and_ctrl_c_writes_the_last_batch(pg, tmp_path: Path, cli_env: dict) -> None:
    cfg = _config(tmp_path)
    store = tmp_path / "run.duckdb"
    cli_env["MIGTUI_DSN"] = pg.dsn
    proc = subprocess.Popen([*migtui_cmd(), "watch", "--config", str(cfg), "--headless", "--json",
                             "--store", str(store)], env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        first = json.loads(proc.stdout.readline())
        assert set(first) == {"ts", "run", "phase", "kind", "subject", "level", "message", "data"}
        assert first["kind"] == "run" and first["phase"] == "baseline"
        _wait_polled(store, cli_env)  # samples were collected (not a fixed sleep: a busy machine polls late)
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    last = json.loads(rest.strip().splitlines()[-1])
    assert last["kind"] == "run" and "finished" in last["message"]
    s = Store.open(store, read_only=True)
    try:
        [run] = s.runs()
        assert run["status"] == "finished" and run["samples"] > 0
        kinds = [e.kind for e in s.events(run["run_id"])]
        assert kinds[0] == "run" and kinds[-1] == "run"
    finally:
        s.close()


def test_unreachable_server_is_one_line(tmp_path: Path, cli_env: dict) -> None:
    cfg = _config(tmp_path)
    cli_env["MIGTUI_DSN"] = "postgresql://postgres:topsecret99@127.0.0.1:1/nowhere"
    out = subprocess.run([*migtui_cmd(), "watch", "--config", str(cfg), "--headless", "--duration", "2s",
                          "--store", str(tmp_path / "s.duckdb")], env=cli_env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("migtui: error: source 'db': cannot connect to PostgreSQL")
    assert "topsecret99" not in out.stderr and "Traceback" not in out.stderr


def test_broken_sql_file_in_sql_dirs_names_file_and_line(pg, tmp_path: Path, cli_env: dict) -> None:
    sqldir = tmp_path / "mysql"
    sqldir.mkdir()
    (sqldir / "my_check.sql").write_text("-- name: my_check\n-- description: x\n-- kind: metricz\n"
                                         "-- min_version: 13\n-- interval: 5s\n-- timeout: 1s\n"
                                         "-- privileges: none\nSELECT /* migtui */ 1 AS one\n")
    cfg = _config(tmp_path, "sql_dirs: [mysql]\n")
    cli_env["MIGTUI_DSN"] = pg.dsn
    out = subprocess.run([*migtui_cmd(), "watch", "--config", str(cfg), "--headless", "--duration", "1s",
                          "--store", str(tmp_path / "s.duckdb")], env=cli_env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode != 0
    assert out.stderr.strip() == (f"migtui: error: {sqldir / 'my_check.sql'}:3: kind must be metrics or table, "
                                  "got 'metricz'")


def test_unknown_config_key_exits_2(tmp_path: Path, cli_env: dict) -> None:
    cfg = _config(tmp_path, "tirggers: []\n")
    cli_env["MIGTUI_DSN"] = "postgresql://127.0.0.1:1/x"
    out = subprocess.run([*migtui_cmd(), "watch", "--config", str(cfg), "--headless"], env=cli_env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "watch.yaml:7: tirggers: unknown key (did you mean 'triggers'?)" in out.stderr


def test_store_held_by_another_watch(pg, tmp_path: Path, cli_env: dict) -> None:
    cfg = _config(tmp_path)
    store = tmp_path / "held.duckdb"
    cli_env["MIGTUI_DSN"] = pg.dsn
    first = subprocess.Popen([*migtui_cmd(), "watch", "--config", str(cfg), "--headless", "--json", "--store",
                              str(store)], env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first.stdout.readline()  # running
        second = subprocess.run([*migtui_cmd(), "watch", "--config", str(cfg), "--headless", "--duration", "1s",
                                 "--store", str(store)], env=cli_env, capture_output=True, text=True, timeout=60)
        assert second.returncode != 0
        assert second.stderr.strip().startswith(f"migtui: error: {store}: the store is in use by another running migtui")
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=30)


def test_query_without_privilege_is_skipped_with_one_warning(pg, make_engine, tmp_path: Path) -> None:
    role = f"migtui_nopriv_{os.getpid()}"
    with psycopg.connect(pg.dsn, autocommit=True) as admin:
        admin.execute(f"DROP ROLE IF EXISTS {role}")
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute("CREATE TABLE IF NOT EXISTS private_things (id int)")
        admin.execute("REVOKE ALL ON private_things FROM PUBLIC")
    try:
        sqldir = tmp_path / "extra"
        sqldir.mkdir()
        (sqldir / "private_count.sql").write_text(
            "-- name: private_count\n-- description: rows of a table the role may not read\n-- kind: metrics\n"
            "-- min_version: 13\n-- interval: 1s\n-- timeout: 1s\n-- privileges: SELECT on private_things\n"
            "SELECT /* migtui */ count(*) AS n FROM private_things\n")
        from psycopg.conninfo import make_conninfo

        dsn = make_conninfo(pg.dsn, user=role)
        engine = make_engine(f"name: t\ninterval: 1s\nsql_dirs: [{sqldir}]\nsources:\n"
                             f"  - {{type: postgres, name: db, dsn: '{dsn}'}}\n")
        for _ in range(3):
            engine.tick(wait=30)
            time.sleep(1.05)  # the query (1s interval) is due again: it must not be retried
        engine.tick(wait=30)
        warnings = [e for e in engine.recent_events if e.kind == "error" and "private_count" in e.subject]
        assert len(warnings) == 1
        assert "permission denied" in warnings[0].message and "SELECT on private_things" in warnings[0].message
        assert engine.value("activity_summary.sessions") >= 0  # the rest keeps running
    finally:
        engine.close()
        with psycopg.connect(pg.dsn, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE IF EXISTS {role}")


def test_blocked_alter_table_shows_as_a_lock_wait(pg, make_engine) -> None:
    with psycopg.connect(pg.dsn, autocommit=True) as setup:
        setup.execute("DROP TABLE IF EXISTS lockdemo")
        setup.execute("CREATE TABLE lockdemo (id int primary key, v text)")
        setup.execute("INSERT INTO lockdemo SELECT g, 'x' FROM generate_series(1, 100) g")
    holder = psycopg.connect(pg.dsn)
    holder.execute("SELECT * FROM lockdemo LIMIT 1")  # AccessShare, transaction left open
    alter_done = threading.Event()

    def alter() -> None:
        with psycopg.connect(pg.dsn, autocommit=True, application_name="the-migration") as c:
            c.execute("SET lock_timeout = '90s'")  # queued until the holder lets go (below)
            try:
                c.execute("ALTER TABLE lockdemo ADD COLUMN note text")
            except psycopg.Error:
                pass
        alter_done.set()

    t = threading.Thread(target=alter)
    t.start()
    engine = make_engine(f"name: t\ninterval: 1s\nsources:\n  - {{type: postgres, name: db, dsn: '{pg.dsn}'}}\n")
    try:
        deadline = time.time() + 60
        waiting = 0.0
        while time.time() < deadline and waiting < 1:
            time.sleep(0.5)
            engine.tick(wait=30)
            waiting = engine.value("activity_summary.waiting")
        assert waiting >= 1, "the queued ALTER TABLE should be counted as waiting"
        tree = engine.snapshots.get("blocking_tree")
        if tree is not None:  # the blocking tree query of the catalog
            rows = tree.as_dicts()
            assert any("ALTER TABLE lockdemo" in str(r.get("query", "")) for r in rows)
    finally:
        holder.rollback()
        holder.close()
        t.join(timeout=60)
        engine.close()
    assert alter_done.is_set()
