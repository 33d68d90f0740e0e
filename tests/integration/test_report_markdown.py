"""The Markdown report as GitHub would show it: a real run with a real lock wait whose sessions carry
hostile text (a ``|``, backticks, ``[/]``, an ESC in the query and the application name), actions and
trigger firings with hostile text, rendered to HTML with the ``markdown`` package (tables as GitHub
Flavored Markdown draws them) and screenshot in headless Chromium.

It must stay short enough to paste into a pull request or a chat thread (the bound is
:data:`migtui.report.markdown.MAX_LINES` / ``MAX_CHARS``, stated in docs/reports.md), and every table
row must have exactly its header's cells, with the hostile text shown literally in its cell."""

from __future__ import annotations

import os
import shutil
import textwrap
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import chromium, scratch_database

HOSTILE_APP = "etl|`x`[/]"  # PostgreSQL keeps printable ASCII in application_name
HOSTILE_SQL = "SELECT /* q|`b`[/] \x1b[2J */ count(*) FROM orders_md WHERE note <> '|a|`b`|[/red]\x1b[31m'"
HOSTILE_WHO = "mallory | `rm -rf` [/bold] \x1b]0;pwned\x07"


class Tables(HTMLParser):
    """The cells of every table of an HTML page: tables -> rows -> cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.tags: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def hostile_run(pg: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import psycopg

    from migtui.config import load_config
    from migtui.engine import Engine
    from migtui.model import Event, Level
    from migtui.store import Store

    folder = tmp_path_factory.mktemp("md-report")
    with scratch_database(pg) as dsn:
        config = folder / "md.yaml"
        config.write_text(textwrap.dedent(f"""\
            name: md-report
            interval: 0.2s
            sources:
              - type: postgres
                name: db
                dsn: "{dsn}"
                include: [activity_summary, blocking_tree, lock_waits_summary]
                intervals: {{activity_summary: 0.2s, blocking_tree: 0.2s, lock_waits_summary: 0.2s}}
            migration:
              enabled: false
            """))
        setup = psycopg.connect(dsn, autocommit=True)
        setup.execute("CREATE TABLE orders_md (id int, note text)")
        setup.execute("INSERT INTO orders_md SELECT i, 'n' FROM generate_series(1, 100) i")
        engine = Engine(load_config(config), store=Store.open(folder / "run.duckdb"))

        def ticks(n: int) -> None:
            for _ in range(n):
                engine.tick(wait=30)
                time.sleep(0.22)

        try:
            ticks(12)
            engine.set_phase("migration", who=HOSTILE_WHO, why="window | opens `now`")
            holder = psycopg.connect(dsn, application_name=HOSTILE_APP)
            holder.execute("LOCK TABLE orders_md IN ACCESS EXCLUSIVE MODE")  # an open transaction holds it
            waiter = psycopg.connect(dsn, autocommit=True, application_name=HOSTILE_APP)
            blocked = threading.Thread(target=lambda: waiter.execute(HOSTILE_SQL), daemon=True)
            blocked.start()
            ticks(10)
            holder.rollback()
            blocked.join(30)
            holder.close()
            waiter.close()
            for verb in ("pause", "resume"):
                engine.emit(Event("action", verb, f"{verb} by {HOSTILE_WHO}", Level.INFO,
                                  {"verb": verb, "who": HOSTILE_WHO, "why": HOSTILE_SQL, "ok": True}))
            engine.emit(Event("trigger", "warn:lock|`waits`", f"ok -> firing: {HOSTILE_SQL}", Level.WARN,
                              {"to": "firing"}))
            ticks(2)
            engine.set_phase("post", who="alice", why="done")
            ticks(12)
        finally:
            engine.close()
            setup.close()
    return folder / "run.duckdb"


def test_markdown_renders_its_tables_whole_with_hostile_text_and_is_short(hostile_run: Path, tmp_path: Path) -> None:
    import markdown

    from migtui.report import export_report
    from migtui.report.markdown import MAX_CHARS, MAX_LINES

    store = tmp_path / "run.duckdb"
    shutil.copyfile(hostile_run, store)
    md = export_report(store, "latest", "md", tmp_path / "r.md").read_text()
    assert "\x1b" not in md and "\x07" not in md
    assert len(md.splitlines()) <= MAX_LINES and len(md) <= MAX_CHARS, (len(md.splitlines()), len(md))

    html = markdown.markdown(md, extensions=["tables"])
    page = Tables()
    page.feed(html)
    assert not {"script", "a", "img"} & set(page.tags)  # nothing from outside became markup
    assert len(page.tables) >= 4  # worst moment, actions, checklist, health (and triggers)
    for table in page.tables:
        widths = {len(row) for row in table}
        assert widths == {len(table[0])}, table  # no row split or merged by a stray pipe
    tree = next(t for t in page.tables if "application_name" in t[0])
    col = tree[0].index("application_name")
    assert HOSTILE_APP in [row[col] for row in tree[1:]]  # shown literally, in its own cell
    query = tree[0].index("query")
    assert any(row[query].startswith("SELECT /* q|`b`[/] \\x1b[2J */") for row in tree[1:]), tree
    actions = next(t for t in page.tables if t[0][:2] == ["Time", "Who"])
    assert [row[1] for row in actions[1:]] == ["mallory | `rm -rf` [/bold] \\x1b]0;pwned\\x07"] * 2
    triggers = next(t for t in page.tables if t[0] == ["Time", "Subject", "Message"])
    assert triggers[1][1] == "warn:lock|`waits`"

    doc = tmp_path / "md.html"
    doc.write_text("<!doctype html><meta charset=utf-8><style>body{font-family:sans-serif;max-width:980px;"
                   "margin:24px}table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:4px 8px}"
                   "</style>" + html)
    png = tmp_path / "md.png"
    proc = chromium(tmp_path, doc, "--window-size=1100,2400", f"--screenshot={png}")
    assert png.exists(), proc.stderr[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 30_000
    keep = os.environ.get("MIGTUI_KEEP_REPORT_PNG")
    if keep:
        shutil.copy(png, Path(keep).with_name("markdown-" + Path(keep).name))
        shutil.copy(tmp_path / "r.md", Path(keep).with_name("markdown-" + Path(keep).stem + ".md"))
