"""The cockpit's panel "Pending migration" (``migration.files``): during the baseline it lists each
statement with its locks, findings and risk, and names the session idle in a transaction on the table
as the blocker the ALTER would queue behind (its state and age; hostile text escaped). The analysis
runs as a source (off the UI loop) and reaches the cockpit through the frame; each change is an event
``lint`` in the store, which the report lists."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from migtui.tui.app import MigtuiApp
from tests.tui.conftest import rendered, wait_for

TABLE = "panel_orders"


def _config(tmp_path: Path, dsn: str) -> Path:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "V9__total.sql").write_text(
        f"SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY ON {TABLE} (qty);\nRESET lock_timeout;\n"
        f"ALTER TABLE {TABLE} ALTER COLUMN qty SET DEFAULT 0;\n")
    cfg = tmp_path / "migtui.yaml"
    cfg.write_text(textwrap.dedent(f"""\
        name: panel-test
        interval: 500ms
        sources:
          - type: postgres
            name: db
            dsn: "{dsn}"
        migration:
          files: ["migrations/*.sql"]
          lint_interval: 1s
          lint_sample: 0s
        """))
    return cfg


async def test_panel_names_the_session_idle_in_transaction_as_the_blocker(db: Any, make_engine: Any,
                                                                          tmp_path: Path) -> None:
    with db.connect() as conn:
        conn.execute(f"CREATE TABLE {TABLE} (id int PRIMARY KEY, qty int); "
                     f"INSERT INTO {TABLE} SELECT g, g FROM generate_series(1, 2000) g; ANALYZE {TABLE}")
    store = tmp_path / "run.duckdb"
    engine = make_engine(_config(tmp_path, db.dsn), store_path=store)
    blocker = db.connect()
    try:
        app = MigtuiApp(engine)
        async with app.run_test(size=(240, 60)) as pilot:
            panel = app.kind_panels["schema"]
            index = next(i for i, s in enumerate(panel.specs) if s.title == "Pending migration")
            table = panel.query_one(f"#table-{index}-pending_migration")
            await wait_for(pilot, lambda: "V9__total.sql:4" in rendered(table), what="the ALTER in the panel",
                           timeout=20)
            text = rendered(table)
            alter = next(ln for ln in text.splitlines() if "V9__total.sql:4" in ln)
            assert "missing-lock-timeout" in alter and "AccessExclusive panel_orders" in alter
            assert "none" in alter, text  # no blocker yet
            assert "missing-lock-timeout" not in next(ln for ln in text.splitlines() if "V9__total.sql:2" in ln)

            blocker.autocommit = False
            blocker.execute(f"SELECT count(*) FROM {TABLE} /* report \x1b[31m */")
            pid = blocker.info.backend_pid  # idle in transaction, holding AccessShareLock
            await wait_for(pilot, lambda: f"pid {pid} idle-in-tx" in rendered(table),
                           what="the blocker in the panel")
            alter = next(ln for ln in rendered(table).splitlines() if "V9__total.sql:4" in ln)
            assert f"pid {pid} idle-in-tx" in alter and "high" in alter
            await wait_for(pilot, lambda: any(ev.kind == "lint" and f"pid {pid}" in ev.message
                                              for ev in engine.frame.events), what="the lint event")
    finally:
        blocker.close()
    engine.close()
    out = tmp_path / "report.json"
    proc = subprocess.run([sys.executable, "-m", "migtui", "report", "--store", str(store), "--format", "json",
                           "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lint = json.loads(out.read_text())["lint"]
    assert lint["origin"] == "migration.files"
    alter = next(s for s in lint["statements"] if s["line"] == 4)
    assert [f["rule"] for f in alter["findings"]] == ["missing-lock-timeout"]
    # The blocker left before the run ended, so the last analysis may no longer list it; the report
    # keeps every session an analysis saw the ALTER queue behind.
    assert [(b["line"], b["pid"]) for b in lint["blockers_seen"]] == [(4, pid)]
    md = tmp_path / "report.md"
    proc = subprocess.run([sys.executable, "-m", "migtui", "report", "--store", str(store), "--format", "md",
                           "-o", str(md)], capture_output=True, text=True, timeout=120)
    text = md.read_text()
    assert "## Pending migration (lint findings)" in text and f"| {pid} | idle in transaction |" in text
    assert "phase), from migration.files." in text
    assert "\\x1b" in text and "\x1b" not in text  # the blocker's query, escaped


async def test_panel_reads_at_80_columns(db: Any, make_engine: Any, tmp_path: Path) -> None:
    """At 80x24 the panel keeps the columns that fit whole (statement, risk, blockers, findings) and
    wraps a long cell instead of cutting it: no cell ends in "…"."""
    with db.connect() as conn:
        conn.execute(f"CREATE TABLE {TABLE} (id int PRIMARY KEY, qty int)")
    engine = make_engine(_config(tmp_path, db.dsn), store_path=tmp_path / "run.duckdb")
    blocker = db.connect()
    try:
        app = MigtuiApp(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            panel = app.kind_panels["schema"]
            index = next(i for i, s in enumerate(panel.specs) if s.title == "Pending migration")
            table = panel.query_one(f"#table-{index}-pending_migration")
            blocker.autocommit = False
            blocker.execute(f"SELECT count(*) FROM {TABLE}")
            pid = blocker.info.backend_pid
            await wait_for(pilot, lambda: f"pid {pid}" in rendered(table), what="the blocker in the panel",
                           timeout=20)
            text = rendered(table)
            assert max(len(line.rstrip()) for line in text.splitlines()) <= 80, text
            assert "…" not in text, text
            head = text.splitlines()[0].split()
            assert head == ["statement", "risk", "blockers", "findings"], text
            alter = next(ln for ln in text.splitlines() if "V9__total.sql:4" in ln)
            assert "missing-lock-timeout" in alter and f"pid {pid} idle-in-tx" in alter, text
    finally:
        blocker.close()
    engine.close()
