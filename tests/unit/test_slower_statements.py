"""The slower statements from statements_top snapshots written to a real store: the windows when a
statement drops out of the top list for a while, and the thresholds from the config."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from migtui.model import Phase, TableSnapshot
from migtui.report.statements import slower_queries
from migtui.store import Store

COLS = ["queryid", "username", "calls", "total_exec_ms"]


def _store(tmp_path: Path, snaps: list[tuple[Phase, dict[int, tuple[int, float]]]]) -> tuple[Store, str]:
    store = Store.open(tmp_path / "s.duckdb")
    run = store.create_run("t", {})
    t0 = time.time()
    for i, (phase, rows) in enumerate(snaps):
        store.add_snapshot(run, phase, TableSnapshot(t0 + i, "db", "statements_top", COLS,
                                                     [(q, "app", c, t) for q, (c, t) in rows.items()]))
    store.flush()
    return store, run


def _ids(report: dict[str, Any], group: str = "slower") -> list[int]:
    return [e["queryid"] for e in report[group]]


def test_a_statement_out_of_the_top_list_for_a_while_is_measured_from_its_last_row(tmp_path: Path) -> None:
    # 7: 1 ms per call in the baseline, then it leaves the top list, comes back in post at 3 ms per call
    store, run = _store(tmp_path, [
        (Phase.BASELINE, {7: (100, 100.0), 8: (100, 50.0)}),
        (Phase.BASELINE, {7: (200, 200.0), 8: (200, 100.0)}),
        (Phase.BASELINE, {8: (300, 150.0)}),
        (Phase.MIGRATION, {8: (400, 200.0)}),
        (Phase.POST, {7: (300, 500.0), 8: (500, 250.0)}),
    ])
    try:
        report = slower_queries(store.con, run)
    finally:
        store.close()
    assert _ids(report) == [7]
    hot = report["slower"][0]
    assert (hot["calls_before"], hot["mean_before_ms"]) == (100, 1.0)
    assert (hot["calls_after"], hot["mean_after_ms"]) == (100, 3.0)  # since its last row before post


def test_the_post_window_starts_at_post_so_the_migration_s_slowness_is_not_mixed_in(tmp_path: Path) -> None:
    # 9: 1 ms per call; 10 calls at 10 ms at the end of the migration, before post's first read; 1 ms after
    store, run = _store(tmp_path, [
        (Phase.BASELINE, {9: (100, 100.0)}),
        (Phase.BASELINE, {9: (200, 200.0)}),
        (Phase.MIGRATION, {9: (300, 300.0)}),
        (Phase.POST, {9: (310, 400.0)}),  # statements_top at the start of post
        (Phase.POST, {9: (410, 500.0)}),
    ])
    try:
        report = slower_queries(store.con, run, {"report": {"slower_min_calls": 1}})
    finally:
        store.close()
    assert _ids(report) == []


def test_the_thresholds_come_from_the_report_section(tmp_path: Path) -> None:
    # 1: +0.05 ms per call (+50%); 2: +1 ms (+20%) on 12 calls; 3: +1 ms (+20%) on 200 calls
    store, run = _store(tmp_path, [
        (Phase.BASELINE, {1: (100, 10.0), 2: (100, 500.0), 3: (100, 500.0)}),
        (Phase.BASELINE, {1: (200, 20.0), 2: (112, 560.0), 3: (200, 1000.0)}),
        (Phase.POST, {1: (300, 35.0), 2: (124, 632.0), 3: (400, 2200.0)}),
    ])
    try:
        default = slower_queries(store.con, run)
        strict = slower_queries(store.con, run, {"report": {"slower_by": 0.25}})
        loose = slower_queries(store.con, run, {"report": {"slower_min_ms": 0, "slower_min_calls": 12}})
        few = slower_queries(store.con, run, {"report": {"slower_min_calls": 13}})
    finally:
        store.close()
    assert _ids(default) == [3, 2]  # 1 is 50% slower but by 0.05 ms; 3 costs more extra time than 2
    assert _ids(strict) == []
    assert _ids(loose) == [3, 2, 1] and _ids(few) == [3]


def test_a_long_statement_opens_to_its_whole_text_in_the_html(tmp_path: Path) -> None:
    from migtui import safetext
    from migtui.report.statements_view import HTML_TEXT, statements_html

    long = "SELECT " + ", ".join(f"c{i} <> '<b>'" for i in range(80)) + " FROM t WHERE k = $1"
    entry = {"queryid": 1, "text": long, "username": "app", "calls_before": 10, "calls_after": 10,
             "mean_before_ms": 1.0, "mean_after_ms": 2.0, "change_ms": 1.0, "total_change_ms": 10.0, "share_after": 0.5}
    st = {"available": True, "slower": [entry], "new_after": [], "migration": [],
          "options": {"slower_by": 0.1, "slower_min_ms": 0.1, "slower_min_calls": 10},
          "migtui": {"statements": 0, "calls": 0, "total_ms": 0.0, "seconds": 0.0, "ids": [], "share": None}}
    html = statements_html({"statements": st}, lambda v: safetext.html(v))
    summary = html[html.index("<summary>"):html.index("</summary>")]
    assert len(safetext.html(long[:HTML_TEXT])) >= len(summary) - 40 and "…" in summary  # cut on the first line
    assert f'<code class="sql">{safetext.html(long)}</code></details>' in html  # the whole text, escaped
    assert "<b>" not in html


def test_a_statement_running_in_a_session_named_like_the_migration_is_the_migration_s(tmp_path: Path) -> None:
    # 4 ran in the baseline too, and gets slower; a long_running row shows it in the migration's session
    store, run = _store(tmp_path, [
        (Phase.BASELINE, {4: (100, 100.0)}),
        (Phase.BASELINE, {4: (200, 200.0)}),
        (Phase.MIGRATION, {4: (210, 400.0)}),
        (Phase.POST, {4: (310, 900.0)}),
    ])
    store.add_snapshot(run, Phase.MIGRATION, TableSnapshot(time.time() + 2.5, "db", "long_running",
                                                           ["pid", "application_name", "query_id"], [(7, "mig-tool", 4)]))
    store.flush()
    try:
        apart = slower_queries(store.con, run, {"migration": {"application_name": "mig-*"}})
        app = slower_queries(store.con, run, {"migration": {"application_name": "other-*"}})
    finally:
        store.close()
    assert _ids(apart) == [] and _ids(apart, "migration") == [4]
    assert _ids(app) == [4] and _ids(app, "migration") == []
