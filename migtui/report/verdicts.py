"""Verdicts of health metrics, per phase, Kayenta style, and the timelines of the other kinds.

For each health metric and each of migration and post against the baseline:

- the whole phase: the Mann-Whitney U p-value (computed in DuckDB, :mod:`migtui.report.statistics`)
  and the Hodges-Lehmann estimate of the shift (median of all pairwise differences, with its
  distribution-free confidence interval); a shift that is significant, whose interval excludes 0
  and that is larger than the tolerance (a fraction of the baseline's level) is ``worse`` or
  ``better`` in the metric's direction, otherwise ``same``;
- the worst window of the phase (default one minute): its mean against the baseline's p99 (p1 for
  lower-is-worse metrics), so a short burst that the whole-phase test dilutes is caught; the burst
  is described by its peak, how long values stayed past the baseline's p99, and when it began.

The two statistics are implemented with numpy (a test checks them against scipy.stats, which is a
test dependency only); the rank sums stay in DuckDB so runs of millions of samples are fine."""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any, Sequence

import numpy as np

from migtui.metrickinds import DEFAULT_TOLERANCE, DEFAULT_WINDOW
from migtui.report.statistics import ALPHA, MIN_SAMPLES

HL_MAX_SIDE = 2000
"""Above this many values a side, the Hodges-Lehmann estimate uses this many evenly spaced order
statistics of it (the pairwise differences would be too many)."""
MAX_CHANGES = 12


def _thin(v: np.ndarray) -> np.ndarray:
    if v.size <= HL_MAX_SIDE:
        return v
    s = np.sort(v)
    return s[np.linspace(0, s.size - 1, HL_MAX_SIDE).round().astype(int)]


def hodges_lehmann(other: Sequence[float], base: Sequence[float], alpha: float = ALPHA) -> tuple[float, float, float]:
    """(shift, low, high): the median of all differences other - base and its 1 - alpha confidence
    interval (Moses: the order statistics k+1 and N-k of the differences, k from the normal
    approximation of the Mann-Whitney U distribution)."""
    x, y = _thin(np.asarray(other, float)), _thin(np.asarray(base, float))
    d = np.sort(np.subtract.outer(x, y).ravel())
    n1, n2, n = x.size, y.size, d.size
    z = NormalDist().inv_cdf(1 - alpha / 2)
    k = int(math.floor(n1 * n2 / 2.0 - z * math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12.0)))
    k = min(max(k, 0), n - 1)
    return float(np.median(d)), float(d[k]), float(d[n - 1 - k])


def _bad(shift: float, direction: str) -> bool:
    return shift > 0 if direction == "higher_is_worse" else shift < 0 if direction == "lower_is_worse" else shift != 0


def worst_window(ts: np.ndarray, vals: np.ndarray, width: float, direction: str) -> tuple[float, float]:
    """(mean, end time) of the worst ``width``-second window of a phase (the whole phase when shorter)."""
    csum = np.concatenate([[0.0], np.cumsum(vals)])
    start = np.searchsorted(ts, ts - width, side="right")
    means = (csum[1:] - csum[start]) / (np.arange(1, ts.size + 1) - start)
    if ts[-1] - ts[0] >= width:  # only full windows once the phase is long enough
        full = ts - ts[0] >= width * 0.999
        means = np.where(full, means, np.nan)
    i = int(np.nanargmin(means)) if direction == "lower_is_worse" else int(np.nanargmax(means))
    return float(means[i]), float(ts[i])


def _burst(ts: np.ndarray, vals: np.ndarray, limit: float, direction: str, window_end: float, width: float
           ) -> tuple[float, float, float]:
    """(peak, seconds past the limit, start) of the run of values past ``limit`` around the worst
    value of the worst window."""
    inside = np.flatnonzero((ts > window_end - width) & (ts <= window_end))
    if inside.size == 0:
        inside = np.arange(ts.size)
    sub = vals[inside]
    j = int(inside[np.argmin(sub) if direction == "lower_is_worse" else np.argmax(sub)])
    past = vals < limit if direction == "lower_is_worse" else vals > limit
    if direction == "either":
        past = np.abs(vals - limit) > 0
    a = b = j
    while a > 0 and past[a - 1]:
        a -= 1
    while b < vals.size - 1 and past[b + 1]:
        b += 1
    step = float(np.median(np.diff(ts))) if ts.size > 1 else 0.0
    return float(vals[j]), float(ts[b] - ts[a] + step), float(ts[a])


def judge(base: np.ndarray, other: np.ndarray, other_ts: np.ndarray, p_value: float | None, direction: str,
          tolerance: float = DEFAULT_TOLERANCE, window: float = DEFAULT_WINDOW,
          min_change: float | None = None) -> dict[str, Any]:
    """The verdict of one phase's values (``other``, at ``other_ts``) against the baseline's. A shift
    (or a worst window's distance from the baseline median) counts only past both the tolerance and
    the metric's ``min_change``, the smallest change that matters in its unit (one session, one
    second): against a baseline flat at 0 the tolerance alone allows nothing, so one poll that
    catches one active session would otherwise read as worse."""
    if base.size < MIN_SAMPLES or other.size < MIN_SAMPLES:
        return {"verdict": "no data", "n": int(other.size), "baseline_n": int(base.size)}
    med_b = float(np.median(base))
    p99, p1 = float(np.quantile(base, 0.99)), float(np.quantile(base, 0.01))
    scale = abs(med_b) or max(abs(p99), abs(p1))
    allowed = max(tolerance * scale, float(min_change or 0.0))
    shift, lo, hi = hodges_lehmann(other, base)
    out: dict[str, Any] = {"n": int(other.size), "baseline_n": int(base.size), "p_value": p_value,
                           "shift": shift, "ci": [lo, hi], "tolerance": tolerance, "min_change": min_change,
                           "baseline_median": med_b,
                           "baseline_p99": p99 if direction != "lower_is_worse" else p1}
    significant = p_value is not None and p_value < ALPHA and not (lo <= 0 <= hi)
    if significant and abs(shift) > allowed:
        out["verdict"] = "worse" if _bad(shift, direction) else "better"
    else:
        out["verdict"] = "same"
        out["why"] = "within tolerance" if significant else "no significant shift"
    order = np.argsort(other_ts, kind="stable")
    ts, vals = other_ts[order], other[order]
    w_mean, w_end = worst_window(ts, vals, window, direction)
    limit = p1 if direction == "lower_is_worse" else p99
    past = w_mean < limit if direction == "lower_is_worse" else w_mean > limit
    if direction == "either":
        past = w_mean > p99 or w_mean < p1
        limit = p99 if w_mean > p99 else p1
    out["window"] = {"seconds": window, "mean": w_mean, "end": w_end}
    if past and abs(w_mean - med_b) > allowed and out["verdict"] != "worse":
        out["verdict"] = "worse"
        out["why"] = "worst window"
    if out["verdict"] == "worse":
        bdir = direction if direction != "either" else ("lower_is_worse" if limit == p1 else "higher_is_worse")
        peak, seconds, start = _burst(ts, vals, limit, bdir, w_end, window)
        out["peak"] = {"value": peak, "seconds": seconds, "start": start}
    return out


def timeline(ts: np.ndarray, vals: np.ndarray, kind: str) -> dict[str, Any]:
    """What a progress, state or counter metric did: first and last value, and its changes (a state's
    every change, up to :data:`MAX_CHANGES`; a progress or counter's first and last change)."""
    order = np.argsort(ts, kind="stable")
    ts, vals = ts[order], vals[order]
    ok = np.isfinite(vals)
    ts, vals = ts[ok], vals[ok]
    if vals.size == 0:
        return {"first": None, "last": None, "changes": []}
    idx = np.flatnonzero(np.diff(vals) != 0) + 1
    if kind != "state" and idx.size > 2:
        idx = idx[[0, -1]]
    more = max(0, int(idx.size) - MAX_CHANGES)
    if more:  # the first changes and the last one
        idx = np.concatenate([idx[:MAX_CHANGES - 1], idx[-1:]])
    changes = [{"ts": float(ts[i]), "from": float(vals[i - 1]), "to": float(vals[i])} for i in idx]
    return {"first": float(vals[0]), "last": float(vals[-1]), "changes": changes,
            "more": more}


def effect_size(s: dict[str, Any]) -> float:
    """How far a worse health metric went, relative to its baseline level: the largest of its worse
    phases' shift (or worst-window mean) from the baseline median, over that median (its p99 when the
    median is 0); infinite when the baseline was flat at 0 and the metric moved (0% errors -> 7%)."""
    best = 0.0
    for v in (s.get("verdicts") or {}).values():
        if v.get("verdict") != "worse":
            continue
        med = float(v.get("baseline_median") or 0.0)
        delta = abs(float(v["window"]["mean"]) - med) if v.get("why") == "worst window" else abs(float(v["shift"]))
        scale = abs(med) or abs(float(v.get("baseline_p99") or 0.0))
        best = max(best, delta / scale if scale else (math.inf if delta else 0.0))
    return best


def worst_first(series: list[dict[str, Any]], firings: list[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The health series judged worse in some phase, largest :func:`effect_size` first; on a tie (two
    that rose from 0), one a trigger fired on (``firings``: trigger events to firing) first, then by name."""
    tripped = {(e["data"].get("source"), e["data"].get("metric")) for e in firings}
    worse = [s for s in series if any(v.get("verdict") == "worse" for v in (s.get("verdicts") or {}).values())]
    return sorted(worse, key=lambda s: (-effect_size(s), (s["source"], s["metric"]) not in tripped, s["metric"]))
