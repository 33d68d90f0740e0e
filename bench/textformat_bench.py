"""The HTTP plugin's hand-written exposition parser vs prometheus-client's parsers, same input, same
run: a service's /metrics with N request counters and histograms (Prometheus 0.0.4 and OpenMetrics
text). Prints one line per parser with the median of 5 parses.

    python -m bench.textformat_bench [--series 2000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable

from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
from prometheus_client.parser import text_string_to_metric_families as prom_parse

from migtui_http.textformat import parse as migtui_parse


def exposition(series: int, openmetrics: bool) -> str:
    lines = ["# HELP http_requests Requests.", "# TYPE http_requests counter"]
    for i in range(series):
        lines.append(f'http_requests_total{{code="200",path="/p{i}",method="GET"}} {i * 7}')
    lines += ["# HELP http_request_duration_seconds Latency.", "# TYPE http_request_duration_seconds histogram"]
    for i in range(series // 10):
        acc = 0
        for le in ("0.05", "0.1", "0.25", "0.5", "1.0", "+Inf"):
            acc += i + 1
            lines.append(f'http_request_duration_seconds_bucket{{path="/p{i}",le="{le}"}} {acc}')
        lines.append(f'http_request_duration_seconds_sum{{path="/p{i}"}} {acc * 0.1:.3f}')
        lines.append(f'http_request_duration_seconds_count{{path="/p{i}"}} {acc}')
    if openmetrics:
        lines.append("# EOF")
    return "\n".join(lines) + "\n"


def timed(fn: Callable[[], Any], rounds: int = 5) -> float:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=2000)
    args = ap.parse_args()
    for fmt, om in (("prometheus 0.0.4", False), ("openmetrics 1.0", True)):
        text = exposition(args.series, om)
        n = text.count("\n")
        lib = (lambda: list(om_parse(text))) if om else (lambda: list(prom_parse(text)))
        for name, fn in (("migtui_http.textformat", lambda: migtui_parse(text)), ("prometheus_client", lib)):
            s = timed(fn)
            print(f"{fmt:17} {n:6d} lines  {name:23} {s * 1000:8.1f} ms  {n / s / 1000:7.0f}k lines/s")


if __name__ == "__main__":
    main()
