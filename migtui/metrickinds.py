"""What kind each metric of a run is (health, progress, state, counter) and, for health metrics,
which way is worse: declared where the metric is defined (a plugin's :class:`~migtui.model.MetricSpec`,
a catalog ``.sql`` header's ``kinds:`` and ``show:`` lines, a collector's ``metric_kinds``) and
overridden by the config's ``report.metrics``.

The engine records the resolved declarations once, in the data of the run's start event
(``metric_kinds``), so a report reads them from the store alone. Undeclared metrics are
``unclassified``: their statistics are shown, they get no verdict."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any, Iterable, Mapping, Sequence

from migtui.model import METRIC_DIRECTIONS, METRIC_KINDS, MetricSpec, PanelSpec

DEFAULT_TOLERANCE = 0.10
"""A health metric's shift within 10% of its baseline level is 'same' even when significant."""
DEFAULT_WINDOW = 60.0
"""The worst window of a phase: its worst minute (mean) against the baseline's p99."""
UNCLASSIFIED = "unclassified"


def _rule(source: str, metric: str, kind: str, direction: str, unit: str, origin: str,
          tolerance: float | None = None, min_change: float | None = None) -> dict[str, Any]:
    if kind == "health" and not direction:
        direction = "either"
    return {"source": source, "metric": metric, "kind": kind, "direction": direction if kind == "health" else "",
            "unit": unit, "tolerance": tolerance, "min_change": min_change if kind == "health" else None,
            "from": origin}


def declared_kinds(panels: Iterable[PanelSpec], overrides: Mapping[str, Mapping[str, Any]] | None = None,
                   sources: Iterable[tuple[str, Sequence[MetricSpec]]] = ()) -> list[dict[str, Any]]:
    """The run's kind rules, first match wins: the config's ``report.metrics`` (a metric name or
    glob, optionally ``source/metric``), then every panel metric that declares a kind, then the
    ``(source name, specs)`` sources declare outside their panels (a collector's ``metric_kinds``:
    a catalog query's ``-- kinds:`` lines)."""
    rules: list[dict[str, Any]] = []
    for pattern, o in (overrides or {}).items():
        source, _, metric = pattern.rpartition("/")
        rules.append(_rule(source, metric, o.get("kind") or "health", o.get("direction") or "", o.get("unit") or "",
                           "config", o.get("tolerance"), o.get("min_change")))
    declared = [(panel.source, panel.metrics) for panel in panels] + list(sources)
    rules += [_rule(source, spec.metric, spec.kind, spec.direction, spec.unit, "source", min_change=spec.min_change)
              for source, specs in declared for spec in specs if spec.kind]
    return rules


def classify(rules: Sequence[Mapping[str, Any]], source: str, metric: str) -> dict[str, Any]:
    """The first rule matching ``source``/``metric`` (units fall through to a later rule that has
    one), or an ``unclassified`` entry."""
    found: dict[str, Any] | None = None
    for r in rules:
        if r["source"] and r["source"] != source:
            continue
        if not fnmatchcase(metric, r["metric"]):
            continue
        if found is None:
            found = dict(r)
        elif not found.get("unit") and r.get("unit"):
            found["unit"] = r["unit"]
        if found.get("unit"):
            break
    return found or {"kind": UNCLASSIFIED, "direction": "", "unit": "", "tolerance": None, "min_change": None,
                     "from": ""}


def check_override(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """Validation of one ``report.metrics`` entry (the schema checks the types)."""
    kind = value.get("kind") or "health"
    if kind not in METRIC_KINDS:
        raise ValueError(f"kind must be one of {', '.join(METRIC_KINDS)}, got {kind!r}")
    direction = value.get("direction")
    if direction and direction not in METRIC_DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(METRIC_DIRECTIONS)}, got {direction!r}")
    if direction and kind != "health":
        raise ValueError(f"direction is for health metrics (this one is {kind})")
    if value.get("min_change") is not None and kind != "health":
        raise ValueError(f"min_change is for health metrics (this one is {kind})")
    return value
