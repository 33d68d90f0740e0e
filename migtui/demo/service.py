"""The demo's "shop API": request counters, errors and a latency histogram over HTTP.

:class:`ShopService` is the simulated service. The workload threads report every request they
serve (route, how long it really took against PostgreSQL, whether it failed); the service adds
what the scenario injects (extra latency, a share of HTTP 500s) and keeps Prometheus-style
counters. :class:`MetricsServer` exposes them on 127.0.0.1 in the Prometheus text format
(``/metrics``), which the demo's ``openmetrics`` source scrapes like any real service.

``/inject?errors=0.07&latency_ms=2500`` changes the injection by hand (``/inject`` alone resets it).
"""

from __future__ import annotations

import bisect
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 3.0, 5.0, 10.0)
"""Upper bounds (seconds) of the latency histogram (+Inf is implied)."""


class _Route:
    __slots__ = ("codes", "buckets", "count", "sum")

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.buckets = [0] * (len(BUCKETS) + 1)
        self.count = 0
        self.sum = 0.0


class ShopService:
    """Counters of a simulated HTTP service (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[str, _Route] = {}
        self.error_ratio = 0.0
        self.extra_latency = 0.0
        self._error_debt = 0.0
        self._latency_turn = 0
        self.inflight = 0

    # -- injection (the scenario, or /inject)

    def inject(self, *, errors: float | None = None, latency_ms: float | None = None) -> None:
        """Make a share of requests fail with HTTP 500 and/or add latency to every request."""
        with self._lock:
            if errors is not None:
                self.error_ratio = max(0.0, min(1.0, float(errors)))
                self._error_debt = 0.0
            if latency_ms is not None:
                self.extra_latency = max(0.0, float(latency_ms)) / 1000.0

    def clear(self) -> None:
        self.inject(errors=0.0, latency_ms=0.0)

    # -- traffic

    def begin(self) -> None:
        with self._lock:
            self.inflight += 1

    def record(self, route: str, seconds: float, ok: bool = True) -> int:
        """Count one served request; returns the HTTP status the simulated client saw."""
        with self._lock:
            self.inflight = max(0, self.inflight - 1)
            if self.extra_latency:
                # Most requests get the injected latency; a few are spared, like a real incident.
                self._latency_turn = (self._latency_turn + 1) % 10
                if self._latency_turn:
                    seconds += self.extra_latency
            status = 200 if ok else 500
            if ok and self.error_ratio > 0:
                # Deterministic share: exactly error_ratio of requests fail, evenly spread.
                self._error_debt += self.error_ratio
                if self._error_debt >= 1.0:
                    self._error_debt -= 1.0
                    status = 500
            r = self._routes.get(route)
            if r is None:
                r = self._routes[route] = _Route()
            code = str(status)
            r.codes[code] = r.codes.get(code, 0) + 1
            r.buckets[bisect.bisect_left(BUCKETS, seconds)] += 1
            r.count += 1
            r.sum += seconds
            return status

    def totals(self) -> tuple[int, int]:
        """(requests, errors) so far."""
        with self._lock:
            total = sum(r.count for r in self._routes.values())
            errors = sum(n for r in self._routes.values() for c, n in r.codes.items() if c.startswith("5"))
        return total, errors

    # -- exposition

    def render(self) -> str:
        """The Prometheus text format (0.0.4)."""
        with self._lock:
            routes = {k: (dict(r.codes), list(r.buckets), r.count, r.sum) for k, r in sorted(self._routes.items())}
            inflight, err, lat = self.inflight, self.error_ratio, self.extra_latency
        out = [
            "# HELP shop_http_requests_total Requests served by the shop API.",
            "# TYPE shop_http_requests_total counter",
        ]
        for route, (codes, _, _, _) in routes.items():
            for code, n in sorted(codes.items()):
                out.append(f'shop_http_requests_total{{route="{route}",code="{code}"}} {n}')
        out += ["# HELP shop_http_request_duration_seconds Request latency of the shop API.",
                "# TYPE shop_http_request_duration_seconds histogram"]
        for route, (_, buckets, count, total) in routes.items():
            cum = 0
            for bound, n in zip((*BUCKETS, float("inf")), buckets):
                cum += n
                le = "+Inf" if bound == float("inf") else repr(bound)
                out.append(f'shop_http_request_duration_seconds_bucket{{route="{route}",le="{le}"}} {cum}')
            out.append(f'shop_http_request_duration_seconds_sum{{route="{route}"}} {total:.6f}')
            out.append(f'shop_http_request_duration_seconds_count{{route="{route}"}} {count}')
        out += ["# HELP shop_inflight_requests Requests being served now.",
                "# TYPE shop_inflight_requests gauge", f"shop_inflight_requests {inflight}",
                "# HELP shop_injected_error_ratio Share of requests the demo makes fail.",
                "# TYPE shop_injected_error_ratio gauge", f"shop_injected_error_ratio {err}",
                "# HELP shop_injected_latency_seconds Latency the demo adds to requests.",
                "# TYPE shop_injected_latency_seconds gauge", f"shop_injected_latency_seconds {lat}"]
        return "\n".join(out) + "\n"


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        url = urlparse(self.path)
        if url.path == "/metrics":
            self._send(200, self.server.service.render(), "text/plain; version=0.0.4; charset=utf-8")
        elif url.path == "/healthz":
            self._send(200, "ok\n")
        elif url.path == "/inject":
            q = parse_qs(url.query)
            try:
                errors = float(q["errors"][0]) if "errors" in q else 0.0
                latency = float(q["latency_ms"][0]) if "latency_ms" in q else 0.0
            except ValueError:
                self._send(400, "errors and latency_ms must be numbers\n")
                return
            self.server.service.inject(errors=errors, latency_ms=latency)
            self._send(200, f"errors={errors} latency_ms={latency}\n")
        else:
            self._send(404, "not found\n")

    def _send(self, status: int, body: str, ctype: str = "text/plain; charset=utf-8") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    service: ShopService


class MetricsServer:
    """``/metrics`` of a :class:`ShopService` on 127.0.0.1 (a free port unless given)."""

    def __init__(self, service: ShopService, port: int = 0) -> None:
        self.service = service
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.service = service
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    def start(self) -> "MetricsServer":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="migtui-demo-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
