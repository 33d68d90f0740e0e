"""What the engine keeps per source and per series, and what it publishes after a tick."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any

from migtui.model import Event, Phase, Sample, TableSnapshot

HISTORY = 900
"""Points kept in memory per series (sparklines, trigger windows): 30 min at 2 s."""
DUE_SLACK = 0.05
"""A source is polled when at most this fraction of its interval remains until it is due."""


@dataclass
class SourceState:
    """What the front ends show about one collector."""

    name: str
    type: str
    plugin: str
    interval: float
    timeout: float
    state: str = "starting"  # starting | ok | error | stale | quarantined
    last_ok: float | None = None
    last_error: str = ""
    last_error_at: float | None = None
    errors: int = 0
    next_due: float = 0.0
    in_flight: bool = False
    samples: int = 0
    last_duration: float | None = None
    """Seconds the last poll took (launch to result), failed or not."""
    failures: int = 0
    """Failed polls since the run started (``errors`` counts the current streak only)."""


@dataclass
class EngineUpdate:
    """Published after every tick to subscribers (called on the engine thread: be quick)."""

    tick: int
    now: float
    phase: Phase
    samples: list[Sample]
    snapshots: list[TableSnapshot]
    events: list[Event]
    kind: str = "tick"
    """``tick`` (every interval: stale sources marked, store written) or ``result`` (a poll result,
    or events, published between ticks as soon as they arrive)."""
    frame: Any = None
    """The :class:`migtui.engine.frame.Frame` published with this update (what front ends render)."""


@dataclass
class Series:
    metric: str
    labels: dict[str, str]
    source: str
    points: collections.deque = field(default_factory=lambda: collections.deque(maxlen=HISTORY))

    @property
    def last(self) -> tuple[float, float] | None:
        return self.points[-1] if self.points else None

