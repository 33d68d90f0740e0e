"""A keyed table that repaints only the rows that changed: the fleet cockpit's 200-row view.

Textual's ``DataTable`` bumps one counter on every ``update_cell`` and that counter is part of every
row's render cache key, so changing one cell renders every visible cell again through Rich (most of
the fleet cockpit's CPU). Here each row is one cached :class:`~textual.strip.Strip`, keyed by its
cells, its styles and the column widths; :meth:`RowTable.set_rows` compares the new rows with the
shown ones and marks dirty only the screen lines of rows whose text, style or place changed (a new
order or filter repaints the viewport from the cache, rendering only rows it has not seen).

Cells are plain strings that the caller has already made safe (:func:`migtui.safetext.one_line`):
they become :class:`~rich.segment.Segment` text directly and are never parsed as markup. The header
stays on the first line; the cursor is a row (kept on the same key across reorders); ``up``/``down``,
``pageup``/``pagedown``, ``home``/``end`` and a click move it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip


@dataclass(frozen=True)
class TableRow:
    key: str
    cells: tuple[str, ...]
    """Safe one-line text per column."""
    styles: tuple[str, ...] = ()
    """A Rich style per column ("" or missing: the row's style)."""


class RowTable(ScrollView, can_focus=True):
    """Rows of safe text under a fixed header; repaints changed rows only."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"rowtable--header", "rowtable--cursor", "rowtable--even"}
    DEFAULT_CSS = """
    RowTable { background: $surface; color: $foreground; }
    RowTable > .rowtable--header { background: $panel; color: $foreground; text-style: bold; }
    RowTable > .rowtable--cursor { background: $block-cursor-background; color: $block-cursor-foreground;
                                   text-style: bold; }
    RowTable:blur > .rowtable--cursor { background: $block-cursor-blurred-background;
                                        color: $block-cursor-blurred-foreground; text-style: none; }
    RowTable > .rowtable--even { background: $surface-lighten-1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False, id="rowtable-up"),
        Binding("down", "cursor(1)", "Down", show=False, id="rowtable-down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="rowtable-pageup"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="rowtable-pagedown"),
        Binding("home", "edge(0)", "First row", show=False, id="rowtable-home"),
        Binding("end", "edge(1)", "Last row", show=False, id="rowtable-end"),
    ]
    MAX_WIDTH = 48
    """No column is wider than this (cells are cut by the caller; a wider one is cropped here)."""

    class CursorMoved(Message):
        def __init__(self, table: "RowTable", key: str | None) -> None:
            super().__init__()
            self.table, self.key = table, key

    def __init__(self, columns: Sequence[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns = tuple(columns)
        self.rows: list[TableRow] = []
        self._index: dict[str, int] = {}
        self._widths = tuple(cell_len(c) for c in self.columns)
        self._strips: dict[tuple[object, ...], Strip] = {}
        self._cursor = 0
        self.painted_rows = 0
        """Row strips rendered so far (not served from the cache): what a refresh cost."""

    # ------------------------------------------------------------------ reading
    @property
    def keys(self) -> list[str]:
        return [r.key for r in self.rows]

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def cursor_key(self) -> str | None:
        return self.rows[self._cursor].key if 0 <= self._cursor < len(self.rows) else None

    def get_cell(self, key: str, column: str) -> str:
        """The text shown in row ``key``, column ``column`` (KeyError when the row is not shown)."""
        return self.rows[self._index[key]].cells[self.columns.index(column)]

    # ------------------------------------------------------------------ writing
    def set_rows(self, rows: Sequence[TableRow]) -> int:
        """Show ``rows`` in this order; the cursor stays on its row's key. Returns the lines marked dirty."""
        old_rows, old_key, old_cursor = self.rows, self.cursor_key, self._cursor
        rows = list(rows)
        widths = self._measure(rows)
        self.rows, self._index = rows, {r.key: i for i, r in enumerate(rows)}
        if old_key in self._index:
            self._cursor = self._index[old_key]
        self._cursor = max(0, min(self._cursor, len(rows) - 1))
        resized = widths != self._widths or len(rows) != len(old_rows)
        self._widths = widths
        if resized:
            self._strips.clear()  # cached lines have the old widths
            self.virtual_size = Size(sum(widths) + 2 * len(widths), len(rows) + 1)
            self.refresh()
            return len(rows) + 1
        top, height = int(self.scroll_y), max(0, self.size.height - 1)
        dirty = 0
        for i in range(top, min(len(rows), top + height)):
            if old_rows[i] != rows[i] or (old_cursor != self._cursor and i in (old_cursor, self._cursor)):
                self.refresh_line(i + 1)
                dirty += 1
        if len(self._strips) > 4 * max(len(rows), 64):
            self._strips.clear()
        return dirty

    def move_cursor(self, row: int) -> None:
        if not self.rows:
            return
        old, self._cursor = self._cursor, max(0, min(row, len(self.rows) - 1))
        if old != self._cursor:
            self.refresh_line(old + 1)
            self.refresh_line(self._cursor + 1)
            self.post_message(self.CursorMoved(self, self.cursor_key))
        self._scroll_to_cursor()

    def _scroll_to_cursor(self) -> None:
        height = max(1, self.size.height - 1)
        top = int(self.scroll_y)
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False)
        elif self._cursor >= top + height:
            self.scroll_to(y=self._cursor - height + 1, animate=False)

    def _measure(self, rows: Sequence[TableRow]) -> tuple[int, ...]:
        widths = [cell_len(c) for c in self.columns]
        for r in rows:
            for i, c in enumerate(r.cells[: len(widths)]):
                n = len(c) if c.isascii() else cell_len(c)
                if n > widths[i]:
                    widths[i] = n
        return tuple(min(w, self.MAX_WIDTH) for w in widths)

    # ------------------------------------------------------------------ keys and mouse
    def action_cursor(self, step: int) -> None:
        self.move_cursor(self._cursor + step)

    def action_page(self, step: int) -> None:
        self.move_cursor(self._cursor + step * max(1, self.size.height - 2))

    def action_edge(self, last: int) -> None:
        self.move_cursor(len(self.rows) - 1 if last else 0)

    def _on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self.move_cursor(int(self.scroll_y) + event.y - 1)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self.refresh()  # the header line stays; every row line moves

    # ------------------------------------------------------------------ painting
    def _line(self, cells: Sequence[str], styles: Sequence[str], base: Style) -> Strip:
        segments, parse = [], Style.parse
        for i, width in enumerate(self._widths):
            text = cells[i] if i < len(cells) else ""
            style = base + parse(styles[i]) if i < len(styles) and styles[i] else base
            segments.append(Segment(" " + set_cell_size(text, width) + " ", style))
        return Strip(segments, sum(self._widths) + 2 * len(self._widths))

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, top = int(self.scroll_x), int(self.scroll_y)
        base = self.rich_style
        if y == 0:
            style = base + self.get_component_rich_style("rowtable--header")
            strip = self._cached(("header", self._widths, style), lambda: self._line(self.columns, (), style))
        else:
            index = top + y - 1
            if index >= len(self.rows):
                return Strip.blank(width, base)
            row = self.rows[index]
            if index == self._cursor:
                style = base + self.get_component_rich_style("rowtable--cursor")
            elif index % 2:
                style = base + self.get_component_rich_style("rowtable--even")
            else:
                style = base
            strip = self._cached((row, self._widths, style), lambda: self._line(row.cells, row.styles, style))
        return strip.crop_extend(scroll_x, scroll_x + width, style)

    def _cached(self, key: tuple[object, ...], build: "object") -> Strip:
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = build()  # type: ignore[operator]
            self.painted_rows += 1
        return strip

    def on_resize(self, event: events.Resize) -> None:
        self._scroll_to_cursor()
