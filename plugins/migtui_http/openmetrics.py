"""``openmetrics`` source: scrape a Prometheus / OpenMetrics text endpoint without a Prometheus server.

Between two scrapes, counters become per-second rates (a counter that went down was reset: its new
value is the increase, as Prometheus' ``rate`` does), histograms become the p50/p95/p99 of the
observations made in that interval (bucket deltas, linear interpolation inside the bucket like
``histogram_quantile``: :mod:`migtui_http.increases`), gauges pass through. A series that first appears after the first scrape is
counted from zero (error counters are often created by the first error).

Friendly metrics for the seed triggers:

``error_rate: {errors: <selector>, total: <selector>}``
    emits ``error_rate`` = increase(errors) / increase(total) over the interval (NaN without traffic).
``latency_histogram: <histogram name or selector>``
    emits ``response_time_p50``, ``response_time_p95``, ``response_time_p99`` in ``latency_unit``
    (default ms; the histogram is taken to be in ``histogram_unit``, default seconds).
``throughput: <selector>``
    emits ``throughput``: requests per second (sum of the counter's rate).
``gauges: {friendly_name: <selector>}`` / ``rates: {friendly_name: <selector>}``
    any gauge (summed) or counter rate under a name of your choice.
``auto: true`` (default)
    without ``error_rate`` / ``latency_histogram`` / ``throughput`` options, the common conventions
    are recognised: request counters ``http_requests_total``, ``http_server_requests_seconds_count``
    (Spring) or ``http_server_request_duration_seconds_count`` (OpenTelemetry), whose 5xx series
    (label ``code``, ``status``, ``status_code``, ``http_status_code`` or
    ``http_response_status_code``) are the errors, and the histograms
    ``http_request_duration_seconds``, ``http_server_request_duration_seconds`` or
    ``http_server_requests_seconds``.
``include: [glob, ...]``
    also emits every matching scraped family as ``om.<name>`` (gauges, untyped, info, stateset,
    and a summary's own quantiles), ``om.<name>.rate`` (counters and a summary's ``_count`` /
    ``_sum``, per second) and ``om.<name>.p50|p95|p99`` (histograms, in the histogram's unit),
    with the series' labels.
"""

from __future__ import annotations

import fnmatch
import math
from typing import Any, Iterable

from migtui.api import (BuildContext, CollectContext, Field, MetricSpec, PanelSpec, Sample, Schema, SourceError,
                        TableSnapshot, error_at, validate)

from migtui_http.common import check_auth, MAX_BYTES, _interp, common_fields, fetch, make_client, url_field
from migtui_http.increases import Prev, Scrape, histogram_buckets, histogram_quantile, increase, sum_increase
from migtui_http.selectors import Selector, parse_selector
from migtui_http.textformat import Exposition, TextFormatError, parse

QUANTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
_UNIT_FACTOR = {"s": 1.0, "ms": 1000.0, "us": 1_000_000.0}

ACCEPT = ("application/openmetrics-text;version=1.0.0;q=0.9,"
          "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


# --------------------------------------------------------------------------- options


def _selector(value: Any, parent: Any, key: Any, path: str) -> Selector:
    if not isinstance(value, str):
        raise error_at(parent, key, path, 'expected a metric selector like http_requests_total{code=~"5.."}')
    try:
        return parse_selector(value)
    except ValueError as exc:
        raise error_at(parent, key, path, str(exc)) from None


def _selector_map(value: Any, parent: Any, key: Any, path: str) -> dict[str, Selector]:
    if not isinstance(value, dict):
        raise error_at(parent, key, path, "expected a mapping of metric name -> selector")
    return {str(k): _selector(_interp(v, value, k, f"{path}.{k}"), value, k, f"{path}.{k}") for k, v in value.items()}


ERROR_RATE = Schema({
    "errors": Field(_selector, required=True, doc="Counter of failed requests (selector)."),
    "total": Field(_selector, required=True, doc="Counter of all requests (selector)."),
    "warn": Field("number", default=0.05, doc="Panel warning line."),
    "critical": Field("number", default=0.1, doc="Panel critical line."),
})

SCHEMA = Schema({
    **common_fields(),
    "url": url_field("The metrics endpoint, e.g. http://checkout:8080/metrics."),
    "error_rate": Field(ERROR_RATE, doc="Emit error_rate = increase(errors) / increase(total)."),
    "latency_histogram": Field(_selector, doc="Histogram of request durations -> response_time_p50/p95/p99."),
    "histogram_unit": Field("str", default="s", choices=tuple(_UNIT_FACTOR), doc="Unit of the histogram's buckets."),
    "latency_unit": Field("str", default="ms", choices=tuple(_UNIT_FACTOR), doc="Unit of response_time_*."),
    "latency_warn": Field("number", doc="Panel warning line for response_time_p95."),
    "latency_critical": Field("number", doc="Panel critical line for response_time_p95."),
    "throughput": Field(_selector, doc="Request counter -> throughput (req/s)."),
    "rates": Field(_selector_map, default=dict, doc="name -> counter selector, emitted as a per-second rate."),
    "gauges": Field(_selector_map, default=dict, doc="name -> gauge selector, emitted summed."),
    "include": Field("list", items="str", default=list,
                     doc="Glob patterns of families also emitted raw as om.<name>[.rate|.p95]."),
    "auto": Field("bool", default=True, doc="Recognise common request counters and latency histograms."),
    "prefix": Field("str", default="om.", doc="Prefix of the raw metrics selected by include."),
    "max_bytes": Field("int", default=MAX_BYTES, minimum=1024, doc="Largest response accepted."),
}, doc="Prometheus/OpenMetrics text endpoint scraper.")


# --------------------------------------------------------------------------- the source


class OpenMetricsSource:
    def __init__(self, ctx: BuildContext) -> None:
        self.opts = validate(SCHEMA, ctx.options, ctx.path)
        check_auth(self.opts, ctx.options, ctx.path)
        self.name = ctx.name
        self.interval = float(self.opts["interval"])
        self.timeout = float(self.opts["timeout"]) + 1.0
        self.url = self.opts["url"]
        self._client: Any = None
        self._prev: Prev | None = None
        self._factor = _UNIT_FACTOR[self.opts["latency_unit"]] / _UNIT_FACTOR[self.opts["histogram_unit"]]

    def _http(self) -> Any:
        if self._client is None:
            self._client = make_client(self.opts)
        return self._client

    def scrape(self) -> Exposition:
        _, body, _ = fetch(self._http(), "GET", self.url, what=f"openmetrics {self.name}",
                           max_bytes=int(self.opts["max_bytes"]), headers={"Accept": ACCEPT})
        try:
            return parse(body)
        except TextFormatError as exc:
            raise SourceError(f"openmetrics {self.name}: {self.url}: {exc}") from None

    def collect(self, ctx: CollectContext) -> Iterable[Sample | TableSnapshot]:
        cur = Scrape(ctx.now, self.scrape())
        prev = self._prev
        self._prev = prev.advance(cur) if prev is not None else Prev(cur.t, dict(cur.values))
        out: list[Sample | TableSnapshot] = []
        if prev is None or cur.t <= prev.t:
            # First scrape (or the clock went back): gauges only; rates need two scrapes.
            out.extend(self._gauges(cur, ctx.now))
            return out
        dt = cur.t - prev.t

        def emit(metric: str, value: float, labels: dict[str, str] | None = None) -> None:
            out.append(Sample(ts=ctx.now, source=self.name, metric=metric, value=value, labels=labels or {}))

        auto = _auto(cur.expo) if self.opts["auto"] else {}
        er = self.opts.get("error_rate") or auto.get("error_rate")
        if er:
            errors = sum_increase(er["errors"], cur, prev)
            total = sum_increase(er["total"], cur, prev)
            if total is not None:
                emit("error_rate", (errors or 0.0) / total if total > 0 else math.nan)
        tp = self.opts.get("throughput") or auto.get("throughput")
        if tp is not None:
            inc = sum_increase(tp, cur, prev)
            if inc is not None:
                emit("throughput", inc / dt)
        for metric, sel in self.opts["rates"].items():
            inc = sum_increase(sel, cur, prev)
            if inc is not None:
                emit(metric, inc / dt)
        hist = self.opts.get("latency_histogram") or auto.get("latency_histogram")
        if hist is not None:
            base = hist.name[: -len("_bucket")] if hist.name.endswith("_bucket") else hist.name
            groups = histogram_buckets(base, cur, prev, hist, group_by_labels=False)
            for buckets in groups.values():
                for suffix, q in QUANTILES:
                    emit(f"response_time_{suffix}", histogram_quantile(q, buckets) * self._factor)
        out.extend(self._gauges(cur, ctx.now))
        out.extend(self._raw(cur, prev, dt, ctx.now))
        return out

    def _gauges(self, cur: Scrape, now: float) -> list[Sample]:
        out = []
        for metric, sel in self.opts["gauges"].items():
            vals = [s.value for s in cur.expo.samples if sel.matches(s)]
            if vals:
                out.append(Sample(ts=now, source=self.name, metric=metric, value=float(sum(vals))))
        return out

    def _raw(self, cur: Scrape, prev: Prev, dt: float, now: float) -> list[Sample]:
        patterns = self.opts["include"]
        if not patterns:
            return []
        prefix = self.opts["prefix"]
        out: list[Sample] = []
        done_hist: set[str] = set()
        for s in cur.expo.samples:
            family, typ = cur.expo.family_of(s.name)
            if not any(fnmatch.fnmatchcase(family, p) or fnmatch.fnmatchcase(s.name, p) for p in patterns):
                continue
            labels = dict(s.labels)
            if typ in ("gauge", "untyped", "unknown", "stateset", "info") and (s.name == family or typ == "info"):
                out.append(Sample(now, self.name, f"{prefix}{s.name}", s.value, labels))
            elif typ == "summary" and s.name == family:  # the client's own quantiles pass through
                out.append(Sample(now, self.name, f"{prefix}{s.name}", s.value, labels))
            elif typ == "summary" and s.name in (family + "_count", family + "_sum"):
                inc = increase(cur, prev, (s.name, tuple(sorted(s.labels))))
                if inc is not None:
                    out.append(Sample(now, self.name, f"{prefix}{s.name}.rate", inc / dt, labels))
            elif typ == "counter" and not s.name.endswith("_created"):
                inc = increase(cur, prev, (s.name, tuple(sorted(s.labels))))
                if inc is not None:
                    out.append(Sample(now, self.name, f"{prefix}{s.name}.rate", inc / dt, labels))
            elif typ == "histogram" and family not in done_hist:
                done_hist.add(family)
                for rest, buckets in histogram_buckets(family, cur, prev, None, True).items():
                    for suffix, q in QUANTILES:
                        out.append(Sample(now, self.name, f"{prefix}{family}.{suffix}",
                                          histogram_quantile(q, buckets), dict(rest)))
        return out

    def panels(self) -> list[PanelSpec]:
        m: list[MetricSpec] = []
        er = self.opts.get("error_rate")
        auto = self.opts["auto"]
        if er or auto:
            m.append(MetricSpec("error_rate", "error rate", "%", (er or {}).get("warn", 0.05),
                                (er or {}).get("critical", 0.1), kind="health", direction="higher_is_worse"))
        if self.opts.get("latency_histogram") is not None or auto:
            unit = self.opts["latency_unit"]
            m.append(MetricSpec("response_time_p50", "p50 latency", unit, kind="health", direction="higher_is_worse"))
            m.append(MetricSpec("response_time_p95", "p95 latency", unit, self.opts.get("latency_warn"),
                                self.opts.get("latency_critical"), kind="health", direction="higher_is_worse"))
            m.append(MetricSpec("response_time_p99", "p99 latency", unit, kind="health", direction="higher_is_worse"))
        if self.opts.get("throughput") is not None or auto:
            m.append(MetricSpec("throughput", "throughput", "req/s", kind="health", direction="lower_is_worse"))
        m.extend(MetricSpec(k, k, "/s") for k in self.opts["rates"])
        m.extend(MetricSpec(k, k) for k in self.opts["gauges"])
        if self.opts["include"]:
            m.append(MetricSpec(self.opts["prefix"] + "*", "scraped"))
        return [PanelSpec(kind="api", title=self.opts.get("title") or f"API: {self.name}", metrics=m,
                          source=self.name)]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


_AUTO_TOTALS = ("http_requests_total", "http_server_requests_seconds_count",
                "http_server_request_duration_seconds_count")
_AUTO_STATUS = ("code", "status", "status_code", "http_status_code", "http_response_status_code")
_AUTO_HISTOGRAMS = ("http_request_duration_seconds", "http_server_request_duration_seconds",
                    "http_server_requests_seconds")


def _auto(expo: Exposition) -> dict[str, Any]:
    """Selectors for the common request counters and latency histograms found in a scrape."""
    names = {s.name for s in expo.samples}
    out: dict[str, Any] = {}
    for total in _AUTO_TOTALS:
        if total in names:
            labels = {k for s in expo.samples if s.name == total for k, _ in s.labels}
            status = next((lbl for lbl in _AUTO_STATUS if lbl in labels), None)
            out["throughput"] = parse_selector(total)
            if status is not None:
                out["error_rate"] = {"errors": parse_selector(f'{total}{{{status}=~"5.."}}'),
                                     "total": parse_selector(total), "warn": 0.05, "critical": 0.1}
            break
    for hist in _AUTO_HISTOGRAMS:
        if hist + "_bucket" in names:
            out["latency_histogram"] = parse_selector(hist)
            break
    return out


def factory(ctx: BuildContext) -> OpenMetricsSource:
    return OpenMetricsSource(ctx)
