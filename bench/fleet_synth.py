"""Simulated fleet runs: realistic Parquet partitions ``database=<name>/run=<id>/<table>.parquet`` with
the store's schema (what ``migtui report -o s3://...`` and ``watch --export`` write), for the fleet
report's bench and tests. Each run has baseline, migration and post phases, a dozen health series
(lock waiters, p95 latency, rollback ratio, ...), a few trigger, action, throttle and check events,
and sometimes a blocking tree; a chosen few databases are made bad (outliers)."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

TZ = pa.timestamp("us", tz="UTC")
METRICS = ("activity.waiting", "activity.active", "activity.oldest_xact_seconds", "app.latency_p95",
           "db.rollback_ratio", "db.xact_commit_per_s", "db.tup_updated_per_s", "db.wal_bytes_per_s",
           "conn.used_ratio", "repl.replay_lag_bytes", "app.errors_rate", "db.n_dead_tup")
BASE = {"activity.waiting": 0.2, "activity.active": 8, "activity.oldest_xact_seconds": 3, "app.latency_p95": 40.0,
        "db.rollback_ratio": 0.002, "db.xact_commit_per_s": 900, "db.tup_updated_per_s": 4000,
        "db.wal_bytes_per_s": 3e6, "conn.used_ratio": 0.35, "repl.replay_lag_bytes": 2e5, "app.errors_rate": 0.001,
        "db.n_dead_tup": 1e5}


def _run_tables(db: str, run_id: str, start: datetime, ticks: int, interval: float, bad: bool,
                rng: random.Random) -> dict[str, pa.Table]:
    per_phase = ticks // 3
    phases = ["baseline"] * per_phase + ["migration"] * per_phase + ["post"] * (ticks - 2 * per_phase)
    tss = [start + timedelta(seconds=i * interval) for i in range(ticks)]
    end = tss[-1]
    runs = pa.table({"run_id": [run_id], "name": [db], "started_at": pa.array([start], TZ),
                     "ended_at": pa.array([end], TZ), "status": ["finished"], "host": ["worker-1"],
                     "version": ["0.9.0"], "baseline_of": pa.array([None], pa.string()),
                     "config": [json.dumps({"name": db, "sources": [{"type": "postgres", "dsn": "postgresql://migtui:***@db/app"}]})]})
    series = pa.table({"run_id": [run_id] * len(METRICS), "series_id": pa.array(range(len(METRICS)), pa.int32()),
                       "source": ["db"] * len(METRICS), "metric": list(METRICS), "labels": ["{}"] * len(METRICS)})
    sid, ts_col, ph_col, val = [], [], [], []
    worse = 3.0 if bad else 1.0 + rng.random() * 0.3
    for i, metric in enumerate(METRICS):
        base = BASE[metric]
        for ts, phase in zip(tss, phases):
            factor = worse if phase == "migration" else 1.0
            sid.append(i)
            ts_col.append(ts)
            ph_col.append(phase)
            val.append(round(base * factor * (0.8 + 0.4 * rng.random()), 4))
    samples = pa.table({"run_id": pa.array([run_id] * len(sid)), "series_id": pa.array(sid, pa.int32()),
                        "ts": pa.array(ts_col, TZ), "phase": ph_col, "value": pa.array(val, pa.float64())})
    mig = tss[per_phase]
    ev: list[tuple[Any, ...]] = [
        (tss[0], "baseline", "phase", "baseline", "info", "baseline started", "{}"),
        (mig, "migration", "phase", "migration", "info", "migration started", "{}"),
        (tss[2 * per_phase], "post", "check", "integrity:rows", "info", "rows: pass",
         json.dumps({"type": "integrity", "check": "rows", "result": "fail" if bad else "pass"})),
    ]
    if bad or rng.random() < 0.1:
        t = mig + timedelta(seconds=30)
        ev += [(t, "migration", "trigger", "p95_latency", "critical", "ok -> firing",
                json.dumps({"from": "ok", "prev": "ok", "to": "firing", "state": "firing", "action": "pause"})),
               (t, "migration", "action", "pause", "warn", "pause requested by trigger p95_latency", "{}"),
               (t, "migration", "throttle", "throttle", "warn", "throttled: lag", json.dumps({"op": "throttle", "reason": "lag"})),
               (t + timedelta(seconds=45), "migration", "throttle", "throttle", "info", "released",
                json.dumps({"op": "release"}))]
    events = pa.table({"run_id": [run_id] * len(ev), "ts": pa.array([e[0] for e in ev], TZ),
                       "phase": [e[1] for e in ev], "kind": [e[2] for e in ev], "subject": [e[3] for e in ev],
                       "level": [e[4] for e in ev], "message": [e[5] for e in ev], "data": [e[6] for e in ev]})
    tree = [[0, 101, None, "app", "AccessExclusiveLock", "orders", 0.0, "ALTER TABLE orders ..."],
            [1, 202, 101, "web", "RowExclusiveLock", "orders", round((20 if bad else 2) * rng.random() + 0.5, 2),
             "UPDATE orders SET ..."]]
    snapshots = pa.table({"run_id": [run_id], "ts": pa.array([mig + timedelta(seconds=10)], TZ), "phase": ["migration"],
                          "source": ["db"], "name": ["blocking_tree"],
                          "columns": [json.dumps(["depth", "pid", "blocked_by", "application_name", "mode", "relation",
                                                  "wait_seconds", "query"])],
                          "rows": [json.dumps(tree)]})
    return {"runs": runs, "series": series, "samples": samples, "events": events, "snapshots": snapshots}


def write_fleet(root: Path, runs: int, *, ticks: int = 180, interval: float = 5.0, bad_every: int = 97,
                seed: int = 1, names: list[str] | None = None) -> int:
    """Write ``runs`` simulated runs under ``root``; returns the number of samples written. Every
    ``bad_every``-th database is much worse during its migration (an outlier)."""
    rng = random.Random(seed)
    start = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
    total = 0
    for n in range(runs):
        db = names[n] if names and n < len(names) else f"tenant_{n:04d}"
        run_id = f"20261201T{2 + n // 3600:02d}{n // 60 % 60:02d}{n % 60:02d}-{n:04x}"
        tables = _run_tables(db, run_id, start + timedelta(minutes=n), ticks, interval, n % bad_every == bad_every - 1, rng)
        from urllib.parse import quote

        folder = root / f"database={quote(db, safe='')}" / f"run={run_id}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, table in tables.items():
            pq.write_table(table, folder / f"{name}.parquet", compression="zstd")
        total += tables["samples"].num_rows
    return total
