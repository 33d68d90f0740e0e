"""``prometheus`` source: named PromQL instant queries against the Prometheus HTTP API.

Each tick, every query in ``queries`` is sent to ``GET <url>/api/v1/query``. A vector result gives
one sample per series (labels from the series' metric map, without ``__name__``), a scalar gives one
sample, an empty vector gives none (the trigger's no-data policy decides), and ``"NaN"``, ``"+Inf"``
and ``"-Inf"`` become float NaN / inf. The metric name is the query's key (``error_rate``), so the
seed triggers work as written.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Iterable

from migtui.api import (BuildContext, CollectContext, Field, MetricSpec, PanelSpec, Sample, Schema, SourceError,
                        redact, validate)

from migtui_http.common import check_auth, _interp, common_fields, fetch, make_client, url_field


class PromResponseError(SourceError):
    """Prometheus answered with an error or something that is not a query response."""

    from_prometheus = False  # Prometheus' own {"status": "error"} answer


class PromQueryFailed(PromResponseError):
    """Prometheus itself refused or failed the query (bad_data, execution, timeout...)."""

    from_prometheus = True


@dataclass(frozen=True)
class PromPoint:
    labels: dict[str, str]
    value: float


def _value(pair: Any, where: str) -> float:
    if not isinstance(pair, list) or len(pair) != 2:
        raise PromResponseError(f"{where}: expected [timestamp, \"value\"], got {_short(pair)}")
    ts, val = pair
    if isinstance(ts, bool) or not isinstance(ts, (int, float)):
        raise PromResponseError(f"{where}: timestamp is not a number: {_short(ts)}")
    if not isinstance(val, str):
        raise PromResponseError(f"{where}: sample value is not a string: {_short(val)}")
    low = val.strip().lower()
    if low == "nan":
        return math.nan
    if low in ("+inf", "inf"):
        return math.inf
    if low == "-inf":
        return -math.inf
    try:
        if "_" in val or low.lstrip("+-").startswith(("nan", "inf")):
            raise ValueError
        return float(val)
    except ValueError:
        raise PromResponseError(f"{where}: sample value is not a number: {_short(val)}") from None


def _short(obj: Any) -> str:
    text = repr(obj)
    return text if len(text) <= 80 else text[:77] + "..."


def decode_query_response(body: bytes | str, *, query: str = "query") -> list[PromPoint]:
    """Decode a ``/api/v1/query`` response body. Returns the points (possibly none) or raises
    :class:`PromResponseError` with one clear line; never anything else."""
    where = f"prometheus query {query!r}"
    try:
        doc = json.loads(body)
    except RecursionError:
        raise PromResponseError(f"{where}: response JSON is nested too deeply") from None
    except (ValueError, TypeError) as exc:
        raise PromResponseError(f"{where}: response is not JSON ({type(exc).__name__}: {str(exc)[:80]})") from None
    if not isinstance(doc, dict):
        raise PromResponseError(f"{where}: response is not a JSON object")
    status = doc.get("status")
    if status == "error":
        etype, err = doc.get("errorType", "error"), doc.get("error", "")
        raise PromQueryFailed(f"{where} failed: {str(etype)[:40]}: {str(err)[:300]}")
    if status != "success":
        raise PromResponseError(f"{where}: response status is {_short(status)}, expected 'success'")
    data = doc.get("data")
    if not isinstance(data, dict):
        raise PromResponseError(f"{where}: response has no data object")
    rtype, result = data.get("resultType"), data.get("result")
    if rtype == "scalar":
        return [PromPoint({}, _value(result, where))]
    if rtype == "vector":
        if not isinstance(result, list):
            raise PromResponseError(f"{where}: vector result is not a list")
        points = []
        for i, series in enumerate(result):
            if not isinstance(series, dict):
                raise PromResponseError(f"{where}: result[{i}] is not an object")
            metric = series.get("metric", {})
            if not isinstance(metric, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                       for k, v in metric.items()):
                raise PromResponseError(f"{where}: result[{i}].metric is not a map of strings")
            if "value" not in series:
                if "histogram" in series:
                    raise PromResponseError(f"{where}: native histogram results are not supported; "
                                            "wrap the query in histogram_quantile()")
                raise PromResponseError(f"{where}: result[{i}] has no value")
            labels = {k: v for k, v in metric.items() if k != "__name__"}
            points.append(PromPoint(labels, _value(series["value"], f"{where} result[{i}]")))
        return points
    if rtype == "matrix":
        raise PromResponseError(f"{where} returned a range vector; use an instant query (no [5m] at the end)")
    if rtype == "string":
        raise PromResponseError(f"{where} returned a string, not a number")
    raise PromResponseError(f"{where}: unknown resultType {_short(rtype)}")


QUERY_SCHEMA = Schema({
    "query": Field("str", required=True, doc="The PromQL expression (instant query)."),
    "unit": Field("str", default="", doc="Unit shown in the panel (ms, %, req/s, ratio)."),
    "title": Field("str", doc="Label in the panel."),
    "warn": Field("number", doc="Panel warning line."),
    "critical": Field("number", doc="Panel critical line."),
})


def _queries(value: Any, parent: Any, key: Any, path: str) -> dict[str, dict[str, Any]]:
    from migtui.api import error_at

    if not isinstance(value, dict) or not value:
        raise error_at(parent, key, path, "expected a mapping of metric name -> PromQL query")
    out: dict[str, dict[str, Any]] = {}
    for name, q in value.items():
        qpath = f"{path}.{name}"
        if isinstance(q, str):
            q = _interp(q, value, name, qpath)
            if not q.strip():
                raise error_at(value, name, qpath, "the query is empty")
            out[name] = {"query": q, "unit": "", "title": None, "warn": None, "critical": None}
        elif isinstance(q, dict):
            out[name] = validate(QUERY_SCHEMA, q, qpath)
        else:
            raise error_at(value, name, qpath, "expected a PromQL string or {query: ..., unit: ...}")
    return out


SCHEMA = Schema({
    **common_fields(),
    "url": url_field("Prometheus base URL, e.g. http://prometheus:9090 (the /api/v1/query path is added)."),
    "queries": Field(_queries, required=True,
                     doc="metric name -> PromQL instant query (or {query, unit, title, warn, critical})."),
}, doc="Prometheus HTTP API instant queries.")


class PrometheusSource:
    kind = "api"

    def __init__(self, ctx: BuildContext) -> None:
        self.opts = validate(SCHEMA, ctx.options, ctx.path)
        check_auth(self.opts, ctx.options, ctx.path)
        self.name = ctx.name
        self.interval = float(self.opts["interval"])
        self.timeout = float(self.opts["timeout"]) * max(1, len(self.opts["queries"])) + 1.0
        self.url = self.opts["url"].rstrip("/") + "/api/v1/query"
        self.queries: dict[str, dict[str, Any]] = self.opts["queries"]
        self._client: Any = None

    def _http(self) -> Any:
        if self._client is None:
            self._client = make_client(self.opts)
        return self._client

    def query(self, promql: str, name: str = "query") -> list[PromPoint]:
        status, body, _ = fetch(self._http(), "GET", self.url, what=f"prometheus {self.name} query {name!r}",
                                accept_status=True, params={"query": promql})
        # Prometheus answers errors (400 bad_data, 422 execution, 503 timeout) with the same JSON shape;
        # anything else with a bad status (a proxy's 401/502 page) is reported as the HTTP error it is.
        try:
            return decode_query_response(body, query=name)
        except PromResponseError as exc:
            if 200 <= status < 300 or exc.from_prometheus:
                raise
            snippet = body[:200].decode("utf-8", "replace").replace("\n", " ").strip()
            raise PromResponseError(f"prometheus query {name!r}: HTTP {status} from {redact(self.url)}"
                                    + (f": {redact(snippet)}" if snippet else "")) from None
        except Exception as exc:  # noqa: BLE001 - the decoder promises one clear error
            raise PromResponseError(f"prometheus query {name!r}: cannot decode response: {exc}") from None

    def collect(self, ctx: CollectContext) -> Iterable[Sample]:
        out: list[Sample] = []
        errors: list[str] = []
        for metric, q in self.queries.items():
            try:
                points = self.query(q["query"], metric)
            except SourceError as exc:
                errors.append(str(exc))
                continue
            out.extend(Sample(ts=ctx.now, source=self.name, metric=metric, value=p.value, labels=p.labels)
                       for p in points)
        if errors:
            if not out:
                raise SourceError(errors[0] if len(errors) == 1 else f"{errors[0]} (and {len(errors) - 1} more)")
            # Some queries worked: report the failures without losing the good samples.
            out.append(Sample(ts=ctx.now, source=self.name, metric="prometheus.query_errors",
                              value=float(len(errors))))
            self.last_errors = errors
        else:
            self.last_errors = []
        return out

    metric_kinds = (MetricSpec("prometheus.query_errors", "failed queries", kind="health",
                               direction="higher_is_worse"),)
    """``prometheus.query_errors``; the queries' own metrics take their kind from ``report.metrics``."""

    def panels(self) -> list[PanelSpec]:
        metrics = [MetricSpec(metric=m, title=q.get("title") or m, unit=q.get("unit") or "",
                              warn=q.get("warn"), critical=q.get("critical"))
                   for m, q in self.queries.items()]
        return [PanelSpec(kind="api", title=self.opts.get("title") or f"API: {self.name}", metrics=metrics,
                          source=self.name)]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def factory(ctx: BuildContext) -> PrometheusSource:
    return PrometheusSource(ctx)
