"""Source type ``growthbook_experiment``."""

from __future__ import annotations

import json
import math
import re
import time
from typing import Any, Iterator, Mapping
from urllib.parse import quote

from migtui.api import Field, MetricSpec, PanelSpec, Sample, Schema, SourceError, redact, validate

MAX_BYTES = 8 * 1024 * 1024


def _check_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


SCHEMA = Schema({
    "type": Field("str", required=True),
    "name": Field("str"),
    "url": Field("str", required=True, check=_check_url,
                 doc="GrowthBook API base: https://api.growthbook.io/api, or your API_HOST + /api."),
    "token": Field("str", required=True, secret=True, doc="API key, e.g. ${GROWTHBOOK_API_KEY} (Bearer)."),
    "experiment": Field("str", required=True, doc="Experiment id (exp_...)."),
    "metric": Field("str", doc="Only this metric id (default: every metric in the results)."),
    "dimension": Field("str", default="All", doc="Which dimension row of the results to read."),
    "variants": Field("dict", items="str", default=dict, doc="Variation id -> label (default: the id)."),
    "interval": Field("duration", default=60.0, minimum=0.1),
    "timeout": Field("duration", default=10.0, minimum=0.1, doc="Timeout of each HTTP request."),
    "title": Field("str", default="A/B test", doc="Panel title."),
})


def _num(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        return math.nan
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return math.nan
    return math.nan


class GrowthBookExperimentSource:
    def __init__(self, name: str, opts: dict[str, Any]) -> None:
        self.name = name
        self.opts = opts
        self.interval = float(opts["interval"])
        self.timeout = float(opts["timeout"]) + 1
        self.url = f"{opts['url']}/v1/experiments/{quote(opts['experiment'], safe='')}/results"

    def fetch(self) -> Any:
        import httpx

        headers = {"Authorization": f"Bearer {self.opts['token']}", "Accept": "application/json",
                   "User-Agent": "migtui-ab-growthbook"}
        try:
            with httpx.Client(timeout=httpx.Timeout(float(self.opts["timeout"]))) as client:
                with client.stream("GET", self.url, headers=headers) as resp:
                    body = b""
                    for chunk in resp.iter_bytes():
                        body += chunk
                        if len(body) > MAX_BYTES:
                            raise SourceError(f"growthbook: response from {self.url} is larger than {MAX_BYTES} bytes")
                    status = resp.status_code
        except httpx.TimeoutException:
            raise SourceError(f"growthbook: {self.url} timed out") from None
        except httpx.HTTPError as exc:
            raise SourceError(f"growthbook: cannot reach {self.url}: {type(exc).__name__}: {redact(exc)}") from None
        start = redact(body[:200].decode("utf-8", "replace").replace("\n", " ").strip())
        if status in (401, 403):
            raise SourceError(f"growthbook: HTTP {status} from {self.url}: the API key was refused")
        if status == 404:
            raise SourceError(f"growthbook: experiment {self.opts['experiment']!r} not found (HTTP 404 from {self.url})")
        if not 200 <= status < 300:
            raise SourceError(f"growthbook: HTTP {status} from {self.url}" + (f": {start}" if start else ""))
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise SourceError(f"growthbook: {self.url} did not return JSON"
                              + (f" (starts with {start!r})" if start else " (empty body)")) from None

    def _row(self, doc: Any) -> Mapping[str, Any]:
        result = doc.get("result") if isinstance(doc, dict) else None
        rows = result.get("results") if isinstance(result, dict) else None
        if not isinstance(rows, list):
            raise SourceError(f"growthbook: unexpected answer from {self.url}: expected "
                              "{\"result\": {\"results\": [...]}}")
        rows = [r for r in rows if isinstance(r, dict)]
        if not rows:
            raise SourceError(f"growthbook: experiment {self.opts['experiment']!r} has no results yet")
        want = self.opts["dimension"]
        for r in rows:
            if str(r.get("dimension", "")) == want:
                return r
        if len(rows) == 1:
            return rows[0]
        raise SourceError(f"growthbook: no results for dimension {want!r} (have: "
                          f"{', '.join(str(r.get('dimension')) for r in rows)})")

    def collect(self, ctx: Any) -> Iterator[Sample]:
        now = ctx.now if ctx is not None else time.time()
        return iter(list(self.samples(self.fetch(), now)))

    def samples(self, doc: Any, now: float) -> Iterator[Sample]:
        """Samples from a decoded results document; SourceError (one line) when it is unusable."""
        row = self._row(doc)
        checks = row.get("checks") if isinstance(row.get("checks"), dict) else {}
        yield Sample(now, self.name, "ab.srm_p_value", _num(checks.get("srm")))
        yield Sample(now, self.name, "ab.total_users", _num(row.get("totalUsers")))
        metrics = [m for m in row.get("metrics") or [] if isinstance(m, dict)]
        if self.opts.get("metric"):
            metrics = [m for m in metrics if m.get("metricId") == self.opts["metric"]]
            if not metrics:
                raise SourceError(f"growthbook: metric {self.opts['metric']!r} is not in the results of "
                                  f"{self.opts['experiment']!r}")
        names: Mapping[str, str] = self.opts["variants"]
        users_done: set[str] = set()
        for m in metrics:
            metric = str(m.get("metricId", "?"))
            variations = [v for v in m.get("variations") or [] if isinstance(v, dict)]
            for idx, v in enumerate(variations):
                vid = str(v.get("variationId", idx))
                variant = names.get(vid, vid)
                analyses = [a for a in v.get("analyses") or [] if isinstance(a, dict)]
                a = analyses[0] if analyses else {}
                labels = {"variant": variant, "metric": metric}
                if variant not in users_done:
                    users_done.add(variant)
                    users = v.get("users", a.get("denominator"))
                    yield Sample(now, self.name, "ab.users", _num(users), {"variant": variant})
                yield Sample(now, self.name, "ab.conversion_rate", _num(a.get("mean")), labels)
                if idx == 0:
                    continue  # the control: no lift, no test against itself
                yield Sample(now, self.name, "ab.lift", _num(a.get("percentChange")), labels)
                yield Sample(now, self.name, "ab.ci_low", _num(a.get("ciLow")), labels)
                yield Sample(now, self.name, "ab.ci_high", _num(a.get("ciHigh")), labels)
                yield Sample(now, self.name, "ab.p_value", _num(a.get("pValue")), labels)
                yield Sample(now, self.name, "ab.chance_to_beat_control", _num(a.get("chanceToBeatControl")), labels)

    metric_kinds = (MetricSpec("ab.total_users", "users in all variants", kind="counter"),
                    MetricSpec("ab.ci_low", "lift CI low", "%", kind="state"),
                    MetricSpec("ab.ci_high", "lift CI high", "%", kind="state"))
    """The kinds of the metrics the panel does not show (the report draws their timelines)."""

    def panels(self) -> list[PanelSpec]:
        return [PanelSpec("ab", self.opts["title"], metrics=(
            MetricSpec("ab.users", "users", kind="counter"),
            MetricSpec("ab.conversion_rate", "conversion", "%", kind="state"),
            MetricSpec("ab.lift", "lift", "%", kind="state"),
            MetricSpec("ab.p_value", "p-value", kind="state"),
            MetricSpec("ab.chance_to_beat_control", "chance to beat control", "%", kind="state"),
            MetricSpec("ab.srm_p_value", "SRM p-value", kind="state"),
        ), source=self.name)]

    def close(self) -> None:
        pass


def build(ctx: Any) -> GrowthBookExperimentSource:
    return GrowthBookExperimentSource(ctx.name, validate(SCHEMA, ctx.options, ctx.path))
