"""A catalog query's result rows as migtui data: the values as plain Python (``Decimal`` as float,
arrays as lists, anything else as text) for table snapshots, and a ``kind: metrics`` query's rows as
samples. In a metrics row the ``tag_<name>`` columns are the labels and every other column is a
metric ``<query>.<column>``; a column the header names in ``rates`` becomes ``<column>_per_s`` over
the time since the previous poll, and each ``ratios`` entry is computed over the deltas of its
counters (a counter that went down was reset: its new value is the delta).
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, Sequence

from migtui.api import Query, Sample

Previous = dict[tuple[str, tuple[tuple[str, str], ...]], tuple[float, float]]
"""(column, labels) -> (time, value) of the counters at the previous poll."""


def number(value: Any) -> float | None:
    """A cell as a metric value: NULL is NaN (no value this time), a bool 1/0; None for text."""
    if value is None:
        return math.nan
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    return None


def plain(value: Any) -> Any:
    """A cell as plain Python for a table snapshot."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return str(value)


def metric_samples(q: Query, source: str, cols: Sequence[str], rows: Sequence[Sequence[Any]], previous: Previous,
                   now: float) -> tuple[list[Sample], Previous]:
    """The samples of one poll of ``q``, and the counters to measure the next poll against."""
    out: list[Sample] = []
    rates = set(q.rates)
    tag_idx = [(i, c[4:]) for i, c in enumerate(cols) if c.startswith("tag_")]
    seen: Previous = {}
    for row in rows:
        labels = {name: str(row[i]) for i, name in tag_idx if row[i] is not None}
        lkey = tuple(sorted(labels.items()))
        deltas: dict[str, float] = {}
        for i, col in enumerate(cols):
            if col.startswith("tag_"):
                continue
            value = number(row[i])
            if value is None:
                continue
            if col in rates or any(col == r.numerator or col in r.denominator for r in q.ratios):
                key = (col, lkey)
                prev = previous.get(key)
                seen[key] = (now, value)
                if prev is not None and now > prev[0] and not math.isnan(value) and not math.isnan(prev[1]):
                    delta = value - prev[1]
                    if delta < 0:  # counter reset (stats reset, restart)
                        delta = value
                    deltas[col] = delta
                    if col in rates:
                        out.append(Sample(now, source, f"{q.name}.{col}_per_s", delta / (now - prev[0]), labels))
                if col in rates:
                    continue
            out.append(Sample(now, source, f"{q.name}.{col}", value, labels))
        for ratio in q.ratios:
            if ratio.numerator in deltas and all(d in deltas for d in ratio.denominator):
                den = sum(deltas[d] for d in ratio.denominator)
                out.append(Sample(now, source, f"{q.name}.{ratio.out}",
                                  deltas[ratio.numerator] / den if den else 0.0, labels))
    return out, seen
