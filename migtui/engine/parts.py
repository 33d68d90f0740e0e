"""The parts of a run the engine builds explicitly, in this order: the action runner, the baseline
keeper, the trigger runtime (with alert delivery), the throttle, the control socket, then the components plugins
contribute through :func:`migtui.hookspecs.migtui_run_components` (the postgres plugin's
migration-tool awareness and integrity checks).

No registry keyed by module names and no import-order wiring: what a run has is written here.
"""

from __future__ import annotations

import traceback
from typing import Any, Sequence

from migtui.api import RunComponent, RunContext
from migtui.errors import MigtuiError
from migtui.model import Event, Level, Phase, Sample, TableSnapshot
from migtui.redact import redact


class RunParts:
    """Built by the engine after its sources (``engine.parts``): ``actions``, ``baseline``,
    ``triggers``, ``throttle``, ``control`` (None when not served), and the plugin ``components`` by name."""

    def __init__(self, engine: Any) -> None:
        # imported here, not at module import: these modules are heavier than the loop itself
        from migtui.actions import ActionRunner
        from migtui.control import start_control
        from migtui.throttle import Throttle
        from migtui.triggers.runtime import BaselineKeeper, TriggerRuntime

        self.engine = engine
        self.actions = ActionRunner(engine)
        self.baseline = BaselineKeeper(engine)
        self.triggers = TriggerRuntime(engine, self.baseline)
        self.throttle = Throttle(engine, self.triggers, self.actions)
        self.control = start_control(engine)
        self.components: dict[str, RunComponent] = {}
        for plugin, name, factory in engine.host.run_components():
            try:
                component = factory(RunContext(engine, plugin))
            except MigtuiError:
                raise  # a bad config section: one clear error, like any other
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the run
                engine.emit(Event("error", name, f"plugin {plugin!r} failed to build {name}: "
                                  f"{type(exc).__name__}: {redact(exc)}", Level.ERROR, {"plugin": plugin}))
                continue
            if component is not None:
                self.components[name] = component

    def step(self, now: float, samples: Sequence[Sample], snapshots: Sequence[TableSnapshot]) -> None:
        """After every tick and every poll result (engine thread): the pause watch, the triggers on
        what just arrived, then the plugin components."""
        self._guarded("actions", self.actions.on_tick, now, samples, snapshots)
        self._guarded("triggers", self.triggers.on_tick, now, samples, snapshots)
        self._guarded("throttle", self.throttle.on_tick, now, samples, snapshots)
        for name, component in list(self.components.items()):
            self._guarded(name, component.on_step, now, samples, snapshots)

    def phase_changed(self, old: Phase, new: Phase) -> None:
        self.baseline.on_phase(old, new)
        for name, component in list(self.components.items()):
            self._guarded(name, component.on_phase, old, new)

    def component_status(self, name: str) -> dict[str, Any]:
        """A plugin component's ``status()`` (an error naming it when that raises)."""
        try:
            return dict(self.components[name].status())
        except Exception as exc:  # noqa: BLE001 - status must answer even if a plugin misbehaves
            return {"error": f"{type(exc).__name__}: {redact(exc)}"}

    def close(self) -> None:
        """At exit: every part, each isolated from the others' failures."""
        parts: list[tuple[str, Any]] = [("actions", self.actions), ("triggers", self.triggers)]
        if self.control is not None:
            parts.append(("control", self.control))
        parts += list(self.components.items())
        for _name, part in parts:
            try:
                part.close()
            except Exception:  # noqa: BLE001
                pass

    def busy_at_exit(self) -> list[str]:
        """After :meth:`close`: what a part left running and did not wait for (an action still
        running, a plugin component's call), by name."""
        parts = [self.actions, self.baseline, self.triggers, self.throttle, self.control, *self.components.values()]
        return [name for part in parts for name in getattr(part, "busy_at_exit", None) or ()]

    def _guarded(self, name: str, fn: Any, *args: Any) -> None:
        try:
            fn(*args)
        except Exception as exc:  # noqa: BLE001 - a bug in one part must not stop monitoring
            self.engine.emit(Event("error", name, f"{type(exc).__name__}: {redact(exc)}", Level.ERROR,
                                   {"traceback": traceback.format_exc()[-2000:]}))
