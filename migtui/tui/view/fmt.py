"""Numbers, ages, deltas and sparklines for the cockpit, and the colour of each state word."""

from __future__ import annotations

import math
from typing import Any, Sequence

from rich.text import Text

from migtui.model import as_number, fmt_age, fmt_elapsed

STATE_STYLE = {
    "ok": "green",
    "warn": "yellow",
    "pause": "bold magenta",
    "throttle": "magenta",
    "rollback": "bold red",
    "critical": "red",
    "pending": "yellow",
    "inconclusive": "yellow",
    "firing": "bold red",
    "resolved": "green",
    "stale": "dim",
    "nodata": "dim",
    "info": "default",
    "error": "red",
}
"""Plain ANSI colour names: they read on a 16-colour terminal (TERM=screen) and without colour
the state word is always printed next to them."""


SPARK = "▁▂▃▄▅▆▇█"


def fmt_left(seconds: float | None) -> str:
    """Time left, coarse so it changes rarely: ``42s``, ``15m`` (rounded up), ``1h05m``."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "-"
    s = max(0, math.ceil(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{math.ceil(s / 60)}m"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def _si(v: float, base: float, units: Sequence[str]) -> str:
    i = 0
    while abs(v) >= base and i < len(units) - 1:
        v /= base
        i += 1
    if i == 0:
        return f"{v:.0f}{units[0]}" if float(v).is_integer() else f"{v:.1f}{units[0]}"
    return f"{v:.0f}{units[i]}" if abs(v) >= 100 else f"{v:.1f}{units[i]}"  # 1023KiB, not 1023.4KiB


def display_unit(metric: str, unit: str) -> str:
    """``%`` on a metric named ``*percent``/``*pct`` means 0-100 already (``pct``); otherwise a ratio."""
    if unit == "%" and metric.rstrip("*").lower().endswith(("percent", "pct")):
        return "pct"
    return unit


def fmt_value(value: Any, unit: str = "") -> str:
    """A number for a panel: ``%`` units are ratios shown as percent (``pct``: already 0-100),
    ``B``/``B/s`` in binary units,
    ``s`` as an age, others with k/M suffixes. ``-`` for None/NaN."""
    v = as_number(value)
    if v is None:
        return "-"
    if unit == "%":
        return f"{v * 100:.1f}%"
    if unit == "pct":  # already a percentage (metrics named *percent / *pct)
        return f"{v:.1f}%"
    if unit in ("B", "B/s"):
        return _si(v, 1024.0, ["B", "KiB", "MiB", "GiB", "TiB"]) + ("/s" if unit == "B/s" else "")
    if unit == "s":
        return f"{v:.1f}s" if v < 60 else fmt_age(v)
    if unit == "ms":
        return f"{v:.0f}ms" if abs(v) >= 10 else f"{v:.1f}ms"
    if abs(v) >= 10000:
        text = _si(v, 1000.0, ["", "k", "M", "G", "T"])
    elif float(v).is_integer():
        text = f"{v:.0f}"
    elif abs(v) >= 100:
        text = f"{v:.0f}"
    elif abs(v) >= 1:
        text = f"{v:.2f}"
    else:
        text = f"{v:.3f}"
    return text + (unit if unit and unit not in ("",) else "")


def _compact(v: float) -> str:
    """``v`` >= 1000 in at most four characters and a suffix: ``19k``, ``2.0M``, ``100G``."""
    for unit in ("k", "M", "G", "T", "P"):
        v /= 1000.0
        if abs(v) < 1000 or unit == "P":
            return f"{v:.0f}{unit}" if abs(v) >= 10 else f"{v:.1f}{unit}"
    return f"{v:.0f}P"  # not reached


def fmt_delta(value: float | None, base: float | None, unit: str = "") -> str:
    """``+12.0%`` relative to the baseline (or the absolute difference when the baseline is 0); ``0``
    when the two read the same as shown (0.0s against 0.04s is not "-100%" to a reader)."""
    if value is None or base is None:
        return "-"
    if fmt_value(value, unit) == fmt_value(base, unit):
        return "0"
    diff = value - base
    if base != 0:
        pct = diff / abs(base) * 100
        if abs(pct) < 1000:
            return f"{pct:+.0f}%"
        ratio = value / base
        if ratio > 0:  # ten times and more: as a factor, never cut (x194, x19.4k)
            return "x" + (f"{ratio:.0f}" if ratio < 10000 else _compact(ratio))
        return ("+" if pct > 0 else "-") + _compact(abs(pct)) + "%"  # +19k%
    if diff == 0:
        return "0"
    text = fmt_value(abs(diff), unit)
    return ("+" if diff > 0 else "-") + text


def sparkline(values: Sequence[float], width: int, *, style: str = "green", baseline: float | None = None) -> Text:
    """A sparkline of the last ``width`` values; bars above the baseline take ``style``, the rest are
    dim, so the baseline is drawn in without a second row. NaN is a gap."""
    vals = list(values)[-width:]
    text = Text()
    finite = [v for v in vals if v is not None and not math.isnan(v)]
    if not finite:
        return Text("·" * min(width, max(1, len(vals))) if vals else "", style="dim")
    lo, hi = min(finite), max(finite)
    if baseline is not None and not math.isnan(baseline):
        lo, hi = min(lo, baseline), max(hi, baseline)
    span = hi - lo
    run: list[str] = []  # bars of one style, appended as one span (not a span per bar: fewer segments to draw)
    run_style: str | None = None
    for v in vals:
        if v is None or math.isnan(v):
            bar, bar_style = " ", None
        else:
            idx = int((v - lo) / span * (len(SPARK) - 1)) if span > 0 else 0
            bar, bar_style = SPARK[idx], style if baseline is None or v > baseline else "dim"
        if bar_style != run_style and run:
            text.append("".join(run), style=run_style)
            run = []
        run.append(bar)
        run_style = bar_style
    if run:
        text.append("".join(run), style=run_style)
    return text


def fmt_coarse(seconds: float | None) -> str:
    """An age in at most three characters, for narrow columns: ``42s``, ``3m``, ``5h``, ``2d``."""
    if seconds is None:
        return "-"
    s = int(max(0, seconds))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if s >= size:
            return f"{s // size}{unit}"
    return f"{s}s"

