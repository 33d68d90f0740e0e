"""What changed between two scrapes of a text exposition, the way Prometheus reads it: a counter's
increase (a counter that went down was reset, so its new value is the increase, as ``rate`` does; a
series born after the previous scrape counts from zero), a histogram's bucket increases, and
:func:`histogram_quantile` over them. Used by the ``openmetrics`` source.
"""

from __future__ import annotations

import math
from collections import defaultdict

from migtui_http.selectors import Selector
from migtui_http.textformat import Exposition, Labels


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' ``histogram_quantile`` over cumulative ``(upper_bound, count)`` buckets.

    NaN without observations or without a +Inf bucket; an observation in the +Inf bucket gives the
    highest finite bound; non-monotonic counts are made monotonic first, like Prometheus does.
    """
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    bs = sorted((b for b in buckets if not math.isnan(b[0])), key=lambda b: b[0])
    if len(bs) < 2 or not math.isinf(bs[-1][0]) or bs[-1][0] < 0:
        return math.nan
    fixed: list[tuple[float, float]] = []
    run = 0.0
    for upper, count in bs:
        if math.isnan(count):
            return math.nan
        run = max(run, count)
        fixed.append((upper, run))
    total = fixed[-1][1]
    if total <= 0:
        return math.nan
    rank = q * total
    idx = next(i for i, (_, c) in enumerate(fixed) if c >= rank)
    if idx == len(fixed) - 1:
        return fixed[-2][0]
    if idx == 0 and fixed[0][0] <= 0:
        return fixed[0][0]
    start, prev = (0.0, 0.0) if idx == 0 else fixed[idx - 1]
    end, count = fixed[idx]
    if count - prev <= 0:
        return end
    return start + (end - start) * ((rank - prev) / (count - prev))


class Scrape:
    """One scrape: its time, what it parsed, and every sample's value by (name, sorted labels)."""

    __slots__ = ("t", "expo", "values", "names")

    def __init__(self, t: float, expo: Exposition) -> None:
        self.t = t
        self.expo = expo
        self.names = {s.name for s in expo.samples}
        self.values: dict[tuple[str, Labels], float] = {
            (s.name, tuple(sorted(s.labels))): s.value for s in expo.samples}


class Prev:
    """What the next interval is measured against: the last value of every series seen so far
    (a series missing from one scrape and back in the next is not counted again from zero)."""

    __slots__ = ("t", "values")
    MAX_SERIES = 200_000

    def __init__(self, t: float, values: dict[tuple[str, Labels], float]) -> None:
        self.t, self.values = t, values

    def advance(self, cur: Scrape) -> "Prev":
        if len(self.values) + len(cur.values) > self.MAX_SERIES:
            return Prev(cur.t, dict(cur.values))
        carried = dict(self.values)
        carried.update(cur.values)
        return Prev(cur.t, carried)


def increase(cur: Scrape, prev: Prev, key: tuple[str, Labels]) -> float | None:
    """How much the counter ``key`` grew since ``prev`` (None when it is missing or NaN)."""
    now = cur.values.get(key)
    if now is None or math.isnan(now):
        return None
    before = prev.values.get(key)
    if before is None:
        return now  # a series born after the previous scrape counts from zero
    if math.isnan(before):
        return None
    return now if now < before else now - before


def sum_increase(sel: Selector, cur: Scrape, prev: Prev) -> float | None:
    """The summed increase of every series ``sel`` matches (None when none has one)."""
    if sel.name not in cur.names and sel.name + "_total" in cur.names:
        sel = Selector(sel.name + "_total", sel.matchers)  # the OpenMetrics family name of a counter
    total, seen = 0.0, False
    for s in cur.expo.samples:
        if sel.matches(s):
            inc = increase(cur, prev, (s.name, tuple(sorted(s.labels))))
            if inc is not None:
                total += inc
                seen = True
    return total if seen else None


def histogram_buckets(base: str, cur: Scrape, prev: Prev | None, sel: Selector | None,
                      group_by_labels: bool) -> dict[Labels, list[tuple[float, float]]]:
    """Bucket increases since ``prev`` (or cumulative when prev is None), grouped by the
    series labels without ``le`` (or all summed)."""
    from migtui_http.textformat import parse_float

    name = base + "_bucket"
    per_series: dict[Labels, dict[float, tuple[float, tuple[str, Labels]]]] = defaultdict(dict)
    for s in cur.expo.samples:
        if s.name != name:
            continue
        if sel is not None and not all(m.matches(s.labels) for m in sel.matchers):
            continue
        le_text = s.label("le")
        if le_text is None:
            continue
        try:
            le = parse_float(le_text)
        except ValueError:
            continue
        rest = tuple(sorted((k, v) for k, v in s.labels if k != "le"))
        per_series[rest][le] = (s.value, (s.name, tuple(sorted(s.labels))))
    out: dict[Labels, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for rest, buckets in per_series.items():
        deltas: dict[float, float] = {}
        current = {le: v for le, (v, _) in buckets.items()}
        if prev is None:
            deltas = current
        else:
            reset = False
            for le, (v, key) in buckets.items():
                before = prev.values.get(key)
                if before is not None and v < before:
                    reset = True  # the process restarted: the new counts are the increase
                deltas[le] = v - (before or 0.0)
            if reset:
                deltas = current
        group = rest if group_by_labels else ()
        for le, d in deltas.items():
            out[group][le] += d
    return {g: sorted(b.items()) for g, b in out.items()}
