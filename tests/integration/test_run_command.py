"""`migtui run` for real: a baseline, a small migration script as the child process against the test
PostgreSQL, its output in the event log, the exit code in the report's checklist, and Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from psycopg.conninfo import make_conninfo

from migtui.store import Store
from tests.conftest import migtui_cmd, wait_until

pytestmark = pytest.mark.pg

SECRET = "s3cr3t-Run-pw-4242"

MIGRATION = '''
import os, sys, psycopg
dsn = os.environ["MIGRATION_DSN"]
with psycopg.connect(dsn, autocommit=True) as conn:
    print("connected as", conn.execute("SHOW application_name").fetchone()[0], flush=True)
    conn.execute("CREATE TABLE IF NOT EXISTS run_items (id int)")
print("using", dsn, flush=True)                      # a secret in the output: redacted
print("\\x1b[2J\\x1b]0;pwned\\x07 [/] [bold]markup", flush=True)  # terminal escapes and markup: shown, not obeyed
print("warning: 1 row skipped", file=sys.stderr, flush=True)
sys.exit(3)
'''

STUBBORN = '''
import os, signal, sys, time
log = open("signals.log", "a")
def note(signum, frame):
    log.write(signal.Signals(signum).name + "\\n"); log.flush()
    print("got", signal.Signals(signum).name, "- finishing the batch first", flush=True)
    if signum == signal.SIGTERM:
        sys.exit(143)
signal.signal(signal.SIGINT, note)      # a migration that ignores the first Ctrl-C
signal.signal(signal.SIGTERM, note)
print("ready", flush=True)
while True:
    time.sleep(0.05)
'''


def _config(tmp: Path, pg: Any, extra: str = "") -> Path:
    dsn = make_conninfo(pg.dsn, password=SECRET)
    path = tmp / "migtui.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: run-test
        interval: 0.5s
        store: run.duckdb
        sources:
          - type: postgres
            name: db
            dsn: "{dsn}"
            include: [activity_summary]
            migration_application_name: shop-migration
        migration:
          interval: 0.5s
          auto_phase: true
        """) + textwrap.indent(textwrap.dedent(extra), "  "))
    return path


def _events(store: Path) -> tuple[dict[str, Any], list[Any]]:
    s = Store.open(store, read_only=True)
    try:
        [run] = s.runs()
        return run, s.events(run["run_id"])
    finally:
        s.close()


def test_run_watches_baseline_command_and_post_and_fails_the_checklist(pg: Any, tmp_path: Path,
                                                                      cli_env: dict) -> None:
    cfg = _config(tmp_path, pg)
    (tmp_path / "migrate.py").write_text(MIGRATION)
    cli_env["MIGRATION_DSN"] = make_conninfo(pg.dsn, password=SECRET)
    report = tmp_path / "report.html"
    out = subprocess.run([*migtui_cmd(), "run", "--config", str(cfg), "--baseline-for", "1s", "--post-for", "1s",
                          "--report", str(report), "--json", "--", sys.executable, "migrate.py"],
                         cwd=tmp_path, env=cli_env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 3, out.stderr  # the command's exit code
    assert SECRET not in out.stdout + out.stderr
    run, events = _events(tmp_path / "run.duckdb")
    assert run["status"] == "finished"
    phases = [(e.data["from"], e.data["to"], e.data["who"]) for e in events if e.kind == "phase"]
    assert phases == [("baseline", "migration", "migtui run"), ("migration", "post", "migtui run")]
    output = [(e.subject, e.message, e.phase.value) for e in events if e.kind == "output"]
    assert ("stdout", "connected as shop-migration", "migration") in output  # PGAPPNAME
    assert ("stderr", "warning: 1 row skipped", "migration") in output
    [using] = [m for s, m, _ in output if m.startswith("using")]
    assert SECRET not in using
    [hostile] = [m for s, m, _ in output if "markup" in m]
    assert "\x1b" not in hostile and "\x07" not in hostile and "\\x1b[2J" in hostile and "[/]" in hostile
    [exited] = [e for e in events if e.data.get("change") == "exited"]
    assert exited.data["exit_code"] == 3 and exited.level.value == "error" and exited.phase.value == "migration"
    # the JSON lines on stdout are the same events
    kinds = [json.loads(line)["kind"] for line in out.stdout.splitlines()]
    assert "output" in kinds and kinds[-1] == "run"
    # the report was written and its checklist fails on the exit code
    html = report.read_text()
    assert "Migration command" in html and SECRET not in html
    from migtui.report import build_report
    from migtui.report.checklist import post_migration_checklist

    s = Store.open(tmp_path / "run.duckdb", read_only=True)
    try:
        items = {i["item"]: i for i in post_migration_checklist(build_report(s.cursor(), run["run_id"]))}
    finally:
        s.close()
    assert items["Migration command"]["status"] == "fail"
    assert "exited with code 3" in items["Migration command"]["evidence"]


def test_ctrl_c_stops_the_command_first_then_closes_the_run(pg: Any, tmp_path: Path, cli_env: dict) -> None:
    """The command from the config (run in the config's folder); the first Ctrl-C sends it SIGINT, which it
    ignores; SIGTERM follows after stop_grace; the run closes with its report."""
    cfg = _config(tmp_path, pg, f"""\
        command: ["{sys.executable}", stubborn.py]
        baseline_for: 0s
        post_for: 10m
        stop_grace: 1s
        """)
    (tmp_path / "stubborn.py").write_text(STUBBORN)
    proc = subprocess.Popen([*migtui_cmd(), "run", "--config", str(cfg), "--json"], cwd=tmp_path, env=cli_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen: list[dict[str, Any]] = []

        def ready() -> bool:
            line = proc.stdout.readline()
            if line:
                seen.append(json.loads(line))
            return any(e["kind"] == "output" and e["message"] == "ready" for e in seen) or proc.poll() is not None

        wait_until(ready, "the migration command to start")
        assert proc.poll() is None, proc.stderr.read()
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert (tmp_path / "signals.log").read_text().split() == ["SIGINT", "SIGTERM"]
    run, events = _events(tmp_path / "run.duckdb")
    assert run["status"] == "finished"
    sent = [e.data["signal"] for e in events if e.data.get("change") == "signal"]
    assert sent == ["SIGINT", "SIGTERM"]
    [exited] = [e for e in events if e.data.get("change") == "exited"]
    assert exited.data["exit_code"] == 143 and exited.data["stopped_by"] == "SIGTERM"
    assert [e.data["to"] for e in events if e.kind == "phase"] == ["migration", "post"]
    assert any("got SIGINT" in e.message for e in events if e.kind == "output")
    assert "report written to" in err and list(tmp_path.glob("migtui-report-*.html"))


def test_no_command_is_one_clear_error_and_records_no_run(pg: Any, tmp_path: Path, cli_env: dict) -> None:
    cfg = _config(tmp_path, pg)
    out = subprocess.run([*migtui_cmd(), "run", "--config", str(cfg)], cwd=tmp_path, env=cli_env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    [line] = out.stderr.strip().splitlines()
    assert line.startswith("migtui: error:") and str(cfg.name) in line and "no migration command" in line
    assert not (tmp_path / "run.duckdb").exists()
