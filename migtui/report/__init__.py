"""Reports of a run from the store: HTML (self-contained, inline SVG charts, printable), Markdown,
JSON (the store's rows and the statistics computed from them) and Parquet (the run's raw tables).

Everything heavy happens in DuckDB: per-series statistics of each phase, the Mann-Whitney U test of
post (and migration) against the baseline as a rank-sum over a window function (the same test,
corrections and verdict rules as :func:`migtui.baseline.compare`, which pulls every value into
Python and is too slow for an 8-hour run with hundreds of metrics; a test checks both agree), and
chart series downsampled with ``time_bucket``.

Secrets: the store holds none (configs are redacted on the way in); text from the store is
redacted once more and HTML-escaped here.
"""

from __future__ import annotations

import html
import json
import math
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

from migtui.errors import MigtuiError, StoreError, StoreLockedError
from migtui.redact import redact, redact_obj

FORMATS = ("html", "md", "json", "parquet")
PHASES = ("baseline", "migration", "post")
MIN_SAMPLES = 10
ALPHA = 0.05
MAX_CHARTS = 24
CHART_POINTS = 240
TABLES = ("runs", "series", "samples", "snapshots", "events", "baselines")


class ReportError(MigtuiError):
    """The report cannot be written (bad format, output path)."""


# --------------------------------------------------------------------------- opening


def open_store_for_report(path: str | os.PathLike[str]) -> Any:
    from migtui.store import Store

    try:
        return Store.open(path, read_only=True)
    except StoreLockedError as exc:
        pid = ""
        text = str(exc)
        if "(process " in text:
            pid = " " + text[text.index("(process "):text.index(")", text.index("(process ")) + 1]
        raise StoreLockedError(
            f"{path}: a running migtui{pid} holds this store and DuckDB lets only one process open the file; "
            f"press e in that cockpit to export, or run `migtui report` again when the watch has ended") from None


# --------------------------------------------------------------------------- building


def _iso(ts: Any) -> str | None:
    if ts is None:
        return None
    if isinstance(ts, datetime):
        return ts.astimezone(timezone.utc).isoformat()
    return str(ts)


def _f(v: Any) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _norm_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _resolve_run(con: Any, run_id: str) -> str:
    if run_id in (None, "", "latest"):
        row = con.execute("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
        if not row:
            raise StoreError("the store holds no runs yet")
        return str(row[0])
    row = con.execute("SELECT run_id FROM runs WHERE run_id = ?", [run_id]).fetchone()
    if not row:
        raise StoreError(f"no run {run_id!r} in this store; `migtui runs --store FILE` lists them")
    return run_id


def _events(con: Any, run_id: str) -> list[dict[str, Any]]:
    rows = con.execute("SELECT ts, phase, kind, subject, level, message, data FROM events WHERE run_id = ? "
                       "ORDER BY ts, rowid", [run_id]).fetchall()
    out = []
    for ts, phase, kind, subject, level, message, data in rows:
        out.append({"ts": _iso(ts), "phase": phase, "kind": kind, "subject": redact(subject), "level": level,
                    "message": redact(message), "data": redact_obj(json.loads(data)) if data else {}})
    return out


def _phases(run: dict[str, Any], events: list[dict[str, Any]], last_ts: datetime | None) -> list[dict[str, Any]]:
    start = run["started_at"]
    first = next((e["phase"] for e in events), "baseline")
    changes = [e for e in events if e["kind"] == "phase"]
    if changes:
        first = changes[0]["data"].get("from", first)
    segs: list[dict[str, Any]] = []
    cur_phase, cur_start = first, start
    for e in changes:
        ts = datetime.fromisoformat(e["ts"])
        segs.append({"phase": cur_phase, "start": cur_start, "end": ts, "who": None})
        cur_phase, cur_start = e["data"].get("to", e["subject"]), ts
    end = run["ended_at"] or last_ts or cur_start
    segs.append({"phase": cur_phase, "start": cur_start, "end": max(end, cur_start)})
    for i, seg in enumerate(segs):
        seg["seconds"] = round((seg["end"] - seg["start"]).total_seconds(), 3)
        seg["started_by"] = (changes[i - 1]["data"].get("who") if i > 0 else "start")
        seg["why"] = (changes[i - 1]["data"].get("why") if i > 0 else "")
    return [{"phase": s["phase"], "start": _iso(s["start"]), "end": _iso(s["end"]), "seconds": s["seconds"],
             "started_by": s["started_by"], "why": s["why"] or ""} for s in segs]


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
    :func:`migtui.baseline.mann_whitney_u` (x = the other phase, y = the baseline)."""
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


def build_report(con: Any, run_id: str = "latest") -> dict[str, Any]:
    """The report as plain data (what the JSON format writes). ``con``: a DuckDB connection/cursor."""
    run_id = _resolve_run(con, run_id)
    cols = ["run_id", "name", "started_at", "ended_at", "status", "host", "version", "baseline_of", "config"]
    row = con.execute(f"SELECT {', '.join(cols)} FROM runs WHERE run_id = ?", [run_id]).fetchone()
    run = dict(zip(cols, row))
    events = _events(con, run_id)
    counts = {t: int(con.execute(f"SELECT count(*) FROM {t} WHERE run_id = ?", [run_id]).fetchone()[0])
              for t in ("series", "samples", "snapshots", "events", "baselines")}
    last_ts = con.execute("SELECT max(ts) FROM samples WHERE run_id = ?", [run_id]).fetchone()[0]
    phases = _phases(run, events, last_ts)
    totals: dict[str, float] = {}
    for seg in phases:
        totals[seg["phase"]] = round(totals.get(seg["phase"], 0.0) + seg["seconds"], 3)

    base_run = run["baseline_of"] or run_id
    series_rows = con.execute("SELECT series_id, source, metric, CAST(labels AS VARCHAR) FROM series WHERE run_id = ? "
                              "ORDER BY metric, source, labels", [run_id]).fetchall()
    stats: dict[int, dict[str, Any]] = {}
    for sid, phase, n, mean, sd, mn, p50, p95, mx, last in con.execute(_STATS_SQL, [run_id]).fetchall():
        stats.setdefault(sid, {})[phase] = {"n": int(n), "mean": _f(mean), "stddev": _f(sd), "min": _f(mn),
                                            "p50": _f(p50), "p95": _f(p95), "max": _f(mx), "last": _f(last)}
    base_stats: dict[str, dict[str, Any]] = {}
    if base_run != run_id:
        for source, metric, labels, n, mean, sd, mn, p50, p95, mx in con.execute(
                "SELECT r.source, r.metric, CAST(r.labels AS VARCHAR), count(s.value), avg(s.value), "
                "stddev_samp(s.value), min(s.value), quantile_cont(s.value, 0.5), quantile_cont(s.value, 0.95), "
                "max(s.value) FROM samples s JOIN series r ON r.run_id = s.run_id AND r.series_id = s.series_id "
                "WHERE s.run_id = ? AND s.phase = 'baseline' AND isfinite(s.value) GROUP BY ALL", [base_run]).fetchall():
            base_stats[_series_key(source, metric, labels)] = {
                "n": int(n), "mean": _f(mean), "stddev": _f(sd), "min": _f(mn), "p50": _f(p50), "p95": _f(p95),
                "max": _f(mx), "last": None}
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
               if counts["samples"] <= MIGRATION_VERDICT_MAX_SAMPLES else {})
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

    def kind(k: str) -> list[dict[str, Any]]:
        return [e for e in events if e["kind"] == k]

    report = {
        "format": "migtui-report",
        "format_version": 1,
        "generated_at": datetime.now(timezone.utc).isoformat(),
        "run": {**{k: (_iso(v) if isinstance(v, datetime) else v) for k, v in run.items() if k != "config"},
                "config": redact_obj(json.loads(run["config"])) if run["config"] else {}},
        "baseline_run": base_run,
        "counts": counts,
        "phases": phases,
        "phase_seconds": totals,
        "statistics": {"test": "Mann-Whitney U, two-sided, normal approximation with tie and continuity correction",
                       "alpha": ALPHA, "min_samples": MIN_SAMPLES,
                       "differs_post": sum(1 for s in series if s["post_vs_baseline"].get("verdict") == "differs")},
        "series": series,
        "events": events,
        "triggers": kind("trigger"),
        "alerts": kind("alert"),
        "actions": [e for e in kind("action") if e["data"].get("stage", "result") == "result" or "ok" in e["data"]],
        "checks": kind("check"),
        "errors": kind("error"),
        "notes": kind("note"),
    }
    report["checklist"] = post_migration_checklist(report, con=con)
    return report


# --------------------------------------------------------------------------- post-migration checklist


def _fired(e: dict[str, Any]) -> bool:
    """A trigger event that is a transition to firing."""
    to = e["data"].get("to") or e["data"].get("state")
    return to == "firing" if to else "-> firing" in e["message"]


def _item(name: str, status: str, evidence: str) -> dict[str, str]:
    return {"item": name, "status": status, "evidence": evidence}


def post_migration_checklist(report: dict[str, Any], con: Any = None) -> list[dict[str, str]]:
    """Health, performance vs baseline, integrity verification, errors/alerts/actions, migration tools."""
    items = []
    run = report["run"]
    has_post = report["phase_seconds"].get("post", 0) > 0 or any(
        s["stats"].get("post", {}).get("n") for s in report["series"])
    # health
    up = [s for s in report["series"] if s["metric"] == "pg.up"]
    post_up = [s["stats"].get("post") for s in up if s["stats"].get("post")]
    if run["status"] not in ("finished", "running"):
        items.append(_item("Health", "warn", f"the run ended as {run['status']}"))
    elif not has_post:
        items.append(_item("Health", "warn", "no post phase was recorded: health after the migration is unknown"))
    elif post_up and min(p["min"] for p in post_up if p.get("min") is not None) < 1:
        items.append(_item("Health", "fail", "the database was unreachable during the post phase"))
    else:
        n_post = sum(s["stats"].get("post", {}).get("n", 0) for s in report["series"])
        items.append(_item("Health", "pass", f"post phase {report['phase_seconds'].get('post', 0):.0f}s, "
                                             f"{n_post} samples; sources reachable"))
    # performance
    post_cmp = [s for s in report["series"] if s["post_vs_baseline"].get("verdict") in ("differs", "same")]
    differs = [s for s in post_cmp if s["post_vs_baseline"]["verdict"] == "differs"]
    if not post_cmp:
        items.append(_item("Performance vs baseline", "warn",
                           f"not compared: need at least {MIN_SAMPLES} samples per metric in baseline and post"))
    elif differs:
        top = sorted(differs, key=lambda s: s["post_vs_baseline"]["p_value"])[:5]
        names = ", ".join(f"{s['metric']} {s['post_vs_baseline']['shift']}" for s in top)
        items.append(_item("Performance vs baseline", "warn",
                           f"{len(differs)} of {len(post_cmp)} metrics differ from the baseline (p < {ALPHA}): {names}"))
    else:
        items.append(_item("Performance vs baseline", "pass",
                           f"{len(post_cmp)} metrics compared, none differs from the baseline (p >= {ALPHA})"))
    # integrity
    integ = [e for e in report["checks"] if e["data"].get("type") == "integrity" and e["data"].get("result") in
             ("pass", "fail", "error")]
    if not integ:
        items.append(_item("Integrity verification", "warn", "no integrity check compared baseline and post"))
    else:
        latest: dict[str, dict[str, Any]] = {}
        for e in integ:
            latest[e["data"].get("check", e["subject"])] = e
        bad = [n for n, e in latest.items() if e["data"]["result"] != "pass"]
        items.append(_item("Integrity verification", "fail" if bad else "pass",
                           (f"failed: {', '.join(bad)}; " if bad else "") + f"{len(latest) - len(bad)} of {len(latest)} passed"))
    # errors and alerts
    errs = [e for e in report["errors"] if e["level"] in ("warn", "error") and not e["data"].get("recovered")]
    firing = [e for e in report["triggers"] if _fired(e)]
    items.append(_item("Errors and alerts during the run", "warn" if errs or firing or report["alerts"] else "pass",
                       f"{len(errs)} errors, {len(firing)} trigger firings, {len(report['alerts'])} alerts"))
    failed_actions = [e for e in report["actions"] if e["data"].get("ok") is False]
    done = [e for e in report["actions"] if e["data"].get("ok") and not e["data"].get("dry_run")]
    rollbacks = [e for e in done if e["data"].get("verb") == "rollback"]
    status = "fail" if failed_actions else ("warn" if rollbacks else "pass")
    items.append(_item("Actions", status, f"{len(done)} ran, {len(failed_actions)} failed"
                       + (f", {len(rollbacks)} rollback(s)" if rollbacks else "")))
    tools = [e for e in report["notes"] if e["data"].get("type") == "migration" and e["data"].get("change") == "state"]
    last_state: dict[str, str] = {}
    for e in tools:
        last_state[e["data"].get("tool", "")] = e["data"].get("state", "")
    bad_tools = {t: s for t, s in last_state.items() if s in ("dirty", "failed", "locked", "running")}
    if bad_tools:
        items.append(_item("Migration tools", "fail", ", ".join(f"{t} {s}" for t, s in bad_tools.items())))
    elif last_state:
        items.append(_item("Migration tools", "pass", "no tool left dirty, failed, locked or running"))
    return items


# --------------------------------------------------------------------------- charts


def _pick_chart_series(report: dict[str, Any]) -> list[dict[str, Any]]:
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
    add(s for s in series if s["metric"] in trig_metrics or any(s["metric"].endswith("." + m) for m in trig_metrics))
    add(sorted((s for s in series if s["post_vs_baseline"].get("verdict") == "differs"),
               key=lambda s: s["post_vs_baseline"]["p_value"]))
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


def _fmt(v: float | None) -> str:
    if v is None:
        return "–"
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 1e9:
        return f"{v / 1e9:.3g}G"
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e4:
        return f"{v / 1e3:.3g}k"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 1:
        return f"{v:.3g}"
    return f"{v:.3g}"


def svg_chart(points: list[tuple[float, float, float, float]], phases: list[dict[str, Any]], t0: float, t1: float,
              marks: Sequence[float] = (), width: int = 720, height: int = 150) -> str:
    """An inline SVG line chart: min-max band, average line, phase bands, trigger marks."""
    left, right, top, bottom = 52, 8, 8, 20
    w, h = width - left - right, height - top - bottom
    span = max(1e-9, t1 - t0)
    ys = [p[2] for p in points] + [p[3] for p in points]
    lo, hi = (min(ys), max(ys)) if ys else (0.0, 1.0)
    if hi == lo:
        lo, hi = lo - 1 if lo else 0.0, hi + 1
    pad = (hi - lo) * 0.05
    lo, hi = (lo - pad if lo < 0 or lo - pad >= 0 else 0.0), hi + pad

    def x(t: float) -> float:
        return left + (min(max(t, t0), t1) - t0) / span * w

    def y(v: float) -> float:
        return top + h - (v - lo) / (hi - lo) * h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
             f'preserveAspectRatio="xMidYMid meet" role="img">']
    for seg in phases:
        a = datetime.fromisoformat(seg["start"]).timestamp()
        b = datetime.fromisoformat(seg["end"]).timestamp()
        parts.append(f'<rect x="{x(a):.1f}" y="{top}" width="{max(0.5, x(b) - x(a)):.1f}" height="{h}" '
                     f'fill="{PHASE_COLORS.get(seg["phase"], "#eee")}"/>')
    parts.append(f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#888" stroke-width="0.6"/>')
    for frac in (0.0, 0.5, 1.0):
        v = lo + (hi - lo) * frac
        parts.append(f'<text x="{left - 4}" y="{y(v) + 3:.1f}" text-anchor="end" font-size="10">{_fmt(v)}</text>')
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ccc" '
                     f'stroke-width="0.4"/>')
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
            parts.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top}" y2="{top + h}" stroke="#c0392b" '
                         f'stroke-width="1.2" stroke-dasharray="3,2"/>')
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------- HTML


_CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1b1f24;margin:24px auto;max-width:1100px;
     padding:0 16px;font-size:14px;line-height:1.4}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #ccd;padding-bottom:3px}
.meta{color:#555} table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:12.5px}
th,td{border:1px solid #d4d7dc;padding:3px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f1f3f6} td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.pass{color:#1e7b34;font-weight:600} .warn{color:#9a6700;font-weight:600} .fail,.error{color:#b42318;font-weight:600}
.differs{color:#b42318;font-weight:600} .same{color:#1e7b34} .muted{color:#777}
.chart{break-inside:avoid;page-break-inside:avoid;margin:8px 0 14px} .chart h3{font-size:13px;margin:0 0 2px}
.legend span{display:inline-block;padding:1px 8px;margin-right:6px;border:1px solid #ccc;font-size:12px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(500px,1fr));gap:4px 18px}
svg{display:block;max-width:100%;height:auto}
@media print{body{margin:0;max-width:none;font-size:10.5pt} h2{break-after:avoid} tr{break-inside:avoid}
  a{color:inherit;text-decoration:none}}
@page{size:A4;margin:12mm}
"""


def _e(v: Any) -> str:
    return html.escape(redact(v if v is not None else ""))


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h{m:02d}m{sec:02d}s" if h else f"{m}m{sec:02d}s"


def _labels_text(labels: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _time(ts: str | None) -> str:
    return ts[11:19] if ts else ""


def render_html(report: dict[str, Any], charts: dict[int, list[tuple[float, float, float, float]]]) -> str:
    run = report["run"]
    out: list[str] = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
                      f'<title>migtui report: {_e(run["name"])} {_e(run["run_id"])}</title>',
                      f"<style>{_CSS}</style></head><body>"]
    out.append(f'<h1>Migration report: {_e(run["name"])}</h1>')
    out.append(f'<div class="meta">run {_e(run["run_id"])} on {_e(run["host"])} · started {_e(run["started_at"])} · '
               f'ended {_e(run["ended_at"] or "(still running)")} · status <b>{_e(run["status"])}</b> · '
               f'migtui {_e(run["version"])} · baseline from run {_e(report["baseline_run"])}</div>')
    c = report["counts"]
    out.append(f'<p class="meta">{c["samples"]:,} samples in {c["series"]:,} series, {c["events"]:,} events, '
               f'{c["snapshots"]:,} snapshots.</p>')
    # checklist
    out.append("<h2>Post-migration checklist</h2><table><tr><th>Item</th><th>Result</th><th>Evidence</th></tr>")
    for it in report["checklist"]:
        out.append(f'<tr><td>{_e(it["item"])}</td><td class="{it["status"]}">{it["status"].upper()}</td>'
                   f'<td>{_e(it["evidence"])}</td></tr>')
    out.append("</table>")
    # phases
    out.append("<h2>Phases</h2><table><tr><th>Phase</th><th>Start (UTC)</th><th>End</th><th>Duration</th>"
               "<th>Started by</th><th>Why</th></tr>")
    for p in report["phases"]:
        out.append(f'<tr><td><span style="background:{PHASE_COLORS.get(p["phase"], "#eee")};padding:0 6px">'
                   f'{_e(p["phase"])}</span></td><td>{_e(p["start"][:19].replace("T", " "))}</td>'
                   f'<td>{_e(p["end"][11:19])}</td><td class="num">{_dur(p["seconds"])}</td>'
                   f'<td>{_e(p["started_by"])}</td><td>{_e(p["why"])}</td></tr>')
    out.append("</table>")
    # charts
    t0 = datetime.fromisoformat(report["phases"][0]["start"]).timestamp()
    t1 = datetime.fromisoformat(report["phases"][-1]["end"]).timestamp()
    marks = [datetime.fromisoformat(e["ts"]).timestamp() for e in report["triggers"] if _fired(e)]
    by_id = {s["series_id"]: s for s in report["series"]}
    if charts:
        out.append('<h2>Charts</h2><div class="legend">'
                   + "".join(f'<span style="background:{col}">{ph}</span>' for ph, col in PHASE_COLORS.items())
                   + '<span>— average, band: min–max per bucket</span>'
                   + '<span style="color:#c0392b">┆ trigger fired</span></div><div class="charts">')
        for sid, pts in charts.items():
            s = by_id[sid]
            cmp_ = s["post_vs_baseline"]
            verdict = cmp_.get("verdict", "")
            title = f'{s["metric"]} {{{_labels_text(s["labels"])}}}' if s["labels"] else s["metric"]
            out.append(f'<div class="chart"><h3>{_e(title)} <span class="muted">({_e(s["source"])})</span> '
                       f'<span class="{verdict if verdict in ("differs", "same") else "muted"}">{_e(verdict)}</span>'
                       f'</h3>{svg_chart(pts, report["phases"], t0, t1, marks)}</div>')
        out.append("</div>")
    # metrics table
    out.append(f'<h2>Metrics: baseline / migration / post</h2><p class="meta">{_e(report["statistics"]["test"])}; '
               f'α = {ALPHA}; at least {MIN_SAMPLES} samples per side. Δ = post mean − baseline mean.</p>')
    out.append('<table><tr><th>Metric</th><th>Labels</th><th>Baseline mean (p95)</th><th>Migration mean (p95)</th>'
               '<th>Post mean (p95)</th><th>Δ</th><th>Ratio</th><th>p (post)</th><th>Verdict</th></tr>')

    def cell(st: dict[str, Any] | None) -> str:
        if not st or not st.get("n"):
            return '<td class="num muted">–</td>'
        return f'<td class="num">{_fmt(st.get("mean"))} ({_fmt(st.get("p95"))})</td>'

    for s in sorted(report["series"], key=lambda s: (s["post_vs_baseline"].get("verdict") != "differs", s["metric"])):
        cmp_ = s["post_vs_baseline"]
        v = cmp_.get("verdict", "")
        p = cmp_.get("p_value")
        ratio_text = "" if s["ratio"] is None else f"{s['ratio']:.2f}×"
        p_text = "" if p is None else f"{p:.3g}"
        out.append(f'<tr><td>{_e(s["metric"])}</td><td>{_e(_labels_text(s["labels"]))}</td>'
                   f'{cell(s["stats"].get("baseline"))}{cell(s["stats"].get("migration"))}{cell(s["stats"].get("post"))}'
                   f'<td class="num">{_fmt(s["delta"])}</td>'
                   f'<td class="num">{ratio_text}</td><td class="num">{p_text}</td>'
                   f'<td class="{v if v in ("differs", "same") else "muted"}">{_e(v)} {_e(cmp_.get("shift", ""))}</td></tr>')
    out.append("</table>")
    # timeline sections

    def events_table(title: str, rows: list[dict[str, Any]], extra: Sequence[tuple[str, str]] = ()) -> None:
        out.append(f"<h2>{title}</h2>")
        if not rows:
            out.append('<p class="muted">None.</p>')
            return
        out.append("<table><tr><th>Time</th><th>Phase</th><th>Level</th><th>Subject</th>"
                   + "".join(f"<th>{h}</th>" for h, _ in extra) + "<th>Message</th></tr>")
        for e in rows:
            out.append(f'<tr><td>{_time(e["ts"])}</td><td>{_e(e["phase"])}</td>'
                       f'<td class="{_e(e["level"])}">{_e(e["level"])}</td><td>{_e(e["subject"])}</td>'
                       + "".join(f'<td>{_e(e["data"].get(k, ""))}</td>' for _, k in extra)
                       + f'<td>{_e(e["message"])}</td></tr>')
        out.append("</table>")

    events_table("Trigger timeline", report["triggers"])
    events_table("Alerts", report["alerts"])
    events_table("Actions", report["actions"], [("Who", "who"), ("Why", "why"), ("OK", "ok")])
    events_table("Checks (preflight, integrity)", report["checks"], [("Result", "result")])
    events_table("Migration tools and notes", report["notes"])
    events_table("Errors", report["errors"][:200])
    out.append(f'<p class="muted">Generated by migtui at {_e(report["generated_at"][:19])} UTC from the run\'s store. '
               "No secrets are stored or shown.</p></body></html>")
    return "\n".join(out)


# --------------------------------------------------------------------------- Markdown


def _md(v: Any) -> str:
    return redact(v if v is not None else "").replace("|", "\\|").replace("\n", " ")


def render_markdown(report: dict[str, Any]) -> str:
    run = report["run"]
    lines = [f"# Migration report: {_md(run['name'])}", "",
             f"Run `{run['run_id']}` on {_md(run['host'])}, started {run['started_at']}, ended "
             f"{run['ended_at'] or '(still running)'}, status **{run['status']}**; baseline from run "
             f"`{report['baseline_run']}`.", "",
             f"{report['counts']['samples']} samples in {report['counts']['series']} series, "
             f"{report['counts']['events']} events.", "",
             "## Post-migration checklist", "", "| Item | Result | Evidence |", "|---|---|---|"]
    lines += [f"| {_md(i['item'])} | **{i['status'].upper()}** | {_md(i['evidence'])} |" for i in report["checklist"]]
    lines += ["", "## Phases", "", "| Phase | Start (UTC) | End | Duration | Started by | Why |", "|---|---|---|---:|---|---|"]
    lines += [f"| {p['phase']} | {p['start'][:19].replace('T', ' ')} | {p['end'][11:19]} | {_dur(p['seconds'])} | "
              f"{_md(p['started_by'])} | {_md(p['why'])} |" for p in report["phases"]]
    lines += ["", "## Metrics: baseline / migration / post", "",
              f"{report['statistics']['test']}; alpha {ALPHA}; at least {MIN_SAMPLES} samples per side.", "",
              "| Metric | Labels | Baseline mean | Migration mean | Post mean | Δ | p (post) | Verdict |",
              "|---|---|---:|---:|---:|---:|---:|---|"]
    for s in sorted(report["series"], key=lambda s: (s["post_vs_baseline"].get("verdict") != "differs", s["metric"])):
        st = s["stats"]
        c = s["post_vs_baseline"]
        p = c.get("p_value")
        lines.append(f"| {_md(s['metric'])} | {_md(_labels_text(s['labels']))} | "
                     f"{_fmt((st.get('baseline') or {}).get('mean'))} | {_fmt((st.get('migration') or {}).get('mean'))} | "
                     f"{_fmt((st.get('post') or {}).get('mean'))} | {_fmt(s['delta'])} | "
                     f"{'' if p is None else f'{p:.3g}'} | {_md(c.get('verdict'))} {_md(c.get('shift', ''))} |")

    def section(title: str, rows: list[dict[str, Any]], extra: Sequence[tuple[str, str]] = ()) -> None:
        lines.extend(["", f"## {title}", ""])
        if not rows:
            lines.append("None.")
            return
        lines.append("| Time | Phase | Level | Subject | " + "".join(f"{h} | " for h, _ in extra) + "Message |")
        lines.append("|---|---|---|---|" + "---|" * len(extra) + "---|")
        for e in rows:
            lines.append(f"| {_time(e['ts'])} | {e['phase']} | {e['level']} | {_md(e['subject'])} | "
                         + "".join(f"{_md(e['data'].get(k, ''))} | " for _, k in extra) + f"{_md(e['message'])} |")

    section("Trigger timeline", report["triggers"])
    section("Alerts", report["alerts"])
    section("Actions", report["actions"], [("Who", "who"), ("Why", "why"), ("OK", "ok")])
    section("Checks (preflight, integrity)", report["checks"], [("Result", "result")])
    section("Migration tools and notes", report["notes"])
    section("Errors", report["errors"][:200])
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- Parquet


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def write_parquet(con: Any, run_id: str, folder: Path) -> list[Path]:
    """The run's rows of every store table, one Parquet file each, into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in TABLES:
        path = folder / f"{table}.parquet"
        order = " ORDER BY ts" if table in ("samples", "snapshots", "events") else ""
        con.execute(f"COPY (SELECT * FROM {table} WHERE run_id = {_sql_str(run_id)}{order}) "
                    f"TO {_sql_str(str(path))} (FORMAT parquet)")
        written.append(path)
    return written


# --------------------------------------------------------------------------- entry point


def _json_default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return str(obj)


def export_report(store_or_path: Any, run_id: str = "latest", fmt: str = "html",
                  out_path: str | os.PathLike[str] | None = None) -> Path:
    """Write a report of ``run_id`` (or ``latest``) as html, md, json or parquet; returns the path.

    ``store_or_path``: an open :class:`migtui.store.Store` (the cockpit's own) or a store file.
    For parquet, ``out_path`` is a folder.
    """
    from migtui.store import Store

    if fmt not in FORMATS:
        raise ReportError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    own = not isinstance(store_or_path, Store)
    store = open_store_for_report(store_or_path) if own else store_or_path
    try:
        con = store.cursor()
        run_id = _resolve_run(con, run_id)
        suffix = {"html": ".html", "md": ".md", "json": ".json", "parquet": ""}[fmt]
        out = Path(out_path) if out_path else Path(f"migtui-report-{run_id}{suffix}")
        if fmt == "parquet":
            write_parquet(con, run_id, out)
            return out
        report = build_report(con, run_id)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReportError(f"{out}: cannot create its folder: {exc.strerror}") from None
        if fmt == "json":
            text = json.dumps(report, default=_json_default, indent=1)
        elif fmt == "md":
            text = render_markdown(report)
        else:
            chosen = _pick_chart_series(report)
            t0 = datetime.fromisoformat(report["phases"][0]["start"])
            t1 = datetime.fromisoformat(report["phases"][-1]["end"])
            pts = chart_points(con, run_id, [s["series_id"] for s in chosen], t0, t1)
            charts = {s["series_id"]: pts[s["series_id"]] for s in chosen if s["series_id"] in pts}
            text = render_html(report, charts)
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ReportError(f"{out}: cannot write the report: {exc.strerror}") from None
        return out
    finally:
        if own:
            store.close()
