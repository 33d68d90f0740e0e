"""``http_probe`` source: status, latency and body check of chosen URLs, one labelled series per probe.

Every probe emits, with the label ``probe: <name>``:

- ``probe.up``: 1 when the request answered with an expected status and the body check passed, else 0;
- ``probe.status``: the HTTP status code (0 when no answer: refused, timed out, TLS error);
- ``probe.latency_ms``: time to the full response in milliseconds (NaN when no answer);
- ``probe.body_ok``: 1 / 0 when the probe has a body check.

A failing probe is data, not a collector error: the collector only raises when it cannot run at all.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any, Iterable

from migtui.api import (BuildContext, CollectContext, Field, MetricSpec, PanelSpec, Sample, Schema, SourceError,
                        TableSnapshot, error_at, redact, validate)

from migtui_http.common import check_auth, _interp, _check_url, common_fields, fetch, make_client


def _status_list(value: Any) -> list[int]:
    items = value if isinstance(value, list) else [value]
    out = []
    for v in items:
        try:
            code = int(str(v).strip())
        except ValueError:
            raise ValueError(f"expected HTTP status codes like 200 or [200, 204], got {v!r}") from None
        if not 100 <= code <= 599:
            raise ValueError(f"{code} is not an HTTP status code")
        out.append(code)
    return out


def _regex(value: str) -> Any:
    try:
        return re.compile(value)
    except re.error as exc:
        raise ValueError(f"bad regular expression: {exc}") from None


PROBE_SCHEMA = Schema({
    "url": Field("str", required=True, check=_check_url, doc="URL to request."),
    "method": Field("str", default="GET", choices=("GET", "HEAD", "POST", "PUT", "OPTIONS"), doc="HTTP method."),
    "expect_status": Field("any", default=lambda: [200], check=_status_list,
                           doc="Status code(s) that count as up (default 200)."),
    "body_contains": Field("str", doc="Text the body must contain."),
    "body_regex": Field("str", check=_regex, doc="Regular expression the body must match (search)."),
    "headers": Field("dict", items="str", default=dict, doc="Extra headers for this probe."),
    "body": Field("str", doc="Request body (POST/PUT)."),
})


def _probes(value: Any, parent: Any, key: Any, path: str) -> dict[str, dict[str, Any]]:
    """``{old: URL | {url: ...}, new: ...}`` or ``[{name: old, url: ...}, ...]``."""
    items: list[tuple[str, Any, Any, Any, str]] = []  # name, spec, parent node, key, path
    if isinstance(value, dict):
        items = [(str(k), v, value, k, f"{path}.{k}") for k, v in value.items()]
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if not isinstance(v, dict) or not v.get("name"):
                raise error_at(value, i, f"{path}[{i}]", "expected a mapping with a name and a url")
            items.append((str(v["name"]), v, value, i, f"{path}[{i}]"))
    else:
        raise error_at(parent, key, path, "expected a mapping of probe name -> {url: ...}")
    if not items:
        raise error_at(parent, key, path, "needs at least one probe")
    out: dict[str, dict[str, Any]] = {}
    for name, spec, node, k, ppath in items:
        if isinstance(spec, str):
            spec = _interp(spec, node, k, ppath)
            try:
                _check_url(spec)
            except ValueError as exc:
                raise error_at(node, k, ppath, str(exc)) from None
            spec_opts = validate(PROBE_SCHEMA, {"url": spec}, ppath)
        elif isinstance(spec, dict):
            schema = PROBE_SCHEMA.with_fields({"name": Field("str")}) if "name" in spec else PROBE_SCHEMA
            spec_opts = validate(schema, spec, ppath)
            spec_opts.pop("name", None)
        else:
            raise error_at(node, k, ppath, "expected a URL or {url: ..., expect_status: ...}")
        if name in out:
            raise error_at(node, k, ppath, f"duplicate probe name {name!r}")
        out[name] = spec_opts
    return out


SCHEMA = Schema({
    **common_fields(),
    "probes": Field(_probes, required=True,
                    doc="probe name -> URL or {url, method, expect_status, body_contains, body_regex, headers}."),
    "follow_redirects": Field("bool", default=False, doc="Follow redirects (default: a 30x is the answer)."),
    "latency_warn": Field("number", doc="Panel warning line for probe.latency_ms."),
    "latency_critical": Field("number", doc="Panel critical line for probe.latency_ms."),
}, doc="HTTP probes of chosen URLs.")


class HttpProbeSource:
    def __init__(self, ctx: BuildContext) -> None:
        self.opts = validate(SCHEMA, ctx.options, ctx.path)
        check_auth(self.opts, ctx.options, ctx.path)
        self.name = ctx.name
        self.interval = float(self.opts["interval"])
        self.timeout = float(self.opts["timeout"]) * len(self.opts["probes"]) + 1.0
        self.probes: dict[str, dict[str, Any]] = self.opts["probes"]
        self._client: Any = None

    def _http(self) -> Any:
        if self._client is None:
            self._client = make_client(self.opts, follow_redirects=self.opts["follow_redirects"])
        return self._client

    def probe(self, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        """Run one probe: {status, latency_ms, body_ok, up, error}."""
        started = time.perf_counter()
        try:
            status, body, _ = fetch(self._http(), spec["method"], spec["url"], what=f"probe {name}",
                                    accept_status=True, max_bytes=4 * 1024 * 1024,
                                    headers=spec.get("headers") or None,
                                    content=spec["body"].encode() if spec.get("body") else None)
        except SourceError as exc:
            return {"status": 0, "latency_ms": math.nan, "body_ok": None, "up": 0, "error": redact(exc)}
        latency = (time.perf_counter() - started) * 1000.0
        body_ok: bool | None = None
        problems = []
        if spec.get("body_contains") is not None or spec.get("body_regex") is not None:
            text = body.decode("utf-8", "replace")
            body_ok = True
            if spec.get("body_contains") is not None and spec["body_contains"] not in text:
                body_ok = False
                problems.append(f"body does not contain {spec['body_contains']!r}")
            if spec.get("body_regex") is not None and not spec["body_regex"].search(text):
                body_ok = False
                problems.append(f"body does not match /{spec['body_regex'].pattern}/")
        status_ok = status in spec["expect_status"]
        if not status_ok:
            problems.insert(0, f"HTTP {status}, expected {'/'.join(map(str, spec['expect_status']))}")
        up = 1 if status_ok and body_ok is not False else 0
        return {"status": status, "latency_ms": latency, "body_ok": body_ok, "up": up, "error": "; ".join(problems)}

    def collect(self, ctx: CollectContext) -> Iterable[Sample | TableSnapshot]:
        out: list[Sample | TableSnapshot] = []
        rows = []
        for name, spec in self.probes.items():
            r = self.probe(name, spec)
            labels = {"probe": name}
            out.append(Sample(ctx.now, self.name, "probe.up", float(r["up"]), labels))
            out.append(Sample(ctx.now, self.name, "probe.status", float(r["status"]), labels))
            out.append(Sample(ctx.now, self.name, "probe.latency_ms", float(r["latency_ms"]), labels))
            if r["body_ok"] is not None:
                out.append(Sample(ctx.now, self.name, "probe.body_ok", 1.0 if r["body_ok"] else 0.0, labels))
            rows.append((name, redact(spec["url"]), r["status"],
                         None if math.isnan(r["latency_ms"]) else round(r["latency_ms"], 1),
                         "up" if r["up"] else "DOWN", r["error"]))
        out.append(TableSnapshot(ctx.now, self.name, "probes",
                                 ("probe", "url", "status", "latency_ms", "state", "problem"), rows))
        return out

    metric_kinds = (MetricSpec("probe.body_ok", "body as expected (1/0)", kind="health", direction="lower_is_worse"),)

    def panels(self) -> list[PanelSpec]:
        return [PanelSpec(kind="api", title=self.opts.get("title") or f"Probes: {self.name}", metrics=[
            MetricSpec("probe.up", "up (1/0)", "", kind="health", direction="lower_is_worse"),
            MetricSpec("probe.latency_ms", "latency", "ms", self.opts.get("latency_warn"),
                       self.opts.get("latency_critical"), kind="health", direction="higher_is_worse"),
            MetricSpec("probe.status", "status", "", kind="state"),
        ], tables=["probes"], source=self.name)]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def factory(ctx: BuildContext) -> HttpProbeSource:
    return HttpProbeSource(ctx)
