"""The engine's commands (phase, actions, baseline, notes) and its read-only views."""

from __future__ import annotations

from typing import Any

from migtui.engine.frame import latest_points, max_value
from migtui.engine.state import Series, SourceState
from migtui.errors import ActionError, MigtuiError
from migtui.model import Event, Level, Phase


class Commands:
    """Mixed into :class:`migtui.engine.Engine`. Commands run on the engine thread (``self.call``)."""

    def set_phase(self, phase: Phase | str, *, who: str = "operator", why: str = "") -> Event | None:
        """Switch the run's phase (baseline -> migration -> post); an event records who and why."""
        new = Phase(phase)

        def do() -> Event | None:
            if new == self.phase:
                return None
            old = self.phase
            self.phase = new
            ev = self.emit(Event("phase", new.value, f"phase {old.value} -> {new.value}" + (f" ({why})" if why else ""),
                                 Level.INFO, {"from": old.value, "to": new.value, "who": who, "why": why}))
            if self.parts is not None:
                self.parts.phase_changed(old, new)
            return ev

        return self.call(do)

    def request_action(self, verb: str, *, who: str = "operator", why: str = "", confirmed: bool = False,
                       dry_run: bool | None = None, target: dict[str, Any] | None = None, announce: Any = None) -> Any:
        """Ask the action runner to run every action configured for ``verb`` (pause, resume,
        rollback, or cancel/terminate with a ``target`` pid). Returns a Future of the results;
        raises ActionError when no action is configured."""
        if self.parts is None:
            raise ActionError(f"no actions are available for {verb!r} (the run is still being built)")
        return self.parts.actions.request(verb, who=who, why=why, confirmed=confirmed, dry_run=dry_run, target=target or {},
                                          announce=announce)

    def describe_actions(self, verb: str, target: dict[str, Any] | None = None) -> list[str]:
        """Exactly what ``verb`` would run, one line per configured action (for confirmations)."""
        return self.parts.actions.describe(verb, target=target or {}) if self.parts is not None else []

    def pause(self, who: str = "operator", why: str = "") -> Any:
        return self.request_action("pause", who=who, why=why, confirmed=True)

    def resume(self, who: str = "operator", why: str = "") -> Any:
        return self.request_action("resume", who=who, why=why, confirmed=True)

    def rollback(self, who: str = "operator", why: str = "", *, confirmed: bool = False) -> Any:
        return self.request_action("rollback", who=who, why=why, confirmed=confirmed)

    def capture_baseline(self, who: str = "operator") -> Any:
        """Compute and store baseline statistics from this run's baseline phase so far."""
        if self.parts is None:
            raise MigtuiError("baseline statistics are not available")
        keeper = self.parts.baseline
        return self.call(lambda: keeper.capture(who=who))

    def note(self, message: str, *, who: str = "operator") -> Event:
        return self.call(lambda: self.emit(Event("note", who, message, Level.INFO, {"who": who})))

    # ------------------------------------------------------------------ views

    def latest(self, metric: str, labels: dict[str, str] | None = None) -> list[tuple[Series, float, float]]:
        """Like :meth:`Frame.latest <migtui.engine.frame.Frame.latest>`, over the live series (their points
        keep growing); for tests and tools, the front ends read the frame."""
        return latest_points(list(self.series.values()), metric, labels)

    def value(self, metric: str, labels: dict[str, str] | None = None) -> float:
        """Max of the latest values of a metric (NaN when there is none)."""
        return max_value(self.latest(metric, labels))

    def source_status(self) -> list[SourceState]:
        return list(self.sources.values())
