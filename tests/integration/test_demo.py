"""`migtui demo`: the headless short scenario end to end (a subprocess, as a user runs it), and the
demo's parts against the real pieces they feed (the openmetrics scraper, the rollback action)."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import migtui_cmd


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{entry}: {cmdline.strip()}")
    return found


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One short headless demo for the whole module (it takes about a minute)."""
    folder = tmp_path_factory.mktemp("demo")
    store = folder / "demo.duckdb"
    env = {k: v for k, v in os.environ.items() if k not in ("MIGTUI_DSN", "MIGTUI_DISABLE_PLUGINS")}
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.run([*migtui_cmd(), "demo", "--headless", "--fast", "--standby", "--json", "--store", str(store)],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    events = []
    for line in proc.stdout.splitlines():
        line = line.strip()
        if line:
            events.append(json.loads(line))  # --json: nothing but events on stdout
    return {"proc": proc, "events": events, "store": store, "folder": folder}


def _notes(run: dict[str, Any], act: str) -> list[dict[str, Any]]:
    return [e for e in run["events"] if e["kind"] == "note" and e["data"].get("act") == act]


def test_demo_exits_0_and_keeps_the_store(demo_run: dict[str, Any]) -> None:
    proc = demo_run["proc"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert demo_run["store"].exists()
    run_id = demo_run["events"][0]["run"]
    assert f"run {run_id} finished" in proc.stderr
    assert (f"migtui report --store {demo_run['store']} --run {run_id} --format html -o report.html"
            in proc.stderr)
    from migtui.store import Store

    store = Store.open(demo_run["store"], read_only=True)
    try:
        assert store.run(run_id)["status"] == "finished"
        assert {e.kind for e in store.events(run_id)} >= {"phase", "note", "run"}
    finally:
        store.close()


def test_demo_goes_through_every_phase_in_order(demo_run: dict[str, Any]) -> None:
    events = demo_run["events"]
    assert events[0]["phase"] == "baseline"
    switches = [(e["data"]["from"], e["data"]["to"]) for e in events if e["kind"] == "phase"]
    assert switches == [("baseline", "migration"), ("migration", "post")]
    seen = [e["phase"] for e in events]
    assert seen.index("baseline") < seen.index("migration") < seen.index("post")


def test_demo_plays_the_schema_migration_lock_trouble_and_backfill(demo_run: dict[str, Any]) -> None:
    for act in ("baseline", "add column", "create index", "lock trouble", "backfill", "burst", "post"):
        assert _notes(demo_run, act), f"no {act!r} note in the demo's events"
    lock = " ".join(e["message"] for e in _notes(demo_run, "lock trouble"))
    assert "lock trouble over" in lock
    done = [e for e in _notes(demo_run, "backfill") if "backfill done" in e["message"]]
    assert done and done[0]["data"]["rows"] >= 50_000
    assert not [e for e in demo_run["events"] if e["kind"] == "error" and e["subject"] == "demo"]


def test_demo_lints_its_migration_and_names_the_report_session_before_the_alter(demo_run: dict[str, Any]) -> None:
    """The panel "Pending migration": in the baseline it flags the ALTER without lock_timeout; in the
    lock trouble it names the report session as the blocker before the ALTER is sent."""
    lints = [e for e in demo_run["events"] if e["kind"] == "lint"]
    first = next(e for e in lints if e["phase"] == "baseline")
    alter = next(s for s in first["data"]["statements"] if "SET DEFAULT 0" in s["sql"])
    assert [f["rule"] for f in alter["findings"]] == ["missing-lock-timeout"]
    assert alter["locks"] == [{"relation": "orders", "mode": "AccessExclusiveLock"}]
    kinds = [(e["kind"], e["message"]) for e in demo_run["events"] if e["kind"] == "note"]
    named = next(i for i, (_, m) in enumerate(kinds) if "the panel Pending migration names pid" in m)
    sent = next(i for i, (_, m) in enumerate(kinds) if "runs without a lock_timeout and queues behind it" in m)
    assert named < sent
    pid = next(e for e in demo_run["events"] if "the panel Pending migration names pid" in e["message"])["data"]["pid"]
    assert any(b["pid"] == pid and b["state"] == "idle in transaction"
               for e in lints for s in e["data"]["statements"] for b in s["blockers"])


def test_demo_leaves_no_process_or_folder_behind(demo_run: dict[str, Any]) -> None:
    ready = [e for e in demo_run["events"] if e["kind"] == "note" and "data_dir" in e["data"]]
    assert ready, "the demo did not report its data folder"
    data_dir = ready[0]["data"]["data_dir"]
    demo_dir = str(Path(data_dir).parent.parent)  # the primary's and the standby's servers live in it
    deadline = time.monotonic() + 60
    while _processes_mentioning(demo_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_mentioning(demo_dir) == []
    assert not Path(demo_dir).exists()


def test_demo_report_judges_health_metrics_only(demo_run: dict[str, Any], tmp_path: Path) -> None:
    """The backfill's progress, the flags and the A/B counts are meant to change: they get timelines,
    never a verdict, and the checklist's performance line names none of them."""
    from migtui.report import export_report

    report = json.loads(export_report(demo_run["store"], "latest", "json", tmp_path / "r.json").read_text())
    kinds = {s["metric"]: s["kind"] for s in report["series"]}
    # every metric of the demo's sources (the postgres catalog, the shop API, the migration tools, the
    # stand-ins) has a declared kind: nothing reads as "unclassified"
    unclassified = sorted({f"{s['source']}/{s['metric']}" for s in report["series"] if s["kind"] == "unclassified"})
    assert unclassified == []
    assert kinds["database_counters.tup_inserted_per_s"] == "counter" and kinds["pg.up"] == "health"
    assert (kinds["backfill.rows_done"], kinds["backfill.done_ratio"], kinds["flag.enabled"], kinds["ab.visitors"],
            kinds["error_rate"]) == ("progress", "progress", "state", "counter", "health")
    assert all("verdicts" not in s for s in report["series"] if s["kind"] != "health")
    assert report["outcome"]["verdict"] in ("ok", "degraded")
    perf = next(i for i in report["checklist"] if i["item"] == "Performance vs baseline")["evidence"]
    assert not any(word in perf for word in ("backfill", "flag.", "ab.")), perf
    rollout = next(s for s in report["series"] if s["metric"] == "flag.rollout" and s["timeline"]["changes"])
    assert rollout["timeline"]["last"] > rollout["timeline"]["first"]


def test_demo_markdown_report_is_short_enough_to_paste(demo_run: dict[str, Any], tmp_path: Path) -> None:
    """The demo's --format md fits the bound docs/reports.md states (its lint section alone listed 13
    sessions, and the report ran to 124 lines before the bound)."""
    from migtui.report import export_report
    from migtui.report.markdown import MAX_CHARS, MAX_LINES

    md = export_report(demo_run["store"], "latest", "md", tmp_path / "r.md").read_text()
    assert len(md.splitlines()) <= MAX_LINES and len(md) <= MAX_CHARS, (len(md.splitlines()), len(md))
    assert md.splitlines()[2].startswith(("**OK**", "**DEGRADED**")) and "## Post-migration checklist" in md


def test_demo_error_burst_trips_warn_then_pause_and_the_backfill_pauses(demo_run: dict[str, Any]) -> None:
    events = demo_run["events"]
    firing = [e for e in events if e["kind"] == "trigger" and e["data"].get("state") == "firing"]
    metrics = [(e["data"].get("metric"), e["data"].get("action")) for e in firing]
    assert ("response_time_p95", "warn") in metrics
    assert ("error_rate", "pause") in metrics
    assert ("error_rate", "rollback") not in metrics
    first = {m: next(i for i, e in enumerate(events) if e in firing and e["data"].get("metric") == m[0]
                     and e["data"].get("action") == m[1]) for m in metrics}
    assert first[("response_time_p95", "warn")] < first[("error_rate", "pause")]
    paused = [e for e in events if e["kind"] == "action" and e["data"].get("verb") == "pause"
              and e["data"].get("stage") == "result"]
    assert paused and paused[0]["data"]["ok"] is True
    assert [e for e in _notes(demo_run, "backfill") if "is paused" in e["message"]]
    assert [e for e in _notes(demo_run, "backfill") if "goes on after" in e["message"]]
    resumed = [e for e in events if e["kind"] == "action" and e["data"].get("verb") == "resume"
               and e["data"].get("stage") == "result"]
    assert resumed and resumed[0]["data"]["ok"] is True


def test_demo_standby_replay_lag_throttles_the_backfill_and_it_goes_on_by_itself(demo_run: dict[str, Any]) -> None:
    """--standby: a real streaming standby's replay is paused for a few seconds during the backfill;
    the throttle trigger on its replay lag holds the backfill, which goes on by itself (no operator)."""
    events = demo_run["events"]
    at = {id(e): i for i, e in enumerate(events)}
    throttles = [e for e in events if e["kind"] == "throttle"]
    assert [e["data"]["op"] for e in throttles][:2] == ["throttle", "release"], [e["message"] for e in throttles]
    throttled, released = throttles[:2]
    assert throttled["data"]["reason"].startswith("standby-replay-lag: replication_lag.replay_lag_bytes = ")
    assert throttled["data"]["ok"] is True and "migration paused" in throttled["message"]
    assert released["data"]["who"] == "throttle" and "migration resumed" in released["message"]
    standby = " ".join(e["message"] for e in _notes(demo_run, "standby"))
    assert "WAL replay paused" in standby and "WAL replay resumed" in standby
    held = [e for e in _notes(demo_run, "backfill") if "is paused" in e["message"]
            and at[id(throttled)] < at[id(e)] < at[id(released)]]
    went_on = [e for e in _notes(demo_run, "backfill") if "goes on after" in e["message"]
               and at[id(e)] > at[id(released)]]
    assert held and went_on


def test_headless_rollback_runs_the_rollback_sql_and_ends_the_backfill(tmp_path: Path) -> None:
    """--rollback: after the trigger's pause, the scripted operator rolls back through demo/rollback.sql."""
    env = {k: v for k, v in os.environ.items() if k not in ("MIGTUI_DSN", "MIGTUI_DISABLE_PLUGINS")}
    proc = subprocess.run([*migtui_cmd(), "demo", "--headless", "--fast", "--rollback", "--json", "--store",
                           str(tmp_path / "demo.duckdb")], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    rollback = [e for e in events if e["kind"] == "action" and e["data"].get("verb") == "rollback"
                and e["data"].get("stage") == "result"]
    assert len(rollback) == 1 and rollback[0]["data"]["ok"] is True
    assert rollback[0]["data"]["result"]["file"].endswith("demo/rollback.sql")
    assert [e for e in events if e["kind"] == "note" and "the migration was rolled back" in e["message"]]
    post = [e for e in events if e["kind"] == "phase" and e["data"]["to"] == "post"]
    assert post and post[0]["data"]["why"] == "rolled back"
    assert not [e for e in events if e["kind"] == "note" and "backfill done" in e["message"]]


# --------------------------------------------------------------------------- the parts


def test_shop_api_metrics_feed_the_seed_trigger_metrics(make_engine: Any) -> None:
    """The demo's service, scraped by the real openmetrics source with the demo's options."""
    import yaml

    from migtui.demo.configfile import demo_config
    from migtui.demo.scenario import FAST
    from migtui.demo.service import MetricsServer, ShopService

    service = ShopService()
    api = MetricsServer(service).start()
    try:
        cfg = demo_config(db_dsn="postgresql://x@127.0.0.1:1/shop", api_url=api.url, scenario=FAST,
                          headless=True)
        om = [s for s in cfg["sources"] if s["type"] == "openmetrics"]
        engine = make_engine(yaml.safe_dump({"name": "t", "interval": "1s", "sources": om}))
        for _ in range(100):
            service.begin()
            service.record("GET /products/{id}", 0.004)
        engine.tick(wait=30)
        service.inject(errors=0.07, latency_ms=2600)
        for _ in range(200):
            service.begin()
            service.record("POST /orders", 0.01)
        engine.tick(now=time.time() + 1, wait=30)
        assert engine.value("error_rate") == pytest.approx(0.07, abs=0.006)
        assert 2000 < engine.value("response_time_p95") < 3500
        service.clear()
        for _ in range(100):
            service.begin()
            service.record("POST /orders", 0.01)
        engine.tick(now=time.time() + 2, wait=30)
        assert engine.value("error_rate") == 0.0
        assert engine.value("response_time_p95") < 50
    finally:
        api.stop()


@pytest.mark.pg
def test_rollback_sql_undoes_the_demo_migration(pg: Any, make_engine: Any) -> None:
    """demo/rollback.sql through the real pg_rollback_sql action, on a migrated shop."""
    from migtui.demo.configfile import ROLLBACK_SQL
    from migtui.demo.shop import ShopSize, load_shop

    with pg.connect() as conn:
        conn.execute("DROP TABLE IF EXISTS orders, customers, products")
    load_shop(pg.dsn, ShopSize.for_scale(0.002))
    with pg.connect() as conn:
        conn.execute("ALTER TABLE orders ADD COLUMN total_cents bigint DEFAULT 0")
        conn.execute("CREATE INDEX CONCURRENTLY orders_customer_created_idx ON orders (customer_id, created_at)")
        conn.execute("UPDATE orders SET total_cents = (amount * 100)::bigint WHERE id < 500")
    engine = make_engine(textwrap.dedent(f"""
        name: rollback
        sources:
          - {{type: postgres, name: shop-db, dsn: "{pg.dsn}"}}
        actions:
          rollback:
            - {{type: pg_rollback_sql, name: rollback-sql, dir: "{ROLLBACK_SQL.parent}", file: rollback.sql}}
    """))
    results = engine.rollback(who="test", confirmed=True).result(timeout=30)
    assert [r.ok for r in results] == [True], [r.message for r in results]
    with pg.connect() as conn:
        cols = {r[0] for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attnum > 0 "
            "AND NOT attisdropped").fetchall()}
        assert "total_cents" not in cols and "amount" in cols
        assert conn.execute("SELECT to_regclass('orders_customer_created_idx')").fetchone()[0] is None
        assert conn.execute("SELECT count(*) FROM orders").fetchone()[0] == 2_000


def test_sigterm_in_the_middle_of_lock_trouble_stops_everything(tmp_path: Path) -> None:
    """SIGTERM while sessions queue behind a lock: the demo stops everything and exits 143."""
    import signal

    env = {k: v for k, v in os.environ.items() if k not in ("MIGTUI_DSN", "MIGTUI_DISABLE_PLUGINS")}
    env["PYTHONUNBUFFERED"] = "1"
    store = tmp_path / "demo.duckdb"
    proc = subprocess.Popen([*migtui_cmd(), "demo", "--headless", "--fast", "--json", "--store", str(store)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    data_dir = None
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            ev = json.loads(line)
            data_dir = data_dir or ev["data"].get("data_dir")
            if ev["kind"] == "note" and "queues behind it" in ev["message"]:
                break
        else:
            pytest.fail("the demo ended before its lock trouble")
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, err[-2000:]
    assert "interrupted" in err
    assert data_dir and _processes_mentioning(data_dir) == []
    assert not Path(data_dir).exists()
    from migtui.store import Store

    s = Store.open(store, read_only=True)
    try:
        runs = s.runs()
        assert len(runs) == 1 and runs[0]["status"] == "finished"
    finally:
        s.close()


def test_ab_stand_in_statistics_match_a_two_proportion_z_test() -> None:
    from scipy.stats import norm

    from migtui.demo.standins import two_proportion

    uplift, p_value, beat = two_proportion(10_000, 400, 10_000, 480)
    pooled = 880 / 20_000
    z = (0.048 - 0.040) / (pooled * (1 - pooled) * (2 / 10_000)) ** 0.5
    assert uplift == pytest.approx(0.2)
    assert p_value == pytest.approx(2 * norm.sf(z), rel=1e-9)
    se = (0.04 * 0.96 / 10_000 + 0.048 * 0.952 / 10_000) ** 0.5
    assert beat == pytest.approx(norm.cdf(0.008 / se), rel=1e-9)
    assert all(v != v for v in two_proportion(0, 0, 10, 1))  # no visitors yet: NaN, not an error
