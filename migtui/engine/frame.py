"""The frame: one immutable picture of the run, published after every tick and every result.

The cockpit, the headless printer and ``migtui ctl status`` render the latest :class:`Frame`
(``engine.frame``, or ``update.frame``) and nothing else of the engine: no locks, no copies of
dicts the engine thread is changing, no reaching into its parts. A frame is never changed once
published; the next one replaces it (one reference swap, safe to read from any thread).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from migtui.model import Event, PanelSpec, Phase, TableSnapshot

TAIL = 180
"""Points of each series a frame carries (the widest sparkline)."""
EVENTS = 200
"""Recent events a frame carries."""

SeriesKey = tuple[str, str, tuple[tuple[str, str], ...]]
_EMPTY: Mapping[Any, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class SeriesTail:
    """The last :data:`TAIL` points of one series."""

    source: str
    metric: str
    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]

    @property
    def last(self) -> tuple[float, float] | None:
        return self.points[-1] if self.points else None


@dataclass(frozen=True, slots=True)
class SourceView:
    """What the front ends show about one source."""

    name: str
    type: str
    plugin: str
    interval: float
    timeout: float
    state: str
    last_ok: float | None
    last_error: str
    last_error_at: float | None
    errors: int
    samples: int
    server: str = ""
    """What the source says it watches, e.g. ``PG16`` (:attr:`migtui.api.Collector.server`)."""
    session_names: tuple[str, ...] = ()
    """application_name patterns of the migration's sessions (:attr:`migtui.api.Collector.session_names`)."""
    last_duration: float | None = None
    """Seconds the last poll took, failed or not (None before the first)."""
    failures: int = 0
    """Failed polls since the run started."""


@dataclass(frozen=True)
class Frame:
    """See the module docstring. ``kind`` is ``tick`` or ``result`` (see :class:`EngineUpdate`)."""

    seq: int
    kind: str
    tick: int
    now: float
    run_id: str
    name: str
    started_at: float
    phase: Phase
    interval: float
    store_path: str | None
    store_ok: bool
    sources: Mapping[str, SourceView]
    series: Mapping[SeriesKey, SeriesTail]
    snapshots: Mapping[str, TableSnapshot]
    panels: tuple[PanelSpec, ...]
    triggers: tuple[Mapping[str, Any], ...] | None
    """Trigger status rows (name, state, since, value, threshold, action, level, reason, silenced_until,
    acked_by, dry_run, metric, source, labels); None when the run has no triggers runtime."""
    trigger_summary: str
    silences: tuple[Mapping[str, Any], ...]
    baselines: Mapping[SeriesKey, Any]
    """Baseline statistics by series key (:class:`migtui.triggers.BaselineStats`)."""
    paused: bool
    paused_by: str
    action_verbs: tuple[str, ...]
    throttle: Mapping[str, Any]
    """The throttle (:meth:`migtui.throttle.Throttle.status`): throttled, reason, since, forced, and per
    throttle trigger its throttled, reason, since and utilization; empty when the run has none."""
    components: Mapping[str, Mapping[str, Any]]
    """``status()`` of each plugin run component (e.g. ``migration``: tools, running, progress)."""
    events: tuple[Event, ...] = field(default=())

    def latest(self, metric: str, labels: Mapping[str, str] | None = None) -> list[tuple[SeriesTail, float, float]]:
        """The latest point of every series of ``metric`` whose labels include ``labels``."""
        return latest_points(self.series.values(), metric, labels)

    def value(self, metric: str, labels: Mapping[str, str] | None = None) -> float:
        """Max of the latest values of a metric (NaN when there is none)."""
        return max_value(self.latest(metric, labels))


def latest_points(series: Iterable[Any], metric: str, labels: Mapping[str, str] | None = None) -> list[Any]:
    """``(series, ts, value)`` of the last point of every series of ``metric`` whose labels include
    ``labels`` (frame tails or the engine's own series)."""
    out = []
    for ser in series:
        if ser.metric != metric or (labels and any(ser.labels.get(k) != v for k, v in labels.items())):
            continue
        last = ser.last
        if last is not None:
            out.append((ser, last[0], last[1]))
    return out


def max_value(points: Iterable[tuple[Any, float, float]]) -> float:
    """The largest value of :func:`latest_points` that is a number (NaN when there is none)."""
    vals = [v for _, _, v in points if not math.isnan(v)]
    return max(vals) if vals else math.nan


class FrameBuilder:
    """Builds the engine's frames (engine thread). A series' tail is copied only when it changed."""

    def __init__(self) -> None:
        self._tails: dict[SeriesKey, SeriesTail] = {}
        self._changed: set[SeriesKey] = set()
        self._seq = itertools.count(1)

    def touched(self, key: SeriesKey) -> None:
        self._changed.add(key)

    def build(self, engine: Any, kind: str, now: float) -> Frame:
        for key in self._changed:
            ser = engine.series.get(key)
            if ser is not None:
                pts = ser.points
                tail = tuple(itertools.islice(pts, max(0, len(pts) - TAIL), None))
                self._tails[key] = SeriesTail(ser.source, ser.metric, MappingProxyType(dict(ser.labels)), tail)
        self._changed.clear()
        parts = engine.parts
        triggers: tuple[Mapping[str, Any], ...] | None = None
        summary, silences, baselines = "", (), _EMPTY
        paused, paused_by, verbs, components, throttle = False, "", (), {}, _EMPTY
        if parts is not None:
            triggers = tuple(MappingProxyType(r) for r in parts.triggers.status(now))
            summary = parts.triggers.summary()
            silences = tuple(MappingProxyType(s) for s in parts.triggers.silences(now))
            baselines = MappingProxyType(parts.baseline.stats)  # replaced whole on load, never changed
            paused, paused_by = bool(parts.actions.paused), str(parts.actions.paused_by or "")
            verbs = tuple(parts.actions.verbs())
            throttle = MappingProxyType(parts.throttle.status(now))
            components = {name: MappingProxyType(parts.component_status(name)) for name in parts.components}
        store = engine.store
        return Frame(
            seq=next(self._seq), kind=kind, tick=engine.tick_no, now=now, run_id=engine.run_id, name=engine.name,
            started_at=engine.started_at, phase=engine.phase, interval=engine.config.interval,
            store_path=str(store.path) if store is not None else None, store_ok=engine.store_ok,
            sources=MappingProxyType({n: _source_view(st, engine.collectors.get(n)) for n, st in engine.sources.items()}),
            series=MappingProxyType(dict(self._tails)), snapshots=MappingProxyType(dict(engine.snapshots)),
            panels=tuple(engine.panels), triggers=triggers, trigger_summary=summary, silences=silences,
            baselines=baselines, paused=paused, paused_by=paused_by, action_verbs=verbs, throttle=throttle,
            components=MappingProxyType(components), events=tuple(list(engine.recent_events)[-EVENTS:]))


def _source_view(st: Any, collector: Any) -> SourceView:
    from migtui.api import capabilities

    caps = capabilities(collector)
    return SourceView(st.name, st.type, st.plugin, st.interval, st.timeout, st.state, st.last_ok, st.last_error,
                      st.last_error_at, st.errors, st.samples, server=caps.server(),
                      session_names=caps.session_names(), last_duration=st.last_duration, failures=st.failures)
