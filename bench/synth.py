"""Synthetic series shaped like a PostgreSQL collector's output, for the store and long-run figures.

The value mix matters for bytes on disk, so it copies what the catalog produces: 40% small integer
gauges (sessions, waiters, locks) moving as a random walk, 20% monotonic counters (tuples, commits),
20% gauges that sit at 0 and rarely change (invalid indexes, replication slots), 20% full-precision
floats (rates per second, ratios, seconds). Labels: a third of the series carry a table label.
"""

from __future__ import annotations

import random
from typing import Iterator

from migtui.model import Sample


class SyntheticSeries:
    def __init__(self, n: int = 500, *, seed: int = 7, source: str = "db") -> None:
        self.n = n
        self.source = source
        self.rng = random.Random(seed)
        self.kinds = []
        self.metrics = []
        self.labels = []
        self.state = []
        for i in range(n):
            kind = ("gauge", "gauge", "counter", "flat", "float")[i % 5]
            self.kinds.append(kind)
            self.metrics.append(f"synthetic_{kind}_{i // 25}.v{i % 25}")
            self.labels.append({"table": f"public.t{i % 40}"} if i % 3 == 0 else {})
            self.state.append(float(self.rng.randint(0, 50)) if kind != "counter" else float(self.rng.randint(0, 10**6)))

    def values(self) -> list[float]:
        rng = self.rng
        out = []
        for i, kind in enumerate(self.kinds):
            v = self.state[i]
            if kind == "gauge":
                v = max(0.0, v + rng.choice((-1.0, 0.0, 0.0, 1.0)))
            elif kind == "counter":
                v += float(rng.randint(0, 1000))
            elif kind == "flat":
                v = 0.0 if rng.random() > 0.01 else 1.0
            else:
                v = rng.random() * 100.0
            if kind != "float":
                self.state[i] = v
            out.append(v)
        return out

    def tick(self, ts: float) -> list[Sample]:
        src, metrics, labels = self.source, self.metrics, self.labels
        return [Sample(ts, src, metrics[i], v, labels[i]) for i, v in enumerate(self.values())]

    def ticks(self, t0: float, count: int, interval: float = 1.0) -> Iterator[list[Sample]]:
        for k in range(count):
            yield self.tick(t0 + k * interval)
