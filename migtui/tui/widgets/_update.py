"""Redraw a widget only when what it shows changed.

Every ``Static.update`` makes Textual re-render the widget and, by default, lay out the whole screen
again (the most expensive part of a cockpit refresh). :func:`set_content` skips the update when the
key of the content (the data it is drawn from, compared with ``==``) is the one already shown, and
skips the layout when the new content has as many lines as the old one (tables here never wrap).
"""

from __future__ import annotations

from typing import Any, Callable

from rich.console import Group
from rich.table import Table
from rich.text import Text

_UNSET = object()


def line_count(renderable: Any, width: int) -> int | None:
    """Lines ``renderable`` takes at ``width`` cells, when that is known without rendering it."""
    if isinstance(renderable, str):
        renderable = Text(renderable)
    if isinstance(renderable, Text):
        lines = renderable.plain.split("\n")
        if width <= 0 or any(Text(line).cell_len > width for line in lines):
            return None  # may wrap
        return len(lines)
    if isinstance(renderable, Table):
        if renderable.box is not None or not all(_one_line_cells(c) for c in renderable.columns):
            return None  # borders, or a column whose cells may wrap
        return renderable.row_count + (1 if renderable.show_header else 0)
    if isinstance(renderable, Group):
        total = 0
        for part in renderable.renderables:
            n = line_count(part, width)
            if n is None:
                return None
            total += n
        return total
    return None


def _one_line_cells(column: Any) -> bool:
    """Every cell of ``column`` (its header too) takes one line: the column or each cell is no_wrap."""
    return column.no_wrap or all(isinstance(c, Text) and c.no_wrap and "\n" not in c.plain
                                 for c in [column.header, *column._cells])


def set_content(widget: Any, key: Any, build: Callable[[], Any]) -> bool:
    """``widget.update(build())`` unless ``key`` equals the key of what the widget shows; lays out the
    screen again only when the line count (or the widget's width) changes. True when it updated."""
    width = widget.size.width
    full_key = (width, key)
    if getattr(widget, "_migtui_key", _UNSET) == full_key:
        return False
    renderable = build()
    lines = line_count(renderable, width)
    old = getattr(widget, "_migtui_key", _UNSET)
    layout = (lines is None or lines != getattr(widget, "_migtui_lines", None) or not width
              or old is _UNSET or old[0] != width)
    widget._migtui_key = full_key
    widget._migtui_lines = lines
    widget.update(renderable, layout=layout)
    return True


def forget(widget: Any) -> None:
    """Make the next :func:`set_content` update ``widget`` whatever its key."""
    widget._migtui_key = _UNSET
