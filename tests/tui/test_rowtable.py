"""The fleet cockpit's table (RowTable) as the screen shows it: a changed value is painted on its own
row (the other rows' lines come from the cache, not rendered again), and after a new order, a filter,
a scroll or a resize every painted line still shows its own row's current values."""

from __future__ import annotations

from textual.app import App, ComposeResult

from migtui.tui.widgets.rowtable import RowTable, TableRow

COLUMNS = ("database", "phase", "verdict")


def rows(n: int, phase: dict[str, str] | None = None) -> list[TableRow]:
    phase = phase or {}
    return [TableRow(f"db-{i:03d}", (f"db-{i:03d}", phase.get(f"db-{i:03d}", "migration"), "ok"), ("", "", "green"))
            for i in range(n)]


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield RowTable(COLUMNS, id="t")


def painted(table: RowTable) -> list[str]:
    """What the table's lines show on the screen now (first line: the header), from Textual's line cache:
    a line not marked dirty since it was drawn stays as it was drawn."""
    from textual.geometry import Region

    return [s.text.rstrip() for s in table.render_lines(Region(0, 0, table.size.width, table.size.height))]


def line_of(table: RowTable, key: str) -> str:
    return next(line for line in painted(table)[1:] if line.split()[:1] == [key])


async def test_a_change_repaints_its_row_only_and_shows_the_new_value() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(RowTable)
        table.set_rows(rows(200))
        await pilot.pause()
        assert painted(table)[0].split() == ["database", "phase", "verdict"]
        assert [line.split()[0] for line in painted(table)[1:]] == [f"db-{i:03d}" for i in range(23)]
        before = table.painted_rows
        dirty = table.set_rows(rows(200, {"db-005": "backfill"}))
        await pilot.pause()
        assert dirty == 1
        assert line_of(table, "db-005").split() == ["db-005", "backfill", "ok"]
        assert line_of(table, "db-004").split() == ["db-004", "migration", "ok"]
        assert table.painted_rows - before == 1  # the 22 other visible rows came from the cache


async def test_order_filter_scroll_and_width_keep_every_line_right() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 12)) as pilot:
        table = app.query_one(RowTable)
        table.set_rows(rows(50))
        await pilot.pause()
        table.move_cursor(3)  # the cursor stays on db-003 whatever the order
        # reversed order and one changed value at the same time
        new = list(reversed(rows(50, {"db-047": "copy"})))
        table.set_rows(new)
        await pilot.pause()
        shown = painted(table)[1:]
        assert [line.split()[0] for line in shown] == [f"db-{i:03d}" for i in range(49, 38, -1)]
        assert shown[2].split() == ["db-047", "copy", "ok"]
        assert table.cursor_key == "db-003"
        # a filter: fewer rows, the rest of the screen blank
        table.set_rows([r for r in new if r.key in ("db-047", "db-001")])
        await pilot.pause()
        assert painted(table)[1:3] == [line_of(table, "db-047"), line_of(table, "db-001")]
        assert line_of(table, "db-047").split() == ["db-047", "copy", "ok"]
        assert all(not line.strip() for line in painted(table)[3:])
        # a wider value widens its column for every row
        wide = "a phase name much longer than the others"
        table.set_rows([TableRow("db-047", ("db-047", wide, "ok")), TableRow("db-001", ("db-001", "x", "ok"))])
        await pilot.pause()
        first, second = painted(table)[1:3]
        assert wide in first and first.index("ok") == second.index("ok")
        # scrolling: the header stays, the rows move
        table.set_rows(rows(50))
        await pilot.pause()
        table.action_edge(1)
        await pilot.pause()
        assert painted(table)[0].split() == ["database", "phase", "verdict"]
        assert painted(table)[-1].split()[0] == "db-049"
        assert table.cursor_key == "db-049"


async def test_hostile_cells_are_text_on_the_screen() -> None:
    app = TableApp()
    async with app.run_test(size=(100, 8)) as pilot:
        table = app.query_one(RowTable)
        table.set_rows([TableRow("x", ("x", "[red]db[/] [bold]", "ok"))])
        await pilot.pause()
        assert "[red]db[/] [bold]" in line_of(table, "x")
