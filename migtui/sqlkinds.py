"""What kind each metric of a catalog query is, declared in its ``.sql`` header (no Python needed).

Header key (repeatable, in the base file; variants are read from the base file)::

    -- kinds: health higher_is_worse unit=s: longest_query_seconds, max_xact_seconds
    -- kinds: counter: tup_inserted_per_s, blks_read_per_s
    -- kinds: state: max_connections

``<kind> [<direction>] [unit=U]: <metric>, <metric>...``
    ``kind`` is one of ``health``, ``progress``, ``state``, ``counter`` (:data:`migtui.model.METRIC_KINDS`);
    a health metric's ``direction`` is ``higher_is_worse``, ``lower_is_worse`` or ``either`` (the
    default). The metrics are the query's metrics as stored: a column, a ``<column>_per_s`` of a
    ``rates`` counter, or a ``ratios`` output. ``unit`` is drawn with the value in reports (as for
    ``show``).

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
_LINE = re.compile(r"^(?P<kind>[a-z]+)(?:\s+(?P<direction>[a-z_]+))?(?:\s+unit=(?P<unit>[^\s:]+))?\s*:\s*"
                   r"(?P<metrics>.*)$")
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
        kind, direction, unit = m.group("kind"), m.group("direction") or "", m.group("unit") or ""
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
                                   direction=(direction or "either") if kind == "health" else "")
    return tuple(out.values())
