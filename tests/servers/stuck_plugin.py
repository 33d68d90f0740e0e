"""A plugin whose ``stuck`` collector never returns from ``collect`` (a hung network call, a deadlock),
a ``stuck`` action that never returns from ``run``, and a ``counter`` source that works. Installed for a subprocess as a real entry point with
:func:`install` (a ``.dist-info`` folder on PYTHONPATH), so ``migtui watch`` loads it like any plugin."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from migtui.hookspecs import hookimpl
from migtui.model import Sample

FOREVER = threading.Event()


class _Stuck:
    interval, timeout = 0.2, 0.5

    def __init__(self, name: str) -> None:
        self.name = name

    def collect(self, ctx: Any) -> list[Any]:
        FOREVER.wait()  # never set: the call never ends
        return []

    def panels(self) -> list[Any]:
        return []

    def close(self) -> None:
        FOREVER.wait()  # closing hangs too (a driver blocked in the same socket)


class _Counter:
    interval, timeout = 0.2, 30.0

    def __init__(self, name: str) -> None:
        self.name, self.n = name, 0

    def collect(self, ctx: Any) -> list[Any]:
        self.n += 1
        return [Sample(ctx.now, self.name, "count", float(self.n))]

    def panels(self) -> list[Any]:
        return []

    def close(self) -> None:
        pass


class _StuckAction:
    """A pause that never comes back from the call (a hung API), nor from its close."""

    confirm, dry_run, timeout = False, False, 600.0

    def __init__(self, name: str, verb: str) -> None:
        self.name, self.verb = name, verb

    def describe(self, request: Any) -> str:
        return "waits forever"

    def run(self, request: Any) -> Any:
        FOREVER.wait()

    def close(self) -> None:
        FOREVER.wait()


@hookimpl
def migtui_action_types(register: Any) -> None:
    register("stuck", lambda ctx, verb: _StuckAction(ctx.name, verb), verbs=("pause",))


@hookimpl
def migtui_source_types(register: Any) -> None:
    register("stuck", lambda ctx: _Stuck(ctx.name))
    register("counter", lambda ctx: _Counter(ctx.name))


def install(folder: Path, env: dict[str, str]) -> dict[str, str]:
    """Make this module the entry point ``stuck`` of group ``migtui`` for processes run with ``env``."""
    dist = folder / "migtui_stuck_plugin-0.1.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: migtui-stuck-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[migtui]\nstuck = tests.servers.stuck_plugin\n")
    root = str(Path(__file__).resolve().parents[2])
    env = dict(env)
    env["PYTHONPATH"] = os.pathsep.join([str(folder), root, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env
