"""Text from a database user under the real cockpit in tmux (issue 14, items 1 and 2).

Any role that can connect chooses its ``application_name`` and its query text. A session named
``[/]`` running a long query whose text holds Rich markup and terminal escapes must show up as
those characters, visibly, and change nothing else: no crash, no markup, no pane title, no clear."""

from __future__ import annotations

import shlex
import threading
from pathlib import Path

import psycopg
import pytest

from tests.conftest import migtui_cmd
from tests.tui.conftest import pg_config
from tests.tui.test_tmux import TMUX, Tmux

pytestmark = [
    pytest.mark.pg,
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed (apt-get install tmux)"),
]

SESSIONS = {  # application_name: query text (PostgreSQL turns an ESC in application_name into "?")
    "[/]": "/*\x1b]2;PWNED\x07\x1b[2J*/ SELECT pg_sleep(600)",
    "[bold red]X[/]": "/*[link=http://e.x]L[/link]*/ SELECT pg_sleep(600)",
}


def test_hostile_application_name_and_query_text_under_the_cockpit(pg, tmp_path: Path) -> None:
    conns = [psycopg.connect(pg.dsn, application_name=app, autocommit=True) for app in SESSIONS]
    pids = [c.info.backend_pid for c in conns]
    sleepers = [threading.Thread(target=_run_quietly, args=(c, q), daemon=True) for c, q in zip(conns, SESSIONS.values())]
    for t in sleepers:
        t.start()
    cfg = tmp_path / "watch.yaml"
    cfg.write_text(pg_config(pg.dsn, actions=False, interval="1s"))
    watch = " ".join(shlex.quote(a) for a in [*migtui_cmd(), "watch", "--config", str(cfg),
                                               "--store", str(tmp_path / "run.duckdb")])
    tmux = Tmux("migtui-hostile")
    try:
        tmux.start(f"env -u COLUMNS -u LINES TERM=xterm-256color {watch}; echo MIGTUI-EXIT=$?; sleep 60", 200, 50)
        title = tmux.run("display", "-p", "-t", tmux.name, "#{pane_title}").strip()
        tmux.wait_for("Long-running statements", "Events")
        # the text as the database user typed it, control characters shown as escapes
        screen = tmux.wait_for(*map(str, pids), "[/]", "[bold red]X[/]", "/*\\x1b]2;PWNED\\x07", "/*[link=http://e.x]L")
        assert "MIGTUI-EXIT" not in screen and "MarkupError" not in screen, screen
        assert "tui-test" in screen.splitlines()[0], screen  # the screen was not cleared
        assert tmux.run("display", "-p", "-t", tmux.name, "#{pane_title}").strip() == title != "PWNED"
        tmux.keys("q")
        tmux.wait_for("MIGTUI-EXIT=0")
    finally:
        tmux.kill()
        for pid in pids:
            _cancel(pg.dsn, pid)
        for t in sleepers:
            t.join(10)
        for c in conns:
            c.close()


def _run_quietly(conn: psycopg.Connection, sql: str) -> None:
    try:
        conn.execute(sql)
    except psycopg.Error:
        pass  # cancelled at the end of the test


def _cancel(dsn: str, pid: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("SELECT pg_cancel_backend(%s)", (pid,))


def _advisory_holders(pg, key: int) -> list[tuple[int, str]]:
    with pg.connect() as conn:
        return conn.execute(
            "SELECT l.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.mode = 'ExclusiveLock' "
            "AND ((l.classid::bigint << 32) | l.objid::bigint) = %s", [key]).fetchall()


def test_a_crashing_cockpit_keeps_the_pause_until_the_run_ends(pg, tmp_path: Path) -> None:
    """A rendering error stops the cockpit, not the run: the pg_pause advisory lock (pg_locks) is still
    held while the engine goes on headless; Ctrl-C then ends the run, which releases the lock and
    records both the crash and the release as events."""
    import random
    import sys

    from migtui.store import Store
    from tests.conftest import wait_until

    key = random.randint(10_000_000, 2**40)
    cfg = tmp_path / "watch.yaml"
    cfg.write_text(pg_config(pg.dsn, actions=False, interval="1s",
                             extra=f"actions:\n  pause:\n    - {{type: pg_pause, key: {key}}}\n"))
    flag, store = tmp_path / "crash-now", tmp_path / "run.duckdb"
    launcher = Path(__file__).with_name("crashing_cockpit.py")
    cmd = " ".join(shlex.quote(a) for a in [sys.executable, str(launcher), str(flag), "watch", "--config", str(cfg),
                                             "--store", str(store)])
    tmux = Tmux("migtui-crash")
    try:
        tmux.start(f"env -u COLUMNS -u LINES TERM=xterm-256color {cmd}; echo MIGTUI-EXIT=$?; sleep 60", 120, 40)
        tmux.wait_for("tui-test", "lock waiters")
        tmux.keys("p")
        holders = wait_until(lambda: _advisory_holders(pg, key), "the pg_pause advisory lock")
        flag.touch()
        tmux.wait_for("the cockpit stopped on an error", "injected rendering error", "The run goes on headless")
        tmux.wait_for_re(r"\d\d:\d\d:\d\d   \[baseline\] tui-test")  # the engine ticks on: a headless status line
        assert _advisory_holders(pg, key) == holders  # the same session still holds the pause
        assert "MIGTUI-EXIT" not in tmux.screen()
        tmux.keys("C-c")
        tmux.wait_for("MIGTUI-EXIT=1")
        assert wait_until(lambda: not _advisory_holders(pg, key), "the pause to end with the run")
    finally:
        tmux.kill()
    s = Store.open(store, read_only=True)
    try:
        [run] = s.runs()
        events = s.events(run["run_id"])
        crash = [e for e in events if e.kind == "error" and e.subject == "cockpit"]
        assert crash and "injected rendering error" in crash[0].message, [e.message for e in events]
        released = [e for e in events if e.data.get("stage") == "released_on_exit"]
        assert released and released[0].ts > crash[0].ts, [e.message for e in events]
    finally:
        s.close()
