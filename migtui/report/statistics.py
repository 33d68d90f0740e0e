"""The statistics of a report, computed in DuckDB: per-series statistics of each phase and the
Mann-Whitney U test of post (and migration) against the baseline as a rank-sum over a window
function: the same test, corrections and verdict rules as :func:`migtui.triggers.baseline.compare`,
which pulls every value into Python and is too slow for an 8-hour run with hundreds of metrics (a
test checks both agree)."""

from __future__ import annotations

import json
import math
from typing import Any, Sequence

from migtui.model import as_number

MIN_SAMPLES = 10
ALPHA = 0.05


_STAT_NAMES = ("mean", "stddev", "min", "p50", "p95", "max", "last")
"""The statistics of a phase, in the order the queries select them."""


def _finite(names: Sequence[str], values: Sequence[Any]) -> dict[str, float | None]:
    return {name: as_number(v, finite=True) for name, v in zip(names, values, strict=True)}


def _norm_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


_STATS_SQL = """
SELECT r.series_id, s.phase, count(s.value) AS n, avg(s.value) AS mean, stddev_samp(s.value) AS stddev,
       min(s.value) AS min, quantile_cont(s.value, 0.5) AS p50, quantile_cont(s.value, 0.95) AS p95,
       max(s.value) AS max, arg_max(s.value, s.ts) AS last
FROM samples s JOIN series r ON r.run_id = s.run_id AND r.series_id = s.series_id
WHERE s.run_id = ? AND isfinite(s.value)
GROUP BY ALL
"""

_MWU_SQL = """
WITH c AS (
    {base_rows}
    UNION ALL
    SELECT series_id AS k, true AS o, value FROM samples
    WHERE run_id = $run AND phase = $other AND isfinite(value)
), r AS (  -- rank() is a tie group's first rank, count(*) (RANGE frame, peers included) its last
    SELECT k, o, rank() OVER w AS rk, count(*) OVER w AS le
    FROM c WINDOW w AS (PARTITION BY k ORDER BY value)
)
SELECT k, count(*) FILTER (WHERE NOT o) AS n_base, count(*) FILTER (WHERE o) AS n_other,
       sum((rk + le) / 2.0) FILTER (WHERE o) AS rank_sum,
       sum(CAST(le - rk + 1 AS DOUBLE) ^ 2 - 1) AS tie_term
FROM r GROUP BY k
"""
_BASE_SAME_RUN = """SELECT series_id AS k, false AS o, value FROM samples
    WHERE run_id = $run AND phase = 'baseline' AND isfinite(value)"""
_BASE_OTHER_RUN = """SELECT m.sid AS k, false AS o, s.value FROM samples s JOIN (
        SELECT b.series_id AS bid, r.series_id AS sid
        FROM series b JOIN series r ON r.run_id = $run AND b.source = r.source AND b.metric = r.metric
                                   AND CAST(b.labels AS VARCHAR) = CAST(r.labels AS VARCHAR)
        WHERE b.run_id = $base) m ON m.bid = s.series_id
    WHERE s.run_id = $base AND s.phase = 'baseline' AND isfinite(s.value)"""
MIGRATION_VERDICT_MAX_SAMPLES = 3_000_000
"""Above this many samples in a run, only post is tested against the baseline (time budget)."""


def mann_whitney_from_ranks(n_base: int, n_other: int, rank_sum: float, tie_term: float) -> tuple[float, float]:
    """(U of the other sample, two-sided p) with tie and continuity correction, as
    :func:`migtui.triggers.baseline.mann_whitney_u` (x = the other phase, y = the baseline)."""
    n1, n2 = n_other, n_base
    n = n1 + n2
    u1 = rank_sum - n1 * (n1 + 1) / 2.0
    u2 = n1 * n2 - u1
    mu = n1 * n2 / 2.0
    var = n1 * n2 / 12.0 * ((n + 1) - tie_term / (n * (n - 1))) if n > 1 else 0.0
    if var <= 0:
        return u1, 1.0
    z = (max(u1, u2) - mu - 0.5) / math.sqrt(var)
    return u1, min(1.0, max(0.0, _norm_sf(z) * 2.0))


def _verdict(n_base: int, n_other: int, rank_sum: float | None, tie_term: float | None,
             med_b: float | None, med_o: float | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"baseline_n": n_base, "n": n_other, "p_value": None, "u": None, "shift": ""}
    if n_base < MIN_SAMPLES or n_other < MIN_SAMPLES:
        entry["verdict"] = "too few samples"
        return entry
    u, p = mann_whitney_from_ranks(n_base, n_other, float(rank_sum or 0), float(tie_term or 0))
    entry.update(u=u, p_value=p, verdict="differs" if p < ALPHA else "same")
    if med_b is not None and med_o is not None:
        entry["shift"] = "up" if med_o > med_b else "down" if med_o < med_b else ""
    return entry


def _comparisons(con: Any, run_id: str, base_run: str, phase: str,
                 medians: dict[int, dict[str, float | None]]) -> dict[int, dict[str, Any]]:
    """Per series id of ``run_id``: ``phase`` against the baseline, in one DuckDB pass."""
    sql = _MWU_SQL.format(base_rows=_BASE_SAME_RUN if base_run == run_id else _BASE_OTHER_RUN)
    params = {"run": run_id, "other": phase}
    if base_run != run_id:
        params["base"] = base_run
    out = {}
    for k, n_base, n_other, rank_sum, tie_term in con.execute(sql, params).fetchall():
        med = medians.get(int(k), {})
        out[int(k)] = _verdict(int(n_base), int(n_other), rank_sum, tie_term, med.get("baseline"), med.get(phase))
    return out


def _series_key(source: str, metric: str, labels: str) -> str:
    return f"{source}\x1f{metric}\x1f{labels}"


def series_statistics(con: Any, run_id: str, base_run: str, n_samples: int) -> list[dict[str, Any]]:
    """Per series of ``run_id``: statistics of each phase (the baseline from ``base_run``), post - baseline
    delta and ratio, and the Mann-Whitney verdicts of post (and migration, below
    :data:`MIGRATION_VERDICT_MAX_SAMPLES`) against the baseline."""
    series_rows = con.execute("SELECT series_id, source, metric, CAST(labels AS VARCHAR) FROM series WHERE run_id = ? "
                              "ORDER BY metric, source, labels", [run_id]).fetchall()
    stats: dict[int, dict[str, Any]] = {}
    for sid, phase, n, *values in con.execute(_STATS_SQL, [run_id]).fetchall():
        stats.setdefault(sid, {})[phase] = {"n": int(n), **_finite(_STAT_NAMES, values)}
    base_stats: dict[str, dict[str, Any]] = {}
    if base_run != run_id:
        for source, metric, labels, n, *values in con.execute(
                "SELECT r.source, r.metric, CAST(r.labels AS VARCHAR), count(s.value), avg(s.value), "
                "stddev_samp(s.value), min(s.value), quantile_cont(s.value, 0.5), quantile_cont(s.value, 0.95), "
                "max(s.value) FROM samples s JOIN series r ON r.run_id = s.run_id AND r.series_id = s.series_id "
                "WHERE s.run_id = ? AND s.phase = 'baseline' AND isfinite(s.value) GROUP BY ALL", [base_run]).fetchall():
            base_stats[_series_key(source, metric, labels)] = {"n": int(n), **_finite(_STAT_NAMES[:-1], values),
                                                               "last": None}
    medians: dict[int, dict[str, float | None]] = {}
    key_to_sid = {_series_key(src, met, lab): sid for sid, src, met, lab in series_rows}
    for sid, st in stats.items():
        for ph, v in st.items():
            medians.setdefault(sid, {})[ph] = v["p50"]
    for key, v in base_stats.items():
        if key in key_to_sid:
            medians.setdefault(key_to_sid[key], {})["baseline"] = v["p50"]
    cmp_post = _comparisons(con, run_id, base_run, "post", medians)
    cmp_mig = (_comparisons(con, run_id, base_run, "migration", medians)
               if n_samples <= MIGRATION_VERDICT_MAX_SAMPLES else {})
    series = []
    for sid, source, metric, labels in series_rows:
        key = _series_key(source, metric, labels)
        st = dict(stats.get(sid, {}))
        if base_run != run_id:
            st["baseline"] = base_stats.get(key) or {"n": 0}
        b, p = st.get("baseline"), st.get("post")
        delta = ratio = None
        if b and p and b.get("mean") is not None and p.get("mean") is not None:
            delta = p["mean"] - b["mean"]
            ratio = p["mean"] / b["mean"] if b["mean"] else None
        series.append({"series_id": int(sid), "source": source, "metric": metric, "labels": json.loads(labels),
                       "stats": st, "delta": delta, "ratio": ratio,
                       "post_vs_baseline": cmp_post.get(sid, {"verdict": "no data"}),
                       "migration_vs_baseline": cmp_mig.get(sid, {"verdict": "no data" if cmp_mig else "not tested"})})
    return series
