"""Alerters against real HTTP servers on 127.0.0.1 standing in for Slack, PagerDuty and Alertmanager."""

from __future__ import annotations

import json
import socket
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from migtui.alerting import AlertDispatcher, build_alerters, send_test_alert
from migtui.api import Alert
from migtui.config import load_config
from migtui.errors import ConfigError
from migtui.model import Level, Phase, Sample
from migtui.plugins import PluginHost
from migtui.triggers import MemoryMetricView, TriggerEngine

T0 = 1_800_000_000.0


class Receiver:
    """A scripted HTTP server: answers with the queued responses (then the default) and records
    every request (method, path, headers, body bytes)."""

    def __init__(self, default=(200, {}, b"ok")) -> None:
        self.requests: list[dict] = []
        self.script: list[tuple[int, dict, bytes, float]] = []
        self.default = default
        recv = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recv.requests.append({"method": "POST", "path": self.path, "headers": dict(self.headers),
                                      "body": body})
                status, headers, payload, delay = (recv.script.pop(0) if recv.script else (*recv.default, 0.0))
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def then(self, status, body=b"", headers=None, delay=0.0) -> "Receiver":
        self.script.append((status, headers or {}, body, delay))
        return self

    def bodies(self) -> list:
        return [json.loads(r["body"]) for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(default=(200, {}, b"ok")):
        r = Receiver(default)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def build(tmp_path: Path, alerters_yaml: str, env: dict | None = None, extra: str = ""):
    p = tmp_path / "cfg.yaml"
    p.write_text("name: alerts-test\n" + textwrap.dedent(extra) + "alerters:\n" + textwrap.indent(textwrap.dedent(alerters_yaml), "  "))
    cfg = load_config(p, env=env or {})
    alerters = build_alerters(PluginHost(), cfg)
    for a in alerters:
        if hasattr(a, "sleep"):
            a.waits = []
            a.sleep = a.waits.append  # record the waits instead of sleeping
    return cfg, alerters


def alert(status="firing", level=Level.PAUSE, key="alerts-test/pause:error_rate", summary="error_rate = 0.06 > 0.05"):
    return Alert(key=key, status=status, level=level, summary=summary, run="run-1", phase=Phase.MIGRATION,
                 labels={"trigger": "pause:error_rate", "metric": "error_rate"},
                 annotations={"trigger": "pause:error_rate", "threshold": "> 0.05"},
                 starts_at=T0, ends_at=T0 + 60 if status == "resolved" else None, value=0.06)


def test_slack_receives_text_and_blocks(tmp_path, receiver):
    slack = receiver()
    _, (a,) = build(tmp_path, "- {type: slack, name: slack, url: '${SLACK_URL}', mention: '<!here>'}\n",
                    env={"SLACK_URL": slack.url + "/services/T000/B000/XXXX"})
    res = a.send([alert(), alert(level=Level.WARN, key="k2", summary="p95 = 2500 > 2000")])
    assert res.ok and res.attempts == 1 and res.status == 200
    (req,) = slack.requests
    assert req["path"] == "/services/T000/B000/XXXX"
    assert req["headers"]["Content-Type"] == "application/json"
    assert json.loads(req["body"]) == {
        "text": "<!here> migtui: [pause] error_rate = 0.06 &gt; 0.05; [warn] p95 = 2500 &gt; 2000",  # Slack's escaping
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text":
                "<!here> :double_vertical_bar: *PAUSE* error_rate = 0.06 &gt; 0.05\n:warning: *WARN* p95 = 2500 &gt; 2000"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "migtui · run run-1 · phase migration"}]},
        ]}


def test_slack_429_with_retry_after_then_200(tmp_path, receiver):
    slack = receiver().then(429, b"rate_limited", {"Retry-After": "2"})
    _, (a,) = build(tmp_path, "- {type: slack, url: '%s/hook'}\n" % slack.url)
    res = a.send([alert()])
    assert res.ok and res.attempts == 2 and res.status == 200
    assert a.waits == [2.0]  # honoured Retry-After, not the 1s backoff
    assert slack.requests[0]["body"] == slack.requests[1]["body"]


def test_retry_after_is_capped(tmp_path, receiver):
    slack = receiver().then(429, b"", {"Retry-After": "3600"})
    _, (a,) = build(tmp_path, "- {type: slack, url: '%s/hook', max_retry_wait: 5s}\n" % slack.url)
    assert a.send([alert()]).ok
    assert a.waits == [5.0]


def test_slack_400_is_not_retried_and_the_url_stays_secret(tmp_path, receiver):
    slack = receiver().then(400, b"invalid_payload")
    secret_url = slack.url + "/services/T000/B000/SECRETxyz123"
    _, (a,) = build(tmp_path, "- {type: slack, url: '${SLACK_URL}'}\n", env={"SLACK_URL": secret_url})
    res = a.send([alert()])
    assert not res.ok and res.attempts == 1 and res.status == 400
    assert res.message == "slack: failed: HTTP 400: invalid_payload"
    assert len(slack.requests) == 1


def test_pagerduty_trigger_and_resolve_with_stable_dedup_key_and_5xx_retries(tmp_path, receiver):
    pd = receiver(default=(202, {}, b'{"status":"success","message":"Event processed"}'))
    pd.then(500, b"oops").then(503, b"busy")
    _, (a,) = build(tmp_path, """\
        - type: pagerduty
          routing_key: ${PD_KEY}
          url: %s/v2/enqueue
          source: db-host-1
          component: orders
          backoff: 0.5s
        """ % pd.url, env={"PD_KEY": "R0UT1NGKEY0123456789"})
    res = a.send([alert()])
    assert res.ok and res.attempts == 3
    assert a.waits == [0.5, 1.0]
    assert a.send([alert(status="resolved")]).ok
    bodies = pd.bodies()
    assert [r["path"] for r in pd.requests] == ["/v2/enqueue"] * 4
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[2] == {
        "routing_key": "R0UT1NGKEY0123456789", "event_action": "trigger",
        "dedup_key": "alerts-test/pause:error_rate",
        "payload": {"summary": "error_rate = 0.06 > 0.05", "source": "db-host-1", "severity": "error",
                    "timestamp": "2027-01-15T08:00:00.000Z",
                    "custom_details": {"run": "run-1", "phase": "migration", "value": 0.06,
                                       "labels": {"trigger": "pause:error_rate", "metric": "error_rate"},
                                       "trigger": "pause:error_rate", "threshold": "> 0.05"},
                    "component": "orders"}}
    assert bodies[3] == {"routing_key": "R0UT1NGKEY0123456789", "event_action": "resolve",
                         "dedup_key": "alerts-test/pause:error_rate"}


def test_pagerduty_gives_up_after_retries(tmp_path, receiver):
    pd = receiver(default=(500, {}, b"down"))
    _, (a,) = build(tmp_path, "- {type: pagerduty, routing_key: abcdefgh, url: '%s/v2/enqueue', retries: 2}\n" % pd.url)
    res = a.send([alert()])
    assert not res.ok and res.attempts == 3 and res.status == 500
    assert "failed after 3 attempts: HTTP 500: down" in res.message
    assert len(pd.requests) == 3


def test_alertmanager_api_v2_with_endsat_lease(tmp_path, receiver):
    am = receiver()
    _, (a,) = build(tmp_path, "- {type: alertmanager, url: '%s', lease: 5m}\n" % am.url)
    a.clock = lambda: T0 + 10
    assert a.send([alert(level=Level.ROLLBACK)]).ok
    assert a.send([alert(status="resolved")]).ok
    assert [r["path"] for r in am.requests] == ["/api/v2/alerts", "/api/v2/alerts"]
    firing, resolved = am.bodies()
    assert firing == [{
        "labels": {"alertname": "pause:error_rate", "severity": "rollback", "run": "run-1", "phase": "migration",
                   "source": "migtui", "trigger": "pause:error_rate", "metric": "error_rate"},
        "annotations": {"summary": "error_rate = 0.06 > 0.05", "trigger": "pause:error_rate",
                        "threshold": "> 0.05", "value": "0.06"},
        "startsAt": "2027-01-15T08:00:00.000Z", "endsAt": "2027-01-15T08:05:10.000Z", "generatorURL": ""}]
    assert resolved[0]["endsAt"] == "2027-01-15T08:01:00.000Z"


def test_webhook_alertmanager_v4_payload(tmp_path, receiver):
    hook = receiver()
    _, (a,) = build(tmp_path, "- {type: webhook, name: ops, url: '%s/alert', headers: {X-Token: s3cr3t-token}}\n"
                    % hook.url)
    assert a.send([alert(), alert(status="resolved", key="other", level=Level.WARN)]).ok
    (req,) = hook.requests
    assert req["headers"]["X-Token"] == "s3cr3t-token"
    body = json.loads(req["body"])
    assert body["version"] == "4" and body["status"] == "firing" and body["receiver"] == "ops"
    assert body["groupKey"] == '{}:{run="run-1"}' and body["truncatedAlerts"] == 0
    assert body["commonLabels"] == {"alertname": "pause:error_rate", "run": "run-1", "phase": "migration", "source": "migtui",
                                    "trigger": "pause:error_rate", "metric": "error_rate"}
    assert [x["status"] for x in body["alerts"]] == ["firing", "resolved"]
    assert body["alerts"][0]["endsAt"] == "0001-01-01T00:00:00Z"
    assert body["alerts"][1]["endsAt"] == "2027-01-15T08:01:00.000Z"
    assert len(body["alerts"][0]["fingerprint"]) == 16


def test_timeouts_are_retried_then_reported(tmp_path, receiver):
    slow = receiver()
    slow.then(200, b"ok", delay=1.0).then(200, b"ok", delay=1.0)
    _, (a,) = build(tmp_path, "- {type: slack, url: '%s/hook', timeout: 0.2s, retries: 1}\n" % slow.url)
    res = a.send([alert()])
    assert not res.ok and res.attempts == 2
    assert res.message == "slack: failed after 2 attempts: timed out after 0.2s"


def test_connection_refused_does_not_leak_the_webhook_url(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hooks/T0KEN-abcdef-987654"
    _, (a,) = build(tmp_path, "- {type: webhook, url: '${HOOK}', retries: 1}\n", env={"HOOK": url})
    res = a.send([alert()])
    assert not res.ok and res.attempts == 2 and "ConnectError" in res.message
    assert "T0KEN-abcdef-987654" not in res.message


def test_log_alerter_appends_json_lines(tmp_path):
    _, (a,) = build(tmp_path, "- {type: log, path: out/alerts.jsonl}\n")
    assert a.send([alert()]).ok and a.send([alert(status="resolved")]).ok
    lines = [json.loads(x) for x in (tmp_path / "out" / "alerts.jsonl").read_text().splitlines()]
    assert [(x["status"], x["level"], x["key"]) for x in lines] == [
        ("firing", "pause", "alerts-test/pause:error_rate"), ("resolved", "pause", "alerts-test/pause:error_rate")]
    assert lines[0]["summary"] == "error_rate = 0.06 > 0.05" and lines[0]["starts_at"] == "2027-01-15T08:00:00.000Z"


@pytest.mark.parametrize("yaml_text, where, problem", [
    ("- {type: slack}\n", "alerters[0].url", "is required"),
    ("- {type: pagerduty, routing_key: k1234, timeout: soon}\n", "alerters[0].timeout", "expected a duration"),
    ("- {type: webhook, url: 'http://x', min_level: loud}\n", "alerters[0].min_level", "must be one of"),
    ("- {type: alertmanager, url: 'http://x', leese: 5m}\n", "alerters[0].leese", "did you mean 'lease'"),
    ("- {type: sms, url: 'http://x'}\n", "alerters[0].type", "unknown alerter type 'sms'"),
])
def test_alerter_options_are_validated_with_key_paths(tmp_path, yaml_text, where, problem):
    with pytest.raises(ConfigError) as ei:
        build(tmp_path, yaml_text)
    assert f"cfg.yaml:3: {where}: " in str(ei.value) and problem in str(ei.value)


def test_min_level_and_send_resolved(tmp_path, receiver):
    pd = receiver(default=(202, {}, b"{}"))
    _, (a,) = build(tmp_path, "- {type: pagerduty, routing_key: abcdefgh, url: '%s', min_level: pause, send_resolved: false}\n"
                    % pd.url)
    assert a.send([alert(level=Level.WARN)]).attempts == 0
    assert a.send([alert(status="resolved")]).attempts == 0
    assert a.send([alert(level=Level.ROLLBACK)]).ok
    assert [b["payload"]["severity"] for b in pd.bodies()] == ["critical"]


# --------------------------------------------------------------------------- dispatcher, end to end


SEED_WITH_ALERTERS = """\
triggers:
  - {metric: error_rate, threshold: 0.05, action: pause}
  - {metric: response_time_p95, threshold: 2000, action: warn}
  - {metric: error_rate, threshold: 0.1, action: rollback}
alerting: {group_wait: 0s, group_interval: 30s, repeat_interval: 1h, resolve_wait: 60s}
"""


def run_stream(engine, view, dispatcher, values, start, step=2.0):
    now = start
    for v in values:
        now += step
        view.add([Sample(now, "api", k, float(x)) for k, x in v.items()])
        trs = engine.evaluate(now, view)
        dispatcher.submit(trs, run="run-1", phase="migration", now=now)
        dispatcher.tick(now)
    return now


def test_seed_stream_pages_warn_pause_rollback_once_each_in_order(tmp_path, receiver):
    slack, pd = receiver(), receiver(default=(202, {}, b"{}"))
    cfg, alerters = build(tmp_path, """\
        - {type: slack, url: '%s/hook'}
        - {type: pagerduty, routing_key: abcdefgh, url: '%s/v2/enqueue', min_level: pause}
        """ % (slack.url, pd.url), extra=SEED_WITH_ALERTERS)
    disp = AlertDispatcher(alerters, options=cfg["alerting"], key_prefix=cfg.name).start()
    engine, view = TriggerEngine(cfg["triggers"]), MemoryMetricView()
    try:
        stream = ([{"error_rate": 0.01, "response_time_p95": 300}] * 3
                  + [{"error_rate": 0.01, "response_time_p95": 2500}] * 3
                  + [{"error_rate": 0.06, "response_time_p95": 2500}] * 3
                  + [{"error_rate": 0.12, "response_time_p95": 2500}] * 10)
        run_stream(engine, view, disp, stream, T0)
        assert disp.wait_idle(10)
    finally:
        disp.close()
    texts = [b["text"] for b in slack.bodies()]
    assert len(texts) == 3
    assert texts[0].startswith("migtui: [warn] warn:response_time_p95: ok -&gt; firing")
    assert texts[1].startswith("migtui: [pause] pause:error_rate: ok -&gt; firing")
    assert texts[2].startswith("migtui: [rollback] rollback:error_rate: ok -&gt; firing")
    assert "rollback requested" in texts[2]
    assert [(b["event_action"], b["dedup_key"], b["payload"]["severity"]) for b in pd.bodies()] == [
        ("trigger", "alerts-test/pause:error_rate", "error"), ("trigger", "alerts-test/rollback:error_rate", "critical")]
    events = disp.drain_events()
    assert [(e.kind, e.subject, e.data["ok"]) for e in events] == [
        ("alert", "slack", True), ("alert", "pagerduty", True)] * 3
    assert events[-1].message == "alert sent via pagerduty (firing: rollback:error_rate)"


def test_flapping_metric_pages_once_and_resolves_once(tmp_path, receiver):
    pd = receiver(default=(202, {}, b"{}"))
    cfg, alerters = build(tmp_path, "- {type: pagerduty, routing_key: abcdefgh, url: '%s'}\n" % pd.url,
                          extra=SEED_WITH_ALERTERS)
    disp = AlertDispatcher(alerters, options=cfg["alerting"], key_prefix=cfg.name)  # inline delivery
    engine, view = TriggerEngine(cfg["triggers"]), MemoryMetricView()
    flap = [{"error_rate": 0.07 if i % 2 else 0.01, "response_time_p95": 1} for i in range(30)]
    now = run_stream(engine, view, disp, flap, T0)
    assert [b["event_action"] for b in pd.bodies()] == ["trigger"]  # 15 flaps, one page
    run_stream(engine, view, disp, [{"error_rate": 0.01, "response_time_p95": 1}] * 40, now)
    assert [(b["event_action"], b["dedup_key"]) for b in pd.bodies()] == [
        ("trigger", "alerts-test/pause:error_rate"), ("resolve", "alerts-test/pause:error_rate")]


def test_repeat_interval_ack_and_silence(tmp_path, receiver):
    slack = receiver()
    cfg, alerters = build(tmp_path, "- {type: slack, url: '%s'}\n" % slack.url, extra="""\
        triggers:
          - {name: err, metric: error_rate, above: 0.05, action: pause}
          - {name: lat, metric: p95, above: 100, action: warn}
        alerting: {repeat_interval: 10s, group_interval: 0s}
        """)
    disp = AlertDispatcher(alerters, options=cfg["alerting"])
    engine, view = TriggerEngine(cfg["triggers"]), MemoryMetricView()
    sil = engine.silence("lat", 3600, "dave", now=T0)
    disp.submit([sil], run="run-1", phase="migration", now=T0)
    now = run_stream(engine, view, disp, [{"error_rate": 0.2, "p95": 500}] * 6, T0)  # 12s
    assert len(slack.requests) == 2  # first page + one repeat after 10s; the silenced trigger never
    assert all("lat" not in b["text"] for b in slack.bodies())
    ack = engine.acknowledge("err", "dave", now=now)
    disp.submit([ack], run="run-1", phase="migration", now=now)
    run_stream(engine, view, disp, [{"error_rate": 0.2, "p95": 500}] * 20, now)
    assert len(slack.requests) == 2  # acknowledged: no more repeats


def test_alerter_that_hangs_is_timed_out_by_the_guard(tmp_path, receiver):
    release = threading.Event()

    class Hangs:
        name = "hangs"

        def send(self, alerts):
            release.wait(60)  # hangs until the test is over

    slack = receiver()
    _, (a,) = build(tmp_path, "- {type: slack, url: '%s'}\n" % slack.url)
    # the guard's timeout applies to the slack alerter too: long enough for a real POST on a busy machine
    disp = AlertDispatcher([Hangs(), a], options={"timeout": 2.0})
    try:
        events = disp.deliver([alert()])
    finally:
        release.set()
        disp.close()
    assert [(e.subject, e.data["ok"], e.level) for e in events] == [("hangs", False, Level.ERROR),
                                                                     ("slack", True, Level.INFO)]
    assert "timed out after 2s" in events[0].message


def test_alert_test_command_reports_each_alerter(tmp_path, receiver):
    slack, pd, am = receiver(), receiver(default=(202, {}, b"{}")), receiver()
    slack.then(403, b"invalid_token")
    _, alerters = build(tmp_path, """\
        - {type: slack, url: '%s/hook'}
        - {type: pagerduty, routing_key: abcdefgh, url: '%s/v2/enqueue'}
        - {type: alertmanager, url: '%s'}
        - {type: log, path: alerts.jsonl}
        """ % (slack.url, pd.url, am.url))
    results = send_test_alert(alerters, run="run-1", key_prefix="alerts-test")
    assert [(n, r.ok) for n, r in results] == [("slack", False), ("pagerduty", True), ("alertmanager", True),
                                               ("log", True)]
    assert results[0][1].message == "slack: failed: HTTP 403: invalid_token"
    assert [(b["event_action"], b["dedup_key"]) for b in pd.bodies()] == [
        ("trigger", "alerts-test/test"), ("resolve", "alerts-test/test")]
    assert pd.bodies()[0]["payload"]["severity"] == "warning"
    assert [x["labels"]["test"] for x in sum(am.bodies(), [])] == ["true", "true"]


def test_silence_after_firing_stops_repeats_until_lifted(tmp_path, receiver):
    slack = receiver()
    cfg, alerters = build(tmp_path, "- {type: slack, url: '%s'}\n" % slack.url, extra="""\
        triggers:
          - {name: err, metric: error_rate, above: 0.05, action: pause}
        alerting: {repeat_interval: 10s, group_interval: 0s}
        """)
    disp = AlertDispatcher(alerters, options=cfg["alerting"])
    engine, view = TriggerEngine(cfg["triggers"]), MemoryMetricView()
    now = run_stream(engine, view, disp, [{"error_rate": 0.2}], T0)
    assert len(slack.requests) == 1
    disp.submit([engine.silence("pause", 3600, "erin", now=now)], run="run-1", phase="migration", now=now)
    now = run_stream(engine, view, disp, [{"error_rate": 0.2}] * 20, now)  # 40s: would repeat 4 times
    assert len(slack.requests) == 1
    disp.submit([engine.unsilence("pause", "erin", now=now)], run="run-1", phase="migration", now=now)
    run_stream(engine, view, disp, [{"error_rate": 0.2}], now)
    assert len(slack.requests) == 2  # overdue repeat goes out once the silence is lifted
