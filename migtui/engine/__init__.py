"""The engine: one per run. Collects, stores, evaluates triggers, alerts and acts.

Both front ends (the Textual cockpit and the headless printer) subscribe to its updates and call
its commands; nothing here imports Textual.

Modules: :mod:`~migtui.engine.loop` (build, tick, run, finish), :mod:`~migtui.engine.polling`
(launching collectors, taking results, source health), :mod:`~migtui.engine.commands` (phase,
actions, baseline, notes, views), :mod:`~migtui.engine.parts` (the run's parts, built explicitly),
:mod:`~migtui.engine.frame` (the immutable frame every front end renders),
:mod:`~migtui.engine.state` (source states, series, updates).

Threads: ``run()`` (or ``start()``) drives ticks on one engine thread. Each collector's ``collect``
runs in that collector's own worker thread under a :class:`~migtui.plugins.Guard` (timeout,
failure count, quarantine), so a slow or hung collector never holds the tick and its polls never
overlap. Commands from other threads (keys, the control socket) are queued and run on the engine
thread; actions run in their own worker thread and report back as events.
"""

from migtui.engine.frame import Frame, SeriesTail, SourceView
from migtui.engine.loop import Engine
from migtui.engine.state import DUE_SLACK, HISTORY, EngineUpdate, Series, SourceState

__all__ = ["DUE_SLACK", "HISTORY", "Engine", "EngineUpdate", "Frame", "Series", "SeriesTail", "SourceState",
           "SourceView"]
