"""When the PostgreSQL source runs each catalog query, counted in a real `migtui watch`.

The watch polls its source every 250 ms. The store then holds one timestamp per execution of each
query (its samples carry the poll's time) and one per poll (``pg.up``).

- Every query at its own interval: three queries set to 1, 2 and 3 polls run on that many polls
  (within 10 %). A query due every poll used to run on two polls of three.
- Cheap from the first poll: the expensive (per-table, per-index) queries start one per poll after
  the first instead of all in the first; with ``poll_budget`` the moderate and expensive queries
  whose cost does not fit wait for a later poll.
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

from migtui.store import Store
from tests.conftest import migtui_cmd

HEAD = """\
name: schedule
interval: 250ms
sources:
  - type: postgres
    name: db
    dsn: ${MIGTUI_DSN}
"""
EVERY = {"activity_summary": 1, "connections": 2, "xid_age": 3}  # in polls
EXPENSIVE = ("index_usage", "table_activity", "table_sizes_approx")
MODERATE = ("invalid_indexes", "wal_dir_size")


def watch(tmp_path: Path, cli_env: dict, dsn: str, options: str, duration: str) -> dict[str, list[float]]:
    """Run the watch; the poll times (``poll``) and each query's execution times, from the store."""
    cfg = tmp_path / "schedule.yaml"
    cfg.write_text(HEAD + options)
    store = tmp_path / f"run-{uuid.uuid4().hex[:6]}.duckdb"
    cli_env["MIGTUI_DSN"] = dsn
    out = subprocess.run([*migtui_cmd(), "watch", "--config", str(cfg), "--headless", "--duration", duration,
                          "--store", str(store)], env=cli_env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    s = Store.open(store, read_only=True)
    try:
        rows = s.con.execute("SELECT DISTINCT metric, epoch(ts) FROM samples_v UNION "
                             "SELECT DISTINCT name, epoch(ts) FROM snapshots ORDER BY 2").fetchall()
    finally:
        s.close()
    runs: dict[str, list[float]] = {}
    for metric, ts in rows:
        key = "poll" if metric == "pg.up" else metric.split(".", 1)[0]
        if not runs.get(key) or runs[key][-1] != ts:
            runs.setdefault(key, []).append(ts)
    return runs


def _mean_gap(stamps: list[float]) -> float:
    return (stamps[-1] - stamps[0]) / (len(stamps) - 1)


def test_each_query_runs_at_its_own_interval(pg, tmp_path: Path, cli_env: dict) -> None:
    runs = watch(tmp_path, cli_env, pg.dsn, "    include: [activity_summary, connections, xid_age]\n"
                 "    intervals: {activity_summary: 250ms, connections: 500ms, xid_age: 750ms}\n", "8s")
    polls = runs["poll"]
    assert len(polls) >= 16, f"the watch polled only {len(polls)} times in 8 s"
    poll_gap = _mean_gap(polls)
    for name, every in EVERY.items():
        stamps = runs[name]
        # measured against the polls the engine really made (a loaded machine may tick late)
        gap = _mean_gap(stamps) / poll_gap
        assert abs(gap - every) <= 0.1 * every, (
            f"{name} (every {every} poll(s)) ran {len(stamps)} times in {len(polls)} polls: one run per "
            f"{gap:.2f} polls")
    assert len(runs["activity_summary"]) >= len(polls) - 1


def _first_poll(runs: dict[str, list[float]], name: str) -> int:
    assert name in runs, f"{name} never ran"
    return runs["poll"].index(runs[name][0])


def test_costly_queries_start_one_per_poll_and_the_budget_defers_them(pg, tmp_path: Path, cli_env: dict) -> None:
    table = f"sched_{uuid.uuid4().hex[:8]}"
    with pg.connect() as conn:  # something for the per-table and per-index queries to report
        conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY)")
    costly = EXPENSIVE + MODERATE
    include = f"    include: [activity_summary, {', '.join(costly)}]\n"
    try:
        # moderate and expensive queries (every 1 s here) start at half their interval, one per poll
        runs = watch(tmp_path, cli_env, pg.dsn, include + "    intervals: {"
                     + ", ".join(f"{q}: 1s" for q in costly) + "}\n", "3s")
        assert _first_poll(runs, "activity_summary") == 0
        starts = {q: _first_poll(runs, q) for q in costly}
        assert min(starts.values()) >= 1 and len(set(starts.values())) == len(costly), starts

        # all due on every poll, and a budget smaller than any of them: one per poll at most, none starves
        runs = watch(tmp_path, cli_env, pg.dsn, include + "    poll_budget: 0.000001\n    intervals: {"
                     + ", ".join(f"{q}: 250ms" for q in costly) + "}\n", "6s")
        per_poll = {ts: [q for q in costly if ts in runs.get(q, [])] for ts in runs["poll"]}
        assert max(len(qs) for qs in per_poll.values()) == 1, per_poll
        assert all(len(runs[q]) >= 2 for q in costly), {q: len(runs.get(q, [])) for q in costly}
    finally:
        with pg.connect() as conn:
            conn.execute(f"DROP TABLE {table}")
