"""The two example third-party plugins, installed with pip the way a user would, against loopback
servers that behave like Unleash and GrowthBook."""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_DIRS = [ROOT / "plugins" / "migtui-flags-unleash", ROOT / "plugins" / "migtui-ab-growthbook"]


@pytest.fixture(scope="module")
def installed() -> None:
    """pip install both example plugins into this environment (as a user would)."""
    args = [sys.executable, "-m", "pip", "install", "-q"]
    if importlib.util.find_spec("openfeature") is not None and importlib.util.find_spec("httpx") is not None:
        args.append("--no-deps")  # migtui itself is installed (editable); do not let pip touch it
    if importlib.util.find_spec("hatchling") is not None:
        args.append("--no-build-isolation")
    proc = subprocess.run([*args, *map(str, PLUGIN_DIRS)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    importlib.invalidate_caches()


# --------------------------------------------------------------------------- loopback servers


class FakeServer:
    """A ThreadingHTTPServer on 127.0.0.1 whose handler is a function; it records every request."""

    def __init__(self, handle: Callable[["FakeServer", str, str, dict[str, str], bytes], tuple[int, str, bytes]]) -> None:
        self.handle = handle
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.state: dict[str, Any] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _do(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append((self.command, self.path, headers, body))
                status, ctype, payload = server.handle(server, self.command, self.path, headers, body)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _do

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


CLIENT_TOKEN = "*:production.4f6c1b2e9a7d8c3b5e0f1a2b3c4d5e6f"
ADMIN_TOKEN = "user:9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
GB_TOKEN = "secret_admin_7Hq2LmN9pR4sT6vX8zB1cD3f"


def unleash(server: FakeServer, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes]:
    mode = server.state.get("mode", "ok")
    if mode == "garbage":
        return 200, "text/html", b"<html><body>502 Bad Gateway</body></html>"
    if method == "GET" and path == "/api/client/features":
        if headers.get("authorization") != CLIENT_TOKEN:
            return 401, "application/json", b'{"message": "unauthorized"}'
        doc = {"version": 2, "features": [
            {"name": "new-checkout", "type": "release", "project": "web", "enabled": server.state.get("on", True),
             "stale": False, "strategies": [{"name": "flexibleRollout", "constraints": [],
                                             "parameters": {"rollout": "100", "stickiness": "default",
                                                            "groupId": "new-checkout"}}],
             "variants": [{"name": "blue", "weight": 500, "weightType": "variable", "stickiness": "default"},
                          {"name": "green", "weight": 500, "weightType": "variable", "stickiness": "default"}]},
            {"name": "dark-mode", "type": "release", "project": "web", "enabled": False, "strategies": [],
             "variants": []},
        ]}
        return 200, "application/json", json.dumps(doc).encode()
    if method == "POST" and path == "/api/admin/projects/web/features/new-checkout/environments/production/off":
        if headers.get("authorization") != ADMIN_TOKEN:
            return 403, "application/json", b'{"message": "forbidden"}'
        server.state["on"] = False
        return 200, "application/json", b""
    return 404, "application/json", b'{"message": "not found"}'


GB_RESULTS = {"result": {
    "id": "snp_1", "experimentId": "exp_checkout", "phase": "0", "dateUpdated": "2026-11-21T08:00:00Z",
    "results": [
        {"dimension": "All", "totalUsers": 10150, "checks": {"srm": 0.0004},
         "metrics": [
             {"metricId": "met_conversion", "variations": [
                 {"variationId": "0", "users": 5000, "analyses": [
                     {"engine": "frequentist", "numerator": 600, "denominator": 5000, "mean": 0.12}]},
                 {"variationId": "1", "users": 5150, "analyses": [
                     {"engine": "frequentist", "numerator": 544, "denominator": 5150, "mean": 0.1056,
                      "percentChange": -0.12, "ciLow": -0.2, "ciHigh": -0.04, "pValue": 0.003,
                      "chanceToBeatControl": 0.02}]}]},
         ]},
    ]}}


def growthbook(server: FakeServer, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes]:
    mode = server.state.get("mode", "ok")
    if headers.get("authorization") != f"Bearer {GB_TOKEN}":
        return 401, "application/json", b'{"message": "Invalid API key"}'
    if method == "GET" and path == "/api/v1/experiments/exp_checkout/results":
        if mode == "garbage":
            return 200, "application/json", b'{"result": {"results": [{"dimension": "All", "metrics": [{{{'
        if mode == "shape":
            return 200, "application/json", b'["not", "an", "object"]'
        return 200, "application/json", json.dumps(GB_RESULTS).encode()
    return 404, "application/json", b'{"message": "not found"}'


@pytest.fixture
def unleash_server() -> Iterator[FakeServer]:
    s = FakeServer(unleash)
    yield s
    s.close()


@pytest.fixture
def growthbook_server() -> Iterator[FakeServer]:
    s = FakeServer(growthbook)
    yield s
    s.close()


# --------------------------------------------------------------------------- tests


def test_installed_plugins_are_listed(installed: None) -> None:
    proc = subprocess.run([sys.executable, "-m", "migtui", "plugins", "--json"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    plugins = {p["name"]: p for p in json.loads(proc.stdout)}
    flags, ab = plugins["flags_unleash"], plugins["ab_growthbook"]
    assert (flags["status"], flags["version"], flags["dist"]) == ("loaded", "0.1.0", "migtui-flags-unleash")
    assert sorted(flags["types"]) == ["action:unleash_flag_off", "source:unleash_flags"]
    assert (ab["status"], ab["version"], ab["dist"]) == ("loaded", "0.1.0", "migtui-ab-growthbook")
    assert ab["types"] == ["source:growthbook_experiment"]
    assert "migtui_source_types" in ab["hooks"]


def _tick(engine: Any) -> None:
    """One poll of every source: tick at a time when all are due, then until their results are in."""
    at = time.time() + 1000 * (engine.tick_no + 1)
    engine.tick(now=at)
    deadline = time.monotonic() + 60
    while any(s.in_flight for s in engine.sources.values()) and time.monotonic() < deadline:
        time.sleep(0.01)
        engine.tick(now=at)


def _value(engine: Any, name: str, **labels: str) -> float:
    found = engine.latest(name, labels)
    assert len(found) == 1, (name, labels, [(s.labels, v) for s, _, v in found])
    return found[0][2]


def test_unleash_flags_through_openfeature_and_flag_off_rollback(installed: None, unleash_server: FakeServer,
                                                                 make_engine: Any) -> None:
    url = f"{unleash_server.url}/api"
    engine = make_engine(f"""
    sources:
      - type: unleash_flags
        name: flags
        url: {url}
        token: "${{UNLEASH_CLIENT_TOKEN}}"
        flags: [new-checkout, dark-mode, no-such-flag]
        sample_size: 400
    actions:
      rollback:
        - {{type: unleash_flag_off, name: checkout-off, url: "{url}", token: "${{UNLEASH_ADMIN_TOKEN}}",
            project: web, flag: new-checkout, environment: production}}
    """, env={"UNLEASH_CLIENT_TOKEN": CLIENT_TOKEN, "UNLEASH_ADMIN_TOKEN": ADMIN_TOKEN})
    assert any(p.kind == "flags" and p.source == "flags" for p in engine.panels)
    _tick(engine)
    assert engine.sources["flags"].state == "ok", engine.sources["flags"].last_error
    assert _value(engine, "flag.enabled", flag="new-checkout") == 1.0
    assert _value(engine, "flag.exposure", flag="new-checkout") == 1.0
    blue = _value(engine, "flag.variant_exposure", flag="new-checkout", variant="blue")
    green = _value(engine, "flag.variant_exposure", flag="new-checkout", variant="green")
    assert blue + green == pytest.approx(1.0) and 0.35 < blue < 0.65
    assert _value(engine, "flag.enabled", flag="dark-mode") == 0.0
    assert _value(engine, "flag.variant_exposure", flag="dark-mode", variant="disabled") == 1.0
    assert math.isnan(_value(engine, "flag.enabled", flag="no-such-flag"))
    assert any(e.kind == "error" and "no-such-flag" in e.message for e in engine.recent_events)
    assert [(m, p, h["authorization"], h.get("unleash-appname")) for m, p, h, _ in unleash_server.requests] == [
        ("GET", "/api/client/features", CLIENT_TOKEN, "migtui")]

    assert "POST " + url + "/admin/projects/web/features/new-checkout/environments/production/off" in \
        engine.describe_actions("rollback")[0]
    [result] = engine.rollback(who="trigger:checkout_errors", confirmed=True).result(timeout=30)
    assert result.ok, result.message
    method, path, headers, body = unleash_server.requests[-1]
    assert (method, path, headers["authorization"]) == (
        "POST", "/api/admin/projects/web/features/new-checkout/environments/production/off", ADMIN_TOKEN)
    assert len(unleash_server.requests) == 2

    _tick(engine)
    assert _value(engine, "flag.enabled", flag="new-checkout") == 0.0
    assert _value(engine, "flag.variant_exposure", flag="new-checkout", variant="disabled") == 1.0

    engine.store.flush()
    events = engine.store.events(engine.run_id)
    [action] = [e for e in events if e.kind == "action" and e.data.get("stage") == "result"]
    assert action.data["action"] == "checkout-off" and action.data["ok"] is True
    stored = json.dumps([e.as_json() for e in events]) + json.dumps(engine.store.run(engine.run_id), default=str)
    assert CLIENT_TOKEN not in stored and ADMIN_TOKEN not in stored


def test_unleash_garbage_is_a_clear_error(installed: None, unleash_server: FakeServer, make_engine: Any) -> None:
    unleash_server.state["mode"] = "garbage"
    engine = make_engine(f"""
    sources:
      - {{type: unleash_flags, name: flags, url: "{unleash_server.url}/api", token: "{CLIENT_TOKEN}"}}
    """)
    _tick(engine)
    st = engine.sources["flags"]
    assert st.state == "error"
    assert "did not return JSON" in st.last_error and "502 Bad Gateway" in st.last_error
    [event] = [e for e in engine.recent_events if e.kind == "error" and e.subject == "flags"]
    assert event.data["plugin"] == "flags_unleash"
    unleash_server.state["mode"] = "ok"
    _tick(engine)
    assert st.state == "ok"


def test_growthbook_experiment_results_become_samples(installed: None, growthbook_server: FakeServer,
                                                      make_engine: Any) -> None:
    engine = make_engine(f"""
    sources:
      - type: growthbook_experiment
        name: checkout-test
        url: {growthbook_server.url}/api
        token: "${{GB_TOKEN}}"
        experiment: exp_checkout
        variants: {{"0": control, "1": treatment}}
    """, env={"GB_TOKEN": GB_TOKEN})
    assert any(p.kind == "ab" for p in engine.panels)
    _tick(engine)
    assert engine.sources["checkout-test"].state == "ok", engine.sources["checkout-test"].last_error
    assert [(m, p, h["authorization"]) for m, p, h, _ in growthbook_server.requests] == [
        ("GET", "/api/v1/experiments/exp_checkout/results", f"Bearer {GB_TOKEN}")]
    assert _value(engine, "ab.users", variant="control") == 5000
    assert _value(engine, "ab.users", variant="treatment") == 5150
    assert _value(engine, "ab.total_users") == 10150
    assert _value(engine, "ab.conversion_rate", variant="control") == 0.12
    assert _value(engine, "ab.lift", variant="treatment") == -0.12
    assert _value(engine, "ab.p_value", variant="treatment", metric="met_conversion") == 0.003
    assert _value(engine, "ab.chance_to_beat_control", variant="treatment") == 0.02
    assert _value(engine, "ab.srm_p_value") == 0.0004
    assert engine.latest("ab.lift", {"variant": "control"}) == []

    for mode, needle in (("garbage", "did not return JSON"), ("shape", "unexpected answer")):
        growthbook_server.state["mode"] = mode
        _tick(engine)
        st = engine.sources["checkout-test"]
        assert st.state == "error" and needle in st.last_error and "Traceback" not in st.last_error
    engine.store.flush()
    stored = json.dumps([e.as_json() for e in engine.store.events(engine.run_id)])
    assert GB_TOKEN not in stored


def test_growthbook_wrong_key_names_the_problem(installed: None, growthbook_server: FakeServer,
                                                make_engine: Any) -> None:
    engine = make_engine(f"""
    sources:
      - {{type: growthbook_experiment, name: ab, url: "{growthbook_server.url}/api", token: wrong-key-123,
          experiment: exp_checkout}}
    """)
    _tick(engine)
    assert "HTTP 401" in engine.sources["ab"].last_error and "API key was refused" in engine.sources["ab"].last_error


def _json_values() -> Any:
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats() | st.text(max_size=8)
    return st.recursive(scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
        st.sampled_from(["features", "name", "enabled", "strategies", "variants", "weight", "parameters",
                         "rollout", "groupId", "userIds", "constraints", "result", "results", "dimension",
                         "checks", "srm", "totalUsers", "metrics", "metricId", "variations", "variationId",
                         "users", "analyses", "mean", "percentChange", "pValue", "chanceToBeatControl", "x"]),
        kids, max_size=5), max_leaves=30)


def test_decoders_never_crash_on_garbage(installed: None) -> None:
    """Whatever JSON arrives: samples with float values, or one clear SourceError."""
    from hypothesis import HealthCheck, given, settings

    from migtui.errors import SourceError
    from migtui.model import Sample
    from migtui_ab_growthbook.source import GrowthBookExperimentSource
    from migtui_flags_unleash.provider import UnleashProvider

    gb = GrowthBookExperimentSource("ab", {"url": "http://127.0.0.1:9/api", "token": "t", "experiment": "e",
                                           "metric": None, "dimension": "All", "variants": {}, "interval": 60,
                                           "timeout": 1, "title": "A/B"})
    provider = UnleashProvider("http://127.0.0.1:9/api", "t")

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_json_values())
    def check(doc: Any) -> None:
        try:
            out = list(gb.samples(doc, 0.0))
            assert all(isinstance(s, Sample) and isinstance(s.value, float) for s in out)
        except SourceError as exc:
            assert "\n" not in str(exc)
        try:
            names = provider.load(doc)
        except SourceError as exc:
            assert "\n" not in str(exc)
            return
        from openfeature.evaluation_context import EvaluationContext

        for name in names[:3]:
            for key in (None, "u1", "u2"):
                ctx = EvaluationContext(targeting_key=key) if key else None
                assert isinstance(provider.resolve_boolean_details(name, False, ctx).value, bool)
                assert isinstance(provider.resolve_string_details(name, "disabled", ctx).value, str)

    check()
    # and the shapes the real services send still decode
    assert {s.metric for s in gb.samples(GB_RESULTS, 0.0)} >= {"ab.users", "ab.lift", "ab.p_value", "ab.srm_p_value"}
