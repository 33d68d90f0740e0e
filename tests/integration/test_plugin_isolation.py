"""A plugin whose collectors raise, hang or return garbage (and whose actions raise or hang) never
stops the engine: the good collector's samples keep arriving, errors name the plugin, and the bad
collectors are quarantined after repeated failures."""

from __future__ import annotations

import threading
import time
from typing import Any, Iterator

import pytest

from migtui.hookspecs import hookimpl
from migtui.model import ActionResult, Sample
from migtui.plugins import PluginHost

RELEASE = threading.Event()


class _Collector:
    def __init__(self, name: str, behaviour: str) -> None:
        self.name, self.behaviour = name, behaviour
        # 0.3s times the hanging one out quickly; the others get a timeout a busy machine never reaches
        self.interval, self.timeout = 0.1, (0.3 if behaviour == "hang" else 30.0)
        self.calls = 0

    def collect(self, ctx: Any) -> list[Any]:
        self.calls += 1
        if self.behaviour == "raise":
            raise RuntimeError(f"boom #{self.calls} from a buggy collector")
        if self.behaviour == "hang":
            RELEASE.wait(60)
            return []
        if self.behaviour == "garbage":
            return ["not a sample", 42]
        return [Sample(ctx.now, self.name, "good.value", float(self.calls))]

    def panels(self) -> list[Any]:
        if self.behaviour == "raise":
            raise ValueError("no panels for you")
        return []

    def close(self) -> None:
        pass


class _Action:
    def __init__(self, name: str, verb: str, behaviour: str, timeout: float) -> None:
        self.name, self.verb, self.behaviour = name, verb, behaviour
        self.confirm, self.dry_run, self.timeout = False, False, timeout

    def describe(self, request: Any) -> str:
        return f"{self.behaviour} on purpose"

    def run(self, request: Any) -> Any:
        if self.behaviour == "explode":
            raise RuntimeError("action blew up")
        if self.behaviour == "stall":
            RELEASE.wait(60)
        if self.behaviour == "garbage":
            return {"ok": True}
        return ActionResult(True, "paused the fine way")


class ChaosPlugin:
    """An in-process plugin, registered the way a test or the demo does."""

    @hookimpl
    def migtui_source_types(self, register: Any) -> None:
        for behaviour in ("good", "raise", "hang", "garbage"):
            register(f"chaos_{behaviour}", lambda ctx, b=behaviour: _Collector(ctx.name, b))

    @hookimpl
    def migtui_action_types(self, register: Any) -> None:
        for behaviour in ("explode", "stall", "garbage", "fine"):
            register(f"chaos_{behaviour}",
                     lambda ctx, verb, b=behaviour: _Action(ctx.name, verb, b, float(ctx.options.get("timeout", 5))))


@pytest.fixture
def chaos_engine(make_engine: Any) -> Iterator[Any]:
    RELEASE.clear()
    host = PluginHost(load_entry_points=True, extra_plugins=[("chaos", ChaosPlugin())])
    engine = make_engine("""
    interval: 0.1
    sources:
      - {type: chaos_good, name: good}
      - {type: chaos_raise, name: raiser}
      - {type: chaos_hang, name: hanger}
      - {type: chaos_garbage, name: garbage}
    actions:
      pause:
        - {type: chaos_explode, name: explode}
        - {type: chaos_stall, name: stall, timeout: 0.3}
        - {type: chaos_garbage, name: junk}
        - {type: chaos_fine, name: fine}
    """, host=host)
    try:
        yield engine
    finally:
        RELEASE.set()


def _poll(engine: Any, at: float) -> None:
    engine.tick(now=at)
    deadline = time.monotonic() + 60
    while any(s.in_flight for s in engine.sources.values()) and time.monotonic() < deadline:
        time.sleep(0.01)
        engine.tick(now=at)


def test_bad_collectors_never_stop_the_good_one(chaos_engine: Any) -> None:
    engine = chaos_engine
    assert any(e.kind == "error" and "no panels for you" in e.message for e in engine.recent_events)
    t0 = time.time()
    polls = 8
    for i in range(polls):
        _poll(engine, t0 + 10 * (i + 1))
    st = {s.name: s for s in engine.source_status()}
    assert st["good"].state == "ok" and st["good"].samples == polls
    bad = ("raiser", "hanger", "garbage")
    assert {n: st[n].state for n in bad} == dict.fromkeys(bad, "quarantined")
    assert all(st[n].plugin == "chaos" for n in st)

    engine.store.flush()
    stored = engine.store.cursor().execute(
        "SELECT count(*) FROM samples s JOIN series r ON r.run_id = s.run_id AND r.series_id = s.series_id "
        "WHERE s.run_id = ? AND r.metric = 'good.value' AND r.source = 'good'", [engine.run_id]).fetchone()[0]
    assert stored == polls
    errors = [e for e in engine.store.events(engine.run_id, kinds=["error"]) if e.data.get("plugin") == "chaos"]
    by_source = {e.subject for e in errors}
    assert by_source == {"raiser", "hanger", "garbage"}
    messages = " | ".join(e.message for e in errors)
    assert "boom #1 from a buggy collector" in messages
    assert "timed out after 0.3s" in messages
    assert "returned str, not a Sample" in messages
    assert {e.subject for e in errors if e.data.get("state") == "quarantined"} == {"raiser", "hanger", "garbage"}
    assert "Traceback" not in messages


def test_bad_actions_fail_alone_and_the_engine_keeps_ticking(chaos_engine: Any) -> None:
    engine = chaos_engine
    engine.start()
    future = engine.pause(who="dba", why="chaos")
    ticks_before = engine.tick_no
    results = future.result(timeout=30)
    assert [r.ok for r in results] == [False, False, False, True]
    assert "action blew up" in results[0].message
    assert "timed out" in results[1].message
    assert "not an ActionResult" in results[2].message
    assert results[3].message == "paused the fine way"
    deadline = time.monotonic() + 60
    while engine.tick_no <= ticks_before + 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert engine.tick_no > ticks_before + 2  # the loop went on while an action hung
    assert engine.parts.actions.paused  # one pause action worked
    [event] = [e for e in list(engine.recent_events) if e.kind == "action" and e.data.get("stage") == "result"]
    assert [(st["action"], st["plugin"], st["ok"]) for st in event.data["steps"]] == [
        ("explode", "chaos", False), ("stall", "chaos", False), ("junk", "chaos", False), ("fine", "chaos", True)]


def test_a_source_whose_system_is_down_is_never_quarantined(make_engine: Any) -> None:
    """A monitored system that is down (SourceError) is not a misbehaving plugin: it is asked again at
    every poll and its data is back at the first poll after the system is, however long it was down."""
    from migtui.errors import SourceError
    from migtui.testing import function_sources

    down = {"until": 12}

    def flaky(ctx: Any, n: int) -> list[Sample]:
        if n <= down["until"]:
            raise SourceError(f"cannot connect to the api (attempt {n})")
        return [Sample(ctx.now, "api", "api.up", 1.0)]

    engine = make_engine("""
    name: outage
    interval: 1s
    sources:
      - {type: flaky, name: api}
    """, host=PluginHost(extra_plugins=[function_sources(flaky=flaky)]))
    t0 = time.time()
    for i in range(12):  # twelve failed polls: more than the five that quarantine a buggy plugin
        _poll(engine, t0 + i)
        assert engine.sources["api"].state == "error", (i, engine.sources["api"].state)
    assert not engine.guards["api"].quarantined
    assert engine.sources["api"].last_error.endswith("cannot connect to the api (attempt 12)")
    _poll(engine, t0 + 12)
    assert engine.sources["api"].state == "ok" and engine.value("api.up") == 1.0
    states = [e.data.get("state") for e in engine.recent_events if e.kind == "error" and e.subject == "api"]
    assert "error" in states and "quarantined" not in states, states
