"""Table snapshots: cells as one line of safe text, and which columns a table shows."""

from __future__ import annotations

import math
from typing import Any, Sequence

from rich.text import Text

from migtui import safetext


def cell_str(value: Any, width: int = 60) -> str:
    """A table cell as one line of safe text (:mod:`migtui.safetext`): numbers formatted, lists joined,
    control characters shown as escapes, cut to ``width`` with ``…``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.0f}" if value.is_integer() and abs(value) >= 100 else f"{value:.1f}"
    if isinstance(value, (list, tuple)):
        return safetext.one_line(",".join(cell_str(v, 0) for v in value), width or None)
    return safetext.one_line(value, width or None)


def cell(value: Any, width: int = 60, style: str = "") -> Text:
    """A table cell: :func:`cell_str` as a ``Text``, which Rich never parses as markup. It never wraps:
    in a column narrower than itself it ends in ``…`` (numbers and pids get columns that fit them)."""
    return Text(cell_str(value, width), style=style, end="", no_wrap=True, overflow="ellipsis")


def wrapped_cell(value: Any, width: int = 200) -> Text:
    """A cell of a table drawn with ``render: wrap``: the same safe text, wrapped at word boundaries
    onto as many lines as its column needs (a word longer than the column is folded)."""
    return Text(cell_str(value, width), end="", no_wrap=False, overflow="fold")


def visible_columns(preferred: Sequence[str], columns: Sequence[str]) -> list[str]:
    """The preferred columns the table has, in their order; else its first ten (no ``tag_*``)."""
    cols = [c for c in preferred if c in columns]
    if cols:
        return cols
    return [c for c in columns if not c.startswith("tag_")][:10]
