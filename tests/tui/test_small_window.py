"""80x24 works for a real window (issue 14, item 10): pids and trigger names are never cut, the
footer always shows ``?`` (help lists every key), a panel taller than the window says what is
below and how to get there, and numbers fit their own column."""

from __future__ import annotations

import re
import threading
from typing import Any

import psycopg
import pytest

from migtui.tui.app import MigtuiApp
from migtui.tui.view import fmt_delta
from tests.tui.conftest import pg_config, rendered, wait_for

LONG_NAME = "lock-waiters-on-the-orders-table-above-zero"


@pytest.mark.pg
async def test_a_lock_wait_and_a_long_trigger_name_at_80x24(pg, pg_engine) -> None:
    from textual.widgets._footer import FooterKey

    with pg.connect() as c:
        c.execute("CREATE TABLE small_window (id int)")
    holder = psycopg.connect(pg.dsn)
    holder.execute("LOCK TABLE small_window IN ACCESS EXCLUSIVE MODE")  # held until rollback
    waiter = psycopg.connect(pg.dsn, autocommit=True)
    pid = waiter.info.backend_pid
    blocked = threading.Thread(target=lambda: _quietly(waiter, "SELECT * FROM small_window"), daemon=True)
    blocked.start()
    extra = f"triggers:\n  - {{name: {LONG_NAME}, metric: activity_summary.waiting, threshold: -1, action: warn}}\n"
    engine = pg_engine(pg_config(pg.dsn, actions=False, extra=extra))
    app = MigtuiApp(engine)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            table = app.query_one("#panel-schema #table-0-lock_waits")
            text = await wait_for(pilot, lambda: str(pid) in (t := rendered(table)) and t, what="the lock wait")
            assert re.search(rf"(?m)^\s*{pid}\b", text), text  # the whole pid, first column
            triggers = await wait_for(pilot, lambda: "warn" in (t := rendered(app.triggers_view)) and t,
                                      what="the long trigger firing")
            # never cut: folded over lines when it is longer than its column
            assert "…" not in triggers, triggers
            assert "".join(ln.split()[0] for ln in triggers.splitlines()[1:] if ln.strip()) == LONG_NAME, triggers
            # the footer is cut on the right at 80 columns: ? (help: every key) comes first
            shown = await wait_for(pilot, lambda: [k for k in app.screen.query(FooterKey)
                                                   if k.region.width and k.region.right <= 80], what="the footer")
            assert shown and shown[0].key == "question_mark", [k.key for k in shown]
            hint = app.query_one("#panel-schema #more-hint")
            await wait_for(pilot, lambda: hint.display and "more below" in rendered(hint), what="the scroll hint")
            assert "Lock waits" in rendered(hint) or "Long-running" in rendered(hint), rendered(hint)
            app.query_one("#panel-schema").scroll_end(animate=False)
            await wait_for(pilot, lambda: not hint.display, what="the hint to go at the bottom")
    finally:
        holder.rollback()
        holder.close()
        blocked.join(10)
        waiter.close()


def _quietly(conn: Any, sql: str) -> None:
    try:
        conn.execute(sql)
    except psycopg.Error:
        pass


def test_deltas_fit_their_column() -> None:
    assert fmt_delta(7501.0, 1.0) == "x7501"  # was +750000%, cut to +7500…
    assert fmt_delta(19400.0, 100.0) == "x194"
    assert fmt_delta(2e6, 1.0) == "x2.0M"
    assert fmt_delta(1e5, 1.0) == "x100k"
    assert fmt_delta(-19000.0, 100.0) == "-19k%"  # below zero: no factor, a compact percentage
    assert fmt_delta(154.0, 100.0) == "+54%"
    assert all(len(fmt_delta(v, 1.0)) <= 6 for v in (0.5, 9.99, 10.0, 999.0, 1e5, 1e9, -1e9, 1e15))
