"""Triggers: the rules that decide, every tick, whether the migration is healthy.

A trigger watches one metric (optionally narrowed by source and labels), compares it with an
absolute limit or with the baseline, and when the condition holds long enough it *fires* and asks
for its action: ``warn`` (alert only), ``pause`` or ``rollback``.

This module is pure: no I/O, no threads, no clock of its own. The engine calls
:meth:`TriggerEngine.evaluate` every tick with the current time and a read-only
:class:`MetricView`; every state change comes back as a :class:`Transition` (which the engine turns
into an ``Event`` with :meth:`Transition.event`) and a requested action rides on the transition that
caused it.

States: ``ok -> pending -> firing -> resolved``, plus ``inconclusive`` (no data, NaN, stale samples,
collector errors, missing baseline) which by default alerts at ``warn`` level: never a silent pass.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, Protocol, Sequence

from migtui.config import CDict, Field, Schema, _join, _type_name, error_at, validate
from migtui.errors import MigtuiError
from migtui.model import Event, Level, Phase, Sample, format_labels, labels_key

ACTIONS = ("warn", "pause", "rollback")
POLICIES = ("ok", "inconclusive", "warn", "pause", "rollback", "fire")
STATS = ("mean", "min", "p50", "p95", "p99", "max")
AGGREGATES = ("worst", "max", "min", "avg", "sum")
STATES = ("ok", "pending", "firing", "resolved", "inconclusive")

DEFAULT_MAX_AGE = 60.0
DEFAULT_BASELINE_MIN_SAMPLES = 10


# --------------------------------------------------------------------------- what the engine provides


@dataclass(frozen=True)
class BaselineStats:
    """Statistics of one series over a baseline (see :mod:`migtui.baseline`)."""

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
    collector's result; ``set_baselines`` takes the dict from :func:`migtui.baseline.load_baselines`
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


# --------------------------------------------------------------------------- the rules


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
        f = fmt or _num
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

    @property
    def level(self) -> Level:
        return Level(self.action)

    @property
    def relative(self) -> bool:
        return self.basis != "value"

    def threshold_text(self) -> str:
        c = self.condition
        if self.basis == "value":
            return c.text()
        if self.basis == "ratio":
            return c.text(lambda v: f"{_num(v)}x baseline {self.stat}")
        if self.basis == "delta":
            return c.text(lambda v: f"baseline {self.stat} {'+' if v >= 0 else '-'} {_num(abs(v))}")
        return "z " + c.text()

    def describe(self) -> str:
        sel = format_labels(self.labels)
        src = f"{self.source}:" if self.source else ""
        return f"{src}{self.metric}{sel} {self.threshold_text()} -> {self.action}"


def _num(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:.6g}"
    return str(v)


# --------------------------------------------------------------------------- parsing (config converter)


def _window(value: Any, parent: Any, key: Any, path: str) -> tuple[int, int]:
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+)\s*(?:of|/)\s*(\d+)\s*", value)
        if not m:
            raise error_at(parent, key, path, f"expected {{m: 3, n: 5}} or '3 of 5', got {value!r}")
        m_, n_ = int(m.group(1)), int(m.group(2))
    elif isinstance(value, dict):
        out = validate(Schema({"m": Field("int", required=True, minimum=1, doc="how many must be bad"),
                               "n": Field("int", required=True, minimum=1, doc="of the last n observations")}),
                       value, path)
        m_, n_ = out["m"], out["n"]
    else:
        raise error_at(parent, key, path, f"expected {{m: 3, n: 5}} or '3 of 5', got {_type_name(value)}")
    if m_ < 1 or m_ > n_:
        raise error_at(parent, key, path, f"m must be between 1 and n, got {m_} of {n_}")
    return m_, n_


def _range(value: Any, parent: Any, key: Any, path: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise error_at(parent, key, path, f"expected a range [low, high], got {value!r}")
    nums = []
    for i, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise error_at(value, i, _join(path, i), f"expected a number, got {v!r}")
        nums.append(float(v))
    if nums[0] > nums[1]:
        raise error_at(parent, key, path, f"low must not be above high, got [{_num(nums[0])}, {_num(nums[1])}]")
    return nums[0], nums[1]


def _clear(value: Any, parent: Any, key: Any, path: str) -> Any:
    if isinstance(value, list):
        return _range(value, parent, key, path)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise error_at(parent, key, path, f"expected a number (or [low, high] for outside), got {value!r}")
    return float(value)


_CONDITION_FIELDS = {
    "above": Field("number", doc="bad when the value is above this"),
    "below": Field("number", doc="bad when the value is below this"),
    "outside": Field(_range, doc="bad when the value is outside [low, high]"),
    "clear": Field(_clear, doc="hysteresis: once firing, good again only past this"),
}

_RELATIVE_SCHEMAS = {
    "ratio_to_baseline": Schema({
        "stat": Field("str", default="mean", choices=STATS, doc="baseline statistic to compare with"),
        **_CONDITION_FIELDS,
    }, doc="value / baseline stat"),
    "delta_to_baseline": Schema({
        "stat": Field("str", default="mean", choices=STATS, doc="baseline statistic to compare with"),
        **_CONDITION_FIELDS,
    }, doc="value - baseline stat"),
    "zscore": Schema({
        "min_stddev": Field("number", default=0.0, minimum=0, doc="floor for the baseline stddev"),
        **_CONDITION_FIELDS,
    }, doc="(value - baseline mean) / baseline stddev"),
}

_POLICY = dict(choices=POLICIES)

TRIGGER_SCHEMA = Schema({
    "name": Field("str", doc="unique name (default: action:metric{labels})"),
    "description": Field("str", default="", doc="shown in alerts"),
    "metric": Field("str", required=True, doc="exact metric name; a trailing * matches a prefix"),
    "source": Field("str", doc="only samples of this source (collector name)"),
    "labels": Field("dict", items="str", default=dict, doc="label selector: every label must match"),
    "threshold": Field("number", doc="the same as above"),
    "above": _CONDITION_FIELDS["above"],
    "below": _CONDITION_FIELDS["below"],
    "outside": _CONDITION_FIELDS["outside"],
    "clear": _CONDITION_FIELDS["clear"],
    "ratio_to_baseline": Field(_RELATIVE_SCHEMAS["ratio_to_baseline"]),
    "delta_to_baseline": Field(_RELATIVE_SCHEMAS["delta_to_baseline"]),
    "zscore": Field(_RELATIVE_SCHEMAS["zscore"]),
    "action": Field("str", default="warn", choices=ACTIONS, doc="what firing asks for"),
    "for": Field("duration", default=0.0, doc="the condition must hold this long before firing"),
    "keep_firing_for": Field("duration", default=0.0, doc="stay firing this long after it stops holding"),
    "window": Field(_window, doc="M-of-N: fire when m of the last n observations are bad"),
    "aggregate": Field("str", default="worst", choices=AGGREGATES, doc="across matching series"),
    "no_data": Field("str", default="inconclusive", **_POLICY),
    "nan": Field("str", default="inconclusive", **_POLICY),
    "stale": Field("str", default="inconclusive", **_POLICY),
    "on_error": Field("str", default="inconclusive", **_POLICY),
    "max_age": Field("duration", doc="samples older than this are stale"),
    "error_limit": Field("int", default=1, minimum=1, doc="consecutive collector errors before on_error applies"),
    "min_samples": Field("int", minimum=1, doc="fewer samples (baseline for relative rules) -> no_data"),
    "dry_run": Field("bool", default=False, doc="evaluate and record, never act or alert"),
    "confirm": Field("bool", doc="override whether the action needs an operator's confirmation"),
}, doc="A trigger rule.")

_DEFAULTS_SCHEMA = Schema({k: replace(f, required=False) for k, f in TRIGGER_SCHEMA.fields.items()
                           if k not in ("name", "metric", "description")})

_ABSOLUTE_KEYS = ("threshold", "above", "below", "outside")


def _condition_from(block: Mapping[str, Any], node: Any, path: str, keys: Sequence[str],
                    what: str) -> Condition:
    present = [k for k in keys if block.get(k) is not None]
    if not present:
        raise error_at(node, None, path, f"needs a condition: one of {', '.join(keys)}")
    if len(present) > 1:
        k2 = present[1]
        raise error_at(node, k2, _join(path, k2),
                       f"only one of {', '.join(keys)} per {what} (use outside: [low, high] for a range)")
    k = present[0]
    clear = block.get("clear")
    if k in ("threshold", "above"):
        cond = Condition("above", float(block[k]), clear=clear)
        if clear is not None and (isinstance(clear, tuple) or clear > cond.lo):
            raise error_at(node, "clear", _join(path, "clear"),
                           f"for an 'above' condition clear must be a number at or below {_num(cond.lo)}")
    elif k == "below":
        cond = Condition("below", float(block[k]), clear=clear)
        if clear is not None and (isinstance(clear, tuple) or clear < cond.lo):
            raise error_at(node, "clear", _join(path, "clear"),
                           f"for a 'below' condition clear must be a number at or above {_num(cond.lo)}")
    else:
        lo, hi = block[k]
        cond = Condition("outside", lo, hi, clear=clear)
        if clear is not None and (not isinstance(clear, tuple) or clear[0] < lo or clear[1] > hi):
            raise error_at(node, "clear", _join(path, "clear"),
                           f"for an 'outside' condition clear must be a range inside [{_num(lo)}, {_num(hi)}]")
    return cond


def _spec_from(out: dict[str, Any], node: Any, path: str) -> TriggerSpec:
    relative = [k for k in _RELATIVE_SCHEMAS if out.get(k) is not None]
    absolute = [k for k in _ABSOLUTE_KEYS if out.get(k) is not None]
    if relative and absolute:
        raise error_at(node, relative[0], _join(path, relative[0]),
                       f"a trigger has one condition: {absolute[0]} or {relative[0]}, not both")
    if len(relative) > 1:
        raise error_at(node, relative[1], _join(path, relative[1]), f"a trigger has one condition; "
                       f"{relative[0]} and {relative[1]} need two triggers")
    basis, stat, min_stddev = "value", None, 0.0
    if relative:
        k = relative[0]
        block = out[k]
        sub = node.get(k) if isinstance(node, dict) else None
        if out.get("clear") is not None:
            raise error_at(node, "clear", _join(path, "clear"), f"put clear inside {k} (same units as its limit)")
        cond = _condition_from(block, sub if sub is not None else node, _join(path, k),
                               ("above", "below", "outside"), k)
        basis = {"ratio_to_baseline": "ratio", "delta_to_baseline": "delta", "zscore": "zscore"}[k]
        stat = block.get("stat")
        min_stddev = float(block.get("min_stddev") or 0.0)
    else:
        if not absolute:
            raise error_at(node, None, path, "needs a condition: threshold, above, below, outside, "
                           "ratio_to_baseline, delta_to_baseline or zscore")
        cond = _condition_from(out, node, path, _ABSOLUTE_KEYS, "trigger")
    name = out.get("name") or f"{out['action']}:{out['metric']}{format_labels(out['labels'])}"
    return TriggerSpec(
        name=name, metric=out["metric"], condition=cond, action=out["action"], basis=basis, stat=stat,
        min_stddev=min_stddev, source=out.get("source"), labels=dict(out["labels"] or {}),
        aggregate=out["aggregate"], for_=float(out["for"]), keep_firing_for=float(out["keep_firing_for"]),
        window=out.get("window"), no_data=out["no_data"], nan=out["nan"], stale=out["stale"],
        on_error=out["on_error"], max_age=out.get("max_age"), error_limit=out["error_limit"],
        min_samples=out.get("min_samples"), dry_run=bool(out["dry_run"]), confirm=out.get("confirm"),
        description=out.get("description") or "", path=path)


def parse_triggers(value: Any, parent: Any, key: Any, path: str) -> list[TriggerSpec]:
    """Config converter for ``triggers:`` (see :data:`migtui.config.CONFIG_SCHEMA`).

    ``trigger_defaults:`` (a sibling key of ``parent``) is merged under every trigger.
    """
    if not isinstance(value, list):
        raise error_at(parent, key, path, f"expected a list of triggers, got {_type_name(value)}")
    defaults_raw = parent.get("trigger_defaults") if isinstance(parent, dict) else None
    if defaults_raw is not None:
        validate(_DEFAULTS_SCHEMA, defaults_raw, "trigger_defaults")  # errors point at the defaults
    specs: list[TriggerSpec] = []
    names: dict[str, int] = {}
    for i, item in enumerate(value):
        ipath = _join(path, i)
        if not isinstance(item, dict):
            raise error_at(value, i, ipath, f"expected a mapping with a metric and a condition, got {_type_name(item)}")
        node = item
        if defaults_raw:
            node = CDict({**{k: v for k, v in defaults_raw.items() if k not in item}, **item})
            node.file, node.line = getattr(item, "file", None), getattr(item, "line", None)
            node.key_lines = {**{k: getattr(item, "line", None) for k in defaults_raw},
                              **getattr(item, "key_lines", {})}
        out = validate(TRIGGER_SCHEMA, node, ipath)
        spec = _spec_from(out, node, ipath)
        if spec.name in names:
            if item.get("name"):
                raise error_at(item, "name", _join(ipath, "name"),
                               f"duplicate trigger name {spec.name!r} (also triggers[{names[spec.name]}])")
            n = 2
            while f"{spec.name}#{n}" in names:
                n += 1
            spec = replace(spec, name=f"{spec.name}#{n}")
        names[spec.name] = i
        specs.append(spec)
    return specs


parse_triggers.schema = TRIGGER_SCHEMA  # type: ignore[attr-defined] # the config reference shows it


# --------------------------------------------------------------------------- results


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
            shown = _num(self.value)
            if spec.basis == "ratio" and self.score is not None:
                shown += f" ({_num(self.score)}x baseline {spec.stat})"
            elif spec.basis == "zscore" and self.score is not None:
                shown += f" (z = {_num(self.score)})"
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
        return _num(v)
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

    def as_dict(self) -> dict[str, Any]:
        return {k: (_json_num(v) if k == "value" else v) for k, v in self.__dict__.items()}


# --------------------------------------------------------------------------- the state machine


@dataclass
class _Obs:
    kind: str  # value | policy | wait
    value: float | None = None
    score: float | None = None
    ts: float | None = None
    reason: str = ""
    policy: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    source: str = ""
    code: str = ""  # error | no_data | stale | nan | baseline (why a policy applies)


@dataclass
class _State:
    spec: TriggerSpec
    state: str = "ok"
    since: float = 0.0
    value: float | None = None
    score: float | None = None
    reason: str = ""
    level: Level = Level.INFO  # effective level while firing/inconclusive
    last_met: float | None = None
    acted: Level | None = None  # strongest action already requested in this episode
    acked_by: str = ""
    window: list[tuple[float, float]] = field(default_factory=list)  # (ts, score)
    was_firing: bool = False
    code: str = ""


class TriggerEngine:
    """Evaluates trigger specs every tick; pure (no I/O, the clock is the ``now`` you pass)."""

    def __init__(self, specs: Sequence[TriggerSpec], *, default_max_age: float = DEFAULT_MAX_AGE,
                 no_data_grace: float | None = None) -> None:
        self.specs = list(specs)
        self.default_max_age = default_max_age
        self.no_data_grace = default_max_age if no_data_grace is None else no_data_grace
        self._states: dict[str, _State] = {s.name: _State(s) for s in self.specs}
        self._silences: dict[str, tuple[float, str]] = {}  # target -> (until, who)
        self._started: float | None = None

    # -- operator commands

    def _find(self, name: str) -> _State:
        st = self._states.get(name)
        if st is None:
            known = ", ".join(self._states) or "none"
            raise MigtuiError(f"no trigger named {name!r}; triggers: {known}")
        return st

    def acknowledge(self, name: str, who: str, *, now: float, run: str = "",
                    phase: Phase | str = Phase.MIGRATION) -> Event:
        """Acknowledge a firing (or pending / inconclusive) trigger: alerts stop repeating."""
        st = self._find(name)
        if st.state not in ("firing", "pending", "inconclusive"):
            raise MigtuiError(f"trigger {name!r} is {st.state}; only a firing trigger can be acknowledged")
        st.acked_by = who
        return Event(kind="trigger", subject=name, level=Level.INFO, ts=now, run=run, phase=Phase(phase),
                     message=f"{name}: acknowledged by {who}",
                     data={"op": "ack", "who": who, "state": st.state})

    def silence(self, target: str, seconds: float, who: str, *, now: float, run: str = "",
                phase: Phase | str = Phase.MIGRATION) -> Event:
        """Silence a trigger by name, every trigger of one action level (warn | pause | rollback),
        or ``all``, for ``seconds``. Silenced triggers keep their state but request no action/alert."""
        if target not in self._states and target not in ACTIONS and target not in ("all", "*"):
            known = ", ".join([*self._states, *ACTIONS, "all"])
            raise MigtuiError(f"cannot silence {target!r}: not a trigger or action level; choose one of {known}")
        if seconds <= 0:
            raise MigtuiError("a silence needs a positive duration")
        target = "all" if target == "*" else target
        until = now + seconds
        self._silences[target] = (until, who)
        names = [s.name for s in self.specs if self._matches(target, s)]
        return Event(kind="trigger", subject=target, level=Level.INFO, ts=now, run=run, phase=Phase(phase),
                     message=f"silenced {target} for {_num(float(seconds))}s by {who} (until {_iso(until)})",
                     data={"op": "silence", "target": target, "until": until, "who": who, "triggers": names})

    def unsilence(self, target: str, who: str, *, now: float, run: str = "",
                  phase: Phase | str = Phase.MIGRATION) -> Event:
        target = "all" if target == "*" else target
        if target not in self._silences:
            raise MigtuiError(f"{target!r} is not silenced")
        del self._silences[target]
        names = [s.name for s in self.specs if self._matches(target, s)]
        return Event(kind="trigger", subject=target, level=Level.INFO, ts=now, run=run, phase=Phase(phase),
                     message=f"silence of {target} lifted by {who}",
                     data={"op": "unsilence", "target": target, "who": who, "triggers": names})

    @staticmethod
    def _matches(target: str, spec: TriggerSpec) -> bool:
        return target == "all" or target == spec.name or target == spec.action

    def silences(self, now: float) -> list[dict[str, Any]]:
        """The silences in force at ``now``: ``[{"target", "until", "who", "triggers"}]``, soonest
        to end first (a copy: safe to read from another thread)."""
        out = [{"target": target, "until": until, "who": who,
                "triggers": [s.name for s in self.specs if self._matches(target, s)]}
               for target, (until, who) in list(self._silences.items()) if until > now]
        return sorted(out, key=lambda s: (s["until"], s["target"]))

    def silenced_until(self, spec: TriggerSpec, now: float) -> tuple[float, str] | None:
        best: tuple[float, str] | None = None
        for target, (until, who) in self._silences.items():
            if until > now and self._matches(target, spec) and (best is None or until > best[0]):
                best = (until, who)
        return best

    # -- status and restore

    def status(self, now: float | None = None) -> list[TriggerStatus]:
        rows = []
        for spec in self.specs:
            st = self._states[spec.name]
            sil = self.silenced_until(spec, now) if now is not None else self._any_silence(spec)
            rows.append(TriggerStatus(
                name=spec.name, state=st.state, since=st.since, value=st.value,
                threshold=spec.threshold_text(), action=spec.action,
                level=st.level.value if st.state in ("firing", "inconclusive") else "info",
                reason=st.reason, silenced_until=sil[0] if sil else None, silenced_by=sil[1] if sil else "",
                acked_by=st.acked_by, dry_run=spec.dry_run, metric=spec.metric))
        return rows

    def _any_silence(self, spec: TriggerSpec) -> tuple[float, str] | None:
        cands = [(u, w) for t, (u, w) in self._silences.items() if self._matches(t, spec)]
        return max(cands) if cands else None

    def restore(self, events: Iterable[Event | Mapping[str, Any]], *, now: float | None = None) -> int:
        """Resume states, acks and silences from the ``trigger`` events of a previous watch.

        Accepts :class:`Event` objects or dicts with ``kind``, ``subject``, ``ts`` (float seconds or
        datetime) and ``data``. Returns how many triggers were restored to a non-ok state.
        """
        rows = []
        for ev in events:
            kind, subject, ts, data = _event_fields(ev)
            if kind == "trigger" and isinstance(data, dict):
                rows.append((ts, subject, data))
        rows.sort(key=lambda r: r[0])
        for ts, subject, data in rows:
            op = data.get("op")
            if op == "silence":
                self._silences[str(data.get("target"))] = (float(data.get("until") or 0), str(data.get("who", "")))
            elif op == "unsilence":
                self._silences.pop(str(data.get("target")), None)
            elif op == "ack":
                st = self._states.get(subject)
                if st is not None:
                    st.acked_by = str(data.get("who", ""))
            elif "state" in data and subject in self._states:
                st = self._states[subject]
                state = data["state"]
                if state not in STATES:
                    continue
                if state != st.state:
                    st.since = float(data.get("since") or ts)
                st.state = state
                st.value = _restore_num(data.get("value"))
                st.reason = str(data.get("reason") or "")
                try:
                    st.level = Level(data.get("level") or "info")
                except ValueError:
                    st.level = Level.INFO
                acted = data.get("acted")
                st.acted = Level(acted) if acted in ACTIONS else None
                if state in ("firing", "inconclusive"):
                    st.was_firing = st.was_firing or state == "firing"
                    if state == "firing":
                        st.last_met = ts
                else:
                    st.acked_by = ""
                    if state in ("ok", "resolved"):
                        st.was_firing = False
        if now is not None:
            self._silences = {t: v for t, v in self._silences.items() if v[0] > now}
        return sum(1 for st in self._states.values() if st.state not in ("ok", "resolved"))

    # -- evaluation

    def evaluate(self, now: float, view: MetricView) -> list[Transition]:
        """One tick: observe every trigger, advance its state machine, pick the action to request."""
        if self._started is None:
            self._started = now
        out: list[Transition] = []
        by_name: dict[str, Transition] = {}
        for spec in self.specs:
            st = self._states[spec.name]
            obs = self._observe(spec, now, view)
            tr = self._step(st, obs, now)
            if tr is not None:
                out.append(tr)
                by_name[spec.name] = tr
        self._request_actions(now, out, by_name)
        return out

    def _observe(self, spec: TriggerSpec, now: float, view: MetricView) -> _Obs:
        samples = [s for s in view.latest(spec.metric)
                   if (spec.source is None or s.source == spec.source)
                   and all(s.labels.get(k) == v for k, v in spec.labels.items())]
        # collector errors first: they explain missing or old data
        sources = [spec.source] if spec.source else sorted({s.source for s in samples})
        for src in sources:
            status = view.source_status(src)
            if status is not None and not status.ok and status.consecutive_errors >= spec.error_limit:
                return _Obs("policy", policy=spec.on_error, source=src, code="error",
                            reason=f"source {src} failing: {status.error or 'error'}")
        if not samples:
            if self._started is not None and now - self._started < self.no_data_grace:
                return _Obs("wait", reason="waiting for data")
            return _Obs("policy", policy=spec.no_data, reason="no data", code="no_data")
        max_age = spec.max_age if spec.max_age is not None else self.default_max_age
        fresh = [s for s in samples if now - s.ts <= max_age]
        if not fresh:
            newest = max(s.ts for s in samples)
            return _Obs("policy", policy=spec.stale, code="stale", reason=f"stale: newest sample {_num(now - newest)}s old "
                        f"(max_age {_num(max_age)}s)")
        numeric = [s for s in fresh if not (isinstance(s.value, float) and math.isnan(s.value))]
        if not numeric:
            return _Obs("policy", policy=spec.nan, reason="value is NaN", code="nan")
        scored: list[tuple[float, Sample]] = []
        missing: str = ""
        for s in numeric:
            score, why = self._score(spec, s, view)
            if score is None:
                missing = missing or why
                continue
            scored.append((score, s))
        if not scored:
            return _Obs("policy", policy=spec.no_data, reason=missing or "no data", code="baseline")
        if spec.min_samples and not spec.relative:
            enough = [(sc, s) for sc, s in scored
                      if len(view.recent(s.source, s.metric, s.labels)) >= spec.min_samples]
            if not enough:
                return _Obs("policy", policy=spec.no_data, code="no_data",
                            reason=f"fewer than {spec.min_samples} samples so far")
            scored = enough
        score, sample = self._aggregate(spec, scored)
        ts = max(s.ts for _, s in scored)
        value = sample.value if sample is not None else score
        labels = dict(sample.labels) if sample is not None else {}
        src = sample.source if sample is not None else ""
        return _Obs("value", value=value, score=score, ts=ts, labels=labels, source=src)

    @staticmethod
    def _score(spec: TriggerSpec, s: Sample, view: MetricView) -> tuple[float | None, str]:
        v = float(s.value)
        if spec.basis == "value":
            return v, ""
        b = view.baseline(s.source, s.metric, s.labels)
        need = spec.min_samples or DEFAULT_BASELINE_MIN_SAMPLES
        if b is None:
            return None, "no baseline"
        if b.n < need:
            return None, f"baseline has {b.n} samples (min_samples {need})"
        if spec.basis == "zscore":
            if b.mean is None:
                return None, "no baseline"
            sd = max(b.stddev or 0.0, spec.min_stddev)
            diff = v - b.mean
            if sd == 0:
                return (0.0 if diff == 0 else math.copysign(math.inf, diff)), ""
            return diff / sd, ""
        ref = b.stat(spec.stat or "mean")
        if ref is None:
            return None, f"baseline {spec.stat} unknown"
        if spec.basis == "delta":
            return v - ref, ""
        if ref == 0:
            return (1.0 if v == 0 else math.copysign(math.inf, v)), ""
        return v / ref, ""

    @staticmethod
    def _aggregate(spec: TriggerSpec, scored: list[tuple[float, Sample]]) -> tuple[float, Sample | None]:
        agg = spec.aggregate
        if len(scored) == 1:
            return scored[0]
        if agg == "worst":
            return max(scored, key=lambda p: spec.condition.badness(p[0]))
        if agg == "max":
            return max(scored, key=lambda p: p[0])
        if agg == "min":
            return min(scored, key=lambda p: p[0])
        total = math.fsum(p[0] for p in scored)
        return (total / len(scored) if agg == "avg" else total), None

    def _step(self, st: _State, obs: _Obs, now: float) -> Transition | None:
        spec = st.spec
        if obs.kind == "wait":
            st.reason = obs.reason
            return None
        outcome = "not_met"
        level = spec.level
        if obs.kind == "policy":
            pol = obs.policy
            st.value, st.score = None, None
            if pol == "ok":
                outcome = "not_met"
            elif pol == "fire":
                outcome = "met"
            else:
                outcome = "inconclusive"
                level = Level.WARN if pol == "inconclusive" else Level(pol)
        else:
            st.value, st.score = obs.value, obs.score
            assert obs.score is not None and obs.ts is not None
            if not st.window or st.window[-1][0] != obs.ts:
                st.window.append((obs.ts, obs.score))
                n = spec.window[1] if spec.window else 1
                if len(st.window) > n:
                    del st.window[: len(st.window) - n]
            test = spec.condition.held if st.state == "firing" else spec.condition.met
            if spec.window:
                m, _n = spec.window
                bad = sum(1 for _, sc in st.window if test(sc)) >= m
            else:
                bad = test(obs.score)
            outcome = "met" if bad else "not_met"

        prev = st.state
        new = prev
        reason = obs.reason
        keep = (prev == "firing" and spec.keep_firing_for > 0 and st.last_met is not None
                and now - st.last_met < spec.keep_firing_for)
        if outcome == "met":
            st.last_met = now
            if prev in ("ok", "resolved", "inconclusive"):
                new = "pending" if spec.for_ > 0 else "firing"
            elif prev == "pending" and now - st.since >= spec.for_:
                new = "firing"
        elif outcome == "not_met":
            if prev == "pending":
                new = "ok"
            elif prev == "firing":
                if keep:
                    reason = f"keep_firing_for {_num(spec.keep_firing_for)}s"
                else:
                    new = "resolved"
            elif prev == "inconclusive":
                new = "resolved" if st.was_firing else "ok"
        elif not keep:  # inconclusive
            new = "inconclusive"
        st.reason = reason
        code = obs.code if outcome == "inconclusive" else ""
        if new == prev and not (new == "inconclusive" and (st.level != level or st.code != code)):
            return None
        st.code = code
        st.state = new
        st.since = now
        if new == "firing":
            st.was_firing = True
            st.level = spec.level
        elif new == "inconclusive":
            st.level = level
        else:
            st.level = Level.INFO
        if new in ("ok", "resolved"):
            st.acked_by = ""
            st.acted = None
            st.was_firing = False
            if prev == "firing" and spec.window:
                st.window.clear()
        sil = self.silenced_until(spec, now)
        return Transition(
            name=spec.name, prev=prev, state=new, ts=now, spec=spec, value=st.value, score=st.score,
            reason=reason, level=st.level if new in ("firing", "inconclusive") else Level.INFO,
            confirm=spec.confirm, silenced=sil is not None, acked_by=st.acked_by,
            labels=obs.labels, source=obs.source or (spec.source or ""), since=now,
            acted=st.acted.value if st.acted else None)

    def _request_actions(self, now: float, out: list[Transition], by_name: dict[str, Transition]) -> None:
        """Strongest action wins; each trigger asks once per episode (until it resolves)."""
        in_force = 0
        candidates: list[tuple[_State, Level]] = []
        for spec in self.specs:
            st = self._states[spec.name]
            if st.state not in ("firing", "inconclusive") or spec.dry_run:
                continue
            eff = st.level
            if st.acted is not None:
                in_force = max(in_force, st.acted.rank)
            if self.silenced_until(spec, now) is not None:
                continue
            if st.acted is None or eff.rank > st.acted.rank:
                candidates.append((st, eff))
        if not candidates:
            return
        strongest_state, strongest = max(candidates, key=lambda c: c[1].rank)
        for st, eff in candidates:
            st.acted = eff if st.acted is None or eff.rank > st.acted.rank else st.acted
        for tr in out:
            tr.acted = self._states[tr.name].acted.value if self._states[tr.name].acted else None
        if strongest.rank <= in_force:
            return  # an action at least this strong was already requested
        spec = strongest_state.spec
        tr = by_name.get(spec.name)
        if tr is None:  # e.g. its silence expired while it kept firing
            tr = Transition(name=spec.name, prev=strongest_state.state, state=strongest_state.state, ts=now,
                            spec=spec, value=strongest_state.value, score=strongest_state.score,
                            reason="silence expired", level=strongest_state.level, confirm=spec.confirm,
                            acked_by=strongest_state.acked_by, since=strongest_state.since,
                            source=spec.source or "", acted=strongest.value)
            out.append(tr)
        tr.requested = strongest.value
        tr.confirm = spec.confirm


def _iso(ts: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _restore_num(v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _event_fields(ev: Any) -> tuple[str, str, float, Any]:
    if isinstance(ev, Event):
        return ev.kind, ev.subject, float(ev.ts), ev.data
    kind = ev.get("kind", "")
    subject = ev.get("subject", "")
    ts = ev.get("ts", 0.0)
    if hasattr(ts, "timestamp"):
        ts = ts.timestamp()
    data = ev.get("data")
    if isinstance(data, str):
        import json

        try:
            data = json.loads(data)
        except ValueError:
            data = None
    return str(kind), str(subject), float(ts or 0.0), data
