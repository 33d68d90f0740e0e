"""The fleet cockpit (``migtui fleet watch``) as a user sees it, on real HTTP stand-ins on 127.0.0.1:
rows appear, a hanging watch and a dead one show as unreachable while the others keep updating,
sort/filter keys, Enter opens a database's /metrics panels, hostile text renders literally."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Static

from migtui.fleet.poller import FleetPoller
from migtui.fleet.targets import Target, metrics_url_for
from migtui.tui.fleet import FleetApp, FleetDetailScreen
from migtui.tui.widgets.rowtable import RowTable
from migtui.tui.screens import HelpScreen
from tests.tui.conftest import rendered, wait_for
from tests.servers.fleet_watch import HangingWatch, StandInWatch, closed_port_url

HOSTILE = "\x1b]52;c;cHduZWQ=\x07[red]db[/] \u202eevil"


def cell(app: FleetApp, key: str, column: str) -> str:
    table = app.query_one("#fleet-table", RowTable)
    try:
        return table.get_cell(key, column)
    except KeyError:  # the row is not (yet) shown
        return ""


def shown(app: FleetApp) -> list[str]:
    return app.query_one("#fleet-table", RowTable).keys


def painted(app: FleetApp) -> str:
    """The lines the table shows on the screen now (Textual's line cache: a line not marked dirty since
    it was drawn stays as it was drawn)."""
    from textual.geometry import Region

    table = app.query_one("#fleet-table", RowTable)
    return "\n".join(s.text for s in table.render_lines(Region(0, 0, table.size.width, table.size.height)))


def on_screen(app: FleetApp) -> list[str]:
    """The database column of the painted rows, top to bottom."""
    return [line.split()[0] for line in painted(app).splitlines()[1:] if line.strip()]


@pytest.fixture
def fleet() -> Any:
    with StandInWatch("alpha", verdict="ok") as alpha, \
            StandInWatch("beta", verdict="pause", progress={"percent": 80.0, "eta_seconds": 60},
                         triggers=[{"name": "lock-waits", "state": "firing", "value": 9, "threshold": 5}]) as beta, \
            StandInWatch("gamma", phase=HOSTILE, verdict="warn",
                         triggers=[{"name": HOSTILE, "state": "pending", "value": 1, "threshold": 2}]) as gamma, \
            HangingWatch() as hang:
        urls = {"alpha": alpha.url, "beta": beta.url, "gamma": gamma.url, "hang": hang.url,
                "dead": closed_port_url()}
        targets = [Target(n, u, metrics_url_for(u)) for n, u in urls.items()]
        poller = FleetPoller(targets, interval=0.5, timeout=0.4)
        yield poller, {"alpha": alpha, "beta": beta, "gamma": gamma}
        poller.stop()


async def test_rows_unreachable_and_live_updates(fleet: Any) -> None:
    poller, watches = fleet
    app = FleetApp(poller)
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, lambda: cell(app, "alpha", "verdict") == "ok", what="alpha's row")
        assert cell(app, "beta", "worst trigger") == "lock-waits firing 9/5"
        assert cell(app, "beta", "progress") == "80.0%" and cell(app, "beta", "eta") == "1m00s"
        await wait_for(pilot, lambda: cell(app, "hang", "verdict") == "unreachable", what="the hanging watch unreachable")
        assert "timeout after 0.4s" in cell(app, "hang", "phase")
        await wait_for(pilot, lambda: cell(app, "dead", "verdict") == "unreachable", what="the dead watch unreachable")
        assert "unreachable" in cell(app, "dead", "phase")
        # the others keep updating while the hanging one times out every round
        watches["alpha"].status["verdict"] = "rollback"
        await wait_for(pilot, lambda: cell(app, "alpha", "verdict") == "rollback", what="alpha's new verdict")
        # default sort: worst first (unreachable, then rollback, pause, warn)
        assert shown(app)[:2] == ["dead", "hang"] or shown(app)[:2] == ["hang", "dead"]
        assert shown(app)[2:] == ["alpha", "beta", "gamma"]


async def test_sort_filter_keys(fleet: Any) -> None:
    poller, _ = fleet
    app = FleetApp(poller)
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, lambda: len(shown(app)) == 5 and cell(app, "gamma", "verdict") == "warn", what="five rows")
        await pilot.press("s")  # database A-Z
        assert shown(app) == ["alpha", "beta", "dead", "gamma", "hang"]
        await pilot.press("r")
        assert shown(app) == ["hang", "gamma", "dead", "beta", "alpha"]
        await pilot.pause()
        assert on_screen(app) == ["hang", "gamma", "dead", "beta", "alpha"]  # painted in that order too
        assert "lock-waits firing 9/5" in painted(app).splitlines()[4]  # beta's own values on beta's line
        await pilot.press("slash", "b", "e", "t", "enter")
        assert shown(app) == ["beta"]
        await pilot.pause()
        assert on_screen(app) == ["beta"]
        await pilot.press("escape")
        assert len(shown(app)) == 5
        await pilot.press("x")  # problems only: every row but the ok one
        await wait_for(pilot, lambda: "alpha" not in shown(app) and len(shown(app)) == 4, what="problems only")
        assert "problems only" in str(app.query_one("#fleet-summary", Static).render())
        await pilot.press("question_mark")  # help lists every key with its binding id
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        keys = rendered(app.screen.query_one("#help-keys"))
        assert all(b_id in keys for b_id in ("fleet-sort", "fleet-filter", "fleet-problems", "fleet-details"))


async def test_enter_opens_metrics_panels(fleet: Any) -> None:
    poller, _ = fleet
    app = FleetApp(poller)
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: cell(app, "beta", "verdict") == "pause", what="beta's row")
        await pilot.press("s")  # database A-Z: beta is the second row
        table = app.query_one("#fleet-table", RowTable)
        table.move_cursor(row=shown(app).index("beta"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, FleetDetailScreen), what="the detail screen")
        body = app.screen.query_one("#detail-body", Static)
        await wait_for(pilot, lambda: "migtui_migration_percent" in str(body.render()), what="the metrics panels")
        text = str(body.render())
        assert text.splitlines()[0] == "db"  # series grouped under their source's panel
        assert "migtui_lock_waits" in text and "42.5" in text and "trigger=lock-waits" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, FleetDetailScreen)


async def test_hostile_fields_render_literally(fleet: Any) -> None:
    poller, _ = fleet
    app = FleetApp(poller)
    async with app.run_test(size=(200, 30)) as pilot:
        await wait_for(pilot, lambda: cell(app, "gamma", "verdict") == "warn", what="gamma's row")
        phase = cell(app, "gamma", "phase")
        assert "\x1b" not in phase and "\u202e" not in phase
        assert phase.startswith("\\x1b]52;c;cHduZWQ=\\x07[red]db[/] \\u202eevil")
        # on the screen: the literal text, never parsed as markup ("[red]" stays text)
        screen = painted(app)
        assert "[red]db[/] \\u202eevil" in screen and "\x1b" not in screen and "\u202e" not in screen
        assert "[red]db[/]" in cell(app, "gamma", "worst trigger")
        assert "\x1b" not in cell(app, "gamma", "worst trigger")


def test_every_fleet_key_is_documented() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "fleet.md").read_text()
    for b in [*FleetApp.BINDINGS, *RowTable.BINDINGS]:
        assert f"`{b.id}`" in page, f"binding {b.id} is not on docs/fleet.md"  # type: ignore[union-attr]
