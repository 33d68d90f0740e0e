"""The fleet (campaign) report: every run's Parquet files under one prefix (``s3://BUCKET/PREFIX/``
or a folder, laid out ``database=<name>/run=<id>/<table>.parquet``) read with DuckDB, one row per
database, worst first, with a fleet-wide summary and the outliers flagged.

Files are listed once and only the columns used are read through ``pyarrow.dataset`` on the
location's filesystem (S3 or local; :mod:`migtui.fleet.lake`); DuckDB queries the Arrow tables. Everything read is outside text: it is kept as data here and
escaped only when rendered (:mod:`migtui.fleet.report_render`)."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from typing import Any

from migtui.fleet.lake import read_tables
from migtui.fleet.objectstore import Location, ObjectStoreError, open_location
from migtui.report.throttle import throttle_timeline

TABLES = ("runs", "series", "samples", "events", "snapshots")
_LOCK_WAITERS = "{t}metric LIKE '%waiting'"
_LOCK_SECONDS = "{t}metric LIKE '%lock_wait%'"
_P95 = "{t}metric LIKE '%p95'"
_ERRORS = "({t}metric LIKE '%error%' OR {t}metric LIKE '%rollback_ratio')"


def _on(cond: str, alias: str = "") -> str:
    return cond.format(t=f"{alias}." if alias else "")


def _only(column: str, *values: str) -> Any:
    import pyarrow.dataset as ds

    return ds.field(column).isin(list(values))


# only the rows the report reads (stored snapshots of sessions and queries can be large)
_FILTERS = {"snapshots": lambda: _only("name", "blocking_tree"),
            "events": lambda: _only("kind", "trigger", "action", "check", "throttle")}


# the columns the report reads (a run's config, queries and other columns stay in the object store)
COLUMNS: dict[str, tuple[str, ...]] = {
    "runs": ("run_id", "name", "status", "started_at", "ended_at", "baseline_of"),
    "series": ("run_id", "series_id", "source", "metric", "labels"),
    "samples": ("run_id", "series_id", "ts", "phase", "value"),
    "events": ("run_id", "ts", "kind", "subject", "message", "data"),
    "snapshots": ("run_id", "name", "columns", "rows"),
}


def load(loc: Location) -> Any:
    """A DuckDB connection with one view per table over every run's files (database and run from
    the hive partitions), listed once and read with :mod:`migtui.fleet.lake`."""
    import duckdb

    arrows = read_tables(loc, {t: COLUMNS.get(t) for t in TABLES},
                         {t: make() for t, make in _FILTERS.items()})
    if "runs" not in arrows:
        raise ObjectStoreError(f"{loc.url}: no runs found (expected database=<name>/run=<id>/runs.parquet)")
    con = duckdb.connect()
    for table in TABLES:
        if table in arrows:
            con.register(f"{table}_a", arrows[table])
        else:
            con.execute(f"CREATE VIEW {table}_a AS SELECT NULL::VARCHAR AS run_id WHERE false")
    return con


def _rows(con: Any, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def _has(con: Any, table: str, column: str) -> bool:
    return any(r[0] == column for r in con.execute(f"DESCRIBE {table}_a").fetchall())


def _metric_deltas(con: Any) -> dict[str, dict[str, Any]]:
    """Per run: peak lock waiters and lock wait seconds, and the worst p95 / error-rate change of the
    migration phase against the baseline phase (p95 of each series over the phase): the run's own, or
    that of the run it names as its baseline (``baseline_of``, matched by source, metric and labels)."""
    if not _has(con, "samples", "value") or not _has(con, "series", "metric"):
        return {}
    con.execute(f"""CREATE TEMP TABLE per_phase AS
        SELECT s.run_id, r.source, r.metric, CAST(r.labels AS VARCHAR) AS labels, s.series_id, s.phase,
               quantile_cont(s.value, 0.95) FILTER (WHERE NOT isnan(s.value)) AS p95,
               max(s.value) FILTER (WHERE NOT isnan(s.value)) AS peak
        FROM samples_a s JOIN series_a r USING (run_id, series_id)
        WHERE {_on(_LOCK_WAITERS)} OR {_on(_LOCK_SECONDS)} OR {_on(_P95)} OR {_on(_ERRORS)}
        GROUP BY ALL""")
    out: dict[str, dict[str, Any]] = defaultdict(dict)
    for row in _rows(con, f"""SELECT run_id,
            max(peak) FILTER (WHERE {_on(_LOCK_WAITERS)}) AS lock_waiters,
            max(peak) FILTER (WHERE {_on(_LOCK_SECONDS)}) AS lock_wait_seconds
        FROM per_phase GROUP BY run_id"""):
        out[row.pop("run_id")].update(row)
    for key, cond, relative in (("p95", _P95, True), ("error_rate", _ERRORS, False)):
        for row in _rows(con, f"""SELECT m.run_id, m.metric, b.p95 AS baseline, m.p95 AS migration
                FROM per_phase m JOIN runs_a ru ON ru.run_id = m.run_id
                JOIN per_phase b ON b.run_id = coalesce(ru.baseline_of, m.run_id) AND b.phase = 'baseline'
                     AND b.source = m.source AND b.metric = m.metric AND b.labels = m.labels
                WHERE m.phase = 'migration' AND {_on(cond, 'm')} AND m.p95 IS NOT NULL AND b.p95 IS NOT NULL
                ORDER BY m.run_id, m.metric, m.labels"""):  # equal deltas: the same series whatever the read order
            if relative:
                delta = (row["migration"] - row["baseline"]) / row["baseline"] * 100 if row["baseline"] else None
            else:
                delta = row["migration"] - row["baseline"]
            best = out[row["run_id"]].get(f"{key}_delta")
            if delta is not None and (best is None or delta > best["delta"]):
                out[row["run_id"]][f"{key}_delta"] = {"metric": row["metric"], "baseline": row["baseline"],
                                                       "migration": row["migration"], "delta": delta}
    return out


def _worst_lock_tree(con: Any) -> dict[str, float]:
    """The longest ``wait_seconds`` of any stored blocking tree, per run."""
    if not _has(con, "snapshots", "rows"):
        return {}
    worst: dict[str, float] = {}
    for run_id, columns, rows in con.execute("SELECT run_id, columns, rows FROM snapshots_a "
                                             "WHERE name = 'blocking_tree'").fetchall():
        try:
            cols, data = json.loads(columns), json.loads(rows)
            i = cols.index("wait_seconds")
        except (ValueError, TypeError):
            continue
        waits = [r[i] for r in data if isinstance(r, list) and len(r) > i and isinstance(r[i], (int, float))]
        if waits:
            worst[run_id] = max(worst.get(run_id, 0.0), float(max(waits)))
    return worst


def _events(con: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = defaultdict(lambda: {"triggers_fired": [], "actions": [], "checks": [],
                                                          "throttle_events": []})
    if not _has(con, "events", "kind"):
        return out
    for e in _rows(con, """SELECT run_id, strftime(ts, '%Y-%m-%dT%H:%M:%S.%f%z') AS ts, kind, subject, message,
                                  data FROM events_a WHERE kind IN ('trigger', 'action', 'check', 'throttle')
                           ORDER BY run_id, ts"""):
        try:
            data = json.loads(e["data"]) if e["data"] else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        e["data"] = data
        o = out[e["run_id"]]
        if e["kind"] == "trigger" and data.get("to") == "firing" and data.get("prev") != "firing":
            o["triggers_fired"].append(e["subject"])
        elif e["kind"] == "action":
            o["actions"].append(e["subject"])
        elif e["kind"] == "check":
            o["checks"].append({"name": data.get("check") or e["subject"], "result": data.get("result") or "?"})
        elif e["kind"] == "throttle":
            o["throttle_events"].append(e)
    return out


def _iso(ts: Any) -> str | None:
    return ts.isoformat() if ts is not None else None


def build_fleet_report(target: str, campaign: str | None = None) -> dict[str, Any]:
    """Read every run under ``target`` (``/campaign`` appended when given) and build the report."""
    url = target.rstrip("/") + "/" + campaign.strip("/") + "/" if campaign else target
    loc = open_location(url)
    con = load(loc)
    runs = _rows(con, """SELECT database, run_id, name, status, started_at, ended_at,
                               epoch(coalesce(ended_at, started_at)) - epoch(started_at) AS duration
                        FROM runs_a ORDER BY database, started_at""")
    phases: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if _has(con, "samples", "phase"):
        for p in _rows(con, """SELECT run_id, phase, min(ts) AS start, max(ts) AS "end",
                                      epoch(max(ts)) - epoch(min(ts)) AS seconds
                               FROM samples_a GROUP BY ALL ORDER BY run_id, start"""):
            phases[p.pop("run_id")].append({**p, "start": _iso(p["start"]), "end": _iso(p["end"])})
    metrics, trees, events = _metric_deltas(con), _worst_lock_tree(con), _events(con)
    rows = []
    for r in runs:
        m, ev = metrics.get(r["run_id"], {}), events[r["run_id"]]
        end = _iso(r["ended_at"] or r["started_at"])
        throttle = throttle_timeline([{**e, "ts": _iso_fix(e["ts"])} for e in ev["throttle_events"]], end)
        lock_wait = max([v for v in (m.get("lock_wait_seconds"), trees.get(r["run_id"])) if v is not None], default=None)
        rows.append({
            "database": r["database"], "run": r["run_id"], "name": r["name"], "status": r["status"],
            "started_at": _iso(r["started_at"]), "ended_at": _iso(r["ended_at"]),
            "duration_seconds": r["duration"], "phases": phases.get(r["run_id"], []),
            "worst_lock_wait_seconds": lock_wait, "peak_lock_waiters": m.get("lock_waiters"),
            "p95_delta": m.get("p95_delta"), "error_rate_delta": m.get("error_rate_delta"),
            "triggers_fired": ev["triggers_fired"], "actions": ev["actions"],
            "throttled_seconds": throttle["seconds"], "checks": ev["checks"],
            "checks_failed": sum(1 for c in ev["checks"] if c["result"] not in ("pass", "ok")),
        })
    flag_outliers(rows)
    rows.sort(key=severity, reverse=True)
    return {"source": url, "campaign": campaign, "databases": rows, "summary": summarize(rows)}


def _iso_fix(ts: str) -> str:
    """strftime's ``+0000`` as ``+00:00`` for ``datetime.fromisoformat`` on every Python."""
    return ts[:-2] + ":" + ts[-2:] if len(ts) > 5 and ts[-5] in "+-" and ts[-3] != ":" else ts


def _num(d: dict[str, Any] | None) -> float:
    return float(d["delta"]) if d and d.get("delta") is not None else 0.0


def severity(row: dict[str, Any]) -> tuple[Any, ...]:
    """Worst first: failed checks, rollbacks, an unfinished run, triggers fired, outlier count, then
    the p95 change, the error-rate change and the longest lock wait."""
    return (row["checks_failed"], sum(1 for a in row["actions"] if a == "rollback"),
            row["status"] != "finished", len(row["triggers_fired"]), len(row["outliers"]),
            _num(row["p95_delta"]), _num(row["error_rate_delta"]), row["worst_lock_wait_seconds"] or 0.0)


OUTLIER_FIELDS = {
    "duration_seconds": lambda r: r["duration_seconds"],
    "worst_lock_wait_seconds": lambda r: r["worst_lock_wait_seconds"],
    "p95_delta": lambda r: _num(r["p95_delta"]) if r["p95_delta"] else None,
    "error_rate_delta": lambda r: _num(r["error_rate_delta"]) if r["error_rate_delta"] else None,
    "throttled_seconds": lambda r: r["throttled_seconds"],
}


def flag_outliers(rows: list[dict[str, Any]]) -> None:
    """A value above the fleet's median by more than 3.5 robust deviations (MAD x 1.4826; when the
    MAD is 0, more than 3.5 x max(|median|, a tenth of the spread)) is an outlier."""
    for row in rows:
        row["outliers"] = []
    for field, get in OUTLIER_FIELDS.items():
        values = [(r, get(r)) for r in rows]
        xs = [v for _, v in values if v is not None]
        if len(xs) < 5:
            continue
        med = statistics.median(xs)
        mad = statistics.median(abs(x - med) for x in xs) * 1.4826
        scale = mad or max(abs(med), (max(xs) - min(xs)) / 10) or 0.0
        if not scale:
            continue
        for r, v in values:
            if v is not None and v > med + 3.5 * scale:
                r["outliers"].append(field)


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    durations = sorted(r["duration_seconds"] for r in rows if r["duration_seconds"] is not None)
    statuses: dict[str, int] = defaultdict(int)
    for r in rows:
        statuses[r["status"]] += 1
    return {
        "databases": len({r["database"] for r in rows}), "runs": len(rows), "statuses": dict(statuses),
        "duration_median_seconds": statistics.median(durations) if durations else None,
        "duration_max_seconds": durations[-1] if durations else None,
        "triggers_fired": sum(len(r["triggers_fired"]) for r in rows),
        "databases_with_triggers": sum(1 for r in rows if r["triggers_fired"]),
        "actions": sum(len(r["actions"]) for r in rows),
        "rollbacks": sum(1 for r in rows for a in r["actions"] if a == "rollback"),
        "throttled_seconds": round(sum(r["throttled_seconds"] for r in rows), 3),
        "checks": sum(len(r["checks"]) for r in rows),
        "checks_failed": sum(r["checks_failed"] for r in rows),
        "outliers": sum(1 for r in rows if r["outliers"]),
    }
