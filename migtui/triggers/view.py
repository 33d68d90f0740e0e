"""What a trigger evaluates against: the :class:`MetricView` protocol (newest samples, recent
samples, baseline statistics and collector status per series) and :class:`MemoryMetricView`, a plain
in-memory implementation (tests, benchmarks). The engine's own view is in :mod:`migtui.triggers.runtime`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Protocol, Sequence

from migtui.model import Sample, labels_key


@dataclass(frozen=True)
class BaselineStats:
    """Statistics of one series over a baseline (see :mod:`migtui.triggers.baseline`)."""

    n: int
    mean: float | None = None
    stddev: float | None = None
    min: float | None = None
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    max: float | None = None

    def stat(self, name: str) -> float | None:
        return getattr(self, name)


@dataclass(frozen=True)
class SourceStatus:
    """How a collector is doing: ``ok`` is the result of its latest attempt."""

    ok: bool
    last_ok: float | None = None
    last_error: float | None = None
    error: str = ""
    consecutive_errors: int = 0


class MetricView(Protocol):
    """The read-only view of recent data a :class:`TriggerEngine` evaluates against.

    ``latest(metric)``: the newest sample of every series of ``metric`` (all sources, all labels);
    a name ending in ``*`` matches every metric with that prefix.
    ``recent(source, metric, labels)``: the recent samples of one series, oldest first (used for
    ``min_samples`` only; may return ``()`` if not kept).
    ``baseline(source, metric, labels)``: the baseline statistics of one series or ``None``.
    ``source_status(source)``: the collector's status, or ``None`` if unknown.
    """

    def latest(self, metric: str) -> Sequence[Sample]: ...

    def recent(self, source: str, metric: str, labels: Mapping[str, str]) -> Sequence[Sample]: ...

    def baseline(self, source: str, metric: str, labels: Mapping[str, str]) -> BaselineStats | None: ...

    def source_status(self, source: str) -> SourceStatus | None: ...


class MemoryMetricView:
    """A simple in-memory :class:`MetricView` the engine can feed once per tick.

    ``add(samples)`` keeps the newest ``keep`` samples per series; ``set_status`` records each
    collector's result; ``set_baselines`` takes the dict from :func:`migtui.triggers.baseline.load_baselines`
    (keys ``(source, metric, labels_key)``).
    """

    def __init__(self, keep: int = 120) -> None:
        self.keep = keep
        self._series: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], list[Sample]]] = {}
        self._status: dict[str, SourceStatus] = {}
        self._baselines: dict[tuple[str, str, tuple[tuple[str, str], ...]], BaselineStats] = {}

    def add(self, samples: Iterable[Sample]) -> None:
        for s in samples:
            per_metric = self._series.setdefault(s.metric, {})
            buf = per_metric.setdefault((s.source, labels_key(s.labels)), [])
            if buf and buf[-1].ts > s.ts:
                continue  # out of order: keep the newest at the end
            buf.append(s)
            if len(buf) > self.keep:
                del buf[: len(buf) - self.keep]

    def set_status(self, source: str, status: SourceStatus) -> None:
        self._status[source] = status

    def record_result(self, source: str, now: float, error: str | None = None) -> None:
        """Convenience: record a collector attempt (``error`` None means it worked)."""
        prev = self._status.get(source) or SourceStatus(ok=True)
        if error is None:
            self._status[source] = SourceStatus(True, now, prev.last_error, "", 0)
        else:
            self._status[source] = SourceStatus(False, prev.last_ok, now, error, prev.consecutive_errors + 1)

    def set_baselines(self, baselines: Mapping[tuple[str, str, tuple[tuple[str, str], ...]], BaselineStats]) -> None:
        self._baselines = dict(baselines)

    def latest(self, metric: str) -> list[Sample]:
        if metric.endswith("*"):
            prefix = metric[:-1]
            groups = [g for m, g in self._series.items() if m.startswith(prefix)]
        else:
            groups = [self._series.get(metric, {})]
        return [buf[-1] for g in groups for buf in g.values() if buf]

    def recent(self, source: str, metric: str, labels: Mapping[str, str]) -> list[Sample]:
        return list(self._series.get(metric, {}).get((source, labels_key(labels)), ()))

    def baseline(self, source: str, metric: str, labels: Mapping[str, str]) -> BaselineStats | None:
        return self._baselines.get((source, metric, labels_key(labels)))

    def source_status(self, source: str) -> SourceStatus | None:
        return self._status.get(source)
