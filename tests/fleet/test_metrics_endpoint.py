"""GET /metrics of a real watch, parsed with prometheus-client's own OpenMetrics parser."""

from __future__ import annotations

from typing import Any

from prometheus_client.openmetrics.parser import text_string_to_metric_families

from migtui.http.metrics import label_name, metric_name, threshold_value
from tests.conftest import wait_until
from tests.fleet.conftest import LiveWatch


def scrape(watch: LiveWatch) -> dict[str, Any]:
    code, body, headers = watch.get("/metrics")
    assert code == 200 and headers["Content-Type"].startswith("application/openmetrics-text; version=1.0.0")
    return {f.name: f for f in text_string_to_metric_families(body)}


def samples(families: dict[str, Any], name: str) -> list[Any]:
    fam = families.get(name)
    return list(fam.samples) if fam is not None else []


def test_metrics_of_a_live_watch_parse_as_openmetrics(live_watch: LiveWatch) -> None:
    def busy() -> Any:
        live_watch.endpoint.metrics.observe(0.08, n=500)  # the service keeps serving
        f = scrape(live_watch)
        values = {s.labels["trigger"]: s.value for s in samples(f, "migtui_trigger_value")}
        return f if values.get("busy", 0) > 1 else None

    families = wait_until(busy, "the watch's throughput and the busy trigger's value on /metrics")
    run = samples(families, "migtui_phase")[0].labels["run"]
    assert families["migtui_throughput"].type == "gauge"
    (thr,) = samples(families, "migtui_throughput")
    assert thr.value > 1 and thr.labels == {"source": "api", "database": "orders-db", "run": run}

    phases = {s.labels["phase"]: s.value for s in samples(families, "migtui_phase")}
    assert phases == {"baseline": 1.0, "migration": 0.0, "post": 0.0}
    assert samples(families, "migtui_paused")[0].value == 0.0
    assert samples(families, "migtui_throttled")[0].value == 0.0

    states = {s.labels["trigger"]: (s.labels["action"], s.value) for s in samples(families, "migtui_trigger_state")}
    assert states["slow-api"] == ("warn", 0.0)
    assert states["busy"] == ("pause", 2.0)  # firing: throughput > 1
    thresholds = {s.labels["trigger"]: s.value for s in samples(families, "migtui_trigger_threshold")}
    assert thresholds == {"slow-api": 5000.0, "busy": 1.0}

    up = {s.labels["source"]: s.value for s in samples(families, "migtui_source_up")}
    assert up["api"] == 1.0
    assert samples(families, "migtui_source_poll_duration_seconds")[0].value >= 0
    assert families["migtui_source_poll_errors"].type == "counter"


def test_a_source_that_goes_down_shows_in_health_and_its_series_go_stale(live_watch: LiveWatch) -> None:
    wait_until(lambda: samples(scrape(live_watch), "migtui_throughput"), "the series")
    from tests.servers.httpbase import Response

    live_watch.endpoint.override = Response(503, "down")

    def down() -> Any:
        f = scrape(live_watch)
        errors = [s.value for s in samples(f, "migtui_source_poll_errors") if s.name.endswith("_total")]
        return f if errors and errors[0] >= 1 and samples(f, "migtui_source_up")[0].value == 0 else None

    families = wait_until(down, "the source's failures on /metrics")
    assert not samples(families, "migtui_throughput")


def test_names_labels_and_thresholds() -> None:
    assert metric_name("pg.locks.waiting") == "migtui_pg_locks_waiting"
    assert metric_name("latency p95 (ms)") == "migtui_latency_p95_ms"
    assert label_name("source") == "exported_source" and label_name("__name__") == "name"
    assert label_name("9lives") == "_9lives" and label_name("pod-name") == "pod_name"
    assert threshold_value("> 5") == 5.0 and threshold_value("< 0.25") == 0.25
    assert threshold_value("> 1.5x baseline p95") is None
