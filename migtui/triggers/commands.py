"""What an operator does to the run's triggers, from the cockpit's keys or ``migtui ctl``: acknowledge
a trigger (its alerts stop repeating), silence and unsilence a trigger, an action level or ``all``, and
list the silences in force. Each command runs on the engine thread and is recorded as a ``trigger``
event (who, what); an error is one line (:class:`~migtui.errors.MigtuiError`).
"""

from __future__ import annotations

import concurrent.futures
from typing import Any

from migtui.errors import MigtuiError
from migtui.model import Event

COMMAND_WAIT = 10.0
"""How long an operator command waits for the engine thread to take it."""


def trigger_runtime(engine: Any) -> Any:
    """The run's trigger runtime (``engine.parts.triggers``), or MigtuiError while it is not built."""
    if engine.parts is None:
        raise MigtuiError("triggers are not loaded in this watch (the run is still being built)")
    return engine.parts.triggers


def _on_engine(engine: Any, what: str, fn: Any) -> Any:
    try:
        return engine.call(fn, timeout=COMMAND_WAIT)
    except concurrent.futures.TimeoutError:
        raise MigtuiError(f"{what}: the engine did not take the command within {COMMAND_WAIT:g}s "
                          "(a slow tick?); try again") from None


def acknowledge_trigger(engine: Any, name: str, who: str) -> Event:
    """Acknowledge a firing / pending / inconclusive trigger on the engine thread (its alerts stop
    repeating). Returns the audit event; MigtuiError (one line) when there is no such trigger or it
    is not firing."""
    runtime = trigger_runtime(engine)
    return _on_engine(engine, "acknowledge", lambda: runtime.acknowledge(name, who))


def silence_triggers(engine: Any, target: str, seconds: float, who: str) -> Event:
    """Silence a trigger, an action level (warn | pause | rollback) or ``all`` for ``seconds``: the
    triggers keep their state but neither act nor alert. Returns the audit event."""
    runtime = trigger_runtime(engine)
    return _on_engine(engine, "silence", lambda: runtime.silence(target, float(seconds), who))


def unsilence_triggers(engine: Any, target: str, who: str) -> Event:
    """Lift the silence of ``target`` (as it was silenced: a trigger, a level or ``all``)."""
    runtime = trigger_runtime(engine)
    return _on_engine(engine, "unsilence", lambda: runtime.unsilence(target, who))


def active_silences(engine: Any, now: float | None = None) -> list[dict[str, Any]]:
    """The silences in force: ``[{"target", "until", "who", "triggers"}]``, soonest to end first.
    Cheap and safe from any thread (the trigger engine returns a copy)."""
    if engine.parts is None:
        return []
    return engine.parts.triggers.silences(now)
