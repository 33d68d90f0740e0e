"""Preflight (`migtui check`), PITR preparation (`migtui prepare`) and `migtui role-sql` against a
real PostgreSQL."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from migtui.config import load_config


def _write_config(tmp_path: Path, dsn: str, extra: str = "") -> Path:
    path = tmp_path / "preflight.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: preflight-test
        store: run.duckdb
        sources:
          - {{type: postgres, name: db, dsn: "{dsn}"}}
        alerters:
          - {{type: log, name: log, path: alerts.jsonl}}
        actions:
          pause:
            - {{type: shell, name: stop-worker, command: [echo, paused]}}
        migration:
          preflight:
            idle_in_transaction: 1s
        """) + textwrap.dedent(extra))
    return path


def _baseline_store(path: Path, name: str) -> None:
    from migtui.triggers.baseline import compute_baseline
    from migtui.model import Sample
    from migtui.store import Store

    store = Store.open(path)
    try:
        run = store.create_run(name)
        now = time.time()
        store.add_samples(run, "baseline", [Sample(now - 30 + i, "db", "pg.up", 1.0) for i in range(20)])
        store.flush()
        compute_baseline(store.con, run)
        store.finish_run(run)
    finally:
        store.close()


def _items(out: str) -> dict[str, dict[str, Any]]:
    return {i["name"]: i for i in json.loads(out)["items"]}


def test_check_passes_and_fails_on_an_idle_in_transaction_session(pg: Any, tmp_path: Path) -> None:
    cfg = _write_config(tmp_path, pg.dsn)
    _baseline_store(tmp_path / "run.duckdb", "preflight-test")
    import psycopg

    blocker = psycopg.connect(pg.dsn, application_name="forgotten-psql")
    try:
        blocker.execute("SELECT 1")  # opens a transaction and leaves it idle
        pid = blocker.info.backend_pid
        time.sleep(1.3)
        proc = subprocess.run([sys.executable, "-m", "migtui", "check", "--config", str(cfg), "--json"],
                              capture_output=True, text=True, timeout=120)
    finally:
        blocker.close()
    assert proc.returncode == 1, proc.stderr
    items = _items(proc.stdout)
    assert json.loads(proc.stdout)["result"] == "fail"
    for name in ("Connectivity", "Connection headroom", "Baseline", "Alerter log", "Action pause"):
        assert items[name]["status"] == "pass", items[name]
    assert items["Server version and catalog"]["status"] in ("pass", "warn")
    assert f"PostgreSQL {pg.version}" in items["Server version and catalog"]["evidence"]
    blocking = items["Blocking sessions"]
    assert blocking["status"] == "fail" and f"pid {pid}" in blocking["evidence"]
    assert "forgotten-psql" in blocking["evidence"]
    assert "dry run" in items["Action pause"]["evidence"]
    assert (tmp_path / "alerts.jsonl").read_text().count("test") >= 1

    # the session is gone: no fail any more, exit code 0 (warns allowed)
    proc = subprocess.run([sys.executable, "-m", "migtui", "check", "--config", str(cfg), "--no-alerts"],
                          capture_output=True, text=True, timeout=120)
    assert "[PASS] Blocking sessions" in proc.stdout
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_unprivileged_role_degrades_with_warnings_and_role_sql_fixes_it(pg: Any, tmp_path: Path) -> None:
    from psycopg import sql

    from migtui.preflight import run_preflight
    from migtui_postgres.preflight import grants_sql

    role = f"migtui_t_{secrets.token_hex(3)}"
    dsn = pg.dsn + f" user={role}"
    with pg.connect() as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        config = load_config(_write_config(tmp_path, dsn))
        items = {i.name: i for i in run_preflight(config, alerts=False, actions=False)}
        assert items["Privileges"].status == "warn" and "pg_monitor" in items["Privileges"].evidence
        assert items["WAL space"].status == "warn" and "needs pg_monitor" in items["WAL space"].evidence

        # the printed SQL runs as it is and gives the role what the checks want
        proc = subprocess.run([sys.executable, "-m", "migtui", "role-sql", "--monitor-role", f"{role}_mon",
                               "--action-role", f"{role}_act", "--server-version", str(pg.version)],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert "GRANT pg_monitor" in proc.stdout and "CONNECTION LIMIT 5" in proc.stdout
        assert ("pg_backup_start" if pg.version >= 15 else "pg_start_backup") in proc.stdout
        with pg.connect() as admin:
            admin.execute(proc.stdout)
            admin.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(f"{role}_mon"), sql.Identifier(role)))
        items = {i.name: i for i in run_preflight(config, alerts=False, actions=False)}
        assert "pg_monitor" not in items["Privileges"].evidence.split("missing:")[-1]
        assert items["WAL space"].status in ("pass", "warn") and "needs pg_monitor" not in items["WAL space"].evidence
        assert grants_sql("Odd Role").startswith("-- migtui") and '"Odd Role"' in grants_sql("Odd Role")
    finally:
        with pg.connect() as admin:
            for r in (role, f"{role}_mon", f"{role}_act"):
                admin.execute(sql.SQL("DROP OWNED BY {} CASCADE").format(sql.Identifier(r))) if _exists(admin, r) else None
                admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(r)))


def _exists(conn: Any, role: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone() is not None


def test_prepare_creates_a_restore_point_and_a_slot(pg: Any, tmp_path: Path) -> None:
    slot = f"migtui_test_{secrets.token_hex(3)}"
    cfg = _write_config(tmp_path, pg.dsn)
    with pg.connect() as conn:
        wal_level = conn.execute("SHOW wal_level").fetchone()[0]
    proc = subprocess.run([sys.executable, "-m", "migtui", "prepare", "--config", str(cfg), "--restore-point",
                           "before-orders", "--slot", slot, "--slot-plugin", "test_decoding", "--json"],
                          capture_output=True, text=True, timeout=120)
    try:
        out = json.loads(proc.stdout)
        steps = {s["step"]: s for s in out["steps"]}
        assert steps["restore_point"]["status"] == "ok"
        assert steps["restore_point"]["data"]["name"].startswith("before-orders-")
        start = "pg_backup_start" if pg.version >= 15 else "pg_start_backup"
        assert start in steps["server"]["message"]
        if wal_level == "logical":
            assert steps["slot"]["status"] == "ok", steps["slot"]
            assert f"SELECT pg_drop_replication_slot('{slot}');" in steps["slot"]["message"]
            with pg.connect() as conn:
                row = conn.execute("SELECT plugin, temporary FROM pg_replication_slots WHERE slot_name = %s",
                                   [slot]).fetchone()
            assert row == ("test_decoding", False)
            # a second prepare with the same slot name refuses, and restore point names stay unique
            again = subprocess.run([sys.executable, "-m", "migtui", "prepare", "--config", str(cfg), "--restore-point",
                                    "before-orders", "--slot", slot, "--json"], capture_output=True, text=True,
                                   timeout=120)
            assert again.returncode == 1
            steps2 = {s["step"]: s for s in json.loads(again.stdout)["steps"]}
            assert "already exists" in steps2["slot"]["message"]
            assert steps2["restore_point"]["data"]["name"] != steps["restore_point"]["data"]["name"]
        else:
            assert proc.returncode == 1
            assert steps["slot"]["status"] == "failed" and "wal_level = logical" in steps["slot"]["message"]
        # every step is recorded in the store as an action event of a "prepare" run
        from migtui.store import Store

        store = Store.open(tmp_path / "run.duckdb", read_only=True)
        try:
            run = store.run(out["run_id"])
            assert run["name"] == "preflight-test prepare"
            events = store.events(out["run_id"], ["action"])
            assert {e.subject for e in events} >= {"prepare:server", "prepare:restore_point", "prepare:slot"}
        finally:
            store.close()
    finally:
        with pg.connect() as conn:
            conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
                         [slot])


def test_prepare_rejects_a_bad_slot_name(pg: Any, tmp_path: Path) -> None:
    cfg = _write_config(tmp_path, pg.dsn)
    proc = subprocess.run([sys.executable, "-m", "migtui", "prepare", "--config", str(cfg), "--slot", "Bad-Name"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "slot name 'Bad-Name'" in proc.stderr


@pytest.mark.parametrize("version,start", [(14, "pg_start_backup"), (15, "pg_backup_start"), (17, "pg_backup_start")])
def test_backup_function_names_follow_the_server_version(version: int, start: str) -> None:
    from migtui_postgres.pitr import backup_functions
    from migtui_postgres.preflight import grants_sql

    assert backup_functions(version * 10000 + 3)[0].startswith(start)
    text = grants_sql("m", "a", server_version=version)
    assert start in text and ("pg_backup_start" if start == "pg_start_backup" else "pg_start_backup") not in text
