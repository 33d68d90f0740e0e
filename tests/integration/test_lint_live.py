"""`migtui lint --dsn`: live evidence. A session idle in a transaction on the table is named as the
blocker the ALTER would queue behind (its query text printed with control characters escaped), with
the table's catalog size; lint itself never waits on the lock it reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any


def _lint(*args: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "migtui", "lint", *map(str, args)], capture_output=True,
                          text=True, timeout=60)


def test_live_names_the_session_idle_in_transaction_as_the_blocker(pg: Any, tmp_path: Path) -> None:
    with pg.connect() as conn:
        conn.execute("DROP TABLE IF EXISTS live_orders; CREATE TABLE live_orders (id int PRIMARY KEY, qty int); "
                     "INSERT INTO live_orders SELECT g, g FROM generate_series(1, 3000) g; ANALYZE live_orders")
    f = tmp_path / "m.sql"
    f.write_text("ALTER TABLE live_orders ALTER COLUMN qty TYPE bigint;\nSELECT 1;\n")
    blocker = pg.connect()
    try:
        blocker.autocommit = False
        blocker.execute("SELECT count(*) FROM live_orders /* report \x1b[31m */")
        pid = blocker.info.backend_pid  # now idle in transaction, holding AccessShareLock
        proc = _lint(f, "--dsn", pg.dsn, "--json", "--sample", "0s")
        assert proc.returncode == 1, proc.stderr
        st = [json.loads(line) for line in proc.stdout.splitlines()]
        live = st[0]["live"]
        [rel] = live["relations"]
        assert rel["relation"] == "live_orders" and rel["mode"] == "AccessExclusiveLock"
        assert rel["rows"] == 3000 and rel["bytes"] > 0
        [b] = rel["blockers"]
        assert (b["pid"], b["state"], b["modes"]) == (pid, "idle in transaction", "AccessShareLock")
        assert f"queues behind pid {pid} (idle in transaction" in live["message"]
        assert live["risk"] == "high"
        assert live["standbys"] == []  # the test servers have none
        assert st[0]["rewrites"] is True  # the catalog says integer: integer -> bigint rewrites
        assert st[1]["live"] is None

        text = _lint(f, "--dsn", pg.dsn, "--sample", "0s")
        assert f"blocker pid {pid} idle in transaction" in text.stdout
        assert "\\x1b[31m" in text.stdout and "\x1b" not in text.stdout
    finally:
        blocker.close()
    with pg.connect() as conn:
        conn.execute("DROP TABLE live_orders")


def test_check_lints_the_pending_migration_and_names_the_blocker(pg: Any, tmp_path: Path) -> None:
    with pg.connect() as conn:
        conn.execute("DROP TABLE IF EXISTS check_orders; CREATE TABLE check_orders (id int PRIMARY KEY, qty int); "
                     "INSERT INTO check_orders SELECT g, g FROM generate_series(1, 500) g; ANALYZE check_orders")
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "V7__qty.sql").write_text("SET lock_timeout = '2s';\nCREATE INDEX ON check_orders (qty);\n")
    cfg = tmp_path / "migtui.yaml"
    cfg.write_text(f'sources:\n  - {{type: postgres, name: db, dsn: "{pg.dsn}"}}\n'
                   f'migration:\n  files: ["migrations/*.sql"]\n')
    blocker = pg.connect()
    try:
        blocker.autocommit = False
        blocker.execute("UPDATE check_orders SET qty = qty WHERE id = 1")  # RowExclusiveLock, idle in transaction
        pid = blocker.info.backend_pid
        proc = subprocess.run([sys.executable, "-m", "migtui", "check", "--config", str(cfg), "--json",
                               "--no-alerts", "--no-actions"], capture_output=True, text=True, timeout=120)
        # the same through `migtui lint --config`: the config's postgres source gives the live evidence
        linted = _lint(tmp_path / "migrations", "--config", cfg, "--json", "--sample", "0s")
    finally:
        blocker.close()
    [_, index] = [json.loads(line) for line in linted.stdout.splitlines()]
    assert [b["pid"] for b in index["live"]["relations"][0]["blockers"]] == [pid]
    items = {i["name"]: i for i in json.loads(proc.stdout)["items"]}
    item = items["Pending migration"]
    assert item["status"] == "fail", item
    assert "index-not-concurrent at migrations/V7__qty.sql:2 (ShareLock on check_orders)" in item["evidence"]
    assert f"queues behind pid {pid} (idle in transaction" in item["evidence"]
    assert proc.returncode == 1
    with pg.connect() as conn:
        conn.execute("DROP TABLE check_orders")


def test_the_migrations_own_session_is_not_its_blocker(pg: Any, tmp_path: Path) -> None:
    """While the migration runs (the panel lints in the migration phase too when asked), a lock its own
    session holds blocks none of its statements: its next statement runs in that session. Another
    session's lock still does."""
    from migtui.config import load_config
    from migtui_postgres.lint.resolve import analyse

    with pg.connect() as conn:
        conn.execute("DROP TABLE IF EXISTS own_orders; CREATE TABLE own_orders (id int PRIMARY KEY, qty int)")
    (tmp_path / "m.sql").write_text("ALTER TABLE own_orders ADD COLUMN note text;\n")
    cfg = tmp_path / "migtui.yaml"
    cfg.write_text(f'sources:\n  - {{type: postgres, name: db, dsn: "{pg.dsn}", '
                   f'migration_application_name: shop-migrate}}\n'
                   f'migration:\n  files: ["m.sql"]\n  application_name: "tenant-mig-*"\n')
    config = load_config(cfg)
    sessions = []
    try:
        for app in ("shop-migrate", "tenant-mig-7", "reporting"):
            s = pg.connect()
            s.autocommit = False
            s.execute("SELECT set_config('application_name', %s, false)", [app])
            s.execute("SELECT count(*) FROM own_orders")  # AccessShareLock, idle in transaction
            sessions.append(s)
        reporting = sessions[2].info.backend_pid
        result = analyse(config, dsn=pg.dsn, sample=0.0)
    finally:
        for s in sessions:
            s.close()
        with pg.connect() as conn:
            conn.execute("DROP TABLE own_orders")
    [st] = result["statements"]
    [rel] = st["live"]["relations"]
    assert [b["pid"] for b in rel["blockers"]] == [reporting]
