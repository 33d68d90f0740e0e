"""The engine acts on a poll's result when the result arrives, not at the next tick.

A real Engine with the real triggers and actions, an in-process collector and an in-process pause
action. The engine tick is an hour long, so anything that waited for the next tick would never
happen while the test runs; the collector's own interval is short. Nothing here measures time: the
collector's next poll after the crossing blocks until the action has started, so the action can
only have come from the poll that saw the crossing.
"""

from __future__ import annotations

import threading
import textwrap
from pathlib import Path
from typing import Any

from tests.conftest import wait_until

THRESHOLD = 10.0


class Probe:
    def __init__(self, values: list[float]) -> None:
        self.values = values
        self.calls = 0
        self.in_flight = 0
        self.overlapped = False
        self.acted = threading.Event()
        self.action_after_calls: list[int] = []
        self.lock = threading.Lock()


def _plugin(probe: Probe, interval: float) -> Any:
    from migtui.hookspecs import hookimpl
    from migtui.model import ActionResult, Sample

    class Collector:
        timeout = 30.0

        def __init__(self, name: str) -> None:
            self.name, self.interval = name, interval

        def collect(self, ctx: Any) -> list[Any]:
            with probe.lock:
                probe.in_flight += 1
                probe.overlapped |= probe.in_flight > 1
                n = probe.calls
                probe.calls += 1
            try:
                if n >= len(probe.values):  # a poll after the crossing: only once the action ran
                    probe.acted.wait(30)
                    return []
                return [Sample(ctx.now, self.name, "probe.value", probe.values[n])]
            finally:
                with probe.lock:
                    probe.in_flight -= 1

        def panels(self) -> list[Any]:
            return []

        def close(self) -> None:
            pass

    class Action:
        confirm = False

        def __init__(self, name: str, verb: str) -> None:
            self.name, self.verb = name, verb

        def describe(self, request: Any) -> str:
            return f"record the {self.verb}"

        def run(self, request: Any) -> Any:
            probe.action_after_calls.append(probe.calls)
            probe.acted.set()
            return ActionResult(True, f"{self.verb} recorded")

    class Plugin:
        @hookimpl
        def migtui_source_types(self, register: Any) -> None:
            register("probe", lambda ctx: Collector(ctx.name))

        @hookimpl
        def migtui_action_types(self, register: Any) -> None:
            register("record", lambda ctx, verb: Action(ctx.name, verb), verbs=("pause", "resume", "rollback"))

    return Plugin()


def _engine(tmp_path: Path, probe: Probe, *, tick: str, poll: float) -> Any:
    from migtui.config import load_config
    from migtui.engine import Engine
    from migtui.plugins import PluginHost
    from migtui.store import Store

    path = tmp_path / "reaction.yaml"
    path.write_text(textwrap.dedent(f"""
        name: reaction
        interval: {tick}
        sources:
          - {{type: probe, name: probe}}
        triggers:
          - {{name: probe_high, metric: probe.value, threshold: {THRESHOLD:g}, action: pause}}
        actions:
          pause: [{{type: record, name: rec}}]
    """))
    cfg = load_config(path)
    host = PluginHost(disabled=cfg["plugins"]["disable"], extra_plugins=[("probe", _plugin(probe, poll))])
    return Engine(cfg, store=Store.open(tmp_path / "reaction.duckdb"), host=host, phase="migration")


def _events(engine: Any, kind: str) -> list[Any]:
    return [e for e in list(engine.recent_events) if e.kind == kind]


def test_the_poll_that_sees_the_crossing_starts_the_action(tmp_path: Path) -> None:
    # two calm polls, then the crossing; the poll after it waits for the action
    probe = Probe([1.0, 1.0, 2 * THRESHOLD])
    engine = _engine(tmp_path, probe, tick="1h", poll=0.2)
    engine.start()
    try:
        wait_until(lambda: probe.acted.is_set(), "the pause action to start", timeout=30)
        # the action started while the poll after the crossing was still waiting for it
        assert probe.action_after_calls[0] in (3, 4)
        firing = [e for e in _events(engine, "trigger") if e.data.get("to") == "firing"]
        assert firing and firing[0].data["value"] == 2 * THRESHOLD, [e.message for e in _events(engine, "trigger")]
        assert not probe.overlapped
    finally:
        probe.acted.set()
        engine.close()


def test_a_result_between_ticks_is_acted_on_without_waiting_for_the_tick(tmp_path: Path) -> None:
    # the source polls at the tick interval; the first poll already crosses
    probe = Probe([2 * THRESHOLD])
    engine = _engine(tmp_path, probe, tick="1h", poll=3600.0)
    engine.start()
    try:
        wait_until(lambda: probe.acted.is_set(), "the pause action to start", timeout=30)
        assert probe.calls == 1, "the action needed a second poll"
    finally:
        probe.acted.set()
        engine.close()
