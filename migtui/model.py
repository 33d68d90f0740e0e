"""The data that flows through migtui: samples, table snapshots, events, panel descriptions.

These are plain dataclasses with no I/O, shared by the engine, the store, triggers, plugins and
both front ends.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping, Sequence


class Phase(str, Enum):
    """The phase of a run; every sample and event carries one."""

    BASELINE = "baseline"
    MIGRATION = "migration"
    POST = "post"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


class Level(str, Enum):
    """Severity of an event, and the strength of a trigger's action (ordered)."""

    INFO = "info"
    WARN = "warn"
    PAUSE = "pause"
    ROLLBACK = "rollback"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


_LEVEL_RANK = {Level.INFO: 0, Level.WARN: 1, Level.ERROR: 1, Level.PAUSE: 2, Level.ROLLBACK: 3}

EVENT_KINDS = ("phase", "trigger", "alert", "action", "note", "error", "run", "baseline", "check", "throttle", "lint")

Labels = Mapping[str, str]


def labels_key(labels: Labels | None) -> tuple[tuple[str, str], ...]:
    """A hashable, order-independent key for a label map."""
    if not labels:
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in labels.items()))


def format_labels(labels: Labels | None) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f"{k}={v}" for k, v in sorted(labels.items())) + "}"


def fmt_age(seconds: float | None) -> str:
    """``42s``, ``3m05s``, ``1h02m``; ``-`` when unknown."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "-"
    s = int(max(0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def fmt_elapsed(seconds: float | None) -> str:
    """Time since a start, as a clock: ``0:03:16``, ``12:00:05`` (the cockpit header, the headless
    status line, the reports' "at" times); ``–`` when unknown."""
    if seconds is None or math.isnan(seconds):
        return "–"
    s = int(max(0, seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def as_number(value: Any, *, finite: bool = False) -> float | None:
    """``value`` as a float (numbers, ``Decimal``, numeric text), or None for None, a bool, NaN or
    anything that is not a number; with ``finite``, for an infinity too."""
    if value is None or isinstance(value, bool):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(f) or (finite and math.isinf(f)):
        return None
    return f


@dataclass(frozen=True, slots=True)
class Sample:
    """One measurement: a dotted metric name, small string labels, a float value (NaN allowed)."""

    ts: float
    source: str
    metric: str
    value: float
    labels: Labels = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return (self.metric, labels_key(self.labels))

    @property
    def is_nan(self) -> bool:
        return isinstance(self.value, float) and math.isnan(self.value)


@dataclass(frozen=True, slots=True)
class TableSnapshot:
    """A table-shaped observation (activity list, blocking tree) that feeds a panel."""

    ts: float
    source: str
    name: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]


@dataclass(slots=True)
class Event:
    """Everything that happens in a run and is not a number: the audit log."""

    kind: str
    subject: str
    message: str
    level: Level = Level.INFO
    data: dict[str, Any] = field(default_factory=dict)
    ts: float = field(default_factory=time.time)
    run: str = ""
    phase: Phase = Phase.BASELINE

    def __post_init__(self) -> None:
        """Subject and message are for people: kept as :func:`migtui.safetext.visible` text (control
        characters as ``\\x1b``), so no store reader, log or front end gets them raw. ``data`` is kept as is."""
        from migtui.safetext import visible

        self.subject = visible(self.subject)
        self.message = visible(self.message, keep_newlines=True)

    def as_json(self) -> dict[str, Any]:
        from datetime import datetime, timezone

        return {
            "ts": datetime.fromtimestamp(self.ts, timezone.utc).isoformat(timespec="milliseconds"),
            "run": self.run,
            "phase": Phase(self.phase).value,
            "kind": self.kind,
            "subject": self.subject,
            "level": Level(self.level).value,
            "message": self.message,
            "data": self.data,
        }


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """How a panel shows one metric: name (may end in ``*`` to match a prefix), label, unit, and what
    kind of metric it is for the report (:data:`METRIC_KINDS`; only ``health`` metrics get verdicts,
    in their ``direction``, one of :data:`METRIC_DIRECTIONS`)."""

    metric: str
    title: str = ""
    unit: str = ""
    warn: float | None = None
    critical: float | None = None
    kind: str = ""
    direction: str = ""
    min_change: float | None = None
    """For a health metric: the smallest change that matters, in its unit (one session, one second;
    see :func:`migtui.report.verdicts.judge`)."""

    def __post_init__(self) -> None:
        if self.kind and self.kind not in METRIC_KINDS:
            raise ValueError(f"metric {self.metric!r}: kind must be one of {', '.join(METRIC_KINDS)}, got {self.kind!r}")
        if self.direction and self.direction not in METRIC_DIRECTIONS:
            raise ValueError(f"metric {self.metric!r}: direction must be one of {', '.join(METRIC_DIRECTIONS)}, "
                             f"got {self.direction!r}")


METRIC_KINDS = ("health", "progress", "state", "counter")
"""health: latency, errors, throughput, load, lock waits, lag (gets a verdict against the baseline);
progress: rows done, percent, step, ETA; state: a flag, a rollout weight, a phase; counter: a
cumulative count. The last three are shown as timelines, never judged."""
METRIC_DIRECTIONS = ("higher_is_worse", "lower_is_worse", "either")


TABLE_RENDERS = ("table", "tree", "progress", "wrap")
"""How a panel draws a table: rows and columns, the blocking tree (rows with ``pid`` and
``blocked_by``; k/t act on the selected backend), progress bars with percentage and ETA, or rows and
columns whose text cells wrap onto more lines instead of ending in "…" (``wrap``)."""


@dataclass(frozen=True, slots=True)
class TableSpec:
    """How a panel shows one table snapshot (or a metrics query's rows): heading, drawing, columns."""

    name: str
    title: str = ""
    render: str = "table"
    columns: Sequence[str] = ()
    """The columns to show, in order (those the snapshot has); empty: the first ten."""

    @property
    def heading(self) -> str:
        return self.title or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True, slots=True)
class PanelSpec:
    """A plugin's description of its panel, as data. The TUI draws it; plugins never get the UI.

    ``kind`` is the migration type: schema, data, api, deployment, flags, ab. A table given by
    name alone is a plain table headed by its name.
    """

    kind: str
    title: str
    metrics: Sequence[MetricSpec] = ()
    tables: Sequence[str | TableSpec] = ()
    source: str = ""

    @property
    def table_specs(self) -> tuple[TableSpec, ...]:
        return tuple(t if isinstance(t, TableSpec) else TableSpec(t) for t in self.tables)


@dataclass(slots=True)
class ActionResult:
    """What an action did: ``ok`` and a short ``message``, captured ``output``, extra ``data``."""

    ok: bool
    message: str
    output: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False
