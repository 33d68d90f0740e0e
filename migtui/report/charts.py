"""The report's charts: which series get one (health metrics judged worse, health metrics that
triggers watch, the other judged health metrics, trigger metrics, progress and state that changed,
migration progress, then the most varied), their points downsampled in DuckDB with
``time_bucket``, and each drawn as an inline SVG (min-max band, average line, phase bands, trigger
marks); and the row charts of the fleet report (one bar or dot per database, :func:`svg_rows`), drawn
with the same scale, ticks and frame."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

from migtui import safetext
from migtui.report.formatting import fmt_value

MAX_CHARTS = 24
CHART_POINTS = 240


def pick_chart_series(report: dict[str, Any]) -> list[dict[str, Any]]:
    chosen: list[dict[str, Any]] = []
    seen = {s["series_id"] for s in report["series"]
            if not any(st and st.get("n") for st in s["stats"].values())}  # nothing finite to draw

    def add(items: Iterable[dict[str, Any]]) -> None:
        for s in items:
            if len(chosen) >= MAX_CHARTS:
                return
            if s["series_id"] not in seen:
                seen.add(s["series_id"])
                chosen.append(s)

    series = report["series"]
    trig_metrics = set()
    for t in report["run"]["config"].get("triggers", []) or []:
        if isinstance(t, dict) and t.get("metric"):
            trig_metrics.add(str(t["metric"]))
    for e in report["triggers"]:
        if e["data"].get("metric"):
            trig_metrics.add(str(e["data"]["metric"]))
    health = [s for s in series if s.get("kind") == "health"]
    add(s for s in health if any(v.get("verdict") == "worse" for v in s["verdicts"].values()))
    add(s for s in health if s["metric"] in trig_metrics or any(s["metric"].endswith("." + m) for m in trig_metrics))
    add(s for s in health if any(v.get("verdict") in ("better", "same") for v in s["verdicts"].values()))
    add(s for s in series if s["metric"] in trig_metrics or any(s["metric"].endswith("." + m) for m in trig_metrics))
    add(s for s in series if s.get("kind") in ("progress", "state") and (s.get("timeline") or {}).get("changes"))
    add(s for s in series if s["metric"] in ("migration.percent", "migration.rows_per_s", "migration.eta_seconds",
                                              "migration.ddl.percent", "migration.running"))

    def spread(s: dict[str, Any]) -> float:
        sts = [st for st in s["stats"].values() if st and st.get("n")]
        lo = min((st["min"] for st in sts if st.get("min") is not None), default=None)
        hi = max((st["max"] for st in sts if st.get("max") is not None), default=None)
        if lo is None or hi is None or hi == lo:
            return 0.0
        return (hi - lo) / (abs(hi) + abs(lo))

    varied = [s for s in series if spread(s) > 0 and not s["metric"].startswith("migration.tool.")]
    preferred = ("activity_summary.", "connections.", "database_counters.", "lock_waits", "wal_", "replication")
    add(sorted(varied, key=lambda s: (not s["metric"].startswith(preferred), -spread(s), s["metric"])))
    return chosen


def chart_points(con: Any, run_id: str, series_ids: Sequence[int], start: datetime, end: datetime) -> dict[int, list[tuple[float, float, float, float]]]:
    """Downsampled (epoch, avg, min, max) per series: about CHART_POINTS buckets over the run."""
    if not series_ids:
        return {}
    span = max(1.0, (end - start).total_seconds())
    bucket_us = max(1_000_000, int(span / CHART_POINTS * 1_000_000))
    rows = con.execute(
        "SELECT series_id, avg(epoch(ts)) AS t, avg(value), min(value), max(value) "
        "FROM samples WHERE run_id = ? AND isfinite(value) AND series_id IN (SELECT unnest(?::INTEGER[])) "
        "GROUP BY series_id, time_bucket(to_microseconds(?), ts) ORDER BY 1, 2", [run_id, list(series_ids), bucket_us]).fetchall()
    out: dict[int, list[tuple[float, float, float, float]]] = {}
    for sid, b, avg, mn, mx in rows:
        out.setdefault(int(sid), []).append((float(b), float(avg), float(mn), float(mx)))
    return out


PHASE_COLORS = {"baseline": "#dbe8f6", "migration": "#fde7c2", "post": "#d9f0d9"}
MARK_COLOR = "#c0392b"


def svg_open(width: int, height: int) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
            f'preserveAspectRatio="xMidYMid meet" role="img">')


def padded_range(values: Sequence[float], *, zero: bool = False) -> tuple[float, float]:
    """``(lo, hi)`` around ``values`` with 5% room, from 0 when the values allow it (or ``zero``: 0 always in)."""
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi == lo:
        lo, hi = lo - 1 if lo else 0.0, hi + 1
    pad = (hi - lo) * 0.05
    return (lo - pad if lo < 0 or lo - pad >= 0 else 0.0), hi + pad


def scale(lo: float, hi: float, a: float, b: float) -> Any:
    """The pixel of a value: ``lo`` at ``a``, ``hi`` at ``b`` (either way round)."""
    return lambda v: a + (v - lo) / ((hi - lo) or 1.0) * (b - a)


def value_ticks(lo: float, hi: float, at: Any, across: tuple[float, float], *, vertical: bool,
                label_at: float, fmt: Any = fmt_value) -> list[str]:
    """Grid lines and labels at lo, middle and hi: horizontal lines labelled on the left (``vertical``
    value axis, as the time charts) or vertical lines labelled below (the row charts)."""
    parts = []
    for frac in (0.0, 0.5, 1.0):
        v = lo + (hi - lo) * frac
        p = at(v)
        if vertical:
            parts.append(f'<text x="{label_at}" y="{p + 3:.1f}" text-anchor="end" font-size="10">{fmt(v)}</text>')
            parts.append(f'<line x1="{across[0]}" x2="{across[1]}" y1="{p:.1f}" y2="{p:.1f}" stroke="#ccc" '
                         f'stroke-width="0.4"/>')
        else:
            anchor = "start" if frac == 0 else "end" if frac == 1 else "middle"
            parts.append(f'<text x="{p:.1f}" y="{label_at}" text-anchor="{anchor}" font-size="10">{fmt(v)}</text>')
            parts.append(f'<line x1="{p:.1f}" x2="{p:.1f}" y1="{across[0]}" y2="{across[1]}" stroke="#ccc" '
                         f'stroke-width="0.4"/>')
    return parts


def svg_chart(points: list[tuple[float, float, float, float]], phases: list[dict[str, Any]], t0: float, t1: float,
              marks: Sequence[float] = (), width: int = 720, height: int = 150,
              throttles: Sequence[float] = ()) -> str:
    """An inline SVG line chart: min-max band, average line, phase bands, trigger marks (red, dashed)
    and throttles (pause and resume actions; purple, dotted)."""
    left, right, top, bottom = 52, 8, 8, 20
    w, h = width - left - right, height - top - bottom
    span = max(1e-9, t1 - t0)
    lo, hi = padded_range([p[2] for p in points] + [p[3] for p in points])

    def x(t: float) -> float:
        return left + (min(max(t, t0), t1) - t0) / span * w

    y = scale(lo, hi, top + h, top)
    parts = [svg_open(width, height)]
    for seg in phases:
        a = datetime.fromisoformat(seg["start"]).timestamp()
        b = datetime.fromisoformat(seg["end"]).timestamp()
        parts.append(f'<rect x="{x(a):.1f}" y="{top}" width="{max(0.5, x(b) - x(a)):.1f}" height="{h}" '
                     f'fill="{PHASE_COLORS.get(seg["phase"], "#eee")}"/>')
    parts.append(f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#888" stroke-width="0.6"/>')
    parts += value_ticks(lo, hi, y, (left, left + w), vertical=True, label_at=left - 4)
    for frac in (0.0, 0.5, 1.0):
        t = t0 + span * frac
        label = datetime.fromtimestamp(t, timezone.utc).strftime("%H:%M:%S")
        anchor = "start" if frac == 0 else "end" if frac == 1 else "middle"
        parts.append(f'<text x="{x(t):.1f}" y="{height - 5}" text-anchor="{anchor}" font-size="10">{label}</text>')
    if points:
        band = [f"{x(t):.1f},{y(mx):.1f}" for t, _, _, mx in points] + \
               [f"{x(t):.1f},{y(mn):.1f}" for t, _, mn, _ in reversed(points)]
        parts.append(f'<polygon points="{" ".join(band)}" fill="#4a78b5" fill-opacity="0.18" stroke="none"/>')
        line = " ".join(f"{x(t):.1f},{y(avg):.1f}" for t, avg, _, _ in points)
        parts.append(f'<polyline points="{line}" fill="none" stroke="#1f4e8c" stroke-width="1.4"/>')
    for t in marks:
        if t0 <= t <= t1:
            parts.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top}" y2="{top + h}" stroke="{MARK_COLOR}" '
                         f'stroke-width="1.2" stroke-dasharray="3,2"/>')
    for t in throttles:
        if t0 <= t <= t1:
            parts.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top}" y2="{top + h}" stroke="#7d3c98" '
                         f'stroke-width="1.2" stroke-dasharray="1,2"/>')
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class ChartRow:
    """One row of :func:`svg_rows`: a database, its value and how to draw it."""

    label: str
    """Outside text (a database's name): made safe and escaped here."""
    value: float
    inner: float | None = None
    """Drawn inside the bar from 0 (the throttled part of a duration), in ``INNER_COLOR``."""
    marked: bool = False
    """An outlier: its label in red with a ◆, its bar or dot red."""


INNER_COLOR = "#7d3c98"


def svg_rows(rows: Sequence[ChartRow], *, dots: bool = False, fmt: Any = fmt_value, width: int = 720,
             row_height: int = 14, label_width: int = 170) -> str:
    """One row per item, top to bottom: a bar from 0 (``dots=False``) or a dot on a line from 0 (for
    changes that may be negative), the value written at the right; value ticks below, a line at 0."""
    left, right, top, bottom = label_width, 70, 4, 20
    w = width - left - right
    height = top + len(rows) * row_height + bottom
    lo, hi = padded_range([r.value for r in rows] + [r.inner for r in rows if r.inner is not None], zero=True)
    x = scale(lo, hi, left, left + w)
    parts = [svg_open(width, height)]
    parts += value_ticks(lo, hi, x, (top, top + len(rows) * row_height), vertical=False, label_at=height - 5,
                         fmt=fmt)
    parts.append(f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top}" y2="{top + len(rows) * row_height}" '
                 f'stroke="#555" stroke-width="0.8"/>')
    for i, r in enumerate(rows):
        mid = top + i * row_height + row_height / 2
        color = MARK_COLOR if r.marked else "#1f4e8c"
        label = safetext.html(safetext.one_line(r.label, 26))
        style = f' fill="{MARK_COLOR}" font-weight="bold"' if r.marked else ""
        parts.append(f'<text x="{left - 6}" y="{mid + 3.5:.1f}" text-anchor="end" font-size="10.5"{style}>'
                     f'{"◆ " if r.marked else ""}{label}</text>')
        a, b = sorted((x(0), x(r.value)))
        if dots:
            parts.append(f'<line x1="{a:.1f}" x2="{b:.1f}" y1="{mid:.1f}" y2="{mid:.1f}" stroke="{color}" '
                         f'stroke-width="1"/>')
            parts.append(f'<circle cx="{x(r.value):.1f}" cy="{mid:.1f}" r="3.6" fill="{color}"/>')
        else:
            bar = row_height - 4
            parts.append(f'<rect x="{a:.1f}" y="{mid - bar / 2:.1f}" width="{max(0.5, b - a):.1f}" height="{bar}" '
                         f'fill="{color}" fill-opacity="{0.85 if r.marked else 0.55}"/>')
            if r.inner:
                ia, ib = sorted((x(0), x(r.inner)))
                parts.append(f'<rect x="{ia:.1f}" y="{mid - bar / 4:.1f}" width="{max(0.5, ib - ia):.1f}" '
                             f'height="{bar / 2}" fill="{INNER_COLOR}"/>')
        parts.append(f'<text x="{width - 2}" y="{mid + 3.5:.1f}" text-anchor="end" font-size="10"'
                     f'{style}>{safetext.html(fmt(r.value))}</text>')
    parts.append("</svg>")
    return "".join(parts)
