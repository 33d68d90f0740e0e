"""Faults of migtui's own store, caused for real: the disk fills up under a running engine, migtui is
killed with SIGKILL while it writes, and a second migtui opens a store that a running watch holds."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import psycopg
import pytest

from migtui.store import Store
from tests.conftest import migtui_cmd


# --------------------------------------------------------------------------- disk full


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs (the store's disk), unmounted afterwards."""
    mnt = tmp_path / "small_disk"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill up (needs root and mount permission): "
                    f"{proc.stderr.strip() or proc.returncode}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _fill(path: Path) -> None:
    """Fill the filesystem to its last byte (64 KiB chunks, then smaller ones: a remainder of a
    few KiB was enough for a tick's batch, and the 'disk full' then never happened)."""
    with open(path, "wb", buffering=0) as f:
        for chunk in (65536, 4096, 512, 1):
            try:
                while True:
                    f.write(b"\0" * chunk)
            except OSError:
                pass


def _store_count(store: Store, run_id: str, metric: str) -> int:
    return store.cursor().execute(
        "SELECT count(*) FROM samples s JOIN series r ON r.run_id = s.run_id AND r.series_id = s.series_id "
        "WHERE s.run_id = ? AND r.metric = ?", [run_id, metric]).fetchone()[0]


def _alerts(log: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []


def test_disk_full_alerts_keeps_monitoring_in_memory_and_loses_nothing(pg: Any, make_engine: Any, tmp_path: Path,
                                                                       small_disk: Path) -> None:
    alert_log = tmp_path / "alerts.jsonl"
    with pg.connect() as conn:
        base = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND backend_type = 'client backend' AND application_name NOT LIKE 'migtui%%'"
                            ).fetchone()[0]
    engine = make_engine(f"""
        name: diskfull
        interval: 0.5s
        sources:
          - {{type: postgres, name: db, dsn: '{pg.dsn}', include: [activity_summary]}}
        triggers:
          - {{name: crowd, metric: activity_summary.sessions, above: {base + 5}, action: warn}}
        alerters:
          - {{type: log, path: {alert_log}}}
        alerting: {{group_interval: 0s}}
        """, store_path=small_disk / "store.duckdb")
    dispatcher = engine.parts.triggers.dispatcher
    t0 = time.time()
    clock = iter(range(1000))

    def tick() -> Any:
        return engine.tick(now=t0 + next(clock), wait=30)

    for _ in range(3):
        tick()
    assert engine.store_ok

    _fill(small_disk / "filler")
    extra: list[Any] = []
    try:
        # tick until a write needs a new page of the full disk (the WAL's last page of tmpfs takes
        # a few batches before it is full); the bound only matters when writes never fail
        for _ in range(40):
            tick()
            if not engine.store_ok:
                break
        assert not engine.store_ok
        [err] = [e for e in engine.recent_events if e.kind == "error" and e.subject == "store"]
        assert "No space left on device" in err.message and str(small_disk / "store.duckdb") in err.message
        assert "monitoring goes on in memory" in err.message
        # triggers go on in memory: a crowd of sessions makes one fire while nothing can be written
        extra = [psycopg.connect(pg.dsn) for _ in range(8)]
        for _ in range(4):
            tick()
        assert any(e.kind == "trigger" and e.subject == "crowd" and e.data.get("state") == "firing"
                   for e in engine.recent_events)
        assert not engine.store_ok and engine.store.pending > 0
        dispatcher.wait_idle(10)
        tick()
        alerts = _alerts(alert_log)
        store_alerts = [a for a in alerts if a["key"] == "diskfull/store"]
        assert [a["status"] for a in store_alerts] == ["firing"]
        assert "cannot write its store" in store_alerts[0]["summary"]
        assert any(a["key"] == "diskfull/crowd" and a["status"] == "firing" for a in alerts)
    finally:
        for c in extra:
            c.close()
        (small_disk / "filler").unlink()

    tick()
    assert engine.store_ok
    assert any(e.kind == "error" and e.subject == "store" and "works again" in e.message for e in engine.recent_events)
    tick()
    dispatcher.wait_idle(10)
    assert [a["status"] for a in _alerts(alert_log) if a["key"] == "diskfull/store"] == ["firing", "resolved"]

    # nothing was lost: every sample and event the engine saw is in the store
    engine.store.flush()
    in_memory = len(engine.series[("db", "pg.up", ())].points)
    assert _store_count(engine.store, engine.run_id, "pg.up") == in_memory == engine.tick_no
    stored = engine.store.events(engine.run_id)
    assert any(e.kind == "trigger" and e.subject == "crowd" and e.data.get("state") == "firing" for e in stored)
    assert any(e.kind == "error" and e.subject == "store" and "No space left" in e.message for e in stored)
    assert engine.store.dropped_samples == 0


def test_demo_says_what_it_could_not_store(tmp_path: Path, small_disk: Path, xdg_runtime: Path) -> None:
    """The demo's store fills its disk mid-run: at exit the demo says, like watch, how many samples were
    not stored and which recovery file holds them, and exits 1 (it said `finished` and exited 0)."""
    # xdg_runtime: the recovery file's fallback folder (the store's own disk is full)
    env = {k: v for k, v in os.environ.items() if k not in ("MIGTUI_DSN", "MIGTUI_DISABLE_PLUGINS")}
    env.update(PYTHONUNBUFFERED="1", XDG_RUNTIME_DIR=str(xdg_runtime))
    store = small_disk / "demo.duckdb"
    proc = subprocess.Popen([*migtui_cmd(), "demo", "--headless", "--fast", "--json", "--duration", "20s",
                             "--store", str(store)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        run_id = None
        for line in proc.stdout:
            ev = json.loads(line)
            run_id = run_id or ev["run"]
            if ev["kind"] == "note":  # the first act: samples are being written
                break
        _fill(small_disk / "filler")
        _, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, err[-3000:]
    assert f"demo: run {run_id} incomplete; stored in {store}" in err, err[-3000:]
    [line] = [ln for ln in err.splitlines() if ln.startswith("migtui: error:")]
    m = re.fullmatch(rf"migtui: error: run {run_id} is incomplete: (\d+) samples(, [^(]*)? were not stored "
                     rf"\(.*No space left on device.*\); kept in (\S+); the next open of the store imports them", line)
    assert m and int(m.group(1)) > 0, line
    recovery = Path(m.group(3))
    assert recovery.is_file() and recovery.is_relative_to(xdg_runtime), line
    saved = json.loads(recovery.read_text())
    assert saved["store"] == str(store) and sum(len(seg[2]) for seg in saved["segments"]) == int(m.group(1))


# --------------------------------------------------------------------------- SIGKILL


class _Lines:
    """Reads a process's stdout in a thread (JSON lines; a line cut by the kill is ignored)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.items: list[dict[str, Any]] = []
        self.thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                self.items.append(json.loads(line))
            except ValueError:
                pass

    def wait_for(self, pred: Any, timeout: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for item in list(self.items):
                if pred(item):
                    return item
            time.sleep(0.05)
        return None


def _kill_config(tmp_path: Path, dsn: str, marker: Path) -> Path:
    cfg = {
        "name": "killed",
        "interval": "0.2s",
        "sources": [{"type": "postgres", "name": "db", "dsn": dsn, "include": ["activity_summary", "connections"]}],
        "triggers": [{"name": "always", "metric": "pg.up", "above": 0, "action": "pause"}],
        "actions": {"pause": [{"type": "shell", "name": "mark", "command": [
            sys.executable, "-c", "import sys; open(sys.argv[1], 'a').write('paused\\n')", str(marker)]}]},
    }
    path = tmp_path / "killed.yaml"
    path.write_text(json.dumps(cfg))  # JSON is YAML
    return path


def test_sigkill_mid_write_keeps_every_completed_batch_and_trigger_states(pg: Any, tmp_path: Path,
                                                                          cli_env: dict[str, str]) -> None:
    marker = tmp_path / "paused.txt"
    cfg = _kill_config(tmp_path, pg.dsn, marker)
    store_path = tmp_path / "killed.duckdb"
    proc = subprocess.Popen([*migtui_cmd(), "watch", "--config", str(cfg), "--headless", "--json",
                             "--store", str(store_path)], env=cli_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines = _Lines(proc)
    try:
        acted = lines.wait_for(lambda e: e["kind"] == "action" and e["data"].get("stage") == "result", 30)
        assert acted is not None and acted["data"]["ok"], lines.items[-5:]
        time.sleep(2)  # keep writing batches (every 0.2s) for a while, then kill mid-run
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines.thread.join(timeout=5)
    assert proc.returncode == -signal.SIGKILL
    printed = list(lines.items)
    assert marker.read_text() == "paused\n"

    # the store opens; every event printed (printed only after its batch committed) is there. Read-only
    # (nobody writes the store), the killed run reads as the next open records it: interrupted
    store = Store.open(store_path, read_only=True)
    try:
        [run] = store.runs()
        assert run["status"] == "interrupted" and run["end_recorded"] is False and run["samples"] > 0
        assert store.cursor().execute("SELECT status FROM runs").fetchall() == [("running",)]  # not written
        stored = {(e.kind, e.subject, e.message) for e in store.events(run["run_id"])}
        assert {(e["kind"], e["subject"], e["message"]) for e in printed} <= stored
        assert ("trigger", "always") in {(k, s) for k, s, _ in stored}
    finally:
        store.close()

    # a new watch on the same store: the killed run is marked interrupted, the trigger is firing
    # again at once, and its action is not requested a second time
    again = subprocess.run([*migtui_cmd(), "watch", "--config", str(cfg), "--headless", "--json", "--duration", "2s",
                            "--store", str(store_path)], env=cli_env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    events = [json.loads(x) for x in again.stdout.splitlines()]
    restore = [e for e in events if e["kind"] == "trigger" and e["subject"] == "restore"]
    assert len(restore) == 1 and "always firing" in restore[0]["message"]
    assert restore[0]["data"]["from_run"] == run["run_id"]
    assert not [e for e in events if e["kind"] == "trigger" and e["subject"] == "always"]  # no new transition
    assert not [e for e in events if e["kind"] == "action"]
    assert marker.read_text() == "paused\n"
    store = Store.open(store_path, read_only=True)
    try:
        statuses = {r["run_id"]: r["status"] for r in store.runs()}
    finally:
        store.close()
    assert statuses[run["run_id"]] == "interrupted"
    assert sorted(statuses.values()) == ["finished", "interrupted"]


# --------------------------------------------------------------------------- a second migtui


def test_report_and_runs_on_a_store_a_watch_holds(pg: Any, tmp_path: Path, cli_env: dict[str, str]) -> None:
    cfg = tmp_path / "held.yaml"
    cfg.write_text(f"name: held\ninterval: 1s\nsources:\n  - {{type: postgres, name: db, dsn: '{pg.dsn}'}}\n")
    store_path = tmp_path / "held.duckdb"
    watch = subprocess.Popen([*migtui_cmd(), "watch", "--config", str(cfg), "--headless", "--json", "--store",
                              str(store_path)], env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert watch.stdout is not None and json.loads(watch.stdout.readline())["kind"] == "run"
        runs = subprocess.run([*migtui_cmd(), "runs", "--store", str(store_path)], env=cli_env,
                              capture_output=True, text=True, timeout=60)
        report = subprocess.run([*migtui_cmd(), "report", "--store", str(store_path), "--format", "md", "-o",
                                 str(tmp_path / "r.md")], env=cli_env, capture_output=True, text=True, timeout=60)
    finally:
        watch.send_signal(signal.SIGINT)
        watch.communicate(timeout=30)
    for proc in (runs, report):
        assert proc.returncode == 1 and proc.stdout == ""
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        line = lines[0]
        assert line.startswith(f"migtui: error: {store_path}: ")
        assert f"(process {watch.pid})" in line  # who holds it
        assert "Traceback" not in proc.stderr
    assert "in use by another running migtui" in runs.stderr and "only one process" in runs.stderr
    assert "when that watch has ended" in runs.stderr and "ctl report" not in runs.stderr
    assert "holds this store" in report.stderr and "run `migtui report` again when the watch has ended" in report.stderr
    assert not (tmp_path / "r.md").exists()
    # once the watch has ended both work
    ok = subprocess.run([*migtui_cmd(), "runs", "--store", str(store_path), "--json"], env=cli_env,
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and json.loads(ok.stdout)[0]["status"] == "finished"
