"""The fleet cockpit: ``migtui fleet watch --targets FILE``, one row per watched database.

Keys (every one a Binding with an id; ``?`` lists them):

| Key    | Binding id          | Action                                                       |
|--------|---------------------|--------------------------------------------------------------|
| enter  | fleet-details       | that database's own panels, from its /metrics                |
| s      | fleet-sort          | sort by the next column (verdict, database, progress, eta, lag, age) |
| r      | fleet-reverse       | reverse the order                                            |
| /      | fleet-filter        | filter: rows with this text in any cell                      |
| x      | fleet-problems      | show only databases that are not ok (unreachable included)   |
| escape | fleet-clear         | clear the filter and the problems-only toggle                |
| ?      | help                | every key                                                    |
| q      | quit                | quit                                                         |

The rows come from a :class:`migtui.fleet.poller.FleetPoller` on its own thread; the table reads its
snapshot once a second, redraws only when a row changed (or every 5 s for the ages) and changes only
the cells that changed. Everything a target says is
rendered through :mod:`migtui.safetext`.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Static

from migtui.fleet.metrics import MetricsError, parse_panels
from migtui.fleet.poller import FetchError, FleetPoller, TargetState
from migtui.fleet.rows import COLUMNS, SORT_KEYS, Row, arrange, row_of
from migtui.safetext import one_line, rich
from migtui.tui.screens.help import HelpScreen

VERDICT_STYLE = {"ok": "green", "warn": "yellow", "pause": "bold yellow", "rollback": "bold red",
                 "inconclusive": "magenta", "unreachable": "bold red", "waiting": "dim"}
CELL_WIDTH = 48
DETAIL_WAIT = 10.0


def _cells(row: Row) -> list[Any]:
    style = VERDICT_STYLE.get(row.verdict, "")
    out = [rich(c, width=CELL_WIDTH) for c in row.cells]
    out[COLUMNS.index("verdict")] = rich(row.cells[COLUMNS.index("verdict")], style)
    if row.error is not None:
        out[COLUMNS.index("phase")] = rich(row.cells[COLUMNS.index("phase")], "red", width=CELL_WIDTH)
    return out


class FleetDetailScreen(ModalScreen[None]):
    """One database: its status row and its /metrics series grouped by panel. ``esc`` closes."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "Close", id="fleet-detail-close")]
    DEFAULT_CSS = """
    FleetDetailScreen { align: center middle; }
    FleetDetailScreen > Vertical { width: 95%; height: 90%; border: thick $accent; background: $surface;
                                   padding: 0 1; }
    """

    def __init__(self, state: TargetState, poller: FleetPoller) -> None:
        super().__init__()
        self.state, self.poller = state, poller

    def compose(self) -> ComposeResult:
        row = row_of(self.state)
        with Vertical():
            yield Static(rich(f"{self.state.target.name}: {row.verdict} — {self.state.target.metrics_url}", "bold"),
                         id="detail-title")
            if row.error:
                yield Static(rich(f"last fetch of /status: {row.error}", "red"), id="detail-error")
            with VerticalScroll():
                yield Static(rich("reading /metrics …", "dim"), id="detail-body")

    def on_mount(self) -> None:
        self.load_metrics()

    @work(thread=True, exclusive=True)
    def load_metrics(self) -> None:
        from rich.text import Text

        try:
            text = self.poller.fetch_text(self.state.target.metrics_url, self.state.target).result(DETAIL_WAIT)
            panels = parse_panels(text)
        except (FetchError, MetricsError) as exc:
            body: Any = rich(f"/metrics: {exc}", "red")
        except Exception as exc:  # noqa: BLE001 - a future that timed out, a closed loop
            body = rich(f"/metrics: {type(exc).__name__}: {exc}", "red")
        else:
            parts: list[Any] = []
            for panel, series in panels.items():
                parts.append(rich(panel, "bold underline"))
                for s in series:
                    line = Text("  ")
                    line.append_text(rich(s.name, "cyan"))
                    if s.labels:
                        line.append_text(rich(f" {{{s.label_text()}}}", "dim"))
                    line.append(f"  {s.value:g}")
                    parts.append(line)
            body = Text("\n").join(parts) if parts else rich("/metrics has no series", "dim")
        self.app.call_from_thread(self.query_one("#detail-body", Static).update, body)

    def action_close(self) -> None:
        self.dismiss(None)


class FleetApp(App[None]):
    """One row per target of ``poller``; sort, filter, details."""

    TITLE = "migtui fleet"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", id="help"),
        Binding("enter", "details", "Details", id="fleet-details"),
        Binding("s", "sort", "Sort", id="fleet-sort"),
        Binding("r", "reverse", "Reverse", id="fleet-reverse"),
        Binding("slash", "filter", "Filter", id="fleet-filter"),
        Binding("x", "problems", "Problems only", id="fleet-problems"),
        Binding("escape", "clear", "Clear filter", id="fleet-clear"),
        Binding("q", "quit", "Quit", id="quit"),
    ]
    DEFAULT_CSS = """
    #fleet-summary { height: 1; padding: 0 1; background: $boost; }
    #fleet-filter-input { dock: bottom; display: none; }
    #fleet-filter-input.shown { display: block; }
    DataTable { height: 1fr; }
    """
    REDRAW_EVERY = 1.0
    """How often the table looks at the poller's snapshot; it redraws only when a row changed (or
    every AGE_EVERY seconds, for the age column): a redraw renders every visible cell again."""
    AGE_EVERY = 5.0

    def __init__(self, poller: FleetPoller, *, own_poller: bool = True) -> None:
        super().__init__()
        self.poller, self.own_poller = poller, own_poller
        self.sort_key, self.reverse, self.filter_text, self.problems_only = "verdict", False, "", False
        self._shown: list[str] = []
        self._cells: dict[str, tuple[str, ...]] = {}
        self._states: dict[str, TargetState] = {}
        self._seen_version, self._drawn_at = -1, 0.0

    def compose(self) -> ComposeResult:
        yield Static(id="fleet-summary")
        table: DataTable[Any] = DataTable(id="fleet-table", cursor_type="row", zebra_stripes=True)
        for col in COLUMNS:
            table.add_column(col, key=col)
        yield table
        yield Input(placeholder="filter: text in any cell (enter keeps it, esc clears)", id="fleet-filter-input")
        yield Footer()

    def on_mount(self) -> None:
        if self.own_poller:
            self.poller.start()
        self.set_interval(self.REDRAW_EVERY, self._tick)
        self.redraw()

    def on_unmount(self) -> None:
        if self.own_poller:
            self.poller.stop(wait=0)  # a daemon thread: exit never waits on a target

    # ------------------------------------------------------------------ drawing
    def _tick(self) -> None:
        version, _ = self.poller.snapshot()
        if version != self._seen_version or time.monotonic() - self._drawn_at >= self.AGE_EVERY:
            self.redraw()

    def visible_rows(self) -> list[Row]:
        self._seen_version, self._states = self.poller.snapshot()
        self._drawn_at = time.monotonic()
        rows = [row_of(st) for st in self._states.values()]
        return arrange(rows, self.sort_key, self.reverse, self.filter_text, self.problems_only)

    def redraw(self) -> None:
        rows = self.visible_rows()
        table = self.query_one("#fleet-table", DataTable)
        keys = [r.key for r in rows]
        if keys != self._shown:
            cursor_key = self._shown[table.cursor_row] if 0 <= table.cursor_row < len(self._shown) else None
            table.clear()
            for r in rows:
                table.add_row(*_cells(r), key=r.key)
            self._shown, self._cells = keys, {r.key: r.cells for r in rows}
            if cursor_key in keys:
                table.move_cursor(row=keys.index(cursor_key))
        else:
            for r in rows:
                old = self._cells.get(r.key)
                if old == r.cells:
                    continue
                new = _cells(r)
                for i, col in enumerate(COLUMNS):
                    if old is None or old[i] != r.cells[i] or col == "verdict":
                        table.update_cell(r.key, col, new[i])
                self._cells[r.key] = r.cells
        unreachable = sum(1 for st in self._states.values() if st.error is not None)
        summary = (f"{len(self._states)} databases, {len(rows)} shown, {unreachable} unreachable · sort: "
                   f"{self.sort_key}{' (reversed)' if self.reverse else ''}"
                   + (f" · filter: {self.filter_text}" if self.filter_text else "")
                   + (" · problems only" if self.problems_only else ""))
        self.query_one("#fleet-summary", Static).update(rich(summary))

    # ------------------------------------------------------------------ keys
    def action_sort(self) -> None:
        self.sort_key = SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]
        self.redraw()

    def action_reverse(self) -> None:
        self.reverse = not self.reverse
        self.redraw()

    def action_problems(self) -> None:
        self.problems_only = not self.problems_only
        self.redraw()

    def action_filter(self) -> None:
        box = self.query_one("#fleet-filter-input", Input)
        box.add_class("shown")
        box.focus()

    def action_clear(self) -> None:
        box = self.query_one("#fleet-filter-input", Input)
        box.value, self.filter_text, self.problems_only = "", "", False
        box.remove_class("shown")
        self.query_one("#fleet-table", DataTable).focus()
        self.redraw()

    @on(Input.Changed, "#fleet-filter-input")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = one_line(event.value)
        self.redraw()

    @on(Input.Submitted, "#fleet-filter-input")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.input.remove_class("shown")
        self.query_one("#fleet-table", DataTable).focus()

    @on(DataTable.RowSelected, "#fleet-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_details()

    def action_details(self) -> None:
        table = self.query_one("#fleet-table", DataTable)
        if not self._shown or not 0 <= table.cursor_row < len(self._shown):
            return
        state = self._states.get(self._shown[table.cursor_row])
        if state is not None:
            self.push_screen(FleetDetailScreen(state, self.poller))

    def action_help(self) -> None:
        notes = ("Rows: one per target of --targets; an unreachable watch shows its error in the phase column "
                 "and its last known values with their age. Sort order for verdict: unreachable, rollback, pause, "
                 "warn, inconclusive, then ok.")
        self.push_screen(HelpScreen([b for b in self.BINDINGS if isinstance(b, Binding)], notes))


def run_fleet(poller: FleetPoller) -> None:
    FleetApp(poller).run()
