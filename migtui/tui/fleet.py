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

The rows come from a :class:`migtui.fleet.poller.FleetPoller` on its own thread. When a target's
state changes the poller wakes the app (one message, however many answers arrive before it is
handled); the app redraws at most every ``MIN_GAP`` seconds (and every ``AGE_EVERY`` seconds for the
age column), builds rows only for the targets whose state changed, and the
:class:`~migtui.tui.widgets.rowtable.RowTable` repaints only the rows whose text or place changed.
Everything a target says is rendered through :mod:`migtui.safetext`.

With finders (``--selector``), a line under the summary says per finder what it found and left out,
or why its last list failed (the rows of its last good list stay); they list on their own threads and
the line is redrawn every second from their last result.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.message import Message
from textual.widgets import Footer, Input, Static

from migtui.fleet.discovery import FleetDiscovery, finder_line
from migtui.fleet.metrics import MetricsError, parse_panels
from migtui.fleet.poller import FetchError, FleetPoller, TargetState
from migtui.fleet.rows import COLUMNS, SORT_KEYS, Row, arrange, row_of
from migtui.safetext import one_line, rich
from migtui.tui.screens.help import HelpScreen
from migtui.tui.widgets._update import set_content
from migtui.tui.widgets.rowtable import RowTable, TableRow

VERDICT_STYLE = {"ok": "green", "warn": "yellow", "pause": "bold yellow", "rollback": "bold red",
                 "inconclusive": "magenta", "unreachable": "bold red", "waiting": "dim"}
CELL_WIDTH = 48
DETAIL_WAIT = 10.0


def table_row(row: Row) -> TableRow:
    """A fleet row as the table shows it: safe one-line cells, the verdict in its colour, an error in red."""
    styles = [""] * len(COLUMNS)
    styles[COLUMNS.index("verdict")] = VERDICT_STYLE.get(row.verdict, "")
    if row.error is not None:
        styles[COLUMNS.index("phase")] = "red"
    return TableRow(row.key, tuple(one_line(c, CELL_WIDTH) for c in row.cells), tuple(styles))


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


class FleetChanged(Message):
    """The poller has news (posted from its thread, at most one waiting at a time)."""


class FleetRoundEnded(Message):
    """Every answer of a round is in (or timed out): draw it now rather than after ``MIN_GAP``."""


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
    #fleet-finders { height: auto; max-height: 4; padding: 0 1; }
    #fleet-filter-input { dock: bottom; display: none; }
    #fleet-filter-input.shown { display: block; }
    #fleet-table { height: 1fr; }
    """
    MIN_GAP = 0.2
    """Seconds between two redraws at least: the answers of a round arrive over a few hundred ms."""
    AGE_EVERY = 5.0
    """The age column moves with the clock: every row is rebuilt this often even without news."""

    def __init__(self, poller: FleetPoller, *, own_poller: bool = True,
                 discovery: FleetDiscovery | None = None) -> None:
        super().__init__()
        self.poller, self.own_poller, self.discovery = poller, own_poller, discovery
        self.sort_key, self.reverse, self.filter_text, self.problems_only = "verdict", False, "", False
        self._states: dict[str, TargetState] = {}
        self._rows: dict[str, tuple[TargetState, Row, TableRow]] = {}
        self._seen_version, self._drawn_at, self._rebuild_all = -1, 0.0, False
        self._woken = False
        self._redraw_timer: Any = None

    def compose(self) -> ComposeResult:
        yield Static(id="fleet-summary")
        if self.discovery is not None:
            yield Static(id="fleet-finders")
        yield RowTable(COLUMNS, id="fleet-table")
        yield Input(placeholder="filter: text in any cell (enter keeps it, esc clears)", id="fleet-filter-input")
        yield Footer()

    def on_mount(self) -> None:
        self.poller.on_change = self._poller_changed
        self.poller.on_round = lambda _poller, _took: self.post_message(FleetRoundEnded())
        if self.own_poller:
            self.poller.start()
            if self.discovery is not None:
                self.discovery.start()
        self.set_interval(self.AGE_EVERY, self._age_tick)
        if self.discovery is not None:
            self.set_interval(1.0, self.draw_finders)
            self.draw_finders()
        self.redraw()

    def on_unmount(self) -> None:
        self.poller.on_change = self.poller.on_round = None
        if self.own_poller:
            self.poller.stop(wait=0)  # a daemon thread: exit never waits on a target
            if self.discovery is not None:
                self.discovery.stop()  # daemon threads too: exit never waits on the API server

    # ------------------------------------------------------------------ drawing
    def _poller_changed(self) -> None:
        """On the poller thread: wake the app once until it has redrawn."""
        if not self._woken:
            self._woken = True
            self.post_message(FleetChanged())

    @on(FleetChanged)
    def _news(self) -> None:
        if self._redraw_timer is not None:
            return
        wait = self._drawn_at + self.MIN_GAP - time.monotonic()
        if wait > 0:
            self._redraw_timer = self.set_timer(wait, self._timed_redraw)
        else:
            self.redraw()

    @on(FleetRoundEnded)
    def _round_ended(self) -> None:
        if self._redraw_timer is not None:
            self._redraw_timer.stop()
            self._redraw_timer = None
        if self._seen_version != self.poller.version:
            self.redraw()

    def _timed_redraw(self) -> None:
        self._redraw_timer = None
        self.redraw()

    def _age_tick(self) -> None:
        self._rebuild_all = True
        self.redraw()

    def visible_rows(self) -> list[Row]:
        self._woken = False  # news after this snapshot wakes the app again
        self._seen_version, self._states = self.poller.snapshot()
        self._drawn_at = time.monotonic()
        now, cache, fresh = time.time(), ({} if self._rebuild_all else self._rows), {}
        self._rebuild_all = False
        for name, st in self._states.items():
            hit = cache.get(name)
            if hit is not None and hit[0] is st:
                fresh[name] = hit
            else:
                row = row_of(st, now)
                fresh[name] = (st, row, table_row(row))
        self._rows = fresh
        rows = [r for _, r, _ in fresh.values()]
        return arrange(rows, self.sort_key, self.reverse, self.filter_text, self.problems_only)

    def draw_finders(self) -> None:
        """One line per finder, from its last result (the ages move: every second, without laying out
        the screen again while the lines are as many)."""
        if self.discovery is None:
            return
        from rich.text import Text

        now = time.time()
        lines = [(finder_line(st, now), bool(st.error)) for st in self.discovery.snapshot()[1]]
        set_content(self.query_one("#fleet-finders", Static), lines,  # same line count: no screen layout
                    lambda: Text("\n").join(rich(text, "red" if failed else "dim", width=400)
                                            for text, failed in lines))

    def redraw(self) -> None:
        rows = self.visible_rows()
        self.query_one("#fleet-table", RowTable).set_rows([self._rows[r.key][2] for r in rows])
        unreachable = sum(1 for st in self._states.values() if st.error is not None)
        summary = (f"{len(self._states)} databases, {len(rows)} shown, {unreachable} unreachable · sort: "
                   f"{self.sort_key}{' (reversed)' if self.reverse else ''}"
                   + (f" · filter: {self.filter_text}" if self.filter_text else "")
                   + (" · problems only" if self.problems_only else ""))
        set_content(self.query_one("#fleet-summary", Static), summary, lambda: rich(summary))

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
        self.query_one("#fleet-table", RowTable).focus()
        self.redraw()

    @on(Input.Changed, "#fleet-filter-input")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = one_line(event.value)
        self.redraw()

    @on(Input.Submitted, "#fleet-filter-input")
    def _filter_done(self, event: Input.Submitted) -> None:
        event.input.remove_class("shown")
        self.query_one("#fleet-table", RowTable).focus()

    def action_details(self) -> None:
        key = self.query_one("#fleet-table", RowTable).cursor_key
        state = self._states.get(key) if key is not None else None
        if state is not None:
            self.push_screen(FleetDetailScreen(state, self.poller))

    def action_help(self) -> None:
        notes = ("Rows: one per target of --targets and per watch pod that --selector finds (the line under the "
                 "summary says what each finder found, or why its last list failed); an unreachable watch shows its error in the phase column "
                 "and its last known values with their age. Sort order for verdict: unreachable, rollback, pause, "
                 "warn, inconclusive, then ok.")
        self.push_screen(HelpScreen([b for b in self.BINDINGS if isinstance(b, Binding)], notes))


def run_fleet(poller: FleetPoller, discovery: FleetDiscovery | None = None) -> None:
    FleetApp(poller, discovery=discovery).run()
