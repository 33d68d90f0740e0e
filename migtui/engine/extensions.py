"""Engine extensions registered by module name (triggers, alerting, actions, control, migration).

Each factory gets the engine at build time and returns an object with optional
``on_tick(now, samples, snapshots)``, ``on_phase(old, new)`` and ``close()``.
"""

from __future__ import annotations

from typing import Any, Callable

EngineExtension = Callable[[Any], Any]
ENGINE_EXTENSIONS: dict[str, EngineExtension] = {}
"""Parts of the engine that live in their own modules (triggers, alerting, actions, migration tool
awareness). Each factory gets the engine at build time and returns an object with optional
``on_tick(now, samples, snapshots)``, ``on_phase(old, new)`` and ``close()``."""


def register_extension(name: str) -> Callable[[EngineExtension], EngineExtension]:
    def deco(factory: EngineExtension) -> EngineExtension:
        ENGINE_EXTENSIONS[name] = factory
        return factory

    return deco


def load_extensions() -> None:
    """Import the modules that register engine extensions (kept out of module import for speed)."""
    import importlib

    for mod in EXTENSION_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise


EXTENSION_MODULES: list[str] = ["migtui.actions", "migtui.triggers.runtime", "migtui.control", "migtui_postgres.migration_tools",
                                 "migtui_postgres.integrity"]

