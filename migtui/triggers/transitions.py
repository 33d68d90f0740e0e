"""What evaluation hands back: a :class:`Transition` per state change (which becomes a ``trigger``
event and, when it asks for one, an action) and a :class:`TriggerStatus` row per trigger."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from migtui.model import Event, Level, Phase, format_labels
from migtui.triggers.rules import TriggerSpec, fmt_num


@dataclass
class Transition:
    """A trigger changed state (or a silence expired and an action became due)."""

    name: str
    prev: str
    state: str
    ts: float
    spec: TriggerSpec
    value: float | None = None
    score: float | None = None
    reason: str = ""
    level: Level = Level.INFO
    requested: str | None = None
    """The action the engine should run now (warn | pause | rollback), strongest wins, edge-triggered."""
    confirm: bool | None = None
    silenced: bool = False
    acked_by: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    source: str = ""
    since: float = 0.0
    acted: str | None = None

    @property
    def dry_run(self) -> bool:
        return self.spec.dry_run

    @property
    def alerting(self) -> bool:
        """Should this transition notify people (not dry-run, not silenced)?"""
        return not self.spec.dry_run and not self.silenced

    @property
    def threshold(self) -> str:
        return self.spec.threshold_text()

    def message(self, *, with_name: bool = True) -> str:
        """One line: ``name: prev -> state: metric = value, limit > x (notes)``."""
        spec = self.spec
        sel = format_labels(self.labels)
        if self.value is not None:
            shown = fmt_num(self.value)
            if spec.basis == "ratio" and self.score is not None:
                shown += f" ({fmt_num(self.score)}x baseline {spec.stat})"
            elif spec.basis == "zscore" and self.score is not None:
                shown += f" (z = {fmt_num(self.score)})"
            obs = f"{spec.metric}{sel} = {shown}, limit {self.threshold}"
        else:
            obs = f"{spec.metric}{sel}: {self.reason or 'no value'}"
        head = f"{self.prev} -> {self.state}" if self.prev != self.state else self.state
        if with_name:
            head = f"{self.name}: {head}"
        tail = []
        if self.reason and self.value is not None:
            tail.append(self.reason)
        if self.requested in ("pause", "rollback"):
            tail.append(f"{self.requested} requested")
        if spec.dry_run and self.state in ("firing", "inconclusive"):
            tail.append("dry run: no action")
        if self.silenced:
            tail.append("silenced")
        return f"{head}: {obs}" + (f" ({'; '.join(tail)})" if tail else "")

    def event(self, *, run: str = "", phase: Phase | str = Phase.MIGRATION) -> Event:
        level = self.level
        if self.spec.dry_run and level.rank > Level.WARN.rank:
            level = Level.WARN
        return Event(kind="trigger", subject=self.name, message=self.message(with_name=False), level=level, ts=self.ts,
                     run=run, phase=Phase(phase), data=self.data())

    def data(self) -> dict[str, Any]:
        return {
            "state": self.state, "prev": self.prev, "from": self.prev, "to": self.state, "since": self.since, "value": _json_num(self.value),
            "score": _json_num(self.score), "threshold": self.threshold, "action": self.spec.action,
            "level": self.level.value, "reason": self.reason, "requested": self.requested,
            "confirm": self.confirm, "dry_run": self.spec.dry_run, "silenced": self.silenced,
            "acked_by": self.acked_by, "metric": self.spec.metric, "source": self.source,
            "labels": dict(self.labels), "acted": self.acted,
        }


def _json_num(v: float | None) -> float | str | None:
    if v is None:
        return None
    if math.isnan(v) or math.isinf(v):
        return fmt_num(v)
    return v


@dataclass
class TriggerStatus:
    """One row of :meth:`TriggerEngine.status` for the UI and headless output."""

    name: str
    state: str
    since: float
    value: float | None
    threshold: str
    action: str
    level: str
    reason: str
    silenced_until: float | None
    silenced_by: str
    acked_by: str
    dry_run: bool
    metric: str
    source: str = ""
    """The source the trigger watches ("" = every source with the metric)."""
    labels: dict[str, str] = field(default_factory=dict)
    """The labels a series must have for the trigger to watch it."""
    measured_at: float | None = None
    """When the newest sample that gave a value was taken (None: never measured)."""
    utilization: float | None = None
    """value / limit for an ``above`` condition (1 = at the limit); None otherwise."""

    def as_dict(self) -> dict[str, Any]:
        return {k: (_json_num(v) if k in ("value", "utilization") else v) for k, v in self.__dict__.items()}
