"""What kind each metric of a catalog query is, declared in its ``.sql`` header (no Python needed).

Header key (repeatable, in the base file; variants are read from the base file)::

    -- kinds: health higher_is_worse unit=s: longest_query_seconds, max_xact_seconds
    -- kinds: counter: tup_inserted_per_s, blks_read_per_s
    -- kinds: state: max_connections

``<kind> [<direction>] [unit=U] [min_change=N]: <metric>, <metric>...``
    ``kind`` is one of ``health``, ``progress``, ``state``, ``counter`` (:data:`migtui.model.METRIC_KINDS`);
    a health metric's ``direction`` is ``higher_is_worse``, ``lower_is_worse`` or ``either`` (the
    default). The metrics are the query's metrics as stored: a column, a ``<column>_per_s`` of a
    ``rates`` counter, or a ``ratios`` output. ``unit`` is drawn with the value in reports (as for
    ``show``); ``min_change`` (health only) is the smallest change that matters, in that unit (one
    session, one second): a shift or worst window within it reads ``same``.

A ``show`` line's ``kind=`` declares its metric too; a metric declared twice is refused, as is a
name that is neither a column nor a rate or ratio of the query: a :class:`~migtui.errors.CatalogError`
naming the file and line. Every numeric column of the built-in catalog has a kind (a test loads the
whole catalog and names any that has none).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Mapping

from migtui.errors import CatalogError
from migtui.model import METRIC_DIRECTIONS, METRIC_KINDS, MetricSpec

KEY = "kinds"
_LINE = re.compile(r"^(?P<kind>[a-z]+)(?:\s+(?P<direction>[a-z_]+))?(?P<opts>(?:\s+[a-z_]+=[^\s:]+)*)\s*:\s*"
                   r"(?P<metrics>.*)$")
OPTIONS = ("unit", "min_change")
_METRIC = re.compile(r"^[a-z_][a-z0-9_]*$")


def parse_kinds(name: str, header: Mapping[str, str], path: Path, *, sql: str, produced: Iterable[str] = (),
                shows: Iterable[MetricSpec] = ()) -> tuple[MetricSpec, ...]:
    """The kinds of one base file's metrics: its ``kinds`` lines and its ``show`` lines that say
    ``kind=``, as :class:`MetricSpec` named ``<query>.<metric>``. ``produced`` are the metric names
    the header's rates and ratios make besides the columns."""
    out: dict[str, MetricSpec] = {s.metric: s for s in shows if s.kind}
    if KEY not in header:
        return tuple(out.values())
    known = set(produced)
    for text, line in zip(header[KEY].split("\n"), header[f"__line_{KEY}"].split(",")):
        m = _LINE.match(text)
        if not m:
            raise CatalogError(f"{path}:{line}: kinds must look like 'health higher_is_worse unit=s: col1, col2' "
                               f"or 'counter: col1, col2', got {text!r}")
        kind, direction = m.group("kind"), m.group("direction") or ""
        opts = dict(o.partition("=")[::2] for o in m.group("opts").split())
        unknown = sorted(set(opts) - set(OPTIONS))
        if unknown:
            raise CatalogError(f"{path}:{line}: kinds: unknown option {unknown[0]!r}; known: {', '.join(OPTIONS)}")
        unit, min_change = opts.get("unit", ""), None
        if "min_change" in opts:
            try:
                min_change = float(opts["min_change"])
                if min_change < 0 or kind != "health":
                    raise ValueError
            except ValueError:
                raise CatalogError(f"{path}:{line}: kinds: min_change is a number >= 0 for health metrics, "
                                   f"got {opts['min_change']!r} ({kind})") from None
        if kind not in METRIC_KINDS:
            raise CatalogError(f"{path}:{line}: kinds: kind must be one of {', '.join(METRIC_KINDS)}, got {kind!r}")
        if direction and direction not in METRIC_DIRECTIONS:
            raise CatalogError(f"{path}:{line}: kinds: direction must be one of {', '.join(METRIC_DIRECTIONS)}, "
                               f"got {direction!r}")
        if direction and kind != "health":
            raise CatalogError(f"{path}:{line}: kinds: a direction is for health metrics (these are {kind})")
        metrics = [p.strip() for p in m.group("metrics").split(",")]
        for metric in metrics:
            if not _METRIC.match(metric):
                raise CatalogError(f"{path}:{line}: kinds: metrics are column names separated by commas, "
                                   f"got {metric!r}")
            if metric not in known and not re.search(rf"\b{re.escape(metric)}\b", sql):
                raise CatalogError(f"{path}:{line}: kinds: the query has no column {metric!r} (nor a rate or "
                                   "ratio of that name)")
            full = f"{name}.{metric}"
            if full in out:
                raise CatalogError(f"{path}:{line}: kinds: {metric!r} already has a kind ({out[full].kind}); "
                                   "declare each metric once")
            out[full] = MetricSpec(full, metric.replace("_", " "), unit, kind=kind,
                                   direction=(direction or "either") if kind == "health" else "", min_change=min_change)
    return tuple(out.values())
