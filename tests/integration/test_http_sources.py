"""API / code migration sources (prometheus, openmetrics, http_probe) against real HTTP servers on
127.0.0.1, built from config files through the plugin host the way the engine builds them."""

from __future__ import annotations

import base64
import json
import math
import socket
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migtui.api import BuildContext, CollectContext
from migtui.config import load_config
from migtui.errors import ConfigError, SourceError
from migtui.model import Phase, Sample, TableSnapshot
from migtui.plugins import PluginHost
from migtui.redact import redact
from migtui_http.increases import histogram_quantile
from migtui_http.prometheus import PromResponseError, decode_query_response
from migtui_http.selectors import parse_selector
from migtui_http.textformat import TextFormatError, parse
from tests.servers.httpbase import Response
from tests.servers.metrics_endpoint import MetricsEndpoint, ProbeTargets, ServiceMetrics
from tests.servers.prometheus import FakePrometheus, error, matrix, scalar, vector

ERROR_RATE_Q = 'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))'
P95_Q = "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) * 1000"


@pytest.fixture(scope="module")
def host() -> PluginHost:
    return PluginHost()


def build(host: PluginHost, tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[Any]:
    path = tmp_path / "migtui.yaml"
    path.write_text(textwrap.dedent(text))
    cfg = load_config(path, env=env)
    return [host.build("source", item, BuildContext(config=cfg, item=item)) for item in cfg["sources"]]


def tick(now: float, n: int = 1) -> CollectContext:
    return CollectContext(now=now, phase=Phase.MIGRATION, run="run-1", tick=n)


def values(samples: list[Any], metric: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {tuple(sorted(s.labels.items())): s.value for s in samples if isinstance(s, Sample) and s.metric == metric}


def one(samples: list[Any], metric: str) -> float:
    found = values(samples, metric)
    assert len(found) == 1, f"{metric}: {found}"
    return next(iter(found.values()))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- prometheus


@pytest.fixture
def prom():
    with FakePrometheus() as srv:
        yield srv


def prom_config(url: str, extra: str = "") -> str:
    return f"""
        sources:
          - type: prometheus
            name: prom
            url: {url}
{extra}
            queries:
              error_rate: '{ERROR_RATE_Q}'
              response_time_p95: {{query: '{P95_Q}', unit: ms, warn: 1000, critical: 2000}}
              saturation: 'max(container_cpu_usage)'
        """


def test_prometheus_vectors_scalars_empty_nan_and_inf(host, prom, tmp_path):
    prom.set(ERROR_RATE_Q, vector([({"__name__": "x", "service": "checkout-v1"}, "0.02"),
                                   ({"service": "checkout-v2"}, "0.07")]))
    prom.set(P95_Q, scalar("NaN"))
    prom.set("max(container_cpu_usage)", vector([]))
    (src,) = build(host, tmp_path, prom_config(prom.url))
    out = list(src.collect(tick(1000.0)))
    assert values(out, "error_rate") == {(("service", "checkout-v1"),): 0.02, (("service", "checkout-v2"),): 0.07}
    assert math.isnan(one(out, "response_time_p95"))
    assert values(out, "saturation") == {}  # empty result: no sample, the trigger's no-data policy decides
    assert {s.source for s in out} == {"prom"} and {s.ts for s in out} == {1000.0}
    # the exact PromQL reached the server as an instant query
    assert sorted(prom.queries()) == sorted([ERROR_RATE_Q, P95_Q, "max(container_cpu_usage)"])

    prom.set(P95_Q, vector([({}, "+Inf")]))
    prom.set(ERROR_RATE_Q, vector([({}, "-Inf")]))
    out = list(src.collect(tick(1005.0)))
    assert one(out, "response_time_p95") == math.inf
    assert one(out, "error_rate") == -math.inf
    (panel,) = src.panels()
    assert panel.kind == "api"
    spec = {m.metric: m for m in panel.metrics}
    assert spec["response_time_p95"].unit == "ms" and spec["response_time_p95"].critical == 2000
    src.close()


def test_prometheus_bearer_token_from_the_environment_is_sent_and_redacted(host, prom, tmp_path):
    token = "s3cr3t-prom-token-1234"
    prom.set(ERROR_RATE_Q, vector([({}, "0.01")]))
    (src,) = build(host, tmp_path, prom_config(prom.url, "            bearer_token: ${PROM_TOKEN}"),
                   env={"PROM_TOKEN": token})
    list(src.collect(tick(1.0)))
    assert {r.headers.get("authorization") for r in prom.requests} == {f"Bearer {token}"}
    assert token not in redact(f"request failed with Authorization: Bearer {token} ({token})")
    src.close()


def test_prometheus_basic_auth(host, prom, tmp_path):
    prom.set(ERROR_RATE_Q, vector([({}, "0.01")]))
    extra = "            username: grafana\n            password: ${PROM_PASSWORD}"
    (src,) = build(host, tmp_path, prom_config(prom.url, extra), env={"PROM_PASSWORD": "hunter2-long"})
    list(src.collect(tick(1.0)))
    want = "Basic " + base64.b64encode(b"grafana:hunter2-long").decode()
    assert {r.headers.get("authorization") for r in prom.requests} == {want}
    assert "hunter2-long" not in redact("password hunter2-long leaked")


def test_prometheus_errors_are_one_clear_line(host, prom, tmp_path):
    (src,) = build(host, tmp_path, f"""
        sources:
          - type: prometheus
            url: {prom.url}
            queries: {{error_rate: 'sum(rate(x[5m]'}}
        """)
    prom.set("sum(rate(x[5m]", error("bad_data", 'invalid parameter "query": 1:14: parse error: unclosed left '
                                                  'parenthesis'), status=400)
    with pytest.raises(SourceError) as err:
        list(src.collect(tick(1.0)))
    msg = str(err.value)
    assert "'error_rate'" in msg and "bad_data" in msg and "unclosed left parenthesis" in msg and "\n" not in msg

    prom.set("sum(rate(x[5m]", b"<html><body>502 Bad Gateway</body></html>", status=502, content_type="text/html")
    with pytest.raises(SourceError, match="'error_rate': HTTP 502 from http://127.0.0.1:.*502 Bad Gateway"):
        list(src.collect(tick(2.0)))
    prom.set("sum(rate(x[5m]", b'{"status":"success","data":', status=200)
    with pytest.raises(SourceError, match="'error_rate': response is not JSON"):
        list(src.collect(tick(2.5)))

    prom.set("sum(rate(x[5m]", matrix({"job": "api"}, ["1", "2"]))
    with pytest.raises(SourceError, match="range vector"):
        list(src.collect(tick(3.0)))

    (dead,) = build(host, tmp_path, f"""
        sources:
          - {{type: prometheus, url: "http://127.0.0.1:{free_port()}", timeout: 2s, queries: {{up: up}}}}
        """)
    with pytest.raises(SourceError, match="cannot reach"):
        list(dead.collect(tick(1.0)))


def test_prometheus_one_failing_query_keeps_the_others(host, prom, tmp_path):
    prom.set(ERROR_RATE_Q, vector([({}, "0.03")]))
    prom.set(P95_Q, error("execution", "query timed out in expression evaluation"), status=503)
    (src,) = build(host, tmp_path, prom_config(prom.url))
    out = list(src.collect(tick(1.0)))
    assert one(out, "error_rate") == 0.03
    assert one(out, "prometheus.query_errors") == 1.0
    assert "query timed out" in src.last_errors[0]


def test_prometheus_config_errors_name_file_line_and_key(host, tmp_path):
    with pytest.raises(ConfigError) as err:
        build(host, tmp_path, """
            sources:
              - type: prometheus
                name: prom
                queries: {error_rate: 'up'}
            """)
    assert "migtui.yaml:3" in str(err.value) and "sources[0].url: is required" in str(err.value)
    with pytest.raises(ConfigError) as err:
        build(host, tmp_path, """
            sources:
              - type: prometheus
                url: prometheus:9090
                queries: {error_rate: 'up'}
            """)
    assert "migtui.yaml:4" in str(err.value) and "http://" in str(err.value)
    with pytest.raises(ConfigError) as err:
        build(host, tmp_path, """
            sources:
              - type: openmetrics
                url: http://127.0.0.1:1/metrics
                bearer_token: abcdefgh
                username: me
            """)
    assert "migtui.yaml:6: sources[0].username: use bearer_token or username/password, not both" in str(err.value)


# --------------------------------------------------------------------------- openmetrics


@pytest.fixture
def service():
    with MetricsEndpoint() as srv:
        yield srv


def om_config(url: str, extra: str = "") -> str:
    return f"""
        sources:
          - type: openmetrics
            name: api
            url: {url}/metrics
            error_rate: {{errors: 'http_requests_total{{code=~"5.."}}', total: http_requests_total}}
            latency_histogram: http_request_duration_seconds
            latency_unit: ms
            throughput: http_requests_total
            gauges: {{in_flight: http_in_flight}}
            rates: {{requests_per_second: http_requests}}   # the OpenMetrics family name of the counter
{extra}
        """


def test_openmetrics_counters_become_rates_and_histograms_quantiles(host, service, tmp_path):
    m = service.metrics
    m.observe(0.03, n=1000)  # history before migtui started: must not count
    m.in_flight = 7
    (src,) = build(host, tmp_path, om_config(service.url))
    first = list(src.collect(tick(1000.0)))
    assert values(first, "error_rate") == {} and values(first, "response_time_p95") == {}  # needs two scrapes
    assert one(first, "in_flight") == 7.0

    m.observe(0.08, n=88)                # 88 fast and fine
    m.observe(0.08, n=2, error=True)     # 2 fast errors: the 500 series is born now
    m.observe(0.4, n=7)                  # 7 slow
    m.observe(0.4, n=3, error=True)      # 3 slow errors
    out = list(src.collect(tick(1010.0)))
    assert one(out, "error_rate") == pytest.approx(5 / 100)
    assert one(out, "throughput") == pytest.approx(100 / 10)
    assert one(out, "requests_per_second") == pytest.approx(100 / 10)
    # bucket deltas: le=0.1 -> 90, le=0.25 -> 90, le=0.5 -> 100 (histogram_quantile's interpolation)
    assert one(out, "response_time_p50") == pytest.approx((0.05 + 0.05 * 50 / 90) * 1000)
    assert one(out, "response_time_p95") == pytest.approx((0.25 + 0.25 * 5 / 10) * 1000)
    assert one(out, "response_time_p99") == pytest.approx((0.25 + 0.25 * 9 / 10) * 1000)

    # the service restarts: its counters start again from zero
    service.metrics = ServiceMetrics()
    service.metrics.observe(0.2, n=18)
    service.metrics.observe(0.2, n=2, error=True)
    out = list(src.collect(tick(1020.0)))
    assert one(out, "error_rate") == pytest.approx(2 / 20)
    assert one(out, "throughput") == pytest.approx(20 / 10)
    assert one(out, "response_time_p95") == pytest.approx((0.1 + 0.15 * (19 - 0) / 20) * 1000)

    # no traffic at all: ratio and quantiles are undefined (NaN), as in Prometheus
    out = list(src.collect(tick(1030.0)))
    assert math.isnan(one(out, "error_rate")) and math.isnan(one(out, "response_time_p95"))
    assert one(out, "throughput") == 0.0
    names = {m.metric for m in src.panels()[0].metrics}
    assert {"error_rate", "response_time_p95", "throughput", "in_flight"} <= names


def test_openmetrics_plain_prometheus_text_auto_detection_and_raw_metrics(host, tmp_path):
    with MetricsEndpoint(openmetrics=False) as service:
        service.metrics.observe(0.03, n=10)
        (src,) = build(host, tmp_path, f"""
            sources:
              - type: openmetrics
                url: {service.url}/metrics
                include: ['http_requests*', 'http_in_flight', 'http_request_duration_seconds']
            """)
        list(src.collect(tick(100.0)))
        service.metrics.observe(0.03, n=36)
        service.metrics.observe(2.0, n=4, error=True)
        service.metrics.in_flight = 3
        out = list(src.collect(tick(104.0)))
    # nothing configured: http_requests_total{code} and http_request_duration_seconds are recognised
    assert one(out, "error_rate") == pytest.approx(0.1)
    assert one(out, "throughput") == pytest.approx(10.0)
    assert one(out, "response_time_p95") == pytest.approx((1.0 + 1.5 * (38 - 36) / 4) * 1000)
    assert values(out, "om.http_requests_total.rate") == {
        (("code", "200"), ("path", "/checkout")): pytest.approx(9.0),
        (("code", "500"), ("path", "/checkout")): pytest.approx(1.0)}
    assert one(out, "om.http_in_flight") == 3.0
    assert one(out, "om.http_request_duration_seconds.p95") == pytest.approx(1.0 + 1.5 * 2 / 4)


def test_openmetrics_series_that_vanish_for_a_scrape_are_not_counted_twice(host, service, tmp_path):
    def text(ok: int, errors: int | None) -> Response:
        lines = ["# TYPE http_requests_total counter", f'http_requests_total{{code="200"}} {ok}']
        if errors is not None:
            lines.append(f'http_requests_total{{code="500"}} {errors}')
        return Response(200, "\n".join(lines) + "\n", "text/plain; version=0.0.4")

    (src,) = build(host, tmp_path, om_config(service.url))
    service.override = text(1000, 50)
    list(src.collect(tick(0.0)))
    service.override = text(1090, None)         # the exporter left the 500 series out once
    out = list(src.collect(tick(10.0)))
    assert one(out, "error_rate") == 0.0
    service.override = text(1180, 60)           # back, 10 more errors: not 60
    out = list(src.collect(tick(20.0)))
    assert one(out, "error_rate") == pytest.approx(10 / 100)


def test_openmetrics_bad_endpoint_text_names_the_line(host, service, tmp_path):
    (src,) = build(host, tmp_path, om_config(service.url))
    service.override = Response(200, "# TYPE x counter\nx_total{a=\"1\" 3\n", "text/plain")
    with pytest.raises(SourceError) as err:
        list(src.collect(tick(1.0)))
    assert "line 2" in str(err.value) and str(service.url) in str(err.value)
    service.override = Response(500, "internal error")
    with pytest.raises(SourceError, match="HTTP 500"):
        list(src.collect(tick(2.0)))


def test_text_format_parser_details():
    expo = parse(textwrap.dedent('''\
        # HELP http_requests Requests.
        # TYPE http_requests counter
        http_requests_total{path="/a\\\\b\\"c\\nd",code="200",} 1027 1395066363000
        http_requests_created{path="x"} 1.7e9
        # TYPE rpc summary
        rpc{quantile="0.5"} 4.2
        rpc_sum 1.5e+3
        rpc_count 2
        {"service.latency", "le"="0.1"} -Inf
        go_info{version="go1.22"} 1 # {trace_id="abc"} 1.0 1700000000
        nan_gauge NaN
        # EOF
        '''))
    s = expo.samples[0]
    assert s.name == "http_requests_total" and dict(s.labels) == {"path": '/a\\b"c\nd', "code": "200"}
    assert s.value == 1027 and s.timestamp == 1395066363000
    assert expo.type_of("http_requests_total") == "counter" and expo.type_of("rpc_sum") == "summary"
    assert expo.samples[5].name == "service.latency" and expo.samples[5].value == -math.inf
    assert math.isnan(expo.samples[-1].value) and expo.eof
    for bad, where in [("x 1\n# EOF\ny 2\n", "line 3"), ('x{a="1",a="2"} 1', "duplicate label"),
                       ("x{a=1} 1", 'expected "'), ("x 1_000", "invalid number"), ("# TYPE x countr", "unknown"),
                       ("9x 1", "metric name"), ("x", "value")]:
        with pytest.raises(TextFormatError, match=where):
            parse(bad)
    sel = parse_selector('http_requests_total{code=~"5..", path!="/health"}')
    assert str(sel) == 'http_requests_total{code=~"5..",path!="/health"}'


# --------------------------------------------------------------------------- http_probe


def test_http_probe_compares_old_and_new_endpoints(host, tmp_path):
    with ProbeTargets({"/v1/health": Response(200, '{"status":"ok","version":"1"}', "application/json"),
                       "/v2/health": Response(503, '{"status":"degraded"}', "application/json"),
                       "/v2/home": Response(200, "<html>checkout v2 maintenance</html>", "text/html")}) as t:
        (src,) = build(host, tmp_path, f"""
            sources:
              - type: http_probe
                name: probes
                probes:
                  old: {{url: "{t.url}/v1/health", body_contains: '"status":"ok"'}}
                  new: {{url: "{t.url}/v2/health", body_contains: '"status":"ok"'}}
                  home: {{url: "{t.url}/v2/home", body_regex: 'checkout v\\d+ (?!maintenance)'}}
                  moved: "{t.url}/nowhere"
                  down: {{url: "http://127.0.0.1:{free_port()}/health", expect_status: [200, 204]}}
            """)
        out = list(src.collect(tick(50.0)))
    up = {dict(k)["probe"]: v for k, v in values(out, "probe.up").items()}
    status = {dict(k)["probe"]: v for k, v in values(out, "probe.status").items()}
    latency = {dict(k)["probe"]: v for k, v in values(out, "probe.latency_ms").items()}
    body = {dict(k)["probe"]: v for k, v in values(out, "probe.body_ok").items()}
    assert up == {"old": 1.0, "new": 0.0, "home": 0.0, "moved": 0.0, "down": 0.0}
    assert status == {"old": 200.0, "new": 503.0, "home": 200.0, "moved": 404.0, "down": 0.0}
    assert body == {"old": 1.0, "new": 0.0, "home": 0.0}
    assert all(latency[p] >= 0 for p in ("old", "new", "home", "moved")) and math.isnan(latency["down"])
    (table,) = [x for x in out if isinstance(x, TableSnapshot)]
    rows = {r["probe"]: r for r in table.as_dicts()}
    assert rows["new"]["state"] == "DOWN" and "HTTP 503, expected 200" in rows["new"]["problem"]
    assert "cannot reach" in rows["down"]["problem"] and rows["old"]["problem"] == ""
    assert "body does not match" in rows["home"]["problem"]


# --------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300),
                 st.lists(st.sampled_from(["# TYPE a counter", "# HELP a x", "a_total 1", 'a{b="c"} 2', "# EOF",
                                           'a{b="\\"} 1', "a NaN 5", "{\"x\"} 1", "# {a=\"b\"} 1", "", "a +Inf",
                                           'h_bucket{le="+Inf"} 3', "a 1 # {} 1"]), max_size=12)
                 .map("\n".join)))
def test_text_parser_never_crashes(text):
    try:
        expo = parse(text)
    except TextFormatError as exc:
        assert "\n" not in str(exc).strip() or "line" in str(exc)
        return
    for s in expo.samples:
        assert isinstance(s.value, float) and isinstance(s.name, str)


_label_values = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=12)
_names = st.from_regex(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,15}", fullmatch=True)
_label_names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,10}", fullmatch=True)
_floats = st.floats(allow_nan=True, allow_infinity=True)


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _fmt(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_names, st.dictionaries(_label_names, _label_values, max_size=4), _floats),
                min_size=1, max_size=8))
def test_text_parser_round_trips_what_a_client_library_writes(series):
    lines = []
    for name, labels, value in series:
        lbl = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
        lines.append(f"{name}{{{lbl}}} {_fmt(value)}" if labels else f"{name} {_fmt(value)}")
    expo = parse("\n".join(lines) + "\n# EOF\n")
    assert len(expo.samples) == len(series)
    for got, (name, labels, value) in zip(expo.samples, series):
        assert got.name == name and dict(got.labels) == labels
        assert (math.isnan(got.value) and math.isnan(value)) or got.value == value


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                     max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200), _json.map(json.dumps),
                 st.fixed_dictionaries({"status": st.sampled_from(["success", "error", 1]),
                                        "data": st.fixed_dictionaries({"resultType": st.sampled_from(
                                            ["vector", "scalar", "matrix", "string", None]), "result": _json})})
                 .map(json.dumps),
                 st.just("[" * 100_000)))
def test_prometheus_decoder_gives_points_or_one_clear_error(body):
    try:
        points = decode_query_response(body, query="q")
    except PromResponseError as exc:
        assert str(exc).startswith("prometheus query 'q'")
        return
    for p in points:
        assert isinstance(p.value, float) and all(isinstance(v, str) for v in p.labels.values())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.dictionaries(_label_names, st.text(max_size=6), max_size=3), _floats), max_size=5))
def test_prometheus_decoder_round_trips_vectors(series):
    doc = {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": labels, "value": [1700000000.5, _fmt(v)]} for labels, v in series]}}
    points = decode_query_response(json.dumps(doc).encode())
    assert len(points) == len(series)
    for p, (labels, v) in zip(points, series):
        assert p.labels == {k: x for k, x in labels.items() if k != "__name__"}
        assert (math.isnan(p.value) and math.isnan(v)) or p.value == v


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.floats(min_value=0.001, max_value=100), st.integers(0, 1000)), min_size=1, max_size=8,
                unique_by=lambda b: b[0]),
       st.integers(0, 1000), st.floats(0, 1))
def test_histogram_quantile_stays_within_the_buckets(finite, inf_count, q):
    counts = sorted(c for _, c in finite)
    buckets = [(ub, c) for (ub, _), c in zip(sorted(finite), counts)]
    buckets.append((math.inf, max(inf_count, counts[-1])))
    value = histogram_quantile(q, buckets)
    if buckets[-1][1] == 0:
        assert math.isnan(value)
    else:
        assert 0.0 <= value <= buckets[-2][0]
        assert histogram_quantile(min(1.0, q + 0.1), buckets) >= value


# --------------------------------------------------------------------------- the sample config


def test_sample_api_config_builds_and_collects(host, prom, service, monkeypatch):
    root = Path(__file__).resolve().parents[2]
    with ProbeTargets({"/healthz": Response(200, "ok"), "/": Response(200, "<title>Shop</title>")}) as targets:
        env = {"PROMETHEUS_URL": prom.url, "PROMETHEUS_TOKEN": "sample-token-xyz",
               "CHECKOUT_METRICS_URL": f"{service.url}/metrics", "OLD_URL": targets.url, "NEW_URL": targets.url}
        cfg = load_config(root / "sample_configs" / "api.yaml", env=env)
        built = {item.name: host.build("source", item, BuildContext(config=cfg, item=item))
                 for item in cfg["sources"]}
        assert set(built) == {"prom", "checkout", "probes"}
        prom_q = cfg["sources"][0].options["queries"]["error_rate"]["query"]
        prom.set(prom_q, vector([({}, "0.01")]))
        out = list(built["prom"].collect(tick(10.0)))
        assert one(out, "error_rate") == 0.01
        assert {r.headers.get("authorization") for r in prom.requests} == {"Bearer sample-token-xyz"}
        list(built["checkout"].collect(tick(10.0)))
        service.metrics.observe(0.1, n=10)
        out = list(built["checkout"].collect(tick(20.0)))
        assert one(out, "error_rate") == 0.0 and one(out, "throughput") == 1.0
        out = list(built["probes"].collect(tick(10.0)))
        assert set(values(out, "probe.up").values()) == {1.0}
        for src in built.values():
            assert src.panels() and src.interval > 0 and src.timeout > 0
            src.close()
