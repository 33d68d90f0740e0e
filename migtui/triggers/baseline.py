"""Baselines: per-series statistics of a quiet period, and post-vs-baseline comparisons.

:func:`compute_baseline` aggregates the ``samples_v`` view in DuckDB for one run and phase
(count, mean, stddev, min, p50, p95, p99, max per source, metric and labels) and writes the
``baselines`` table; :func:`load_baselines` reads them back into a dict for cheap per-tick lookups
(the shape :class:`migtui.triggers.MemoryMetricView` takes). :func:`compare` tells, per metric,
whether the post-migration distribution differs from the baseline: delta, ratio and a Mann-Whitney
U test (pure Python, tie-corrected normal approximation with continuity correction, as scipy's
``mannwhitneyu(method="asymptotic")``); a metric with too few samples says so.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from migtui.model import labels_key
from migtui.triggers.view import BaselineStats

BaselineKey = tuple[str, str, tuple[tuple[str, str], ...]]  # (source, metric, labels_key)

_STATS_SQL = """
SELECT r.source, r.metric, r.labels, a.n, a.mean, a.stddev, a.min, a.q[1] AS p50, a.q[2] AS p95, a.q[3] AS p99, a.max
FROM (
    -- aggregate by the integer series id first (cheap), then attach the series' names and labels
    SELECT series_id,
           count(value)                                 AS n,
           avg(value)                                   AS mean,
           stddev_samp(value)                           AS stddev,
           min(value)                                   AS min,
           quantile_cont(value, [0.50, 0.95, 0.99])     AS q,
           max(value)                                   AS max
    FROM samples
    WHERE run_id = ? AND phase = ? AND value IS NOT NULL AND isfinite(value) {extra}
    GROUP BY series_id
) a
JOIN series r ON r.run_id = ? AND r.series_id = a.series_id
ORDER BY r.source, r.metric, r.labels
"""


def _labels(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    try:
        parsed = json.loads(raw)
    except (TypeError, ValueError):
        return {}
    return {str(k): str(v) for k, v in parsed.items()} if isinstance(parsed, dict) else {}


def _window_sql(since: float | None, until: float | None) -> tuple[str, list[Any]]:
    extra, params = "", []
    if since is not None:
        extra += " AND ts >= to_timestamp(?)"
        params.append(float(since))
    if until is not None:
        extra += " AND ts < to_timestamp(?)"
        params.append(float(until))
    return extra, params


def compute_baseline(con: Any, run_id: str, phase: str = "baseline", *, since: float | None = None,
                     until: float | None = None, computed_at: float | None = None) -> int:
    """Compute statistics of ``run_id``'s samples in ``phase`` and (re)write them to ``baselines``.

    ``con`` is a DuckDB connection or cursor (the store's writer). NaN and infinite values are left
    out. Returns the number of series written.
    """
    import time

    extra, params = _window_sql(since, until)
    computed = time.time() if computed_at is None else computed_at
    con.execute("DELETE FROM baselines WHERE run_id = ? AND phase = ?", [run_id, str(phase)])
    con.execute(
        "INSERT INTO baselines (run_id, phase, computed_at, source, metric, labels, n, mean, stddev, min, "
        "p50, p95, p99, max) SELECT ?, ?, to_timestamp(?), source, metric, labels, n, mean, stddev, min, "
        f"p50, p95, p99, max FROM ({_STATS_SQL.format(extra=extra)})",
        [run_id, str(phase), computed, run_id, str(phase), *params, run_id])
    row = con.execute("SELECT count(*) FROM baselines WHERE run_id = ? AND phase = ?", [run_id, str(phase)]).fetchone()
    return int(row[0]) if row else 0


def load_baselines(con: Any, run_id: str, phase: str = "baseline") -> dict[BaselineKey, BaselineStats]:
    """The stored statistics of one run and phase, keyed by ``(source, metric, labels_key)``."""
    rows = con.execute(
        "SELECT source, metric, labels, n, mean, stddev, min, p50, p95, p99, max FROM baselines "
        "WHERE run_id = ? AND phase = ?", [run_id, str(phase)]).fetchall()
    out: dict[BaselineKey, BaselineStats] = {}
    for source, metric, labels, n, mean, sd, mn, p50, p95, p99, mx in rows:
        out[(source, metric, labels_key(_labels(labels)))] = BaselineStats(
            n=int(n), mean=mean, stddev=sd, min=mn, p50=p50, p95=p95, p99=p99, max=mx)
    return out


# --------------------------------------------------------------------------- Mann-Whitney U


@dataclass(frozen=True)
class MannWhitney:
    u: float
    """U of the first sample (``x``), as scipy reports it."""
    p_value: float
    z: float


def _norm_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def mann_whitney_u(x: Sequence[float], y: Sequence[float], alternative: str = "two-sided") -> MannWhitney:
    """Mann-Whitney U test of ``x`` against ``y`` with the normal approximation, tie correction and
    continuity correction. ``alternative``: ``two-sided``, ``greater`` (x tends to be larger) or
    ``less``. Matches ``scipy.stats.mannwhitneyu(x, y, method="asymptotic")``.
    """
    if alternative not in ("two-sided", "greater", "less"):
        raise ValueError(f"alternative must be two-sided, greater or less, got {alternative!r}")
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("both samples need at least one value")
    combined = sorted([(float(v), 0) for v in x] + [(float(v), 1) for v in y], key=lambda p: p[0])
    n = n1 + n2
    ranks_x = 0.0
    tie_term = 0.0
    i = 0
    while i < n:
        j = i
        while j + 1 < n and combined[j + 1][0] == combined[i][0]:
            j += 1
        avg_rank = (i + j) / 2.0 + 1.0  # ranks are 1-based
        t = j - i + 1
        if t > 1:
            tie_term += t ** 3 - t
        ranks_x += avg_rank * sum(1 for k in range(i, j + 1) if combined[k][1] == 0)
        i = j + 1
    u1 = ranks_x - n1 * (n1 + 1) / 2.0
    u2 = n1 * n2 - u1
    mu = n1 * n2 / 2.0
    var = n1 * n2 / 12.0 * ((n + 1) - tie_term / (n * (n - 1))) if n > 1 else 0.0
    if alternative == "two-sided":
        u, factor = max(u1, u2), 2.0
    elif alternative == "greater":
        u, factor = u1, 1.0
    else:
        u, factor = u2, 1.0
    if var <= 0:
        return MannWhitney(u1, 1.0, 0.0)
    z = (u - mu - 0.5) / math.sqrt(var)
    p = min(1.0, max(0.0, _norm_sf(z) * factor))
    return MannWhitney(u1, p, z)


# --------------------------------------------------------------------------- comparisons


@dataclass
class Comparison:
    """One series, post (or migration) phase against the baseline."""

    source: str
    metric: str
    labels: dict[str, str]
    verdict: str  # differs | same | too few samples
    baseline_n: int
    n: int
    baseline_mean: float | None = None
    mean: float | None = None
    baseline_p50: float | None = None
    p50: float | None = None
    delta: float | None = None
    """mean - baseline mean"""
    ratio: float | None = None
    """mean / baseline mean (None when the baseline mean is 0)"""
    p_value: float | None = None
    u: float | None = None
    direction: str = "either"
    shift: str = ""  # up | down | "" (the median moved which way)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _median(vals: Sequence[float]) -> float:
    s = sorted(vals)
    k = len(s)
    return s[k // 2] if k % 2 else (s[k // 2 - 1] + s[k // 2]) / 2.0


def compare_values(baseline: Sequence[float], post: Sequence[float], *, min_samples: int = 10,
                   alpha: float = 0.05, direction: str = "either") -> tuple[str, MannWhitney | None, str]:
    """Verdict for two lists of values. ``direction``: ``increase`` (only a rise counts as differing),
    ``decrease`` or ``either``. Returns (verdict, test result or None, shift)."""
    if direction not in ("either", "increase", "decrease"):
        raise ValueError(f"direction must be either, increase or decrease, got {direction!r}")
    b = [v for v in baseline if v is not None and math.isfinite(v)]
    p = [v for v in post if v is not None and math.isfinite(v)]
    if len(b) < min_samples or len(p) < min_samples:
        return "too few samples", None, ""
    alt = {"either": "two-sided", "increase": "greater", "decrease": "less"}[direction]
    res = mann_whitney_u(p, b, alternative=alt)
    mb, mp = _median(b), _median(p)
    shift = "up" if mp > mb else "down" if mp < mb else ""
    return ("differs" if res.p_value < alpha else "same"), res, shift


def compare(con: Any, run_id: str, *, baseline_run: str | None = None, phase: str = "post",
            baseline_phase: str = "baseline", min_samples: int = 10, alpha: float = 0.05,
            direction: str | Mapping[str, str] = "either") -> list[Comparison]:
    """Compare every series of ``run_id`` in ``phase`` with the same series of the baseline
    (``baseline_run``, default the same run, in ``baseline_phase``).

    ``direction`` may be one string or a mapping ``metric -> increase|decrease|either``.
    Series present on one side only are reported with verdict ``too few samples``.
    """
    base_run = baseline_run or run_id

    def fetch(run: str, ph: str) -> dict[tuple[str, str, tuple[tuple[str, str], ...]], tuple[dict[str, str], list[float]]]:
        rows = con.execute(
            "SELECT source, metric, labels, list(value ORDER BY ts) FROM samples_v "
            "WHERE run_id = ? AND phase = ? GROUP BY source, metric, labels", [run, ph]).fetchall()
        out = {}
        for source, metric, labels, values in rows:
            lab = _labels(labels)
            vals = [float(v) for v in (values or []) if v is not None and math.isfinite(float(v))]
            out[(source, metric, labels_key(lab))] = (lab, vals)
        return out

    base = fetch(base_run, baseline_phase)
    post = fetch(run_id, phase)
    results: list[Comparison] = []
    for key in sorted(set(base) | set(post)):
        source, metric, _ = key
        lab, bvals = base.get(key, ({}, []))
        lab2, pvals = post.get(key, (lab, []))
        d = direction.get(metric, "either") if isinstance(direction, Mapping) else direction
        verdict, res, shift = compare_values(bvals, pvals, min_samples=min_samples, alpha=alpha, direction=d)
        bmean = math.fsum(bvals) / len(bvals) if bvals else None
        pmean = math.fsum(pvals) / len(pvals) if pvals else None
        c = Comparison(source=source, metric=metric, labels=lab or lab2, verdict=verdict,
                       baseline_n=len(bvals), n=len(pvals), baseline_mean=bmean, mean=pmean,
                       baseline_p50=_median(bvals) if bvals else None, p50=_median(pvals) if pvals else None,
                       direction=d, shift=shift)
        if bmean is not None and pmean is not None:
            c.delta = pmean - bmean
            c.ratio = pmean / bmean if bmean != 0 else None
        if res is not None:
            c.p_value, c.u = res.p_value, res.u
        if verdict == "too few samples":
            c.notes.append(f"need at least {min_samples} samples on each side "
                           f"(baseline {len(bvals)}, {phase} {len(pvals)})")
        results.append(c)
    return results
