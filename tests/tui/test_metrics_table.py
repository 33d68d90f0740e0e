"""The panel's metrics table (redrawn at every refresh) is drawn as one Text, without Rich's
per-cell table layout: on screen it is the table Rich draws, cell for cell and style for style, at
the cockpit's widths (and Rich's own table when the columns do not fit)."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.style import Style
from rich.table import Table
from rich.text import Text

from migtui.tui.widgets.panel import fixed_table

COLUMNS = [("metric", 16, "left"), ("state", 9, "left"), ("now", 10, "right"), ("base", 10, "right"),
           ("Δ", 6, "right"), ("last 1m", 50, "left")]


def _rows() -> list[list[Text]]:
    spark = Text()
    spark.append("▁▂▃", style="dim")
    spark.append("▇█", style="green")
    return [
        [Text("lock waiters"), Text("ok", style="green"), Text("0"), Text("-"), Text("-"), spark],
        [Text("a metric name far too long for its column", style="red"), Text("critical", style="red"),
         Text("1,234,567", style="red"), Text("3.2ms"), Text("+123.4%"), Text("···", style="dim")],
        [Text("连接数 used"), Text("stale 5m", style="dim"), Text("50.8s "), Text("0"), Text("+5"), Text("")],
    ]


def _table(columns: list[tuple[str, int, str]], rows: list[list[Text]]) -> Table:
    """Rich's own table of these columns (what the panel drew before, and draws when they do not fit)."""
    table = fixed_table(columns, rows, 1)
    assert isinstance(table, Table) and [c.width for c in table.columns] == [w for _, w, _ in columns]
    return table


def _screen(renderable: object, width: int) -> list[list[tuple[str, Style]]]:
    console = Console(width=width, force_terminal=True, color_system="truecolor")
    return [[(ch, seg.style or Style.null()) for seg in line for ch in seg.text]
            for line in console.render_lines(renderable, console.options.update(width=width), pad=True)]


@pytest.mark.parametrize("width", [114, 120, 200])
def test_metrics_table_shows_what_richs_table_shows(width: int) -> None:
    rows = _rows()
    drawn = fixed_table(COLUMNS, rows, width)
    assert isinstance(drawn, Text)
    screen = _screen(drawn, width)
    assert screen == _screen(_table(COLUMNS, rows), width)
    plain = ["".join(ch for ch, _ in line) for line in screen]
    assert plain[2].startswith(" a metric name f…  critical    1,234,567       3.2ms  +123.…  ···")
    assert plain[1][30:40] == "         0"  # numbers right-aligned in their column


def test_metrics_table_too_wide_is_richs_table() -> None:
    rows = _rows()
    drawn = fixed_table(COLUMNS, rows, 80)  # 113 cells of columns: Rich narrows them to fit
    assert isinstance(drawn, Table)
    plain = ["".join(ch for ch, _ in line).rstrip() for line in _screen(drawn, 80)]
    assert max(map(len, plain)) <= 80 and plain[1].split()[:3] == ["lock", "wait…", "ok"]
