"""A plugin contributes a run component through migtui_run_components; the engine builds it
explicitly, steps it on every tick and result, tells it about phase changes, shows its status in
the frame, closes it at exit, and survives one whose factory raises."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any


def _plugin(seen: list[str]) -> Any:
    from migtui.api import Event, Level, RunComponent, RunContext, Sample, hookimpl

    class Source:
        name, interval, timeout = "beat", 1.0, 5.0

        def collect(self, ctx: Any) -> list[Any]:
            return [Sample(ctx.now, self.name, "beat.n", 1.0)]

        def panels(self) -> list[Any]:
            return []

        def close(self) -> None:
            seen.append("source closed")

    class Heartbeat(RunComponent):
        name = "heartbeat"

        def __init__(self, run: RunContext) -> None:
            self.run, self.steps = run, 0
            run.add_source(Source(), type="beat")

        def on_step(self, now: float, samples: Any, snapshots: Any) -> None:
            self.steps += len(samples)
            if self.steps >= 2 and self.run.phase.value == "baseline":
                self.run.set_phase("migration", who="heartbeat", why="two beats")

        def on_phase(self, old: Any, new: Any) -> None:
            self.run.emit(Event("note", "heartbeat", f"phase is now {new.value}", Level.INFO))

        def status(self) -> dict[str, Any]:
            return {"beats": self.steps}

        def close(self) -> None:
            seen.append("component closed")

    def broken(run: RunContext) -> None:
        raise RuntimeError("cannot build")

    class Plugin:
        @hookimpl
        def migtui_run_components(self, register: Any) -> None:
            register("heartbeat", Heartbeat)
            register("broken", broken)

    return Plugin()


def test_a_plugin_run_component(tmp_path: Path) -> None:
    from migtui.config import load_config
    from migtui.engine import Engine
    from migtui.plugins import PluginHost
    from migtui.store import Store

    path = tmp_path / "c.yaml"
    path.write_text(textwrap.dedent("""
        name: components
        interval: 1s
        sources: []
    """))
    seen: list[str] = []
    cfg = load_config(path)
    host = PluginHost(disabled=cfg["plugins"]["disable"], extra_plugins=[("beats", _plugin(seen))])
    engine = Engine(cfg, store=Store.open(tmp_path / "c.duckdb"), host=host)
    try:
        assert list(engine.frame.sources) == ["beat"]  # the component added its source
        errors = [e.message for e in engine.recent_events if e.kind == "error"]
        assert any("plugin 'beats' failed to build broken" in m for m in errors), errors
        for i in range(3):
            engine.tick(now=1000.0 + i, wait=5)
        assert engine.frame.phase.value == "migration"
        assert any(e.message == "phase is now migration" for e in engine.frame.events)
        assert engine.frame.components["heartbeat"]["beats"] >= 2
    finally:
        engine.close()
    assert seen.count("component closed") == 1 and "source closed" in seen
