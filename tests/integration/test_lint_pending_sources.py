"""The pending migration without `migration.files`: from `migration.command` (a tool migtui knows) or
from a tool detected on the server by its history table; Sqitch's plan against `sqitch.changes`; Rails
pending versions by name and what `db/structure.sql` creates that the server lacks. The check item,
the cockpit panel's source and `migtui lint --config` all resolve it the same way; what cannot be had
is one line, never a crash. Each test has a scratch database of its own (history tables)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest


def _config(folder: Path, dsn: str, migration: str) -> Path:
    cfg = folder / "migtui.yaml"
    cfg.write_text(f"name: t\nsources:\n  - {{type: postgres, name: db, dsn: '{dsn}'}}\nmigration:\n"
                   + textwrap.indent(textwrap.dedent(migration), "  "))
    return cfg


def _check(cfg: Path) -> Any:
    from migtui.config import load_config
    from migtui_postgres.lint.check import pending_migration

    items = pending_migration(load_config(cfg))
    return items[0] if items else None


SQITCH_REGISTRY = """
CREATE SCHEMA sqitch;
CREATE TABLE sqitch.projects (project text PRIMARY KEY, uri text NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(), creator_name text NOT NULL, creator_email text NOT NULL);
CREATE TABLE sqitch.changes (change_id text PRIMARY KEY, script_hash text NULL, change text NOT NULL,
  project text NOT NULL REFERENCES sqitch.projects(project) ON UPDATE CASCADE, note text NOT NULL DEFAULT '',
  committed_at timestamptz NOT NULL DEFAULT clock_timestamp(), committer_name text NOT NULL,
  committer_email text NOT NULL, planned_at timestamptz NOT NULL, planner_name text NOT NULL,
  planner_email text NOT NULL, UNIQUE(project, script_hash));
INSERT INTO sqitch.projects (project, creator_name, creator_email) VALUES ('shop', 'Ann', 'ann@example.com'),
  ('other', 'Bob', 'bob@example.com');
INSERT INTO sqitch.changes (change_id, change, project, committer_name, committer_email, planned_at, planner_name,
  planner_email) VALUES ('c1', 'orders', 'shop', 'Ann', 'ann@example.com', now(), 'Ann', 'ann@example.com'),
  ('c9', 'orders_qty', 'other', 'Bob', 'bob@example.com', now(), 'Bob', 'bob@example.com');
"""


def _sqitch_project(folder: Path) -> None:
    """A project as `sqitch init shop` + `sqitch add` lay it out: sqitch.conf, sqitch.plan, deploy/ revert/ verify/."""
    for d in ("deploy", "revert", "verify"):
        (folder / d).mkdir(parents=True, exist_ok=True)
    (folder / "sqitch.conf").write_text("[core]\n\tengine = pg\n")
    (folder / "sqitch.plan").write_text(textwrap.dedent("""\
        %syntax-version=1.0.0
        %project=shop
        %uri=https://example.com/shop/

        orders 2024-01-01T10:00:00Z Ann <ann@example.com> # the orders table
        orders_qty [orders] 2024-01-02T10:00:00Z Ann <ann@example.com> # qty not null
        @v1.0 2024-01-02T11:00:00Z Ann <ann@example.com> # a tag
        orders_qty_idx [orders_qty] 2024-01-03T10:00:00Z Ann <ann@example.com> # index
        """))
    (folder / "deploy" / "orders.sql").write_text(
        "-- Deploy shop:orders to pg\n\nBEGIN;\nCREATE TABLE orders (id int PRIMARY KEY, qty int);\nCOMMIT;\n")
    (folder / "deploy" / "orders_qty.sql").write_text(
        "-- Deploy shop:orders_qty to pg\n-- requires: orders\n\nBEGIN;\n"
        "ALTER TABLE orders ALTER COLUMN qty SET NOT NULL;\nCOMMIT;\n")
    (folder / "deploy" / "orders_qty_idx.sql").write_text(
        "-- Deploy shop:orders_qty_idx to pg\n\nCREATE INDEX orders_qty_idx ON orders (qty);\n")
    for name in ("orders", "orders_qty", "orders_qty_idx"):
        (folder / "revert" / f"{name}.sql").write_text("BEGIN;\nDROP TABLE orders;\nCOMMIT;\n")
        (folder / "verify" / f"{name}.sql").write_text("SELECT 1/count(*) FROM orders;\n")


def test_sqitch_command_lints_only_the_changes_not_in_sqitch_changes(db: Any, tmp_path: Path) -> None:
    with db.connect() as conn:
        conn.execute(SQITCH_REGISTRY + "CREATE TABLE orders (id int PRIMARY KEY, qty int)")
    _sqitch_project(tmp_path)
    item = _check(_config(tmp_path, db.dsn, "command: sqitch deploy\n"))
    assert item is not None and item.status == "fail", item
    assert item.evidence.startswith("migration.command (sqitch): 4 statements: 2 errors, 2 warnings"), item.evidence
    files = {(Path(s["file"]).name, s["line"]) for s in item.data["statements"] if s["locks"]}
    # orders is deployed for project shop; orders_qty only for another project: still pending here
    assert files == {("orders_qty.sql", 5), ("orders_qty_idx.sql", 3)}
    assert not any("revert" in s["file"] or "verify" in s["file"] for s in item.data["statements"])
    assert "1 file(s) already applied (sqitch.changes), not linted: orders.sql" in item.evidence
    assert "set-not-null at deploy/orders_qty.sql:5 (AccessExclusiveLock on orders)" in item.evidence

    # `migtui lint DIR` on the same project, connected: the same changes, by the same history
    proc = subprocess.run([sys.executable, "-m", "migtui", "lint", str(tmp_path), "--json", "--dsn", db.dsn,
                           "--sample", "0s"], capture_output=True, text=True, timeout=120)
    linted = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(Path(s["file"]).name, s["sql"]) for s in linted if s["locks"]] == [
        ("orders_qty.sql", "ALTER TABLE orders ALTER COLUMN qty SET NOT NULL"),
        ("orders_qty_idx.sql", "CREATE INDEX orders_qty_idx ON orders (qty)")]


def test_a_tool_detected_on_the_server_is_linted_from_its_conventional_layout(db: Any, tmp_path: Path) -> None:
    from migtui.api import CollectContext, Phase
    from migtui.config import load_config
    from migtui_postgres.lint.panel import COLUMNS, PendingCollector

    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "V1__items.sql").write_text("CREATE TABLE items (id int PRIMARY KEY, sku text);\n")
    cfg = _config(tmp_path, db.dsn, "lint_sample: 0s\n")
    # a Flyway layout, but no Flyway on the server yet: no check item, and the panel says so in a note
    assert _check(cfg) is None
    collector = PendingCollector(load_config(cfg), db.dsn, interval=1, phases=["baseline"], sample=0)
    [snap] = collector.collect(CollectContext(now=1.0, phase=Phase.BASELINE, run="r", tick=1))
    collector.close()
    [row] = [dict(zip(COLUMNS, r)) for r in snap.rows]
    assert row["statement"] == "note" and row["risk"] == "-"
    assert row["findings"].startswith("no pending migration known: no migration tool's history table")

    with db.connect() as conn:
        conn.execute("CREATE TABLE flyway_schema_history (version text, success bool);"
                     "INSERT INTO flyway_schema_history VALUES ('1', true);"
                     "CREATE TABLE items (id int PRIMARY KEY, sku text)")
    (tmp_path / "sql" / "V2__sku.sql").write_text("SET lock_timeout = '2s';\nCREATE INDEX ON items (sku);\n")
    item = _check(cfg)
    assert item is not None and item.evidence.startswith("flyway detected on the server: 2 statements: 1 errors"), item.evidence
    [st] = [s for s in item.data["statements"] if s["locks"]]
    assert Path(st["file"]).name == "V2__sku.sql" and st["line"] == 2
    assert [f["rule"] for f in st["findings"]] == ["index-not-concurrent"]

    # the same through `migtui lint --config FILE` (no files given)
    proc = subprocess.run([sys.executable, "-m", "migtui", "lint", "--config", str(cfg), "--json", "--sample", "0s"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert [json.loads(line)["sql"] for line in proc.stdout.splitlines()] == [
        "SET lock_timeout = '2s'", "CREATE INDEX ON items (sku)"]
    assert "pending migration from flyway detected on the server" in proc.stderr

    # detected, but the project is elsewhere: one line saying where to point migtui
    (tmp_path / "sql" / "V1__items.sql").unlink()
    (tmp_path / "sql" / "V2__sku.sql").unlink()
    (tmp_path / "sql").rmdir()
    item = _check(cfg)
    assert item.status == "fail" and "flyway detected on the server, but no project of it under" in item.evidence
    assert "set migration.project" in item.evidence


def test_alembic_command_lints_the_pending_revisions_and_a_tool_that_cannot_run_is_one_line(
        db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("alembic")
    from tests.integration.test_lint_tools import _project

    project = _project(tmp_path / "alembic")
    monkeypatch.setenv("LINT_TARGET", db.dsn)
    subprocess.run([sys.executable, "-m", "alembic", "-c", str(project / "alembic.ini"), "upgrade", "a1"],
                   check=True, capture_output=True, timeout=120)
    cfg = _config(tmp_path, db.dsn, f"command: [{sys.executable}, -m, alembic, -c, alembic/alembic.ini, upgrade, head]\n")
    item = _check(cfg)
    assert item.evidence.startswith("migration.command (alembic):"), item.evidence
    named = {s["file"] for s in item.data["statements"] if s["locks"]}
    assert named == {"alembic:b2"}
    assert "index-not-concurrent at alembic:b2:3" in item.evidence

    # the command's own alembic cannot be found: the item says so in one line, nothing raises
    cfg = _config(tmp_path, db.dsn, "command: ./no-such-venv/bin/alembic -c alembic/alembic.ini upgrade head\n")
    item = _check(cfg)
    assert item.status == "fail" and "\n" not in item.evidence
    assert "./no-such-venv/bin/alembic: command not found" in item.evidence


def test_django_sqlmigrate_failing_is_one_line(db: Any, tmp_path: Path) -> None:
    (tmp_path / "manage.py").write_text("import sys\nif 'showmigrations' in sys.argv:\n"
                                        "    print('[ ] shop.0001_initial')\nelse:\n"
                                        "    sys.exit('CommandError: Cannot find a migration matching')\n")
    item = _check(_config(tmp_path, db.dsn, f"command: [{sys.executable}, manage.py, migrate]\n"))
    assert item.status == "fail" and "\n" not in item.evidence
    assert "manage.py sqlmigrate shop 0001_initial failed: CommandError: Cannot find a migration matching" \
        in item.evidence


def test_rails_pending_versions_by_name_and_the_structure_dump_statements_the_server_lacks(
        db: Any, tmp_path: Path) -> None:
    with db.connect() as conn:
        conn.execute("CREATE TABLE schema_migrations (version character varying PRIMARY KEY);"
                     "INSERT INTO schema_migrations VALUES ('20240101000000');"
                     "CREATE TABLE orders (id bigint PRIMARY KEY, qty integer);"
                     "INSERT INTO orders SELECT g, g FROM generate_series(1, 500) g")
    (tmp_path / "db" / "migrate").mkdir(parents=True)
    (tmp_path / "db" / "migrate" / "20240101000000_create_orders.rb").write_text("class CreateOrders; end\n")
    (tmp_path / "db" / "migrate" / "20240202000000_add_qty_index.rb").write_text("class AddQtyIndex; end\n")
    (tmp_path / "db" / "structure.sql").write_text(textwrap.dedent("""\
        SET statement_timeout = 0;
        CREATE TABLE public.orders (
            id bigint NOT NULL,
            qty integer
        );
        CREATE TABLE public.schema_migrations (version character varying NOT NULL);
        ALTER TABLE ONLY public.orders
            ADD CONSTRAINT orders_pkey PRIMARY KEY (id);
        CREATE INDEX index_orders_on_qty ON public.orders USING btree (qty);
        ALTER TABLE ONLY public.orders
            ADD CONSTRAINT orders_qty_positive CHECK (qty > 0);
        INSERT INTO "schema_migrations" (version) VALUES
        ('20240101000000'),
        ('20240202000000');
        """))
    proc = subprocess.run([sys.executable, "-m", "migtui", "lint", "--rails", str(tmp_path), "--dsn", db.dsn,
                           "--json", "--sample", "0s"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    linted = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(s["line"], s["sql"].split(" ON ")[0].split("\n")[0]) for s in linted] == [
        (9, "CREATE INDEX index_orders_on_qty"), (10, "ALTER TABLE ONLY public.orders")]
    assert {f["rule"] for s in linted for f in s["findings"]} >= {"index-not-concurrent", "check-not-valid"}
    assert "1 Rails migration(s) pending on the server: 20240202000000_add_qty_index.rb" in proc.stderr
    assert "their SQL needs Rails" in proc.stderr


def _migtui_sessions(db: Any) -> list[int]:
    with db.connect() as conn:
        return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND "
                                           "application_name = 'migtui' ORDER BY pid", [db.dbname]).fetchall()]


def test_the_panel_keeps_one_connection_across_polls_and_connects_again_when_it_breaks(db: Any,
                                                                                      tmp_path: Path) -> None:
    from migtui.api import CollectContext, Phase
    from migtui.config import load_config
    from migtui_postgres.lint.panel import COLUMNS, PendingCollector

    with db.connect() as conn:
        conn.execute("CREATE TABLE kept (id int PRIMARY KEY, n int)")
    (tmp_path / "m.sql").write_text("ALTER TABLE kept ALTER COLUMN n SET NOT NULL;\n")
    config = load_config(_config(tmp_path, db.dsn, "files: [m.sql]\n"))
    collector = PendingCollector(config, db.dsn, interval=1, phases=["baseline"], sample=0)

    def poll(tick: int) -> dict[str, Any]:
        [snap] = collector.collect(CollectContext(now=float(tick), phase=Phase.BASELINE, run="r", tick=tick))
        return dict(zip(COLUMNS, snap.rows[0]))

    assert poll(1)["locks"] == "AccessExclusive kept"
    [pid] = _migtui_sessions(db)  # open between polls, not one per analysis
    assert poll(2)["statement"] == "m.sql:1" and poll(3)["findings"] == "set-not-null missing-lock-timeout"
    assert _migtui_sessions(db) == [pid]
    with psycopg_connect(db.admin_dsn) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    rows = [poll(4), poll(5)]  # the poll that finds it broken says so; the next one has a new connection
    assert rows[1]["locks"] == "AccessExclusive kept" and rows[1]["risk"] in ("low", "medium", "high")
    [new] = _migtui_sessions(db)
    assert new != pid
    collector.close()
    assert _migtui_sessions(db) == []


def psycopg_connect(dsn: str) -> Any:
    import psycopg

    return psycopg.connect(dsn, autocommit=True)


def test_alembic_detected_on_the_server_but_not_importable_is_one_line(db: Any, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    with db.connect() as conn:
        conn.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
    (tmp_path / "alembic.ini").write_text(f"[alembic]\nscript_location = {tmp_path}\n")
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "alembic" else find_spec(name, *a))
    item = _check(_config(tmp_path, db.dsn, "lint_sample: 0s\n"))
    assert item.status == "fail" and "\n" not in item.evidence
    assert item.evidence.startswith("alembic detected on the server: alembic is not importable by migtui's Python")
    assert "set migration.command (the tool's own command) or migration.files" in item.evidence


def test_a_tool_error_line_never_carries_a_password(db: Any, tmp_path: Path) -> None:
    (tmp_path / "manage.py").write_text(
        "import sys\nif 'showmigrations' in sys.argv:\n    print('[ ] shop.0001_initial')\nelse:\n"
        "    sys.exit('could not connect to postgresql://app:s3cret-pw@db.internal:5432/shop')\n")
    item = _check(_config(tmp_path, db.dsn, f"command: [{sys.executable}, manage.py, migrate]\n"))
    assert item.status == "fail" and "could not connect to postgresql://app:" in item.evidence
    assert "s3cret-pw" not in item.evidence


def test_django_detected_on_the_server_lints_the_unapplied_migrations_in_the_panel(
        db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No files, no command: django_migrations on the server and manage.py in migration.project; the
    panel's source asks the project (showmigrations, sqlmigrate) and lints only 0002."""
    pytest.importorskip("django")
    from migtui.api import CollectContext, Phase
    from migtui.config import load_config
    from migtui_postgres.lint.panel import COLUMNS, PendingCollector
    from tests.integration.test_lint_tools import django_project

    project = django_project(tmp_path / "app")
    monkeypatch.setenv("LINT_TARGET", db.dsn)
    subprocess.run([sys.executable, "manage.py", "migrate", "shop", "0001"], cwd=project, check=True,
                   capture_output=True, timeout=120)
    config = load_config(_config(tmp_path, db.dsn, "project: app\n"))
    collector = PendingCollector(config, db.dsn, interval=1, phases=["baseline"], sample=0)
    try:
        [snap] = collector.collect(CollectContext(now=1.0, phase=Phase.BASELINE, run="r", tick=1))
    finally:
        collector.close()
    rows = [dict(zip(COLUMNS, r)) for r in snap.rows]
    assert {r["statement"].rsplit(":", 1)[0] for r in rows} == {"django:shop.0002_note"}, rows
    assert any("index-not-concurrent" in r["findings"] for r in rows)
    assert collector.latest["origin"] == "django detected on the server"
