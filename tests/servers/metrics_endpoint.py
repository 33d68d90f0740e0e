"""Service stand-ins for API migrations: an OpenMetrics/Prometheus text endpoint whose counters the
test moves between scrapes, and probe targets with chosen status codes and bodies."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from tests.servers.httpbase import LoopbackServer, Request, Response

OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
PROM_TEXT = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class ServiceMetrics:
    """The counters of a small HTTP service, rendered as exposition text."""

    ok: float = 0.0
    errors: float = 0.0
    buckets: dict[float, float] = field(default_factory=lambda: {0.05: 0, 0.1: 0, 0.25: 0, 0.5: 0, 1.0: 0,
                                                                  2.5: 0, float("inf"): 0})
    duration_sum: float = 0.0
    in_flight: float = 0.0
    gauges: dict[str, float] = field(default_factory=dict)
    """More gauges by name (a backfill's rows done, a flag's state...)."""
    rps: float = 0.0
    """A steady load: this many requests a second (of 80 ms), counted when the endpoint is scraped,
    ``error_ratio`` of them failing (so rates between scrapes are exact however the scraper is late)."""
    error_ratio: float = 0.0
    _last: float | None = None

    def _accrue(self) -> None:
        now = time.monotonic()
        if self.rps and self._last is not None:
            n = self.rps * (now - self._last)
            self.observe(0.08, n=n * (1 - self.error_ratio))
            self.observe(0.08, n=n * self.error_ratio, error=True)
        self._last = now

    def observe(self, seconds: float, n: float = 1, error: bool = False) -> None:
        for le in self.buckets:
            if seconds <= le:
                self.buckets[le] += n
        self.duration_sum += seconds * n
        if error:
            self.errors += n
        else:
            self.ok += n

    def render(self, openmetrics: bool = True) -> str:
        self._accrue()
        total = "http_requests" if openmetrics else "http_requests_total"
        lines = [
            "# HELP http_requests Requests handled, by status code.",
            f"# TYPE {total} counter",
            f'http_requests_total{{code="200",path="/checkout"}} {self.ok:g}',
        ]
        if self.errors:
            lines.append(f'http_requests_total{{code="500",path="/checkout"}} {self.errors:g}')
        lines += [
            "# HELP http_request_duration_seconds Request latency.",
            "# TYPE http_request_duration_seconds histogram",
        ]
        for le, count in sorted(self.buckets.items()):
            le_text = "+Inf" if le == float("inf") else repr(le)
            lines.append(f'http_request_duration_seconds_bucket{{le="{le_text}"}} {count:g}')
        count = self.buckets[float("inf")]
        lines += [
            f"http_request_duration_seconds_sum {self.duration_sum:g}",
            f"http_request_duration_seconds_count {count:g}",
            "# TYPE http_in_flight gauge",
            f"http_in_flight {self.in_flight:g}",
            *(f"# TYPE {k} gauge\n{k} {v:g}" for k, v in self.gauges.items()),
            '# A plain comment with "quotes" and a {brace}',
            'build_info{version="2.0.0",note="line\\nbreak \\"quoted\\" back\\\\slash"} 1',
        ]
        if openmetrics:
            lines.append("# EOF")
        return "\n".join(lines) + "\n"


class MetricsEndpoint(LoopbackServer):
    """Serves ``metrics.render()`` at /metrics."""

    def __init__(self, metrics: ServiceMetrics | None = None, openmetrics: bool = True) -> None:
        self.metrics = metrics or ServiceMetrics()
        self.openmetrics = openmetrics
        self.override: Response | None = None
        super().__init__(self._handle)

    def _handle(self, req: Request) -> Response:
        if self.override is not None:
            return self.override
        if req.path != "/metrics":
            return Response(404, "not found")
        return Response(200, self.metrics.render(self.openmetrics), OPENMETRICS if self.openmetrics else PROM_TEXT)


class ProbeTargets(LoopbackServer):
    """``routes[path] = Response(...)``; other paths answer 404."""

    def __init__(self, routes: dict[str, Response] | None = None) -> None:
        self.routes = dict(routes or {})
        super().__init__(self._handle)

    def _handle(self, req: Request) -> Response:
        return self.routes.get(req.path, Response(404, "no such page"))
