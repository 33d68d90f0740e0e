"""The DuckDB store: schema migrations, batched writes, runs, locking, failed writes."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from migtui.errors import StoreError, StoreLockedError
from migtui.model import Event, Level, Phase, Sample, TableSnapshot
from migtui.store import Store


def test_schema_is_applied_once_and_recorded(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    store = Store.open(path)
    applied = store.con.execute("SELECT name FROM _migtui_schema ORDER BY version").fetchall()
    assert applied[0][0] == "0001_init.sql"
    assert store.migrate() == []  # nothing new the second time
    store.close()
    again = Store.open(path)
    assert again.con.execute("SELECT count(*) FROM _migtui_schema").fetchone()[0] == len(applied)
    again.close()


def test_samples_snapshots_events_round_trip(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.duckdb")
    run = store.create_run("nightly", {"sources": [{"type": "postgres", "dsn": "postgresql://u:hunter22@h/db"}]})
    t0 = time.time()
    samples = [Sample(t0 + i, "db", "activity_summary.waiting", float(i), {"table": "orders"}) for i in range(5)]
    samples.append(Sample(t0, "api", "error_rate", math.nan))
    store.add_samples(run, Phase.MIGRATION, samples)
    store.add_snapshot(run, Phase.MIGRATION, TableSnapshot(t0, "db", "blocking_tree", ["pid", "query"], [(1, "ALTER")]))
    store.add_event(Event("phase", "migration", "phase baseline -> migration", Level.INFO, {"who": "op"}, ts=t0,
                          run=run, phase=Phase.MIGRATION))
    assert store.flush() == 6
    rows = store.con.execute("SELECT metric, labels, value, phase FROM samples_v WHERE source = 'db' ORDER BY ts").fetchall()
    assert [r[2] for r in rows] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert rows[0][1] == '{"table":"orders"}' and rows[0][3] == "migration"
    nan = store.con.execute("SELECT value FROM samples_v WHERE metric = 'error_rate'").fetchone()[0]
    assert math.isnan(nan)
    events = store.events(run)
    assert [e.kind for e in events] == ["phase"] and events[0].data == {"who": "op"}
    config = store.con.execute("SELECT config FROM runs").fetchone()[0]
    assert "hunter22" not in config
    store.finish_run(run)
    [r] = store.runs()
    assert r["run_id"] == run and r["status"] == "finished" and r["samples"] == 6 and r["events"] == 1
    store.close()


def test_series_ids_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    store = Store.open(path)
    run = store.create_run("r")
    store.add_samples(run, "baseline", [Sample(1.0, "db", "m", 1.0, {"a": "1"})])
    store.flush()
    store.close()
    store = Store.open(path)
    store.add_samples(run, "baseline", [Sample(2.0, "db", "m", 2.0, {"a": "1"}), Sample(2.0, "db", "m", 3.0, {"a": "2"})])
    store.flush()
    n_series = store.con.execute("SELECT count(*) FROM series").fetchone()[0]
    assert n_series == 2
    store.close()


def test_second_writer_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "held.duckdb"
    Store.open(path).close()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from migtui.store import Store
        s = Store.open({str(path)!r})
        print("ready", flush=True)
        sys.stdin.readline()
        s.close()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreLockedError) as err:
            Store.open(path)
        assert str(path) in str(err.value) and "in use by another running migtui" in str(err.value)
        with pytest.raises(StoreLockedError):
            Store.open(path, read_only=True)
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=20)


def test_not_a_store(tmp_path: Path) -> None:
    bad = tmp_path / "notes.duckdb"
    bad.write_text("hello, this is not a database")
    with pytest.raises(StoreError, match="notes.duckdb"):
        Store.open(bad)


def test_failed_flush_keeps_the_batch(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.duckdb")
    run = store.create_run("r")
    store.add_samples(run, "baseline", [Sample(1.0, "db", "m", 1.0)])
    store.con.execute("ALTER TABLE samples RENAME TO samples_gone")  # every insert now fails
    with pytest.raises(StoreError, match="write failed"):
        store.flush()
    assert store.pending == 1
    store.con.execute("ALTER TABLE samples_gone RENAME TO samples")
    assert store.flush() == 1
    assert store.con.execute("SELECT count(*) FROM samples").fetchone()[0] == 1
    store.close()


def test_interrupted_runs_are_marked(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.duckdb")
    run = store.create_run("r")
    assert store.interrupted_runs() == [run]
    assert store.run(run)["status"] == "interrupted"
    assert store.run("latest")["run_id"] == run
    with pytest.raises(StoreError, match="no run 'nope'"):
        store.run("nope")
    store.close()


def test_writes_that_fail_at_close_go_to_a_recovery_file_next_to_the_store_and_come_back(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    store = Store.open(path)
    run = store.create_run("nightly")
    t0 = time.time()
    store.add_samples(run, Phase.MIGRATION, [Sample(t0 + i, "db", "lag", float(i), {"slot": "a"}) for i in range(7)])
    store.add_snapshot(run, Phase.MIGRATION, TableSnapshot(t0, "db", "lock_waits", ["pid"], [(42,)]))
    store.add_event(Event("note", "op", "step 2", Level.INFO, {"who": "op"}, ts=t0, run=run, phase=Phase.MIGRATION))
    store.finish_run(run, "incomplete")
    store.con.close()  # the file cannot be written any more (a real failure of every write, like a full disk)
    unstored = store.save_recovery()
    assert unstored is not None and (unstored.samples, unstored.snapshots, unstored.events) == (7, 1, 1)
    assert unstored.path is not None and unstored.path.parent == tmp_path
    assert unstored.path.name.startswith("s.duckdb.recovery-") and "7 samples" in unstored.describe()
    store.con = None

    again = Store.open(path)
    try:
        assert [(p, n) for p, n in again.imported] == [(unstored.path, 7)]
        assert not unstored.path.exists()
        [r] = again.runs()
        assert r["status"] == "incomplete" and r["samples"] == 7 and r["events"] == 1
        assert [e.message for e in again.events(run)] == ["step 2"]
    finally:
        again.close()
    third = Store.open(path)
    assert third.imported == []  # imported once
    third.close()


def test_a_run_whose_end_was_not_recorded_does_not_read_running(tmp_path: Path) -> None:
    """Read by `migtui runs` or a report (read-only: no migtui writes the store then), a run still
    marked running has ended: `interrupted` when its process died, `incomplete` with the end its
    recovery file keeps when the end could not be written. The store itself is left as it is."""
    from migtui.report import export_report

    path = tmp_path / "s.duckdb"
    store = Store.open(path)
    killed = store.create_run("killed")  # its process dies: no end, no recovery file
    store.add_samples(killed, Phase.BASELINE, [Sample(time.time(), "db", "m", 1.0)])
    store.flush()
    full = store.create_run("full-disk")
    store.con.close()  # every write fails from here on, the end of the run too
    ended = time.time()
    store.finish_run(full, "finished", now=ended)
    unstored = store.save_recovery()
    assert unstored is not None and unstored.path is not None
    store.con = None

    ro = Store.open(path, read_only=True)
    try:
        runs = {r["run_id"]: r for r in ro.runs()}
        assert ro.cursor().execute("SELECT DISTINCT status FROM runs").fetchall() == [("running",)]
    finally:
        ro.close()
    assert (runs[killed]["status"], runs[killed]["ended_at"], runs[killed]["end_recorded"]) == ("interrupted", None, False)
    assert runs[full]["status"] == "incomplete" and runs[full]["end_recorded"] is False
    assert abs(runs[full]["ended_at"].timestamp() - ended) < 0.001

    out = subprocess.run([sys.executable, "-m", "migtui", "runs", "--store", str(path)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = {ln.split()[0]: ln.split() for ln in out.stdout.splitlines()[1:]}
    assert "interrupted" in rows[killed] and "incomplete" in rows[full], out.stdout
    assert f"migtui: run {killed} ended without a recorded end" in out.stderr, out.stderr
    md = export_report(path, killed, "md", tmp_path / "r.md").read_text()
    assert "to (not recorded), status interrupted;" in md, md[:600]
    assert "still running" not in md
