"""What the cockpit shows about a catalog query, declared in its ``.sql`` header (no Python needed).

Header keys (in the base file; variants may repeat them, they are read from the base file)::

    -- panel: schema
    -- render: metrics
    -- show: waiting "lock waiters" warn=1 critical=5
    -- show: oldest_xact_seconds "oldest xact" unit=s warn=60 critical=300

``panel``
    The panel (tab) that shows the query: ``schema``, ``data``, ``api``, ``deployment``, ``flags``,
    ``ab``, or a new lower-case word (a new tab of that name). Without it the query is collected,
    stored and usable in triggers, but not drawn.
``render``
    ``metrics`` (the default for ``kind: metrics``): one row per ``show`` line with value,
    baseline, delta and sparkline. ``table`` (the default for ``kind: table``): rows and columns.
    ``tree``: the blocking tree (rows with ``pid`` and ``blocked_by``). ``progress``: bars with
    percentage and ETA. ``wrap``: rows and columns whose text cells wrap instead of ending in "…".
``title``
    The heading of a table, tree or progress (default: the query's name).
``columns``
    The columns a table shows, in this order (default: the first ten).
``show`` (repeatable; ``render: metrics``)
    ``<metric> ["title"] [unit=U] [warn=N] [critical=N]``: the metric is a column of the query,
    a ``<rate>_per_s`` of a ``rates`` counter or a ``ratios`` output; the unit is ``%`` (a ratio
    drawn as percent), ``s``, ``ms``, ``B``, ``B/s``, ``/s`` or any short suffix; a value at or over
    ``warn`` / ``critical`` is drawn in that state. ``kind=health|progress|state|counter`` says what
    the report does with it (only health metrics are judged against the baseline) and, for health
    metrics, ``direction=higher_is_worse|lower_is_worse|either`` and ``min_change=N``, the smallest
    change that matters (:mod:`migtui.sqlkinds`).

A malformed entry is a :class:`~migtui.errors.CatalogError` naming the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from migtui.errors import CatalogError
from migtui.model import METRIC_DIRECTIONS, METRIC_KINDS, TABLE_RENDERS, MetricSpec, PanelSpec, TableSpec

KEYS = ("panel", "render", "title", "columns", "show")
REPEATABLE = ("show",)
RENDERS = ("metrics", *TABLE_RENDERS)

_WORD = re.compile(r"^[a-z][a-z0-9_]*$")
_SHOW = re.compile(r'^(?P<metric>[a-z_][a-z0-9_]*)(?:\s+"(?P<title>[^"]*)")?(?P<opts>(?:\s+[a-z_]+=\S+)*)\s*$')
_SHOW_OPTS = ("unit", "warn", "critical", "kind", "direction", "min_change")


@dataclass(frozen=True)
class Display:
    """A query's panel declaration (see the module docstring)."""

    panel: str
    render: str
    title: str = ""
    columns: tuple[str, ...] = ()
    shows: tuple[MetricSpec, ...] = ()

    def table(self, name: str) -> TableSpec:
        return TableSpec(name, self.title, self.render, self.columns)


def parse_display(name: str, kind: str, header: Mapping[str, str], path: Path, *, sql: str,
                  produced: Iterable[str] = ()) -> Display | None:
    """The ``Display`` of one base file's header, or None when it declares no panel.

    ``header`` maps keys to values and ``__line_<key>`` to line numbers (``show`` holds one value
    per line, joined with newlines, and ``__line_show`` the line numbers, comma separated);
    ``produced`` are the metric names the header's rates and ratios make besides the columns."""

    def line(key: str) -> str:
        return header.get(f"__line_{key}", "1").split(",")[0]

    if "panel" not in header:
        given = [k for k in KEYS if k in header]
        if given:
            raise CatalogError(f"{path}:{line(given[0])}: '{given[0]}' needs a '-- panel: NAME' line "
                               "(schema, data, api, deployment, flags, ab or a new word)")
        return None
    panel = header["panel"]
    if not _WORD.match(panel):
        raise CatalogError(f"{path}:{line('panel')}: panel must be a lower-case word like schema or data, "
                           f"got {panel!r}")
    render = header.get("render", "metrics" if kind == "metrics" else "table")
    if render not in RENDERS:
        raise CatalogError(f"{path}:{line('render')}: render must be one of {', '.join(RENDERS)}, got {render!r}")
    if render == "metrics" and kind != "metrics":
        raise CatalogError(f"{path}:{line('render')}: a kind: table query cannot render as metrics "
                           f"(use {', '.join(TABLE_RENDERS)})")
    columns: tuple[str, ...] = ()
    if "columns" in header:
        columns = tuple(c.strip() for c in header["columns"].split(","))
        bad = [c for c in columns if not _WORD.match(c)]
        if bad:
            raise CatalogError(f"{path}:{line('columns')}: columns must be column names separated by commas, "
                               f"got {bad[0]!r}")
    shows: list[MetricSpec] = []
    if "show" in header:
        if render != "metrics":
            raise CatalogError(f"{path}:{line('show')}: 'show' lines are for render: metrics (this query "
                               f"renders as {render})")
        known = set(produced)
        for text, ln in zip(header["show"].split("\n"), header["__line_show"].split(",")):
            shows.append(_parse_show(name, text, path, ln, sql, known))
    elif render == "metrics":
        raise CatalogError(f"{path}:{line('panel')}: a metrics panel needs at least one "
                           "'-- show: <metric> \"title\" [unit=U] [warn=N] [critical=N]' line")
    if render == "metrics" and columns:
        raise CatalogError(f"{path}:{line('columns')}: columns are for render: {', '.join(TABLE_RENDERS)}")
    return Display(panel=panel, render=render, title=header.get("title", ""), columns=columns, shows=tuple(shows))


def _parse_show(name: str, text: str, path: Path, line: str, sql: str, produced: set[str]) -> MetricSpec:
    m = _SHOW.match(text)
    if not m:
        raise CatalogError(f"{path}:{line}: show must look like 'column \"title\" unit=s warn=1 critical=5', "
                           f"got {text!r}")
    metric = m.group("metric")
    if metric not in produced and not re.search(rf"\b{re.escape(metric)}\b", sql):
        raise CatalogError(f"{path}:{line}: show: the query has no column {metric!r} (nor a rate or ratio "
                           "of that name)")
    opts: dict[str, str] = {}
    for opt in (m.group("opts") or "").split():
        key, _, value = opt.partition("=")
        if key not in _SHOW_OPTS:
            raise CatalogError(f"{path}:{line}: show: unknown option {key!r}; known: {', '.join(_SHOW_OPTS)}")
        opts[key] = value
    limits: dict[str, float] = {}
    for key in ("warn", "critical", "min_change"):
        if key in opts:
            try:
                limits[key] = float(opts[key])
            except ValueError:
                raise CatalogError(f"{path}:{line}: show: {key} must be a number, got {opts[key]!r}") from None
    for key, allowed in (("kind", METRIC_KINDS), ("direction", METRIC_DIRECTIONS)):
        if key in opts and opts[key] not in allowed:
            raise CatalogError(f"{path}:{line}: show: {key} must be one of {', '.join(allowed)}, got {opts[key]!r}")
    for key in ("direction", "min_change"):
        if key in opts and opts.get("kind", "health") != "health":
            raise CatalogError(f"{path}:{line}: show: {key} is for kind=health metrics")
    return MetricSpec(f"{name}.{metric}", m.group("title") or metric.replace("_", " "), opts.get("unit", ""),
                      warn=limits.get("warn"), critical=limits.get("critical"),
                      kind=opts.get("kind", "health" if "direction" in opts else ""), direction=opts.get("direction", ""),
                      min_change=limits.get("min_change"))


def catalog_panels(displays: Sequence[tuple[str, Display]], source: str) -> list[PanelSpec]:
    """One PanelSpec per panel named by the ``(query name, display)`` pairs: metrics and tables in
    the order of the query names."""
    by_panel: dict[str, tuple[list[MetricSpec], list[TableSpec]]] = {}
    for name, d in sorted(displays, key=lambda p: p[0]):
        metrics, tables = by_panel.setdefault(d.panel, ([], []))
        if d.render == "metrics":
            metrics.extend(d.shows)
        else:
            tables.append(d.table(name))
    return [PanelSpec(panel, panel.capitalize(), metrics=tuple(m), tables=tuple(t), source=source)
            for panel, (m, t) in by_panel.items()]
