"""Parsing the config's ``triggers:`` and ``trigger_defaults:`` into :class:`TriggerSpec` rules
(the converter :data:`migtui.config.CONFIG_SCHEMA` calls); every error names file, line and key."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Any, Mapping, Sequence

from migtui.schema import CDict, Field, Schema, _join, _type_name, error_at, validate
from migtui.model import format_labels
from migtui.triggers.rules import (ACTIONS, AGGREGATES, DEFAULT_RESUME_AFTER, DEFAULT_STALE_AFTER, POLICIES, STATS,
                                   Condition, TriggerSpec, fmt_num)


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
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise error_at(value, i, _join(path, i), f"expected a finite number, got {v!r}")
        nums.append(float(v))
    if nums[0] > nums[1]:
        raise error_at(parent, key, path, f"low must not be above high, got [{fmt_num(nums[0])}, {fmt_num(nums[1])}]")
    return nums[0], nums[1]


def _clear(value: Any, parent: Any, key: Any, path: str) -> Any:
    if isinstance(value, list):
        return _range(value, parent, key, path)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise error_at(parent, key, path, f"expected a finite number (or [low, high] for outside), got {value!r}")
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
    "ratio_to_baseline": Field(_RELATIVE_SCHEMAS["ratio_to_baseline"],
                               doc="bad when value / a baseline statistic is past a limit"),
    "delta_to_baseline": Field(_RELATIVE_SCHEMAS["delta_to_baseline"],
                               doc="bad when value - a baseline statistic is past a limit"),
    "zscore": Field(_RELATIVE_SCHEMAS["zscore"],
                    doc="bad when (value - baseline mean) / baseline stddev is past a limit"),
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
    "resume_after": Field("duration", default=DEFAULT_RESUME_AFTER, minimum=0,
                          doc="throttle: the condition must be clear this long before migtui resumes by itself"),
    "stale_after": Field("duration", default=DEFAULT_STALE_AFTER,
                         doc="throttle: a signal that cannot be measured this long throttles (fail closed)"),
    "on_stale": Field("str", default="closed", choices=("closed", "open"),
                      doc="throttle: closed throttles while the signal cannot be measured; open does not"),
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
                           f"for an 'above' condition clear must be a number at or below {fmt_num(cond.lo)}")
    elif k == "below":
        cond = Condition("below", float(block[k]), clear=clear)
        if clear is not None and (isinstance(clear, tuple) or clear < cond.lo):
            raise error_at(node, "clear", _join(path, "clear"),
                           f"for a 'below' condition clear must be a number at or above {fmt_num(cond.lo)}")
    else:
        lo, hi = block[k]
        cond = Condition("outside", lo, hi, clear=clear)
        if clear is not None and (not isinstance(clear, tuple) or clear[0] < lo or clear[1] > hi):
            raise error_at(node, "clear", _join(path, "clear"),
                           f"for an 'outside' condition clear must be a range inside [{fmt_num(lo)}, {fmt_num(hi)}]")
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
        description=out.get("description") or "", path=path, resume_after=float(out["resume_after"]),
        stale_after=float(out["stale_after"]), on_stale=out["on_stale"])


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
