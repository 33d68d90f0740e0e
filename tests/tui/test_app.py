"""The cockpit driven by keys (Textual Pilot) against a real PostgreSQL and real shell actions."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest

from migtui.model import Phase
from migtui.tui.app import MigtuiApp
from migtui.tui.screens import ConfirmScreen, HelpScreen, RollbackScreen
from migtui.tui.widgets import BlockingTree, CockpitHeader, KindPanel, TriggersView
from tests.tui.conftest import log_text, pg_config, rendered, wait_for

pytestmark = pytest.mark.pg

SIZE = (120, 40)


def logged(app: MigtuiApp, *parts: str) -> bool:
    text = log_text(app)
    return all(p in text for p in parts)


def header(app: MigtuiApp) -> str:
    return rendered(app.query_one(CockpitHeader))


def db_ok(text: str) -> bool:
    """The header's badge of the ``db`` source says ok (the server version may sit in between)."""
    return re.search(r"\bdb (\S+ )?ok\b", text) is not None


async def started(pilot: Any, app: MigtuiApp) -> None:
    await wait_for(pilot, lambda: app.engine.sources["db"].state == "ok" and app.engine_updates >= 2,
                   what="the postgres source to report ok")
    # the redraw that shows it (a timer): wait for it instead of sleeping a fixed time
    await wait_for(pilot, lambda: db_ok(header(app)), what="the header to show db ok")


def on_top(app: MigtuiApp, screen_type: type | str, *, typing: bool = False) -> bool:
    """The modal ``screen_type`` (a class or a class name) is on top and mounted: composed, its
    ``on_mount`` has run. ``typing``: its input has the focus (keys pressed now go into it)."""
    from textual.widgets import Input

    screen = app.screen
    is_type = (screen.__class__.__name__ == screen_type if isinstance(screen_type, str)
               else isinstance(screen, screen_type))
    return is_type and screen.is_mounted and (not typing or isinstance(app.focused, Input))


def palette_offers(app: MigtuiApp, text: str) -> bool:
    """The command palette is open and its highlighted result is the command containing ``text``."""
    from textual.command import CommandList, CommandPalette

    screen = app.screen
    if not isinstance(screen, CommandPalette):
        return False
    results = screen.query_one(CommandList)
    if not results.option_count or results.highlighted is None:
        return False
    return text.lower() in str(results.get_option_at_index(results.highlighted).prompt).lower()


async def select_in_tree(pilot: Any, tree: BlockingTree, label: str, pid: int) -> None:
    """Put the tree's cursor on the backend whose label contains ``label`` (as the arrow keys would)."""

    def node() -> Any:
        return next((n for n in _nodes(tree) if label in str(n.label)), None)

    # a node just added to the tree has no line until the tree is laid out again
    await wait_for(pilot, lambda: (n := node()) is not None and n.line >= 0, what=f"{label} on a tree line")
    tree.focus()
    tree.move_cursor(node())
    await wait_for(pilot, lambda: tree.selected_pid == pid, what=f"the cursor on {label} (pid {pid})")


async def test_panels_header_and_event_log_show_the_live_run(pg, pg_engine) -> None:
    engine = pg_engine(pg_config(pg.dsn))
    app = MigtuiApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await wait_for(pilot, lambda: all(p in header(app) for p in ("tui-test", "BASELINE", "db", " ok", "triggers")),
                       what="the header")  # "triggers": the header's triggers summary
        assert app.tab_ids == ["tab-schema", "tab-data"]  # only the configured types
        await wait_for(pilot, lambda: all(p in rendered(app.query_one("#panel-schema #metrics-0"))
                                          for p in ("lock waiters", "connections used")), what="the schema metrics")
        assert log_text(app).count("started in phase baseline") == 1
        assert app.query_one(TriggersView)


async def test_phase_keys_mark_baseline_migration_post(pg, pg_engine) -> None:
    engine = pg_engine(pg_config(pg.dsn))
    app = MigtuiApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("m")
        await wait_for(pilot, lambda: "phase baseline -> migration" in log_text(app), what="the phase event")
        assert engine.phase == Phase.MIGRATION
        await wait_for(pilot, lambda: "MIGRATION" in header(app), what="the header to show the phase")
        await pilot.press("o")
        await wait_for(pilot, lambda: "phase migration -> post" in log_text(app), what="post")
        assert engine.phase == Phase.POST
        await pilot.press("b")
        await wait_for(pilot, lambda: "phase post -> baseline" in log_text(app), what="baseline")
        await pilot.press("b")
        await wait_for(pilot, lambda: "already in phase baseline" in log_text(app), what="no-op message")
    phases = [e.data.get("to") for e in engine.recent_events if e.kind == "phase"]
    assert phases == ["migration", "post", "baseline"]


async def test_pause_and_resume_run_the_configured_actions(pg, pg_engine) -> None:
    engine = pg_engine(pg_config(pg.dsn))
    app = MigtuiApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("p")
        await wait_for(pilot, lambda: logged(app, "pause ok: ", "| paused now"), what="the pause result")
        await wait_for(pilot, lambda: "PAUSED" in header(app) and "by operator (cockpit)" in header(app),
                       what="the header to say paused")
        await pilot.press("u")
        await wait_for(pilot, lambda: logged(app, "resume ok: ", "| resumed now"), what="the resume result")
        await wait_for(pilot, lambda: "PAUSED" not in header(app), what="the header to drop paused")
        await wait_for(pilot, lambda: "resumed now" in log_text(app) or any(
            "resumed now" in str(e.data) for e in engine.recent_events), what="the resume output")
    actions = [e for e in engine.recent_events if e.kind == "action"]
    assert any(e.data.get("who") == "operator (cockpit)" for e in actions)


async def test_pause_without_actions_says_so_in_the_event_log(pg, pg_engine) -> None:
    engine = pg_engine(pg_config(pg.dsn, actions=False))
    app = MigtuiApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("p")
        await wait_for(pilot, lambda: "no action is configured for 'pause'" in log_text(app), what="message")
        await pilot.press("r")
        await wait_for(pilot, lambda: "rollback: no rollback action is configured" in log_text(app), what="rb")
        assert not isinstance(app.screen, RollbackScreen)


async def test_rollback_needs_the_run_name_typed(pg, pg_engine) -> None:
    engine = pg_engine(pg_config(pg.dsn))
    app = MigtuiApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("r")
        await wait_for(pilot, lambda: on_top(app, RollbackScreen, typing=True), what="the rollback modal")
        plan = rendered(app.screen.query_one("#rollback-plan"))
        assert "downgrade" in plan and "rolled back" in plan  # exactly what will run
        # a wrong name does not roll back
        await pilot.press(*"tui-tes", "enter")
        await wait_for(pilot, lambda: "not the run's name" in rendered(app.screen.query_one("#rollback-hint")),
                       what="the hint about the wrong name")
        assert isinstance(app.screen, RollbackScreen)
        assert app.screen.query_one("#rollback-go").disabled
        await pilot.press("escape")
        await wait_for(pilot, lambda: "rollback cancelled" in log_text(app), what="cancel message")
        assert not [e for e in engine.recent_events if e.kind == "action" and e.subject == "rollback"]
        # the right name does
        await pilot.press("r")
        await wait_for(pilot, lambda: on_top(app, RollbackScreen, typing=True), what="the rollback modal again")
        await pilot.press(*"tui-test")
        await wait_for(pilot, lambda: not app.screen.query_one("#rollback-go").disabled, what="the button enabled")
        await pilot.press("enter")
        await wait_for(pilot, lambda: logged(app, "rollback ok: ", "| rolled back"), what="the rollback result")
    done = [e for e in engine.recent_events if e.kind == "action" and e.subject == "rollback"]
    assert any("rolled back" in str(e.data) for e in done)


def _blocker(dsn: str, ready: threading.Event, release: threading.Event, out: dict[str, Any]) -> None:
    try:
        with psycopg.connect(dsn, autocommit=False, application_name="tui-blocker") as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS tui_orders (id int)")
            conn.commit()
            conn.execute("LOCK TABLE tui_orders IN ACCESS EXCLUSIVE MODE")
            ready.set()
            release.wait(60)
    except psycopg.Error as exc:
        out["blocker"] = type(exc).__name__


def _waiter(dsn: str, out: dict[str, Any]) -> None:
    try:
        with psycopg.connect(dsn, autocommit=True, application_name="tui-waiter") as conn:
            out["pid"] = conn.info.backend_pid
            conn.execute("SELECT count(*) FROM tui_orders")
            out["result"] = "finished"
    except psycopg.Error as exc:
        out["result"] = type(exc).__name__


async def test_cancel_and_terminate_the_backend_selected_in_the_blocking_tree(pg, pg_engine) -> None:
    text = pg_config(pg.dsn, actions=False).replace(
        "params: {min_seconds: 0}", "params: {min_seconds: 0}\n    migration_application_name: tui-waiter")
    engine = pg_engine(text)
    ready, release, out, bout = threading.Event(), threading.Event(), {}, {}
    blocker = threading.Thread(target=_blocker, args=(pg.dsn, ready, release, bout), daemon=True)
    blocker.start()
    assert ready.wait(20)
    waiter = threading.Thread(target=_waiter, args=(pg.dsn, out), daemon=True)
    waiter.start()
    app = MigtuiApp(engine)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await started(pilot, app)
            await pilot.press("k")  # nothing selected yet
            await wait_for(pilot, lambda: "select a backend in the blocking tree" in log_text(app), what="hint")
            tree = app.query_one("#panel-schema BlockingTree", BlockingTree)
            await wait_for(pilot, lambda: "tui-waiter" in str([n.label for n in _nodes(tree)]),
                           what="the waiter in the blocking tree")
            waiter_node = next(n for n in _nodes(tree) if "tui-waiter" in str(n.label))
            assert "tui-blocker" in str(waiter_node.parent.label)  # rooted at the blocker
            assert "MIGRATION pid" in str(waiter_node.label)  # the migration's session is marked
            assert "blocks 1" in str(waiter_node.parent.label)
            await select_in_tree(pilot, tree, "tui-waiter", out["pid"])
            await pilot.press("k")
            await wait_for(pilot, lambda: on_top(app, ConfirmScreen), what="the cancel confirmation")
            assert f"pid {out['pid']}" in rendered(app.screen.query_one("#confirm-body"))
            await pilot.press("y")
            await wait_for(pilot, lambda: out.get("result") == "QueryCanceled", what="the waiter to be cancelled")
            await wait_for(pilot, lambda: f"cancel pid {out['pid']} ok" in log_text(app), what="the cancel result")
            # terminate the blocker (idle in transaction, holding the lock)
            await wait_for(pilot, lambda: not any("tui-waiter" in str(n.label) for n in _nodes(tree)),
                           what="the tree to lose the waiter")
            with psycopg.connect(pg.dsn, autocommit=True) as c:
                [bpid] = c.execute("SELECT pid FROM pg_stat_activity WHERE application_name = 'tui-blocker'").fetchone()
            # the blocker blocks nobody now: select it through a new waiter
            out.clear()
            waiter2 = threading.Thread(target=_waiter, args=(pg.dsn, out), daemon=True)
            waiter2.start()
            await wait_for(pilot, lambda: any("tui-blocker" in str(n.label) for n in _nodes(tree)), what="blocker")
            await select_in_tree(pilot, tree, "tui-blocker", bpid)
            await pilot.press("t")
            await wait_for(pilot, lambda: on_top(app, ConfirmScreen), what="the terminate confirmation")
            await pilot.press("n")  # first say no: nothing happens
            await wait_for(pilot, lambda: f"terminate pid {bpid} cancelled" in log_text(app), what="no")
            await pilot.press("t")
            await wait_for(pilot, lambda: on_top(app, ConfirmScreen), what="the confirmation again")
            await pilot.press("y")
            await wait_for(pilot, lambda: out.get("result") == "finished", what="the waiter to get its lock")
            await wait_for(pilot, lambda: f"terminate pid {bpid} ok" in log_text(app), what="terminate result")
            release.set()
            blocker.join(10)
            assert bout.get("blocker") == "AdminShutdown"
    finally:
        release.set()


def _nodes(tree: BlockingTree) -> list[Any]:
    out, stack = [], list(tree.root.children)
    while stack:
        n = stack.pop(0)
        out.append(n)
        stack[0:0] = list(n.children)
    return out


async def test_freeze_keeps_the_display_while_data_flows(pg, pg_engine) -> None:
    engine = pg_engine(pg_config(pg.dsn))
    app = MigtuiApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("f")
        await wait_for(pilot, lambda: app.frozen and "FROZEN" in header(app), what="the display frozen")
        metrics = app.query_one("#panel-schema #metrics-0")
        before, updates = metrics.content, app.engine_updates
        await wait_for(pilot, lambda: app.engine_updates >= updates + 3, what="more engine updates")
        await pilot.pause(0.6)  # a render timer or two: none may redraw the frozen panel
        assert metrics.content is before  # not redrawn
        assert "display frozen" in log_text(app)
        await pilot.press("f")
        await wait_for(pilot, lambda: not app.frozen and "FROZEN" not in header(app), what="the display live again")
        await wait_for(pilot, lambda: metrics.content is not before, what="the panel redrawn")


async def test_number_keys_switch_panels(pg, pg_engine) -> None:
    engine = pg_engine(pg_config(pg.dsn))
    app = MigtuiApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        tabs = app.query_one("TabbedContent")
        await pilot.press("2")
        await wait_for(pilot, lambda: tabs.active == "tab-data", what="the data tab")
        await wait_for(pilot, lambda: app.focused is app.query_one("#panel-data", KindPanel),
                       what="the data panel focused")
        await wait_for(pilot, lambda: "commits/s" in rendered(app.query_one("#panel-data #metrics-0")),
                       what="the data panel drawn")
        await pilot.press("1")
        await wait_for(pilot, lambda: tabs.active == "tab-schema", what="the schema tab")
        for key in "3456":
            await pilot.press(key)
            await wait_for(pilot, lambda k=key: f"there is no panel {k}" in log_text(app),
                           what=f"no panel {key} message")
            assert tabs.active == "tab-schema"


async def test_capture_baseline_and_export_report_log_their_result(pg, pg_engine) -> None:
    engine = pg_engine(pg_config(pg.dsn))
    app = MigtuiApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("c")
        await wait_for(pilot, lambda: "capture baseline: " in log_text(app), what="the capture result")
        # the real baseline keeper computed statistics of the samples polled so far
        assert "capture baseline: baseline captured by operator (cockpit): statistics of " in log_text(app), log_text(app)
        assert engine.parts.baseline.stats, "the captured statistics were not loaded"
        await pilot.press("e")
        await wait_for(pilot, lambda: "report exported" in log_text(app) or "export:" in log_text(app)
                       or "export failed" in log_text(app), what="the export result")
        assert "report exported" in log_text(app), log_text(app)
        line = next(ln for ln in log_text(app).splitlines() if "report exported: " in ln)
        path = Path(line.split("report exported: ", 1)[1].strip())
        assert path.exists() and "tui-test" in path.read_text()


async def test_help_lists_every_key_and_the_palette_reaches_actions(pg, pg_engine) -> None:
    engine = pg_engine(pg_config(pg.dsn))
    app = MigtuiApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: on_top(app, HelpScreen), what="the help")
        text = rendered(app.screen.query_one("#help-keys"))
        for b in app.cockpit_bindings():
            assert b.id in text, b.id
        for key in ("p", "u", "r", "b", "m", "o", "c", "f", "k", "t", "e", "n", "1", "6", "?", "q", "ctrl+p"):
            assert any(line.strip().startswith(key + " ") for line in text.splitlines()), key
        await pilot.press("f")  # cockpit keys are off while the help is open
        assert not app.frozen and isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen), what="the help to close")
        assert not app.frozen  # the f pressed on the help (handled before the escape) did nothing
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: on_top(app, "CommandPalette", typing=True), what="the palette")
        await pilot.press(*"Freeze")
        await wait_for(pilot, lambda: palette_offers(app, "freeze"), what="the palette to offer freeze")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.frozen, what="the palette to run freeze")


async def test_quit_asks_during_migration_only(pg, pg_engine) -> None:
    engine = pg_engine(pg_config(pg.dsn))
    app = MigtuiApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("m")
        await wait_for(pilot, lambda: engine.phase == Phase.MIGRATION, what="migration phase")
        await pilot.press("q")
        await wait_for(pilot, lambda: on_top(app, ConfirmScreen), what="the quit confirmation")
        await pilot.press("n")
        await wait_for(pilot, lambda: "quit cancelled" in log_text(app), what="cancelled")
        assert app.is_running
        await pilot.press("q")
        await wait_for(pilot, lambda: on_top(app, ConfirmScreen), what="the quit confirmation again")
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.is_running, what="the app to exit")

    engine2 = pg_engine(pg_config(pg.dsn))
    app2 = MigtuiApp(engine2)
    async with app2.run_test(size=SIZE) as pilot:
        await started(pilot, app2)
        await pilot.press("q")  # baseline phase: no question
        await wait_for(pilot, lambda: not app2.is_running, what="the app to exit")


async def test_a_dead_source_shows_disconnected_while_the_other_updates(pg, pg_engine) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    extra = f"""\
  - type: postgres
    name: gone
    dsn: "host=127.0.0.1 port={dead_port} dbname=x user=x connect_timeout=1"
"""
    text = pg_config(pg.dsn, actions=False).replace("sources:\n", "sources:\n" + extra, 1)
    engine = pg_engine(text)
    app = MigtuiApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await wait_for(pilot, lambda: engine.sources["gone"].state in ("error", "quarantined"), what="gone fails")
        panel = app.query_one("#panel-schema", KindPanel)

        def titles() -> list[str]:
            return [rendered(w) for w in panel.query(".section-title")]

        # not the 60s default: a source quarantined for a minute would show DISCONNECTED again after it
        try:
            await wait_for(pilot, lambda: any("gone" in t and "DISCONNECTED" in t for t in titles())
                           and any("db" in t and " ok" in t for t in titles()), timeout=20,
                           what="gone DISCONNECTED and db ok in the panel titles")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; gone is {engine.sources['gone'].state}, the titles: {titles()}") from None
        first = engine.series[next(k for k in engine.series if k[0] == "db")].points[-1]
        await wait_for(pilot, lambda: engine.series[next(k for k in engine.series if k[0] == "db")].points[-1] != first,
                       what="db to keep updating")


async def test_resize_between_80x24_and_200x50(pg, pg_engine) -> None:
    engine = pg_engine(pg_config(pg.dsn))
    app = MigtuiApp(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        await wait_for(pilot, lambda: app.screen.has_class("-narrow"), what="the narrow layout")
        panel = app.query_one("#panel-schema", KindPanel)
        await pilot.resize_terminal(200, 50)
        await wait_for(pilot, lambda: app.screen.has_class("-wide") and panel.size.width > 100, what="wide layout")
        await wait_for(pilot, lambda: app.query_one("#events").region.x > panel.region.x, what="the side column")
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: app.screen.has_class("-narrow") and panel.size.width < 80, what="narrow layout")
        await wait_for(pilot, lambda: app.query_one("#events").region.y > panel.region.y, what="the bottom row")
        await wait_for(pilot, lambda: "lock waiters" in rendered(app.query_one("#panel-schema #metrics-0")),
                       what="the metrics redrawn for 80 columns")


def test_run_cockpit_closes_the_engine(pg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """run_cockpit starts the engine thread and closes the engine (run finished) when the app exits."""
    from migtui.config import load_config
    from migtui.engine import Engine
    from migtui.store import Store
    from migtui.tui import app as app_mod

    cfg = tmp_path / "c.yaml"
    cfg.write_text(pg_config(pg.dsn, actions=False))
    engine = Engine(load_config(cfg), store=Store.open(tmp_path / "c.duckdb"), headless=False)
    seen: dict[str, Any] = {}

    def fake_run(self: MigtuiApp) -> None:  # App.run needs a terminal; drive it headless instead
        import asyncio

        async def go() -> None:
            async with self.run_test(size=(80, 24)) as pilot:
                await wait_for(pilot, lambda: self.engine.running and self.engine_updates >= 1, what="engine")
                seen["running"] = self.engine.running
                await pilot.press("q")

        asyncio.run(go())

    monkeypatch.setattr(app_mod.MigtuiApp, "run", fake_run)
    app_mod.run_cockpit(engine)
    assert seen["running"] is True
    assert not engine.running
    s = Store.open(tmp_path / "c.duckdb", read_only=True)
    try:
        [run] = s.runs()
        assert run["status"] == "finished"
    finally:
        s.close()


TRIGGERS = """\
triggers:
  - {name: always-fires, metric: pg.up, threshold: 0.5, action: rollback}   # pg.up is 1 while connected
  - {name: server-down, metric: pg.up, below: 0.5, action: warn}
"""


async def test_trigger_states_show_and_a_trigger_rollback_asks_the_operator(pg, pg_engine) -> None:
    engine = pg_engine(pg_config(pg.dsn, extra=TRIGGERS))
    assert engine.parts is not None and engine.parts.triggers is not None, "the engine did not build its triggers"
    app = MigtuiApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        # the trigger fires, its rollback needs confirmation, so the cockpit asks
        await wait_for(pilot, lambda: on_top(app, RollbackScreen, typing=True), what="the rollback question")
        reason = rendered(app.screen.query_one("#rollback-reason"))
        assert "trigger always-fires asks to roll back" in reason
        assert "downgrade" in rendered(app.screen.query_one("#rollback-plan"))
        await wait_for(pilot, lambda: all(p in rendered(app.triggers_view)
                                          for p in ("always-fires", "rollback", "server-down", "ok")),
                       what="the triggers table")
        await wait_for(pilot, lambda: "ROLLBACK" in header(app) and "always-fires" in header(app),
                       what="the header to show the trigger")
        assert not [e for e in engine.recent_events if e.kind == "action" and e.data.get("stage") == "result"]
        await pilot.press(*"tui-test", "enter")
        await wait_for(pilot, lambda: logged(app, "rollback ok: ", "| rolled back"), what="the rollback result")


async def test_a_database_restart_shows_disconnected_then_resumes(embedded_pg, pg_engine) -> None:
    import asyncio

    engine = pg_engine(pg_config(embedded_pg.dsn, actions=False))
    app = MigtuiApp(engine)
    server = embedded_pg.embedded
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        title = app.query_one("#panel-schema #title-0")
        try:
            await asyncio.to_thread(server.stop)
            await wait_for(pilot, lambda: "DISCONNECTED" in rendered(title), what="the panel to say disconnected")
            await wait_for(pilot, lambda: "DISCONNECTED" in header(app), what="the header to say so too")
            assert app.is_running
        finally:
            if not server.running:
                await asyncio.to_thread(server.start)
        await wait_for(pilot, lambda: "db ok" in rendered(title), timeout=40, what="the panel to resume")
        await wait_for(pilot, lambda: "recovered" in log_text(app), what="the recovery event")


async def test_note_key_and_a_keymap_from_the_config(pg, pg_engine) -> None:
    engine = pg_engine(pg_config(pg.dsn, extra="ui: {keymap: {pause: x, note: N}}\n"))
    app = MigtuiApp(engine)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await pilot.press("N")  # note moved from n to N by the keymap
        await wait_for(pilot, lambda: on_top(app, "NoteScreen", typing=True), what="the note input")
        await pilot.press(*"step 2 starts", "enter")
        await wait_for(pilot, lambda: "step 2 starts" in log_text(app), what="the note in the event log")
        notes = [e for e in engine.recent_events if e.kind == "note" and e.message == "step 2 starts"]
        assert notes and notes[0].subject == "operator (cockpit)"
        await pilot.press("x")  # pause moved to x
        await wait_for(pilot, lambda: logged(app, "pause ok: ", "| paused now"), what="pause through the remapped key")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: on_top(app, HelpScreen), what="the help")
        help_text = rendered(app.screen.query_one("#help-keys"))
        assert any(line.strip().startswith("x ") and "pause" in line for line in help_text.splitlines())
