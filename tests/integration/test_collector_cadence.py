"""Every catalog query runs at its own interval (within 10 %), counted in a real `migtui watch`.

The watch polls its PostgreSQL source every 250 ms; three queries are set to 1, 2 and 3 polls.
The store then holds one timestamp per execution of each query (its samples carry the poll's
time) and one per poll (``pg.up``). A query due every poll must run on every poll, not on two of
three (a tick a few milliseconds early used to skip it).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from migtui.store import Store
from tests.conftest import migtui_cmd

TICK = 0.25
CONFIG = """\
name: cadence
interval: 250ms
sources:
  - type: postgres
    name: db
    dsn: ${MIGTUI_DSN}
    include: [activity_summary, connections, xid_age]
    intervals: {activity_summary: 250ms, connections: 500ms, xid_age: 750ms}
"""
EVERY = {"activity_summary": 1, "connections": 2, "xid_age": 3}  # in polls


def _mean_gap(stamps: list[float]) -> float:
    return (stamps[-1] - stamps[0]) / (len(stamps) - 1)


def test_each_query_runs_at_its_own_interval(pg, tmp_path: Path, cli_env: dict) -> None:
    cfg = tmp_path / "cadence.yaml"
    cfg.write_text(CONFIG)
    store = tmp_path / "run.duckdb"
    cli_env["MIGTUI_DSN"] = pg.dsn
    out = subprocess.run([*migtui_cmd(), "watch", "--config", str(cfg), "--headless", "--duration", "8s",
                          "--store", str(store)], env=cli_env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    s = Store.open(store, read_only=True)
    try:
        rows = s.con.execute("SELECT DISTINCT metric, epoch(ts) FROM samples_v ORDER BY 2").fetchall()
    finally:
        s.close()
    runs: dict[str, list[float]] = {}
    for metric, ts in rows:
        key = "poll" if metric == "pg.up" else metric.split(".", 1)[0]
        if not runs.get(key) or runs[key][-1] != ts:
            runs.setdefault(key, []).append(ts)
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
