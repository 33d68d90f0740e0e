"""Bundled migtui plugin: API / code migration sources over HTTP.

Source types:

``prometheus``
    named PromQL instant queries against a Prometheus HTTP API (``error_rate``, ``response_time_p95``...).
``openmetrics``
    scrape a Prometheus/OpenMetrics text endpoint: counters -> rates, histograms -> p50/p95/p99.
``http_probe``
    status, latency and body check of chosen URLs (``probe.up``, ``probe.status``, ``probe.latency_ms``).

Submodules (and httpx) are imported only when a source of that type is built, so loading the
plugin stays cheap for ``migtui --help``.
"""

from __future__ import annotations

from typing import Any

from migtui.api import hookimpl

__version__ = "0.1.0"


def _lazy(module: str) -> Any:
    def factory(ctx: Any) -> Any:
        import importlib

        return importlib.import_module(f"migtui_http.{module}").factory(ctx)

    return factory


def _schema(module: str) -> Any:
    def schema() -> Any:
        import importlib

        return importlib.import_module(f"migtui_http.{module}").SCHEMA

    return schema


@hookimpl
def migtui_source_types(register: Any) -> None:
    register("prometheus", _lazy("prometheus"), schema=_schema("prometheus"),
             doc="Prometheus HTTP API: named PromQL instant queries become metrics (error_rate, response_time_p95).")
    register("openmetrics", _lazy("openmetrics"), schema=_schema("openmetrics"),
             doc="Prometheus/OpenMetrics text endpoint: counters -> rates, histograms -> p50/p95/p99, "
                 "error_rate / response_time_p* / throughput for plain services.")
    register("http_probe", _lazy("probe"), schema=_schema("probe"),
             doc="HTTP probes: probe.up, probe.status, probe.latency_ms, probe.body_ok per URL (label probe).")
