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
"""The last engine frame's series (kept, so its id is not reused) and those series by metric name."""


def _series_by_metric(series: Mapping[Any, Any]) -> dict[str, list[Any]]:
    """``series`` grouped by metric name, so a panel redraw looks its metrics up instead of scanning
    every series for each one. Built once per engine frame (its series are a read-only copy)."""
    global _index
    last, index = _index
    if last is series:
        return index
    index = {}
    for s in series.values():
        index.setdefault(s.metric, []).append(s)
    if isinstance(series, MappingProxyType):  # a frame's own copy, never changed: keep it for the next redraw
        _index = (series, index)
    return index


def metric_rows(frame: Any, panel: PanelSpec, triggers: list[TriggerRow] | None, *, window: float = 600.0,
                now: float | None = None, max_series: int = 6) -> list[MetricRow]:
    """One row per series of every metric of a panel (a ``*`` suffix matches a prefix)."""
    by_metric = _series_by_metric(frame.series)
    rows: list[MetricRow] = []
    for spec in panel.metrics:
        prefix = spec.metric[:-1] if spec.metric.endswith("*") else None
        candidates = ([s for m, group in by_metric.items() if m.startswith(prefix) for s in group]
                      if prefix is not None else by_metric.get(spec.metric, ()))
        matched = [s for s in candidates if not panel.source or s.source == panel.source]
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
