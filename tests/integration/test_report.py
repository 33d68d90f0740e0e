"""Reports of a real run (an engine over the pg fixture, with phase switches) in every format."""

from __future__ import annotations

import html
import json
import math
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from migtui.model import Event, Level
from tests.conftest import chromium

SECRET = "s3cr3t-Report-Pw"
@pytest.fixture(scope="module")
def recorded_run(pg: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A short real run: baseline, migration and post phases of ~12 ticks each, plus a check event.
    Recorded once per server (it takes ~9 s); each test gets its own copy of the store."""
    from migtui.config import load_config
    from migtui.engine import Engine
    from migtui.store import Store

    folder = tmp_path_factory.mktemp("report-run")
    store_path = folder / "run.duckdb"
    config_path = folder / "report.yaml"
    config_path.write_text(textwrap.dedent(f"""\
        name: report-test
        interval: 0.2s
        sources:
          - type: postgres
            name: db
            dsn: "{pg.dsn} password={SECRET}"
            include: [activity_summary, database_counters]
            intervals: {{activity_summary: 0.2s, database_counters: 0.2s}}
        migration:
          enabled: false
        """))
    engine = Engine(load_config(config_path), store=Store.open(store_path))

    def ticks(n: int) -> None:
        for _ in range(n):
            engine.tick(wait=30)
            time.sleep(0.22)  # every query is due again (0.2s intervals)

    conn = pg.connect()
    ticks(12)
    engine.set_phase("migration", who="alice", why="start of the window")
    engine.note("ALTER TABLE orders started", who="alice")
    conn.execute("CREATE TABLE IF NOT EXISTS report_t (id int)")
    conn.execute("INSERT INTO report_t SELECT generate_series(1, 1000)")
    ticks(12)
    engine.set_phase("post", who="alice", why="migration done")
    engine.emit(Event("check", "integrity:orders_count", "orders_count: pass (1000 = 1000)", Level.INFO,
                      {"type": "integrity", "check": "orders_count", "result": "pass", "value": 1000,
                       "baseline_value": 1000}))
    ticks(12)
    conn.close()
    engine.close()
    return store_path, engine.run_id


@pytest.fixture
def real_run(recorded_run: tuple[Path, str], tmp_path: Path) -> tuple[Path, str]:
    """This test's own copy of the recorded run's store (tests lock and write it)."""
    source, run_id = recorded_run
    store_path = tmp_path / "run.duckdb"
    shutil.copyfile(source, store_path)
    return store_path, run_id


def test_json_report_matches_the_store(real_run: tuple[Path, str], tmp_path: Path) -> None:
    from migtui.triggers.baseline import compare
    from migtui.report import export_report
    from migtui.store import Store

    store_path, run_id = real_run
    out = export_report(store_path, "latest", "json", tmp_path / "r.json")
    report = json.loads(out.read_text())
    assert SECRET not in out.read_text()

    store = Store.open(store_path, read_only=True)
    try:
        con = store.cursor()
        assert report["run"]["run_id"] == run_id and report["run"]["status"] == "finished"
        for table in ("series", "samples", "snapshots", "events"):
            assert report["counts"][table] == con.execute(f"SELECT count(*) FROM {table} WHERE run_id = ?",
                                                          [run_id]).fetchone()[0]
        stored = [(e.kind, e.subject, e.message, e.phase.value, e.level.value) for e in store.events(run_id)]
        assert [(e["kind"], e["subject"], e["message"], e["phase"], e["level"]) for e in report["events"]] == stored
        # phases from the phase events, with who and why
        assert [p["phase"] for p in report["phases"]] == ["baseline", "migration", "post"]
        assert report["phases"][1]["started_by"] == "alice" and report["phases"][1]["why"] == "start of the window"
        assert all(p["seconds"] > 0 for p in report["phases"])
        # per-phase statistics equal DuckDB's over the store
        s = next(x for x in report["series"] if x["metric"] == "activity_summary.sessions")
        n, mean, mx = con.execute(
            "SELECT count(value), avg(value), max(value) FROM samples_v WHERE run_id = ? AND metric = ? "
            "AND phase = 'post'", [run_id, "activity_summary.sessions"]).fetchone()
        assert s["stats"]["post"]["n"] == n and s["stats"]["post"]["max"] == mx
        assert math.isclose(s["stats"]["post"]["mean"], mean)
        # the statistical verdicts agree with migtui.triggers.baseline.compare
        theirs = {(c.source, c.metric, json.dumps(c.labels, sort_keys=True)): c for c in compare(con, run_id)}
        compared = 0
        for x in report["series"]:
            c = theirs.get((x["source"], x["metric"], json.dumps(x["labels"], sort_keys=True)))
            if c is None:
                continue
            assert x["post_vs_baseline"]["verdict"] == c.verdict, x["metric"]
            if c.p_value is not None:
                assert math.isclose(x["post_vs_baseline"]["p_value"], c.p_value, rel_tol=1e-9, abs_tol=1e-12)
                compared += 1
        assert compared >= 3
    finally:
        store.close()
    items = {i["item"]: i for i in report["checklist"]}
    assert items["Integrity verification"]["status"] == "pass"
    assert items["Health"]["status"] == "pass"
    assert report["checks"][0]["data"]["check"] == "orders_count"


def test_markdown_and_parquet(real_run: tuple[Path, str], tmp_path: Path) -> None:
    import duckdb

    from migtui.report import export_report

    store_path, run_id = real_run
    md = export_report(store_path, run_id, "md", tmp_path / "r.md").read_text()
    for heading in ("## What ran", "## Worst moment", "## Actions", "## Post-migration checklist",
                    "## Health metrics against the baseline"):
        assert heading in md
    assert md.splitlines()[2].startswith(("**OK**", "**DEGRADED**"))  # the outcome comes first
    assert "migration 0m" in md and SECRET not in md

    folder = export_report(store_path, run_id, "parquet", tmp_path / "pq")
    con = duckdb.connect()
    n_pq = con.execute(f"SELECT count(*) FROM read_parquet('{folder}/samples.parquet')").fetchone()[0]
    ev_pq = con.execute(f"SELECT count(*) FROM read_parquet('{folder}/events.parquet')").fetchone()[0]
    con.close()
    src = duckdb.connect(str(store_path), read_only=True)
    try:
        assert n_pq == src.execute("SELECT count(*) FROM samples WHERE run_id = ?", [run_id]).fetchone()[0] > 0
        assert ev_pq == src.execute("SELECT count(*) FROM events WHERE run_id = ?", [run_id]).fetchone()[0]
    finally:
        src.close()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{t}.parquet" for t in ("runs", "series", "samples", "snapshots", "events", "baselines"))


def test_html_report_renders_in_chromium(real_run: tuple[Path, str], tmp_path: Path) -> None:
    from migtui.report import export_report

    store_path, run_id = real_run
    out = export_report(store_path, run_id, "html", tmp_path / "report.html")
    text = out.read_text()
    assert text.count("<svg") >= 2 and "<script" not in text and "http://" not in text.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert "@media print" in text and SECRET not in text
    png = tmp_path / "report.png"
    proc = chromium(tmp_path, out, "--window-size=1200,2400", f"--screenshot={png}")
    assert png.exists(), proc.stderr[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 30_000
    keep = os.environ.get("MIGTUI_KEEP_REPORT_PNG")
    if keep:
        shutil.copy(png, keep)


PROBE = """<script>window.onload = function () {
  var width = document.documentElement.clientWidth, over = [], broken = [];
  document.querySelectorAll("body *").forEach(function (e) {
    if (e.getBoundingClientRect().right > width + 1) over.push(e.tagName + " " + e.textContent.slice(0, 60));
  });
  document.querySelectorAll("th, td").forEach(function (c) {
    var t = c.textContent.trim();
    if (!t || /\\s/.test(t) || t.length > 16) return;
    var r = document.createRange(); r.selectNodeContents(c);
    var tops = {}; Array.prototype.forEach.call(r.getClientRects(), function (x) { tops[Math.round(x.top)] = 1; });
    if (Object.keys(tops).length > 1) broken.push(t);
  });
  document.body.setAttribute("data-probe", JSON.stringify({over: over.slice(0, 5), broken: broken.slice(0, 20)}));
};</script>"""


def test_html_report_tables_keep_short_words_whole_at_800px(real_run: tuple[Path, str], tmp_path: Path) -> None:
    """In a narrow browser window no header or short cell (a pid, a time, "Phase") is broken across
    lines, and nothing sticks out of the page: long identifiers wrap inside their own cells."""
    from migtui.report import export_report

    store_path, run_id = real_run
    out = export_report(store_path, run_id, "html", tmp_path / "report.html")
    probe = tmp_path / "probe.html"
    probe.write_text(out.read_text().replace("</body>", PROBE + "</body>"))
    proc = chromium(tmp_path, probe, "--window-size=800,2400", "--virtual-time-budget=3000", "--dump-dom")
    found = re.search(r'data-probe="([^"]*)"', proc.stdout)
    assert found, proc.stderr[-2000:]
    result = json.loads(html.unescape(found.group(1)))
    assert result == {"over": [], "broken": []}


def test_report_cli_and_locked_store(real_run: tuple[Path, str], tmp_path: Path) -> None:
    from migtui.store import Store

    store_path, run_id = real_run
    out = tmp_path / "cli.md"
    proc = subprocess.run([sys.executable, "-m", "migtui", "report", "--store", str(store_path), "--run", run_id,
                           "--format", "md", "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert out.exists() and "# Migration report: report-test" in out.read_text()

    holder = Store.open(store_path)  # as a running watch would
    try:
        proc = subprocess.run([sys.executable, "-m", "migtui", "report", "--store", str(store_path), "--format",
                               "html", "-o", str(tmp_path / "x.html")], capture_output=True, text=True, timeout=120)
    finally:
        holder.close()
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "holds this store" in lines[0] and "when the watch has ended" in lines[0]
    assert "Traceback" not in proc.stderr


def test_export_from_the_cockpits_own_store_while_running(pg: Any, make_engine: Any, tmp_path: Path) -> None:
    from migtui.report import export_report

    engine = make_engine(textwrap.dedent(f"""\
        name: live
        interval: 0.2s
        sources:
          - {{type: postgres, name: db, dsn: "{pg.dsn}", include: [activity_summary],
              intervals: {{activity_summary: 0.2s}}}}
        migration: {{enabled: false}}
        """))
    for _ in range(3):
        engine.tick(wait=30)
        time.sleep(0.22)
    engine.set_phase("migration", who="carol")
    engine.tick(wait=30)
    out = export_report(engine.store, engine.run_id, "json", tmp_path / "live.json")
    report = json.loads(out.read_text())
    assert report["run"]["status"] == "running" and report["run"]["ended_at"] is None
    assert [p["phase"] for p in report["phases"]] == ["baseline", "migration"]
    engine.tick(wait=30)  # the engine goes on writing after the export
    assert engine.store.last_error is None
