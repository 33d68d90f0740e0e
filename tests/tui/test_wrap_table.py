"""A table drawn with ``render: wrap`` (the panel "Pending migration") wraps its cells at word
boundaries and never squeezes a column into a stack of folded word pieces: every word on the screen
is a whole word of some cell, at the cockpit's widths."""

from __future__ import annotations

import pytest
from rich.console import Console

from migtui.model import TableSpec
from migtui.tui.widgets.panel import render_rows

COLUMNS = ("statement", "risk", "blockers", "findings", "locks", "sql")  # the panel's order
# the demo's migration.sql as the panel shows it while the report session holds its snapshot
ROWS = [
    {"statement": "migration.sql:5", "risk": "-", "blockers": "none", "locks": "-", "findings": "-",
     "sql": "SET lock_timeout = '5s'"},
    {"statement": "migration.sql:6", "risk": "high", "blockers": "pid 8438 active 3s +1",
     "locks": "AccessExclusive orders", "findings": "-",
     "sql": "ALTER TABLE orders ADD COLUMN IF NOT EX…"},
    {"statement": "migration.sql:7", "risk": "-", "blockers": "none", "locks": "-", "findings": "-",
     "sql": "RESET lock_timeout"},
    {"statement": "migration.sql:8", "risk": "low", "blockers": "pid 8365 active 3s",
     "locks": "ShareUpdateExclusive orders", "findings": "-",
     "sql": "CREATE INDEX CONCURRENTLY IF NOT EXISTS…"},
    {"statement": "migration.sql:9", "risk": "high", "blockers": "pid 8438 active 3s +1",
     "locks": "AccessExclusive orders", "findings": "missing-lock-timeout",
     "sql": "ALTER TABLE orders ALTER COLUMN total_c…"},
]


@pytest.mark.parametrize("width", [76, 94, 120, 158])
def test_wrapped_cells_keep_their_words_whole(width: int) -> None:
    ts = TableSpec("pending_migration", "Pending migration", render="wrap", columns=COLUMNS)
    console = Console(width=width, record=True, color_system=None)
    console.print(render_rows(ts, ROWS, COLUMNS, width=width))
    text = console.export_text()
    words = {w for r in ROWS for v in r.values() for w in v.split()} | set(COLUMNS)
    shown = text.split()
    assert shown and set(shown) <= words, text
    if width >= 94:  # the cockpit's panel at 160 columns: the locks fit beside the blockers
        assert "locks" in text.splitlines()[0].split(), text
