"""The rules: a validated trigger (:class:`TriggerSpec`) and its :class:`Condition` (above, below or
outside a limit, with hysteresis), plus the vocabulary the parser and the state machine share."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from migtui.model import Level, format_labels

ACTIONS = ("warn", "pause", "rollback", "throttle")
POLICIES = ("ok", "inconclusive", "warn", "pause", "rollback", "fire")
STATS = ("mean", "min", "p50", "p95", "p99", "max")
AGGREGATES = ("worst", "max", "min", "avg", "sum")
STATES = ("ok", "pending", "firing", "resolved", "inconclusive")

DEFAULT_MAX_AGE = 60.0
DEFAULT_RESUME_AFTER = 10.0
"""A throttle trigger's condition must be clear this long before migtui resumes by itself."""
DEFAULT_STALE_AFTER = 15.0
"""A throttle trigger that cannot measure its signal this long throttles (fail closed)."""
DEFAULT_BASELINE_MIN_SAMPLES = 10


@dataclass(frozen=True)
class Condition:
    """``above`` / ``below`` a limit or ``outside`` a range, with an optional ``clear`` (hysteresis)."""

    op: str  # above | below | outside
    lo: float
    hi: float | None = None
    clear: Any = None  # float for above/below, (lo, hi) for outside

    def met(self, score: float) -> bool:
        if self.op == "above":
            return score > self.lo
        if self.op == "below":
            return score < self.lo
        return score < self.lo or score > (self.hi if self.hi is not None else math.inf)

    def held(self, score: float) -> bool:
        """While firing: does the score still count as bad (it has not crossed ``clear``)?"""
        if self.clear is None:
            return self.met(score)
        if self.op == "above":
            return score > self.clear
        if self.op == "below":
            return score < self.clear
        lo, hi = self.clear
        return score < lo or score > hi

    def badness(self, score: float) -> float:
        """Larger is worse (for the ``worst`` aggregation)."""
        if self.op == "above":
            return score
        if self.op == "below":
            return -score
        return max(self.lo - score, score - (self.hi if self.hi is not None else math.inf))

    def text(self, fmt: Any = None) -> str:
        f = fmt or fmt_num
        if self.op == "above":
            return f"> {f(self.lo)}"
        if self.op == "below":
            return f"< {f(self.lo)}"
        return f"outside [{f(self.lo)}, {f(self.hi)}]"


@dataclass(frozen=True)
class TriggerSpec:
    """One validated trigger rule (from the config's ``triggers:`` list)."""

    name: str
    metric: str
    condition: Condition
    action: str = "warn"
    basis: str = "value"  # value | ratio | zscore | delta
    stat: str | None = None  # baseline statistic for ratio / delta
    min_stddev: float = 0.0
    source: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    aggregate: str = "worst"
    for_: float = 0.0
    keep_firing_for: float = 0.0
    window: tuple[int, int] | None = None
    no_data: str = "inconclusive"
    nan: str = "inconclusive"
    stale: str = "inconclusive"
    on_error: str = "inconclusive"
    max_age: float | None = None
    error_limit: int = 1
    min_samples: int | None = None
    dry_run: bool = False
    confirm: bool | None = None
    description: str = ""
    path: str = ""
    resume_after: float = DEFAULT_RESUME_AFTER
    stale_after: float = DEFAULT_STALE_AFTER
    on_stale: str = "closed"  # closed: throttle when the signal cannot be measured | open: do not

    @property
    def level(self) -> Level:
        return Level.WARN if self.action == "throttle" else Level(self.action)

    @property
    def throttles(self) -> bool:
        """A ``throttle`` trigger: the throttle (``migtui.throttle``) acts on it, never the escalation."""
        return self.action == "throttle"

    def utilization(self, score: float | None) -> float | None:
        """How close the signal is to the limit: score / limit for an ``above`` condition with a
        positive limit (1 = at the limit, above 1 = past it); None for other conditions."""
        c = self.condition
        if score is None or c.op != "above" or c.lo <= 0 or math.isnan(score):
            return None
        return score / c.lo

    @property
    def relative(self) -> bool:
        return self.basis != "value"

    def threshold_text(self) -> str:
        c = self.condition
        if self.basis == "value":
            return c.text()
        if self.basis == "ratio":
            return c.text(lambda v: f"{fmt_num(v)}x baseline {self.stat}")
        if self.basis == "delta":
            return c.text(lambda v: f"baseline {self.stat} {'+' if v >= 0 else '-'} {fmt_num(abs(v))}")
        return "z " + c.text()

    def describe(self) -> str:
        sel = format_labels(self.labels)
        src = f"{self.source}:" if self.source else ""
        return f"{src}{self.metric}{sel} {self.threshold_text()} -> {self.action}"


def fmt_num(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:.6g}"
    return str(v)
