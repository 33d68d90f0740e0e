"""Trigger rows: the frame's trigger status as :class:`TriggerRow`, their rank and the worst of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from migtui.tui.view.fmt import as_number

_TRIGGER_RANK = {"ok": 0, "resolved": 0, "pending": 1, "inconclusive": 2}
_ACTION_RANK = {"warn": 3, "throttle": 4, "pause": 4, "rollback": 5}


@dataclass
class TriggerRow:
    name: str
    state: str
    since: float | None = None
    value: float | None = None
    threshold: str = ""
    action: str = ""
    level: str = ""
    reason: str = ""
    silenced_until: float | None = None
    acked_by: str = ""
    dry_run: bool = False
    metric: str = ""
    source: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    utilization: float | None = None
    """value / limit (throttle triggers show it next to the value: how close before it fires)."""

    def watches(self, source: str, metric: str, labels: Mapping[str, str]) -> bool:
        """True when this trigger watches the series (its metric, its source if it names one, and its labels)."""
        if not self.metric:
            return False
        if not (self.metric == metric or metric.endswith("." + self.metric) or self.metric.endswith("." + metric)):
            return False
        if self.source and source and self.source != source:
            return False
        return all(str(labels.get(k)) == str(v) for k, v in self.labels.items())

    @property
    def display_state(self) -> str:
        """ok / pending / inconclusive / warn / pause / rollback (firing shows its action)."""
        if self.state == "firing":
            return self.action or self.level or "firing"
        return self.state

    @property
    def rank(self) -> int:
        if self.state == "firing":
            return _ACTION_RANK.get(self.action or self.level, 3)
        return _TRIGGER_RANK.get(self.state, 1)


def row_field(row: Any, name: str, default: Any = None) -> Any:
    if isinstance(row, Mapping):
        return row.get(name, default)
    return getattr(row, name, default)


def trigger_rows(frame: Any, now: float | None = None) -> list[TriggerRow] | None:
    """The frame's trigger status rows, or None when the run has no triggers runtime."""
    raw = frame.triggers
    if raw is None:
        return None
    rows = []
    for r in list(raw or ()):
        rows.append(TriggerRow(
            name=str(row_field(r, "name", "?")), state=str(row_field(r, "state", "ok")), since=as_number(row_field(r, "since")),
            value=as_number(row_field(r, "value")), threshold=str(row_field(r, "threshold", "") or ""),
            action=str(row_field(r, "action", "") or ""), level=str(row_field(r, "level", "") or ""),
            reason=str(row_field(r, "reason", "") or ""), silenced_until=as_number(row_field(r, "silenced_until")),
            acked_by=str(row_field(r, "acked_by", "") or ""), dry_run=bool(row_field(r, "dry_run", False)),
            metric=str(row_field(r, "metric", "") or ""), source=str(row_field(r, "source", "") or ""),
            labels=dict(row_field(r, "labels", None) or {}), utilization=as_number(row_field(r, "utilization"))))
    return rows


def worst_trigger(rows: Iterable[TriggerRow] | None) -> TriggerRow | None:
    best: TriggerRow | None = None
    for r in rows or ():
        if best is None or r.rank > best.rank:
            best = r
    return best


def trigger_state_for_metric(rows: Iterable[TriggerRow] | None, metric: str, source: str = "",
                             labels: Mapping[str, str] | None = None) -> str | None:
    """The strongest firing/pending state of the triggers watching one series: ``metric`` (exact or
    dotted suffix) of ``source`` with ``labels`` (a trigger naming another source or other labels does not)."""
    best: TriggerRow | None = None
    for r in rows or ():
        if r.watches(source, metric, labels or {}):
            if r.rank > 0 and (best is None or r.rank > best.rank):
                best = r
    return best.display_state if best else None
