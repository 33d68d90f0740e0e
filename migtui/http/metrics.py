"""``GET /metrics``: the latest frame in the OpenMetrics text format, through ``prometheus-client``.

A custom collector over one frame, in a registry of its own per scrape (never the library's global
registry): every series of the frame whose source is up as a gauge ``migtui_<metric>`` (the name
sanitized) with its labels plus ``run``, ``source`` and ``database``; the triggers' states, values,
thresholds and utilization; the phase, the pause and the throttle; each source's health. Label values
go through redaction (nothing served holds a secret).
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from migtui.http.routes import Response, View
from migtui.model import Phase
from migtui.redact import redact

PREFIX = "migtui_"
TRIGGER_STATES = {"ok": 0, "resolved": 0, "pending": 1, "firing": 2, "inconclusive": 3}
"""``migtui_trigger_state`` values."""
RESERVED = ("run", "source", "database")
OWN = frozenset({"migtui_phase", "migtui_paused", "migtui_throttled", "migtui_trigger_state", "migtui_trigger_value",
                 "migtui_trigger_threshold", "migtui_trigger_utilization", "migtui_source_up",
                 "migtui_source_poll_duration_seconds", "migtui_source_poll_errors", "migtui_source_samples"})
"""The families of the run itself; a series of the same name is served as ``<name>_series``."""
_BAD = re.compile(r"[^a-zA-Z0-9_]+")
_THRESHOLD = re.compile(r"^[<>]\s*(-?[0-9.]+(?:e[-+]?[0-9]+)?|-?inf)$", re.I)


def metric_name(metric: str) -> str:
    """``pg.locks.waiting`` -> ``migtui_pg_locks_waiting`` (anything but [a-zA-Z0-9_] becomes ``_``)."""
    return PREFIX + (_BAD.sub("_", metric).strip("_") or "unnamed")


def label_name(name: str) -> str:
    """A series label as a Prometheus label name; one that clashes with ``run``/``source``/``database``
    or the reserved ``__`` prefix becomes ``exported_<name>`` (Prometheus' own convention)."""
    out = _BAD.sub("_", name).strip("_") or "label"
    if out[0].isdigit():
        out = "_" + out
    return f"exported_{out.lstrip('_')}" if out in RESERVED or out.startswith("__") else out


def threshold_value(text: str) -> float | None:
    """The number of a plain ``> N`` / ``< N`` threshold; None for baseline-relative ones."""
    m = _THRESHOLD.match(text.strip())
    return float(m.group(1)) if m else None


class FrameCollector(Collector):
    """Collects one frame (a new one per scrape)."""

    def __init__(self, frame: Any) -> None:
        self.frame = frame

    def collect(self) -> Iterator[Metric]:
        f = self.frame
        if f is None:
            return
        base = {"run": f.run_id, "database": redact(f.name)}
        yield from _series(f, base)
        yield from _run_state(f, base)
        yield from _triggers(f, base)
        yield from _sources(f, base)


def _series(f: Any, base: Mapping[str, str]) -> Iterator[Metric]:
    up = {name for name, s in f.sources.items() if s.state == "ok"}
    families: dict[str, tuple[list[str], GaugeMetricFamily, set[tuple[str, ...]]]] = {}
    for ser in f.series.values():
        last = ser.last
        if last is None or ser.source not in up:  # a source that is down: its series go stale in Prometheus
            continue
        name = metric_name(ser.metric)
        if name in OWN:
            name += "_series"
        labels = {label_name(k): redact(v) for k, v in ser.labels.items()}
        labels.update(base, source=ser.source)
        entry = families.get(name)
        if entry is None:
            names = sorted(labels)
            entry = (names, GaugeMetricFamily(name, f"migtui series {redact(ser.metric)}", labels=names), set())
            families[name] = entry
        names, fam, seen = entry
        key = tuple(labels.get(n, "") for n in names)
        if set(labels) - set(names) or key in seen:  # another label set under the same sanitized name
            continue
        seen.add(key)
        fam.add_metric(list(key), last[1])
    for _names, fam, _seen in families.values():
        yield fam


def _run_state(f: Any, base: Mapping[str, str]) -> Iterator[Metric]:
    names = ["run", "database"]
    vals = [base["run"], base["database"]]
    phase = GaugeMetricFamily("migtui_phase", "1 for the run's phase, 0 for the others", labels=[*names, "phase"])
    for p in Phase:
        phase.add_metric([*vals, p.value], 1.0 if f.phase == p else 0.0)
    yield phase
    paused = GaugeMetricFamily("migtui_paused", "1 while the migration is paused", labels=names)
    paused.add_metric(vals, 1.0 if f.paused else 0.0)
    yield paused
    throttle = getattr(f, "throttle", None)
    throttled = GaugeMetricFamily("migtui_throttled", "1 while a throttle holds the migration", labels=names)
    held = bool(throttle.get("throttled")) if isinstance(throttle, Mapping) else bool(getattr(throttle, "throttled", False))
    throttled.add_metric(vals, 1.0 if held else 0.0)
    yield throttled


def _triggers(f: Any, base: Mapping[str, str]) -> Iterator[Metric]:
    names = ["run", "database", "trigger", "action"]
    state = GaugeMetricFamily("migtui_trigger_state", "0 ok, 1 pending, 2 firing, 3 inconclusive", labels=names)
    value = GaugeMetricFamily("migtui_trigger_value", "The value the trigger last evaluated", labels=names)
    limit = GaugeMetricFamily("migtui_trigger_threshold", "The trigger's fixed threshold", labels=names)
    use = GaugeMetricFamily("migtui_trigger_utilization", "value / threshold (1 = at the limit)", labels=names)
    for row in f.triggers or ():
        vals = [base["run"], base["database"], redact(row["name"]), str(row.get("action", ""))]
        state.add_metric(vals, float(TRIGGER_STATES.get(str(row.get("state")), 3)))
        if isinstance(row.get("value"), (int, float)):
            value.add_metric(vals, float(row["value"]))
        if (th := threshold_value(str(row.get("threshold", "")))) is not None:
            limit.add_metric(vals, th)
        if isinstance(row.get("utilization"), (int, float)):
            use.add_metric(vals, float(row["utilization"]))
    yield from (state, value, limit, use)


def _sources(f: Any, base: Mapping[str, str]) -> Iterator[Metric]:
    names = ["run", "database", "source", "type"]
    up = GaugeMetricFamily("migtui_source_up", "1 while the source's polls succeed", labels=names)
    dur = GaugeMetricFamily("migtui_source_poll_duration_seconds", "How long the last poll took", labels=names)
    fails = CounterMetricFamily("migtui_source_poll_errors", "Failed polls since the run started", labels=names)
    samples = CounterMetricFamily("migtui_source_samples", "Samples collected since the run started", labels=names)
    for s in f.sources.values():
        vals = [base["run"], base["database"], s.name, s.type]
        up.add_metric(vals, 1.0 if s.state == "ok" else 0.0)
        if s.last_duration is not None:
            dur.add_metric(vals, s.last_duration)
        fails.add_metric(vals, float(s.failures))
        samples.add_metric(vals, float(s.samples))
    yield from (up, dur, fails, samples)


def exposition(frame: Any) -> bytes:
    """The frame as OpenMetrics text (ends with ``# EOF``)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FrameCollector(frame))
    return generate_latest(registry)


def route(view: View) -> Response:
    return Response(200, exposition(view.frame), CONTENT_TYPE_LATEST)
