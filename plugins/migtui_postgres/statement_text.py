"""The text of the statements a report may list, read rarely and only for those statements.

``statements_top`` reads pg_stat_statements without the query text (``showtext => false``): cheap,
every 30 s. The report also wants each listed statement's normalized text (``$1`` placeholders),
from the store alone. Reading the text makes PostgreSQL load the whole query-text file, however few
rows are asked for, so ``statements_text`` runs rarely: on its interval, at the start of each phase
(its header says ``at_phase_start: yes``), and when ``statements_top`` has listed statements whose
text was never read (at most every :data:`NEW_TEXT_EVERY` seconds). It asks only for those
statements' text (its ``queryids`` parameter); each statement's text is read once. The statements
it finds marked ``/* migtui */`` are migtui's own: ``statements_top`` leaves them out from then on
(its ``exclude_queryids``), so its top list holds the statements a report may list.

The text is what a user typed, normalized by PostgreSQL: utility statements (``ALTER ROLE ...
PASSWORD '...'``) keep their literals. Before the text reaches the store every string literal is
masked (:func:`mask_literals`) and the rest goes through :func:`migtui.api.redact`.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from migtui.api import redact
from migtui_postgres.pgconn import mask_literals

TOP = "statements_top"
TEXT = "statements_text"
NEW_TEXT_EVERY = 30.0
"""Seconds between two reads of new statements' text (the interval, when shorter)."""

def clean_text(sql: Any) -> Any:
    """The statement text as it may be stored: literals masked, then redacted."""
    return redact(mask_literals(sql)) if isinstance(sql, str) else sql


class TextCapture:
    """Which statements' text ``statements_text`` asks for next, and when it is urgent."""

    def __init__(self) -> None:
        self.wanted: dict[Any, None] = {}  # queryids statements_top listed, in the order first seen
        self.asked: set[Any] = set()
        self.sent: list[Any] = []
        self.own: dict[Any, None] = {}  # migtui's own statements, left out of statements_top from then on
        self.last_run = -math.inf

    def saw(self, cols: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """``statements_top`` returned ``rows``: remember the statements whose text is not read yet."""
        if "queryid" not in cols:
            return
        i = list(cols).index("queryid")
        for row in rows:
            q = row[i]
            if q is not None and q not in self.asked:
                self.wanted.setdefault(q, None)

    def pending(self) -> list[Any]:
        return [q for q in self.wanted if q not in self.asked]

    def urgent(self, now: float, interval: float) -> bool:
        """New statements wait for their text, and the last read is long enough ago."""
        return bool(self.pending()) and now - self.last_run >= min(NEW_TEXT_EVERY, interval)

    def exclude(self, configured: Any) -> list[Any]:
        """``statements_top``'s ``exclude_queryids``: the configured ones and migtui's own, so the
        top list holds the statements a report may list."""
        return list(dict.fromkeys([*(configured or ()), *self.own]))

    def params(self, limit: int) -> list[Any]:
        """The ``queryids`` of the next read (each statement is asked for once)."""
        self.sent = self.pending()[:max(0, int(limit))]
        return list(self.sent)

    def ran(self, now: float, cols: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """``statements_text`` returned ``rows``: the asked statements are done (also those the server
        no longer has), and the rows come back with their text cleaned for the store."""
        self.last_run = now
        self.asked.update(self.sent)
        for q in self.sent:
            self.wanted.pop(q, None)
        self.sent = []
        if "migtui" in cols and "queryid" in cols:
            i, j = list(cols).index("queryid"), list(cols).index("migtui")
            self.own.update((r[i], None) for r in rows if r[j] and r[i] is not None)
        if "query" not in cols:
            return [tuple(r) for r in rows]
        i = list(cols).index("query")
        return [tuple(clean_text(v) if j == i else v for j, v in enumerate(r)) for r in rows]
