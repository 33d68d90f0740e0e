"""Queries that got slower, end to end on a real server with pg_stat_statements (the embedded one
preloads it), in the run's own database: a hot query loses its index during the migration, a tiny
query gets a tiny bit slower, the migration runs its own statements and creates two indexes (one
used after it, one never), and the report reads all of it from the store alone."""

from __future__ import annotations

import json
import shutil
import textwrap
import time
from pathlib import Path
from typing import Any, Iterator

import duckdb
import psycopg
import pytest

from tests.conftest import scratch_database

TICKS = 12  # per phase, 0.2 s apart
HOT = 'SELECT v AS "<i>\x1b[31m" FROM hot WHERE k = %s'  # a hostile alias: the text must come out escaped


@pytest.fixture(scope="module")
def scratch_dsn(pg: Any) -> Iterator[str]:
    with scratch_database(pg) as dsn:
        yield dsn


@pytest.fixture(scope="module")
def statements_loaded(scratch_dsn: str) -> bool:
    with psycopg.connect(scratch_dsn, autocommit=True) as conn:
        return bool(conn.execute("SELECT count(*) FROM pg_settings WHERE name = 'shared_preload_libraries' "
                                 "AND setting LIKE '%pg_stat_statements%'").fetchone()[0])


@pytest.fixture
def with_statements(statements_loaded: bool) -> None:
    if not statements_loaded:  # the system PG 15 of this machine; the embedded server preloads it
        pytest.skip("pg_stat_statements is not preloaded on this server")


@pytest.fixture(scope="module")
def run(scratch_dsn: str, statements_loaded: bool, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    from migtui.config import load_config
    from migtui.engine import Engine
    from migtui.store import Store

    folder = tmp_path_factory.mktemp("statements")
    config_path = folder / "statements.yaml"
    config_path.write_text(textwrap.dedent(f"""\
        name: statements-test
        interval: 0.2s
        sources:
          - type: postgres
            name: db
            dsn: "{scratch_dsn}"
            include: [activity_summary, statements_top, statements_text, index_inventory]
            intervals: {{statements_top: 0.2s, statements_text: 1s, index_inventory: 1s}}
            params: {{limit: 100}}
        migration:
          application_name: "mig-*"
          interval: 0.5s
        report:
          unused_index_after: 0s
        """))
    conn = psycopg.connect(scratch_dsn, autocommit=True)
    if statements_loaded:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    conn.execute("CREATE TABLE hot (k int, v text); CREATE TABLE other (id int, tag text)")
    conn.execute("INSERT INTO hot SELECT i, md5(i::text) FROM generate_series(1, 50000) i")
    conn.execute("INSERT INTO other SELECT i, 't' || i FROM generate_series(1, 20000) i")
    conn.execute("CREATE INDEX hot_k ON hot (k); ANALYZE hot; ANALYZE other")
    if statements_loaded:
        conn.execute("SELECT pg_stat_statements_reset()")
    engine = Engine(load_config(config_path), store=Store.open(folder / "run.duckdb"))
    # the migration tool's own session, connected from the baseline on: what it runs is the migration's
    tool = psycopg.connect(scratch_dsn, autocommit=True, application_name="mig-tool")

    def ticks(phase: str) -> None:
        for i in range(TICKS):
            for k in range(20):
                conn.execute(HOT, [i * 20 + k])
                # a tiny statement: far more than 10% slower after, but by microseconds
                conn.execute("SELECT count(*) FROM generate_series(1, %s)", [1 if phase == "baseline" else 40])
            # the tool checks a range (served by hot_k until it is dropped): slower after, but not the application's
            tool.execute("SELECT count(*) FROM hot WHERE k < %s AND v <> %s", [5, ""])
            if phase == "migration":  # the migration's own statement
                conn.execute("SELECT count(*) FROM other WHERE id BETWEEN %s AND %s", [i * 100, i * 100 + 99])
            if phase == "post":  # served by the index the migration created
                conn.execute("SELECT id FROM other WHERE tag = %s", [f"t{i}"])
                # a utility statement keeps its literal in pg_stat_statements: it must not reach the store
                conn.execute("COMMENT ON TABLE other IS 'hunter2-literal'")
            engine.tick(wait=30)
            time.sleep(0.2)

    try:
        ticks("baseline")
        engine.set_phase("migration", who="alice", why="window opens")
        conn.execute("DROP INDEX hot_k")
        conn.execute("CREATE INDEX other_tag ON other (tag); CREATE INDEX hot_v ON hot (v)")
        ticks("migration")
        engine.set_phase("post", who="alice", why="migration done")
        ticks("post")
        time.sleep(1.1)  # the last post read of the text and the index list
        engine.tick(wait=30)
    finally:
        engine.close()
        conn.close()
        tool.close()
    return folder / "run.duckdb", engine.run_id


@pytest.fixture
def report(run: tuple[Path, str], tmp_path: Path) -> dict[str, Any]:
    from migtui.report import export_report

    store = tmp_path / "run.duckdb"
    shutil.copyfile(run[0], store)
    return json.loads(export_report(store, "latest", "json", tmp_path / "r.json").read_text())


def _queryid(dsn: str, like: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute("SELECT queryid FROM pg_stat_statements WHERE query LIKE %s "
                            "AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
                            [like]).fetchone()[0]


@pytest.mark.usefixtures("with_statements")
def test_the_hot_query_that_lost_its_index_is_first_with_its_normalized_text(scratch_dsn: str, report: dict[str, Any],
                                                                             run: tuple[Path, str], tmp_path: Path) -> None:
    st = report["statements"]
    assert st["available"], st["why"]
    first = st["slower"][0]
    assert first["queryid"] == _queryid(scratch_dsn, "SELECT v AS %FROM hot WHERE k = $1")
    assert first["text"] == 'SELECT v AS "<i>\x1b[31m" FROM hot WHERE k = $1'  # normalized, kept in the store
    assert first["mean_after_ms"] > 2 * first["mean_before_ms"] and first["calls_before"] >= 10
    from migtui.report import export_report

    store = tmp_path / "run.duckdb"
    shutil.copyfile(run[0], store)
    html = export_report(store, "latest", "html", tmp_path / "r.html").read_text()
    section = html[html.index("<h2>Queries that got slower</h2>"):html.index("<h2>Phases</h2>")]
    assert ('<code class="sql">SELECT v AS &quot;&lt;i&gt;\\x1b[31m&quot; FROM hot WHERE k = $1</code>'
            in section)
    assert "\x1b" not in html and "<i>" not in html
    md = export_report(store, "latest", "md", tmp_path / "r.md").read_text()
    assert "\x1b" not in md and "WHERE k = $1" in md
    # the literal a user typed is masked before the store, so no output has it either
    assert "COMMENT ON TABLE other IS '***'" in [e["text"] for e in st["new_after"]]
    con = duckdb.connect(str(run[0]), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM snapshots WHERE rows LIKE '%COMMENT ON TABLE other%'").fetchone()[0]
        assert con.execute("SELECT count(*) FROM snapshots WHERE rows LIKE '%hunter2%'").fetchone()[0] == 0
    finally:
        con.close()
    assert "hunter2" not in html + md


@pytest.mark.usefixtures("with_statements")
def test_migtui_and_the_migration_are_kept_apart_from_the_application(scratch_dsn: str, report: dict[str, Any],
                                                                     run: tuple[Path, str]) -> None:
    st = report["statements"]
    own = st["migtui"]
    assert own["statements"] >= 3 and own["calls"] > 0 and own["total_ms"] > 0  # its cost, measured
    assert 0 < own["share"] < 1  # and put in proportion: the hot query took far more
    con = duckdb.connect(str(run[0]), read_only=True)
    try:  # migtui's statements were in the top list until a read of the text told them apart
        def snaps(name: str) -> list[tuple[float, list[dict[str, Any]]]]:
            return [(ts, [dict(zip(json.loads(cols), r)) for r in json.loads(rows)]) for ts, cols, rows in con.execute(
                "SELECT epoch(ts), columns, rows FROM snapshots WHERE name = ? ORDER BY ts", [name]).fetchall()]
        top, text = snaps("statements_top"), snaps("statements_text")
    finally:
        con.close()
    told = {}  # queryid -> when a read of the text first said it is migtui's
    for ts, rows in text:
        for r in rows:
            if r["migtui"]:
                told.setdefault(r["queryid"], ts)
    assert set(told) == set(own["ids"]) and {r["queryid"] for r in top[0][1]} & set(told)
    assert not [(q, ts) for ts, rows in top for r in rows if (q := r["queryid"]) in told and ts > told[q]]
    listed = {e["queryid"] for group in ("slower", "new_after", "migration") for e in st[group]}
    assert not listed & set(own["ids"])
    assert all("/* migtui */" not in (e["text"] or "") for group in ("slower", "new_after", "migration")
               for e in st[group])
    checks = _queryid(scratch_dsn, "SELECT count(*) FROM hot WHERE k < $1 AND v <> $2")
    assert checks in {e["queryid"] for e in st["migration"]}  # ran since the baseline, by the migration's session
    assert checks not in {e["queryid"] for e in st["slower"]}
    backfill = _queryid(scratch_dsn, "SELECT count(*) FROM other WHERE id BETWEEN $1 AND $2")
    assert backfill in {e["queryid"] for e in st["migration"]}
    assert backfill not in {e["queryid"] for e in st["slower"] + st["new_after"]}
    new = _queryid(scratch_dsn, "SELECT id FROM other WHERE tag = $1")
    assert new in {e["queryid"] for e in st["new_after"]}


@pytest.mark.usefixtures("with_statements")
def test_a_tiny_change_is_not_slower(scratch_dsn: str, report: dict[str, Any], run: tuple[Path, str]) -> None:
    from migtui.report.statements import slower_queries

    tiny = _queryid(scratch_dsn, "SELECT count(*) FROM generate_series(%")
    assert tiny not in {e["queryid"] for e in report["statements"]["slower"]}
    con = duckdb.connect(str(run[0]), read_only=True)
    try:  # it did get more than 10% slower: only the absolute minimum keeps it out
        run_id = run[1]
        loose = slower_queries(con, run_id, {"report": {"slower_min_ms": 0}})
    finally:
        con.close()
    entry = next(e for e in loose["slower"] if e["queryid"] == tiny)
    assert entry["change_ms"] < 0.1 and entry["mean_after_ms"] > 1.1 * entry["mean_before_ms"]


def test_new_indexes_with_their_scans_and_the_unused_one_flagged(report: dict[str, Any], tmp_path: Path,
                                                                 run: tuple[Path, str]) -> None:
    ix = report["indexes"]
    assert ix["available"], ix["why"]
    new = {e["index"]: e for e in ix["new"]}
    assert set(new) == {"other_tag", "hot_v"}
    assert new["other_tag"]["scans"] > 0 and not new["other_tag"]["unused"]
    assert new["hot_v"]["scans"] == 0 and new["hot_v"]["unused"] and new["hot_v"]["bytes"] > 0
    assert [e["index"] for e in ix["dropped"]] == ["hot_k"]
    item = next(i for i in report["checklist"] if i["item"] == "Queries vs baseline")  # the first screen says so
    assert item["status"] == "warn" and "new index hot_v UNUSED: no scan in" in item["evidence"]
    if report["statements"]["available"]:
        assert item["evidence"].startswith('1 application statement(s) slower: SELECT v AS "<i>\x1b[31m" FROM hot')
    from migtui.report import export_report

    store = tmp_path / "run.duckdb"
    shutil.copyfile(run[0], store)
    html = export_report(store, "latest", "html", tmp_path / "r.html").read_text()
    section = html[html.index("<h2>New and dropped indexes</h2>"):html.index("<h2>Phases</h2>")]
    assert "<code>hot_v</code>" in section and "UNUSED: no scan in" in section and "<code>hot_k</code>" in section
