"""Triggers: the rules that decide, every tick, whether the migration is healthy.

A trigger watches one metric (optionally narrowed by source and labels), compares it with an
absolute limit or with the baseline, and when the condition holds long enough it *fires* and asks
for its action: ``warn`` (alert only), ``pause`` or ``rollback``.

States: ``ok -> pending -> firing -> resolved``, plus ``inconclusive`` (no data, NaN, stale samples,
collector errors, missing baseline) which by default alerts at ``warn`` level: never a silent pass.

The package, imports pointing down the list:

- :mod:`~migtui.triggers.commands`: what an operator does to them (acknowledge, silence, unsilence)
  from the cockpit's keys or ``migtui ctl``, on the engine thread.
- :mod:`~migtui.triggers.runtime`: the engine side: evaluates each tick, emits events, hands alerts
  to the dispatcher, requests actions, restores states; captures and loads baselines.
- :mod:`~migtui.triggers.baseline`: baseline statistics in DuckDB and post-vs-baseline comparisons.
- :mod:`~migtui.triggers.machine`: :class:`TriggerEngine`, the pure state machine.
- :mod:`~migtui.triggers.observe`: what one trigger sees at one tick (scoring, aggregation).
- :mod:`~migtui.triggers.transitions`: :class:`Transition` and :class:`TriggerStatus`.
- :mod:`~migtui.triggers.parsing`: the config's ``triggers:`` into :class:`TriggerSpec`.
- :mod:`~migtui.triggers.rules`: :class:`TriggerSpec`, :class:`Condition`, the vocabulary.
- :mod:`~migtui.triggers.view`: :class:`MetricView` (what the engine provides) and an in-memory one.

The pure part (everything but ``commands``, ``runtime`` and ``baseline``) does no I/O and has no clock of its own.
"""

from __future__ import annotations

from migtui.triggers.machine import TriggerEngine
from migtui.triggers.parsing import TRIGGER_SCHEMA, parse_triggers
from migtui.triggers.rules import (ACTIONS, AGGREGATES, DEFAULT_BASELINE_MIN_SAMPLES, DEFAULT_MAX_AGE, POLICIES,
                                   STATES, STATS, Condition, TriggerSpec)
from migtui.triggers.transitions import Transition, TriggerStatus
from migtui.triggers.view import BaselineStats, MemoryMetricView, MetricView, SourceStatus

__all__ = ["ACTIONS", "AGGREGATES", "DEFAULT_BASELINE_MIN_SAMPLES", "DEFAULT_MAX_AGE", "POLICIES", "STATES", "STATS",
           "TRIGGER_SCHEMA", "BaselineStats", "Condition", "MemoryMetricView", "MetricView", "SourceStatus",
           "Transition", "TriggerEngine", "TriggerSpec", "TriggerStatus", "parse_triggers"]
