"""Metric rows of a panel: one per series, with its baseline, sparkline points and state."""

from __future__ import annotations

import time
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from migtui.model import MetricSpec, PanelSpec, labels_key
from migtui.tui.view.fmt import as_number, display_unit, fmt_coarse
from migtui.tui.view.tables import cell_str
from migtui.tui.view.triggers import TriggerRow, row_field, trigger_state_for_metric


def baseline_value(frame: Any, source: str, metric: str, labels: Mapping[str, str]) -> float | None:
    """The baseline of one series in the frame (mean, else p50), or None."""
    st = frame.baselines.get((source, metric, labels_key(labels)))
    if st is None:
        return None
    for attr in ("mean", "p50"):
        v = as_number(row_field(st, attr))
        if v is not None:
            return v
    return None


# --------------------------------------------------------------------------- metric rows

@dataclass
class MetricRow:
    title: str
    unit: str
    value: float | None
    baseline: float | None
    points: list[float]
    state: str
    source: str = ""
    metric: str = ""
    age: float | None = None
    """Seconds since the last point, set when the row is ``stale`` (its source cannot be reached)."""

    @property
    def state_label(self) -> str:
        """What the state column reads: ``ok``, ``warn``, ``stale 42s`` / ``stale 3m``, ``-`` (no data)."""
        if self.state == "stale":
            return f"stale {fmt_coarse(self.age)}" if self.age is not None else "stale"
        return "-" if self.state == "nodata" else self.state


def source_reachable(frame: Any, source: str) -> bool:
    """False while a source cannot be polled (error, stale, quarantined): its last values are old."""
    st = frame.sources.get(source)
    return st is None or st.state in ("ok", "starting")


def _threshold_state(spec: MetricSpec, v: float | None) -> str:
    if v is None:
        return "nodata"
    if spec.critical is not None and v >= spec.critical:
        return "critical"
    if spec.warn is not None and v >= spec.warn:
        return "warn"
    return "ok"


_STATE_RANK = {"nodata": -1, "stale": -1, "ok": 0, "resolved": 0, "pending": 1, "inconclusive": 1, "warn": 2,
               "critical": 3, "pause": 4, "rollback": 5}


_index: tuple[Any, dict[str, list[Any]]] = (None, {})
"""The shape of the last engine frame's series (count, first and last key) and their keys by metric."""


def _keys_by_metric(series: Mapping[Any, Any]) -> dict[str, list[Any]]:
    """The keys of ``series`` grouped by metric name, so a panel redraw fetches its metrics' series
    instead of scanning every series (thousands with per-table metrics) for each metric, twice a
    second. An engine frame's series (a read-only copy keyed by ``(source, metric, labels)``, whose keys
    are only ever added, in order) keep the last frame's grouping while their count and ends are the same."""
    global _index
    if not isinstance(series, MappingProxyType) or not series:
        return _group(series)
    shape = (len(series), next(iter(series)), next(reversed(series)))
    last, keys = _index
    if last != shape:
        keys = _group(series)
        _index = (shape, keys)
    return keys


def _group(series: Mapping[Any, Any]) -> dict[str, list[Any]]:
    keys: dict[str, list[Any]] = {}
    for k, s in series.items():
        keys.setdefault(s.metric, []).append(k)
    return keys


def metric_rows(frame: Any, panel: PanelSpec, triggers: list[TriggerRow] | None, *, window: float = 600.0,
                now: float | None = None, max_series: int = 6) -> list[MetricRow]:
    """One row per series of every metric of a panel (a ``*`` suffix matches a prefix)."""
    keys = _keys_by_metric(frame.series)
    get = frame.series.get
    rows: list[MetricRow] = []
    for spec in panel.metrics:
        prefix = spec.metric[:-1] if spec.metric.endswith("*") else None
        wanted = ([k for m, ks in keys.items() if m.startswith(prefix) for k in ks]
                  if prefix is not None else keys.get(spec.metric, ()))
        matched = [s for s in map(get, wanted) if s is not None and (not panel.source or s.source == panel.source)]
        matched.sort(key=lambda s: (s.metric, labels_key(s.labels)))
        title = spec.title or spec.metric
        unit = display_unit(spec.metric, spec.unit)
        if not matched:
            rows.append(MetricRow(title, unit, None, None, [], "nodata", panel.source, spec.metric))
            continue
        for s in matched[:max_series]:
            pts = list(s.points)
            last_ts = pts[-1][0] if pts else None
            t_end = now if now is not None else (last_ts or time.time())
            vals = [float(v) for ts, v in pts if ts >= t_end - window]
            value = as_number(pts[-1][1]) if pts else None
            base = baseline_value(frame, s.source, s.metric, s.labels)
            state, age = _threshold_state(spec, value), None
            tstate = trigger_state_for_metric(triggers, s.metric, s.source, s.labels)
            if tstate and _STATE_RANK.get(tstate, 0) > _STATE_RANK.get(state, 0):
                state = tstate
            if not source_reachable(frame, s.source):  # old values never read as ok (or warn)
                state = "stale" if value is not None else "nodata"
                age = (t_end - last_ts) if last_ts is not None and now is not None else None
            name = title
            if prefix is not None:
                name = s.metric[len(prefix):] or title
            if s.labels:
                name += " " + ",".join(cell_str(v) for _, v in sorted(s.labels.items()))
            rows.append(MetricRow(name, unit, value, base, vals, state, s.source, s.metric, age))
        if len(matched) > max_series:
            rows.append(MetricRow(f"  … {len(matched) - max_series} more", "", None, None, [], "nodata"))
    return rows
