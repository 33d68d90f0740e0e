"""The engine with the seed triggers on a live OpenMetrics source: warn, pause and rollback fire in
order as the error rate climbs, each once; alerts reach a local Slack stand-in; actions run."""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from migtui.model import Phase


class App:
    """A local service exposing gauges the test changes, plus a Slack stand-in."""

    def __init__(self) -> None:
        self.metrics = {"app_error_rate": 0.01, "app_p95_ms": 300.0}
        self.slack: list[dict] = []
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                body = "".join(f"# TYPE {k} gauge\n{k} {v}\n" for k, v in app.metrics.items()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):  # noqa: N802
                app.slack.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def app():
    a = App()
    yield a
    a.close()


def config(app: App, tmp_path) -> str:
    py = sys.executable
    return f"""
        name: seed-live
        interval: 1s
        sources:
          - type: openmetrics
            name: api
            url: {app.url}/metrics
            interval: 1s
            auto: false
            gauges: {{error_rate: app_error_rate, response_time_p95: app_p95_ms}}
        triggers:
          - {{metric: error_rate, threshold: 0.05, action: pause}}
          - {{metric: response_time_p95, threshold: 2000, action: warn}}
          - {{metric: error_rate, threshold: 0.1, action: rollback, confirm: false}}
        alerting: {{group_wait: 0s, group_interval: 30s}}
        alerters:
          - {{type: slack, url: "{app.url}/slack"}}
        actions:
          pause:
            - {{type: shell, command: ["{py}", "-c", "open(r'{tmp_path}/acted', 'a').write('pause\\\\n')"]}}
          rollback:
            - {{type: shell, command: ["{py}", "-c", "open(r'{tmp_path}/acted', 'a').write('rollback\\\\n')"]}}
    """


def drive(engine, app, steps, t=None):
    """One engine tick per simulated second; each tick's scrape is awaited (by re-ticking at the same
    time, which only drains finished collections) before the next second."""
    t = time.time() if t is None else t
    for metrics, ticks in steps:
        app.metrics.update(metrics)
        for _ in range(ticks):
            t += 1.0
            update = engine.tick(t)
            deadline = time.monotonic() + 60
            while not update.samples and time.monotonic() < deadline:
                time.sleep(0.01)
                update = engine.tick(t)
            assert update.samples, "the openmetrics source produced nothing"
    return t


def test_seed_triggers_fire_in_order_each_once_on_a_live_source(make_engine, app, tmp_path):
    engine = make_engine(config(app, tmp_path), phase=Phase.MIGRATION)
    rt = engine.parts.triggers
    t = drive(engine, app, [({"app_error_rate": 0.01, "app_p95_ms": 300}, 2),
                            ({"app_p95_ms": 2500}, 2),
                            ({"app_error_rate": 0.06}, 3),
                            ({"app_error_rate": 0.12}, 4)])
    assert [(verb, name) for _, verb, name in rt.requests] == [("pause", "pause:error_rate"),
                                                             ("rollback", "rollback:error_rate")]
    firing = [e for e in list(engine.recent_events) if e.kind == "trigger" and e.data.get("state") == "firing"]
    assert [(e.subject, e.level.value) for e in firing] == [("warn:response_time_p95", "warn"),
                                                          ("pause:error_rate", "pause"),
                                                          ("rollback:error_rate", "rollback")]
    assert rt.dispatcher.wait_idle(60), "the alerts were not delivered"
    engine.tick(t + 0.5, wait=0)  # collect delivery events
    texts = [m["text"] for m in app.slack]
    assert [t.split("]")[0] for t in texts] == ["migtui: [warn", "migtui: [pause", "migtui: [rollback"]
    deadline = time.time() + 60
    acted = tmp_path / "acted"
    while time.time() < deadline and (not acted.exists() or acted.read_text().count("\n") < 2):
        time.sleep(0.05)
    assert acted.read_text().splitlines() == ["pause", "rollback"]
    alert_events = [e for e in list(engine.recent_events) if e.kind == "alert"]
    assert len(alert_events) == 3 and all(e.data["ok"] for e in alert_events)
    assert rt.summary() == ("triggers: rollback:error_rate firing, pause:error_rate firing, "
                            "warn:response_time_p95 firing")
    status = {r["name"]: r["state"] for r in rt.status()}
    assert status == {"pause:error_rate": "firing", "warn:response_time_p95": "firing",
                      "rollback:error_rate": "firing"}


def test_restart_on_the_same_store_resumes_states_without_acting_again(make_engine, app, tmp_path):
    store = tmp_path / "shared.duckdb"
    cfg = config(app, tmp_path)
    first = make_engine(cfg, store_path=store, phase=Phase.MIGRATION)
    t = drive(first, app, [({"app_error_rate": 0.2}, 3)])
    assert [v for _, v, _ in first.parts.triggers.requests] == ["rollback"]
    first.parts.triggers.silence("warn", 600, "frank")
    first.close()

    second = make_engine(cfg, store_path=store, phase=Phase.MIGRATION)
    rt = second.parts.triggers
    rows = {r["name"]: r for r in rt.status()}
    assert rows["rollback:error_rate"]["state"] == "firing"
    assert rows["warn:response_time_p95"]["silenced_by"] == "frank"
    drive(second, app, [({"app_error_rate": 0.2}, 3)], t)
    assert rt.requests == []  # the rollback was already requested by the first watch
    restored = [e for e in list(second.recent_events) if e.kind == "trigger" and e.subject == "restore"]
    assert len(restored) == 1 and "rollback:error_rate firing" in restored[0].message


def ratio_config(app: App) -> str:
    """One warn trigger at 1.5x the baseline p95 of the api's response time."""
    return f"""
        name: base
        interval: 1s
        sources:
          - {{type: openmetrics, name: api, url: "{app.url}/metrics", interval: 1s, auto: false,
             gauges: {{response_time_p95: app_p95_ms}}}}
        triggers:
          - {{name: slow, metric: response_time_p95, ratio_to_baseline: {{stat: p95, above: 1.5}}, min_samples: 3,
             no_data: ok, action: warn}}
    """


def test_baseline_capture_and_ratio_trigger(make_engine, app, tmp_path):
    engine = make_engine(ratio_config(app))
    t = drive(engine, app, [({"app_p95_ms": 200}, 4)])
    engine.set_phase("migration", who="test")  # leaving the baseline phase captures the baseline
    ev = [e for e in list(engine.recent_events) if e.kind == "baseline"]
    assert len(ev) == 1 and ev[0].data["series"] >= 1 and ev[0].data["who"] == "auto"
    drive(engine, app, [({"app_p95_ms": 250}, 2), ({"app_p95_ms": 400}, 2)], t)
    fired = [e for e in list(engine.recent_events) if e.kind == "trigger" and e.data.get("state") == "firing"]
    assert [(e.subject, e.data["threshold"]) for e in fired] == [("slow", "> 1.5x baseline p95")]
    assert fired[0].data["score"] == pytest.approx(2.0)


def test_a_baseline_run_given_at_start_is_what_relative_triggers_compare_with(make_engine, app, tmp_path):
    """``--baseline RUN_ID``: the keeper loads that run's statistics when the engine is built and the
    triggers compare with them from the first tick (no capture in this run)."""
    store = tmp_path / "shared.duckdb"
    cfg = ratio_config(app)
    first = make_engine(cfg, store_path=store)
    t = drive(first, app, [({"app_p95_ms": 200}, 4)])
    first.capture_baseline(who="test")
    base_run = first.run_id
    first.close()

    second = make_engine(cfg, store_path=store, phase=Phase.MIGRATION, baseline_run=base_run)
    keeper = second.parts.baseline
    assert keeper.loaded_from == base_run and keeper.baseline("api", "response_time_p95", {}).p95 == 200
    drive(second, app, [({"app_p95_ms": 500}, 2)], t)
    fired = [e for e in list(second.recent_events) if e.kind == "trigger" and e.data.get("state") == "firing"]
    assert [e.subject for e in fired] == ["slow"] and fired[0].data["score"] == pytest.approx(2.5)
    assert not [e for e in list(second.recent_events) if e.kind == "baseline"]
