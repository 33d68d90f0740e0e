"""Progress rows (percentage and ETA from whatever columns a progress snapshot has) and the
tables built from ``<query>.*`` series."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from rich.text import Text

from migtui.model import labels_key
from migtui.tui.view.fmt import as_number
from migtui.tui.view.tables import cell_str

# progress: percentage and ETA from whatever columns a progress snapshot has
_PCT_COLS = ("percent", "pct", "progress_pct", "percent_done", "tuples_pct", "blocks_pct", "bytes_pct", "progress")
_PAIR_COLS = (("blocks_done", "blocks_total"), ("tuples_done", "tuples_total"), ("bytes_processed", "bytes_total"),
              ("tuples_processed", "tuples_total"), ("heap_blks_scanned", "heap_blks_total"),
              ("lockers_done", "lockers_total"), ("partitions_done", "partitions_total"))
_ETA_COLS = ("eta_seconds", "eta", "eta_s", "remaining_seconds")
_NAME_COLS = ("what", "index_name", "index", "relation", "relname", "table_name", "table", "target", "name",
              "command", "type")


@dataclass
class ProgressRow:
    label: str
    phase: str
    percent: float | None
    eta: float | None
    pid: Any = None


def progress_rows(rows: Sequence[Mapping[str, Any]]) -> list[ProgressRow]:
    out = []
    for r in rows:
        pct, pct_col = None, ""
        for c in _PCT_COLS:
            v = as_number(r.get(c))
            if v is not None:
                pct, pct_col = (v * 100 if c == "progress" and v <= 1.0 else v), c
                break
        if pct is None:
            for done, total in _PAIR_COLS:
                d, t = as_number(r.get(done)), as_number(r.get(total))
                if d is not None and t:
                    pct = d / t * 100
                    break
        eta = None
        for c in _ETA_COLS:
            eta = as_number(r.get(c))
            if eta is not None:
                break
        if eta is None and pct_col:
            eta = as_number(r.get(f"{pct_col}_eta"))  # from the percentage's own rate (rows_from_series)
        label = next((cell_str(r[c]) for c in _NAME_COLS if r.get(c) not in (None, "")), "")
        out.append(ProgressRow(label, cell_str(r.get("phase") or r.get("command") or ""), pct, eta, r.get("pid")))
    return out


def progress_bar(pct: float | None, width: int = 20) -> Text:
    if pct is None:
        return Text("?" .ljust(width), style="dim")
    pct = max(0.0, min(100.0, pct))
    full = int(round(pct / 100 * width))
    return Text("█" * full, style="cyan") + Text("░" * (width - full), style="dim")


def rows_from_series(frame: Any, name: str, source: str = "", *, now: float, max_age: float = 15.0
                     ) -> list[dict[str, Any]] | None:
    """A table for a ``kind: metrics`` query (e.g. ``progress_create_index``): one row per label set
    of the series named ``<name>.*`` whose last point is at most ``max_age`` old; the labels and
    the metric suffixes are the columns. None when no such series was ever seen."""
    prefix = name + "."
    seen = False
    rows: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    for ser in frame.series.values():
        if not ser.metric.startswith(prefix) or (source and ser.source != source):
            continue
        seen = True
        last = ser.last
        if last is None or now - last[0] > max_age:
            continue
        row = rows.setdefault(labels_key(ser.labels), dict(ser.labels))
        suffix = ser.metric[len(prefix):]
        row[suffix] = last[1]
        if suffix.endswith(("_pct", "percent")):
            eta = eta_from_points(list(ser.points))
            if eta is not None:
                row[f"{suffix}_eta"] = eta
    if not seen:
        return None
    return [rows[k] for k in sorted(rows)]


def eta_from_points(points: Sequence[tuple[float, float]], window: float = 120.0) -> float | None:
    """Seconds to 100 % at the rate of the last ``window`` seconds of a percentage series."""
    pts = [(t, v) for t, v in points if v is not None and not math.isnan(v)]
    if len(pts) < 2:
        return None
    t_end, v_end = pts[-1]
    start = [(t, v) for t, v in pts if t >= t_end - window and v <= v_end]
    t0, v0 = start[0] if start else pts[0]
    if t_end <= t0 or v_end <= v0 or v_end >= 100:
        return None
    return (100.0 - v_end) / ((v_end - v0) / (t_end - t0))


def with_eta(rows: list[dict[str, Any]], series_rows: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Add the ``*_eta`` estimates of :func:`rows_from_series` to a progress snapshot's rows (by pid)."""
    if not series_rows:
        return rows
    by_pid = {str(r.get("pid")): r for r in series_rows if r.get("pid") is not None}
    out = []
    for r in rows:
        extra = by_pid.get(str(r.get("pid")), {})
        out.append({**{k: v for k, v in extra.items() if k.endswith("_eta")}, **r})
    return out
