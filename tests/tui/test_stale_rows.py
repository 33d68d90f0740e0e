"""Stale data looks stale (issue 14, item 9): while a source cannot be reached its rows read "stale"
with their age (never "ok"), and a trigger colours only the series it watches (its source and labels)."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest
from psycopg import sql

from migtui.tui.app import MigtuiApp
from tests.tui.conftest import pg_config, rendered, wait_for

pytestmark = pytest.mark.pg
SIZE = (120, 40)


def metric_line(app: MigtuiApp, section: int, title: str) -> str:
    text = rendered(app.query_one(f"#panel-schema #metrics-{section}"))
    return next((ln for ln in text.splitlines() if ln.strip().startswith(title)), "")


def _lock_out(pg: Any, allow: bool) -> None:
    """Refuse (or allow again) new connections to the test database and end migtui's sessions."""
    with psycopg.connect(pg.admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
            sql.Identifier(pg.dbname), sql.SQL("true" if allow else "false")))
        if not allow:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                         "AND pid <> pg_backend_pid()", [pg.dbname])


async def test_a_disconnected_source_shows_its_rows_stale_with_their_age(pg, pg_engine) -> None:
    engine = pg_engine(pg_config(pg.dsn, actions=False))
    app = MigtuiApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: re.search(r"\bok\b", metric_line(app, 0, "lock waiters")),
                       what="lock waiters ok while connected")
        try:
            _lock_out(pg, allow=False)
            await wait_for(pilot, lambda: "DISCONNECTED" in rendered(app.query_one("#panel-schema #title-0")),
                           what="the source to show DISCONNECTED")
            line = await wait_for(pilot, lambda: (ln := metric_line(app, 0, "lock waiters")) and "stale" in ln and ln,
                                  what="lock waiters stale")
            assert not re.search(r"\bok\b", line), line
            assert re.search(r"stale \d+s", line), line  # its age
        finally:
            _lock_out(pg, allow=True)


async def test_a_trigger_on_one_source_colours_only_that_sources_row(pg, pg_engine) -> None:
    """Two sources with the same metric; the trigger names one of them (``source: db2``)."""
    second = f"""\
  - type: postgres
    name: db2
    dsn: "{pg.dsn}"
"""
    text = pg_config(pg.dsn, actions=False).replace("sources:\n", "sources:\n" + second, 1) + (
        "triggers:\n  - {name: db2-connections, metric: connections.used_ratio, source: db2, threshold: -1, "
        "action: warn}\n")
    engine = pg_engine(text)
    app = MigtuiApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        sections = {p.source: i for i, p in enumerate(p for p in engine.panels if p.kind == "schema")}
        await wait_for(pilot, lambda: "warn" in metric_line(app, sections["db2"], "connections used"),
                       what="the db2 row warns")
        await wait_for(pilot, lambda: re.search(r"\bok\b", metric_line(app, sections["db"], "connections used")),
                       what="the db row has its value")
        assert "warn" not in metric_line(app, sections["db"], "connections used")


def test_the_headless_status_line_says_stale_for_an_unreachable_source(pg, pg_engine) -> None:
    import io

    from migtui.headless import HeadlessPrinter
    from tests.conftest import wait_until

    engine = pg_engine(pg_config(pg.dsn, actions=False))
    out = io.StringIO()
    HeadlessPrinter(engine, out=out)
    engine.start()
    wait_until(lambda: re.search(r"db ok .*waiting \d", out.getvalue()), "a status line with the waiting count")
    try:
        _lock_out(pg, allow=False)
        lines = wait_until(lambda: [ln for ln in out.getvalue().splitlines() if "db ERR" in ln],
                           "a status line with db ERR")
        assert "waiting stale" in lines[-1] and not re.search(r"waiting \d", lines[-1]), lines[-1]
    finally:
        _lock_out(pg, allow=True)
