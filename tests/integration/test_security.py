"""Security, proven on real runs: planted secrets never come out of migtui; the monitoring role
works with exactly the GRANTs `migtui role-sql` prints; config values reach SQL only quoted and
programs only as argument lists; plugins load only from installed entry points."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from migtui.errors import ConfigError
from tests.conftest import migtui_cmd

# --------------------------------------------------------------------------- planted secrets


class Receiver:
    """Stands in for the webhook receiver and the probed API: records paths, headers and bodies."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        recv = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recv.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                      "body": body})
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def do_GET(self) -> None:  # noqa: N802 - the probed API answers 503: an error to report
                self._answer(503)

            def do_POST(self) -> None:  # noqa: N802
                self._answer(200)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Output:
    """Reads a process's stdout (JSON lines) and stderr in threads, so that a test can wait for a
    line with a deadline instead of blocking on ``readline`` or sleeping."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self.events: list[dict[str, Any]] = []
        self.err: list[str] = []
        self.threads = [threading.Thread(target=self._out, args=(proc,), daemon=True),
                        threading.Thread(target=self._err, args=(proc,), daemon=True)]
        for t in self.threads:
            t.start()

    def _out(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append(line)
            try:
                self.events.append(json.loads(line))
            except ValueError:
                pass

    def _err(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        self.err.extend(proc.stderr)

    def wait_for(self, pred: Any, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(pred(e) for e in list(self.events)):
                return True
            time.sleep(0.05)
        return False

    def join(self) -> None:
        for t in self.threads:
            t.join(timeout=30)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def secret_role(pg: Any) -> Iterator[tuple[str, str]]:
    """A role that really has a password (the test servers trust local connections, so the
    password is not checked; it is still in every DSN migtui sees)."""
    role = f"migtui_sec_{os.getpid()}"
    password = "Pw-" + secrets.token_hex(10)
    with psycopg.connect(pg.dsn, autocommit=True) as admin:
        admin.execute(f"DROP ROLE IF EXISTS {role}")
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        admin.execute(f"GRANT pg_monitor TO {role}")
    try:
        yield role, password
    finally:
        with psycopg.connect(pg.dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [role])
            admin.execute(f"DROP ROLE IF EXISTS {role}")


def _run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*migtui_cmd(), *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_planted_secrets_never_come_out(pg: Any, secret_role: tuple[str, str], receiver: Receiver,
                                        tmp_path: Path, cli_env: dict[str, str]) -> None:
    role, password = secret_role
    token = "tok" + secrets.token_hex(12)
    hook_secret = "T0KEN" + secrets.token_hex(8)
    d = conninfo_to_dict(pg.dsn)
    dsn = f"postgresql://{role}:{password}@{d.get('host', '127.0.0.1')}:{d.get('port', 5432)}/{pg.dbname}"
    dead_port = _closed_port()
    cli_env.update({
        "API_TOKEN": token,
        "HOOK_URL": f"{receiver.url}/hooks/{hook_secret}",
        "DEAD_HOOK_URL": f"http://127.0.0.1:{dead_port}/hooks/{hook_secret}",
        "BAD_DSN": f"postgresql://{role}:{password}@127.0.0.1:{dead_port}/{pg.dbname}",
    })
    body = f"""\
name: sec
interval: 0.5s
sources:
  - {{type: postgres, name: db, dsn: '{dsn}', include: [activity_summary, connections]}}
  - type: http_probe
    name: api
    interval: 0.5s
    timeout: 1s
    bearer_token: ${{API_TOKEN}}
    probes:
      health: {{url: "{receiver.url}/health"}}
triggers:
  - {{name: db-up, metric: pg.up, above: 0, action: warn}}
alerters:
  - {{type: webhook, name: hook, url: "${{HOOK_URL}}", retries: 0}}
  - {{type: webhook, name: deadhook, url: "${{DEAD_HOOK_URL}}", retries: 0, timeout: 1s}}
  - {{type: log, name: log, path: alerts.jsonl}}
"""
    cfg = tmp_path / "sec.yaml"
    cfg.write_text(body)
    bad_cfg = tmp_path / "sec-bad.yaml"
    bad_cfg.write_text(body.replace("sources:\n", "sources:\n  - {type: postgres, name: bad, dsn: '${BAD_DSN}'}\n"))
    store = tmp_path / "sec.duckdb"
    outputs: dict[str, str] = {}

    # a real headless watch; meanwhile its own connection is killed and `ctl status` asks it
    watch = subprocess.Popen([*migtui_cmd(), "watch", "--config", str(cfg), "--headless", "--json", "--store",
                              str(store)], env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    output = _Output(watch)
    try:
        output.wait_for(lambda e: e["kind"] == "alert" and e["subject"] == "deadhook", 60)
        with psycopg.connect(pg.dsn, autocommit=True) as admin:
            killed = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = %s",
                                   [role]).fetchone()[0]
        assert killed >= 1
        # reconnect (1s backoff) and recover: wait for the watch to say so, however long a busy machine takes
        assert output.wait_for(lambda e: e["kind"] == "error" and e["subject"] == "db" and e["data"].get("recovered"),
                               60), "the watch did not report the reconnect: " + "".join(output.lines[-5:])
        for args in (["ctl", "status", "--store", str(store)], ["ctl", "status", "--json", "--store", str(store)]):
            proc = _run(args, cli_env)
            assert proc.returncode == 0, proc.stderr
            outputs[" ".join(args[:3])] = proc.stdout + proc.stderr
    finally:
        watch.send_signal(signal.SIGINT)
        try:
            watch.wait(timeout=60)
        except subprocess.TimeoutExpired:
            watch.kill()
            watch.wait(timeout=10)
            output.join()
            pytest.fail(f"the watch did not stop on SIGINT within 60s; stderr: {''.join(output.err)[-3000:]}")
        output.join()
    err = "".join(output.err)
    outputs["watch --json"] = "".join(output.lines) + err
    assert watch.returncode == 0, err
    assert "source api" in outputs["ctl status --store"] and "source db" in outputs["ctl status --store"]

    # errors that carry the DSN: a source on a dead port, in text mode
    bad = _run(["watch", "--config", str(bad_cfg), "--headless", "--duration", "1s", "--store",
                str(tmp_path / "bad.duckdb")], cli_env)
    assert bad.returncode == 1 and "cannot connect to PostgreSQL" in bad.stderr
    outputs["watch bad source"] = bad.stdout + bad.stderr
    alert_test = _run(["alert", "test", "--config", str(cfg)], cli_env)
    assert alert_test.returncode == 1 and "deadhook" in alert_test.stdout + alert_test.stderr  # the dead one failed
    outputs["alert test"] = alert_test.stdout + alert_test.stderr
    runs = _run(["runs", "--store", str(store), "--json"], cli_env)
    outputs["runs"] = runs.stdout + runs.stderr

    files: dict[str, bytes] = {}
    for fmt, name in (("html", "r.html"), ("md", "r.md"), ("json", "r.json"), ("parquet", "r_parquet")):
        proc = _run(["report", "--store", str(store), "--format", fmt, "-o", str(tmp_path / name)], cli_env)
        assert proc.returncode == 0, proc.stderr
        outputs[f"report {fmt}"] = proc.stdout + proc.stderr
        out = tmp_path / name
        for f in ([out] if out.is_file() else sorted(p for p in out.rglob("*") if p.is_file())):
            files[str(f)] = f.read_bytes()
    assert len(files) >= 4 and all(files.values())
    files["alerts.jsonl"] = (tmp_path / "alerts.jsonl").read_bytes()

    import duckdb

    con = duckdb.connect(str(store), read_only=True)
    try:
        for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
            outputs[f"store table {table}"] = repr(con.execute(f'SELECT * FROM "{table}"').fetchall())
    finally:
        con.close()
    posted = [r for r in receiver.requests if r["method"] == "POST"]
    assert posted, "the webhook stand-in received alerts"
    outputs["webhook bodies"] = "\n".join(r["body"].decode() for r in posted)

    # the run really went through the faults whose messages could have leaked
    events = outputs["store table events"]
    assert "lost the connection" in events and "recovered" in events
    assert "alert FAILED via deadhook" in events
    probes = [r for r in receiver.requests if r["method"] == "GET"]
    assert probes and probes[0]["headers"].get("Authorization") == f"Bearer {token}"  # the token was used

    planted = {"password": password, "token": token, "webhook url": hook_secret}
    leaks = [(where, what) for where, text in outputs.items() for what, s in planted.items() if s in text]
    leaks += [(where, what) for where, data in files.items() for what, s in planted.items() if s.encode() in data]
    assert leaks == []


# --------------------------------------------------------------------------- least privilege


def _role_sql(role: str) -> str:
    proc = subprocess.run([*migtui_cmd(), "role-sql", "--monitor-role", role], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _permission_warnings(engine: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for e in engine.recent_events:
        if e.kind == "error" and "permission denied" in e.message:
            counts[e.data.get("query", e.subject)] = counts.get(e.data.get("query", e.subject), 0) + 1
    return counts


def _full_catalog_ticks(engine: Any, n: int = 4) -> None:
    """Tick until every query of the catalog has had its turn: each is due on every tick (1,000 s
    apart), and the collector starts its moderate and expensive queries one per poll."""
    t0 = time.time()
    n = max(n, 2 + sum(1 for q in engine.collectors["db"].catalog if q.cost != "cheap"))
    for i in range(n):
        engine.tick(now=t0 + 1000 * i, wait=30)


def test_monitoring_role_from_role_sql(pg: Any, make_engine: Any, tmp_path: Path, cli_env: dict[str, str]) -> None:
    monitor = f"migtui_mon_{os.getpid()}"
    bare = f"migtui_bare_{os.getpid()}"
    with psycopg.connect(pg.dsn, autocommit=True) as admin:
        for r in (monitor, bare):
            admin.execute(f"DROP ROLE IF EXISTS {r}")
        admin.execute(_role_sql(monitor))  # exactly what role-sql prints, nothing more
        admin.execute(f"CREATE ROLE {bare} LOGIN")  # for comparison: no GRANT at all
        is_super = admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [monitor]).fetchone()[0]
    assert is_super is False
    try:
        # the monitoring role runs the whole catalog: nothing degrades in the collector
        mon_dsn = make_conninfo(pg.dsn, user=monitor)
        engine = make_engine(f"name: lp\ninterval: 1s\nsources:\n  - {{type: postgres, name: db, dsn: '{mon_dsn}'}}\n")
        _full_catalog_ticks(engine)
        assert engine.sources["db"].state == "ok"
        assert _permission_warnings(engine) == {}
        assert engine.value("activity_summary.sessions") >= 0
        assert any(m.startswith("wal_dir_size.") for _src, m, _l in engine.series)  # needs pg_monitor
        with psycopg.connect(mon_dsn, autocommit=True) as conn:
            ro, = conn.execute("SHOW default_transaction_read_only").fetchone()
        assert ro == "on"

        # without pg_monitor exactly the query that needs it degrades, with one warning
        bare_engine = make_engine(f"name: lp\ninterval: 1s\nsources:\n  - {{type: postgres, name: db, "
                                  f"dsn: '{make_conninfo(pg.dsn, user=bare)}'}}\n")
        _full_catalog_ticks(bare_engine)
        assert _permission_warnings(bare_engine) == {"wal_dir_size": 1}
        [warning] = [e for e in bare_engine.recent_events if "permission denied" in e.message]
        assert warning.message == ("skipping wal_dir_size: permission denied; grant pg_monitor to the monitoring role")
        assert bare_engine.sources["db"].state == "ok"  # everything else runs

        # features outside the collector that the monitoring role does not have: one line each
        cfg = tmp_path / "lp.yaml"
        cfg.write_text(f"name: lp\nsources:\n  - {{type: postgres, name: db, dsn: '{mon_dsn}'}}\n")
        check = subprocess.run([*migtui_cmd(), "check", "--config", str(cfg), "--json", "--no-alerts", "--no-actions",
                                "--store", str(tmp_path / "none.duckdb")], env=cli_env, capture_output=True,
                               text=True, timeout=120)
        items = {i["name"]: i for i in json.loads(check.stdout)["items"]}
        privileges = items["Privileges"]
        assert privileges["status"] == "warn"
        assert "has pg_monitor" in privileges["evidence"] and "missing: pg_signal_backend" in privileges["evidence"]
        prepare = subprocess.run([*migtui_cmd(), "prepare", "--config", str(cfg), "--no-record", "--json"],
                                 env=cli_env, capture_output=True, text=True, timeout=120)
        steps = json.loads(prepare.stdout)["steps"]
        failed = [s for s in steps if s["status"] == "failed"]
        assert prepare.returncode == 1 and [s["step"] for s in failed] == ["restore_point"]
        assert "GRANT EXECUTE ON FUNCTION pg_create_restore_point(text)" in failed[0]["message"]
    finally:
        with psycopg.connect(pg.dsn, autocommit=True) as admin:
            for r in (monitor, bare):
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [r])
                admin.execute(f"DROP ROLE IF EXISTS {r}")


# --------------------------------------------------------------------------- injection


EVIL = "x'); DROP TABLE sec_canary; --"


def _canary(pg: Any) -> bool:
    with pg.connect() as conn:
        return conn.execute("SELECT to_regclass('sec_canary') IS NOT NULL").fetchone()[0]


def test_identifiers_from_config_stay_quoted(pg: Any, make_engine: Any) -> None:
    with pg.connect() as conn:
        conn.execute("DROP TABLE IF EXISTS sec_canary")
        conn.execute("CREATE TABLE sec_canary (id int)")
        conn.execute('DROP TABLE IF EXISTS "we\'ird; tbl"')
        conn.execute('CREATE TABLE "we\'ird; tbl" (id int primary key)')
        conn.execute('SELECT * FROM "we\'ird; tbl"')
    source = f"""
        name: quoting
        interval: 1s
        sources:
          - {{type: postgres, name: db, dsn: '{pg.dsn}', tables: [orders, {json.dumps(EVIL)}]}}
        """
    with pytest.raises(ConfigError, match=r"sources\[0\]\.tables\[1\]: .* is not a table name"):
        make_engine(source)
    tables = json.dumps(['"we\'ird; tbl"', "public.sec_canary"])
    engine = make_engine(f"""
        name: quoting
        interval: 1s
        sources:
          - type: postgres
            name: db
            dsn: '{pg.dsn}'
            include: [index_usage, table_activity]
            tables: {tables}
        actions:
          pause:
            - {{type: pg_cancel, name: by-app, application_name: {json.dumps(EVIL)}}}
            - {{type: pg_terminate, name: by-query, query: {json.dumps(EVIL)}}}
        """)
    for i in range(2):
        engine.tick(now=time.time() + 100 * i, wait=30)
    assert not [e for e in engine.recent_events if e.kind == "error" and e.subject.startswith("db")], \
        [e.message for e in engine.recent_events if e.kind == "error"]
    by_app, by_query = engine.pause(who="test").result(timeout=30)
    # the values travelled as data: no session has that name, and PostgreSQL read the other as a regex
    assert by_app.ok and by_app.data == {"matched": 0}
    assert by_app.message == f"nothing to cancel: no session matches application_name {EVIL!r}"
    assert not by_query.ok and "invalid regular expression" in by_query.message
    assert _canary(pg)
    with pg.connect() as conn:
        conn.execute('DROP TABLE IF EXISTS "we\'ird; tbl"')
        conn.execute("DROP TABLE IF EXISTS sec_canary")


def test_shell_actions_run_an_argument_list(make_engine: Any, tmp_path: Path) -> None:
    planted = tmp_path / "pwned"
    engine = make_engine(f"""
        name: shell
        actions:
          pause:
            - {{type: shell, name: echo, command: [echo, "hi; touch {planted}", "$(touch {planted})", "`touch {planted}`"]}}
        """)
    [result] = engine.pause(who="test").result(timeout=30)
    assert result.ok, result.message
    assert f"hi; touch {planted} $(touch {planted})" in result.output  # printed as text, never run
    assert not planted.exists()
    with pytest.raises(ConfigError, match="not a shell string"):
        make_engine(f"name: shell\nactions:\n  pause:\n    - {{type: shell, command: 'echo hi; touch {planted}'}}\n")
    assert not planted.exists()


# --------------------------------------------------------------------------- plugins


PROBE = """
import json, sys
from migtui.plugins import PluginHost
host = PluginHost()
print(json.dumps({"statuses": {i.name: i.status for i in host.list()},
                  "imported": sorted(m for m in sys.modules if m.startswith("migtui_") or m == "rogue_plugin")}))
"""


def test_plugins_only_from_entry_points_and_disabled_ones_are_not_imported(tmp_path: Path,
                                                                           cli_env: dict[str, str]) -> None:
    # a module that looks like a plugin, on the path and in the working folder, is never imported
    marker = tmp_path / "imported.txt"
    (tmp_path / "rogue_plugin.py").write_text(f"open({str(marker)!r}, 'w').write('imported')\n")
    (tmp_path / "migtui_rogue.py").write_text(f"open({str(marker)!r}, 'w').write('imported')\n")
    cli_env["PYTHONPATH"] = str(tmp_path)
    cli_env["MIGTUI_DISABLE_PLUGINS"] = "kubernetes,shell"
    proc = subprocess.run([sys.executable, "-c", PROBE], env=cli_env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["statuses"]["kubernetes"] == "disabled" and got["statuses"]["shell"] == "disabled"
    assert got["statuses"]["postgres"] == "loaded"
    assert "migtui_kubernetes" not in got["imported"] and "migtui_shell" not in got["imported"]
    assert "migtui_postgres" in got["imported"]
    assert "rogue" not in " ".join(got["statuses"]) and not marker.exists()
    listed = subprocess.run([*migtui_cmd(), "plugins", "--json"], env=cli_env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert not marker.exists() and "rogue" not in listed.stdout


# --------------------------------------------------------------------------- the screen


async def test_the_cockpit_never_shows_a_planted_secret(pg: Any, secret_role: tuple[str, str],
                                                        tmp_path: Path) -> None:
    from migtui.config import load_config
    from migtui.engine import Engine
    from migtui.store import Store
    from migtui.tui.app import MigtuiApp
    from tests.tui.conftest import log_text, wait_for

    role, password = secret_role
    token = "tok" + secrets.token_hex(12)
    d = conninfo_to_dict(pg.dsn)
    dsn = f"postgresql://{role}:{password}@{d.get('host', '127.0.0.1')}:{d.get('port', 5432)}/{pg.dbname}"
    cfg = tmp_path / "tui.yaml"
    cfg.write_text(f"""\
name: sec-tui
interval: 0.5s
sources:
  - {{type: postgres, name: db, dsn: '{dsn}', include: [activity_summary, connections]}}
  - type: http_probe
    name: api
    interval: 0.5s
    timeout: 1s
    bearer_token: ${{API_TOKEN}}
    probes:
      health: {{url: "http://127.0.0.1:{_closed_port()}/health"}}
""")
    engine = Engine(load_config(cfg, env={"API_TOKEN": token}), store=Store.open(tmp_path / "tui.duckdb"),
                    headless=False)
    app = MigtuiApp(engine)
    screens: list[str] = []
    try:
        async with app.run_test(size=(160, 50)) as pilot:
            await wait_for(pilot, lambda: engine.sources["db"].state == "ok", what="the postgres source")
            with psycopg.connect(pg.dsn, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [role])
            await wait_for(pilot, lambda: engine.sources["db"].state == "error", what="the lost connection")
            await wait_for(pilot, lambda: "lost the connection" in log_text(app), what="the error on screen")
            screens.append(app.export_screenshot())
            await wait_for(pilot, lambda: engine.sources["db"].state == "ok", what="the reconnect")
            await wait_for(pilot, lambda: "recovered" in log_text(app), what="the recovery on screen")
            screens.append(app.export_screenshot())
            screens.append(log_text(app))
    finally:
        engine.close()
    assert "lost the connection" in screens[-1]  # the error was on screen
    for text in screens:
        assert password not in text and token not in text
