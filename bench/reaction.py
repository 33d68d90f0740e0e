"""Figure 5: reaction time.

(a) threshold -> pause: a real Engine with the real triggers and actions extensions, an in-process
    collector whose value the benchmark sets, and an in-process action that records when it starts.
    Measured from the moment the collector takes the sample that crosses the threshold to the
    moment the pause action's ``run`` starts. The engine reads a collector's result on the tick after
    the one that launched it, so the floor is one tick; goal: one tick + 50 ms. Also reported:
    from the start of the tick that drains the sample to the action starting (engine + triggers +
    actions overhead).
(b) key -> rollback modal: the Textual cockpit under Pilot (``App.run_test``) over an engine with a
    rollback action; from pressing ``r`` to the RollbackScreen being the active screen and rendered.
    Goal: p95 under 100 ms.
"""

from __future__ import annotations

import asyncio
import importlib
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import Context, NotMeasured, module_available, summary_ms

THRESHOLD = 10.0


class _Probe:
    """Shared state between the bench, its collector and its action."""

    def __init__(self) -> None:
        self.value = 0.0
        self.crossed_at: float | None = None  # perf_counter when the crossing sample was taken
        self.action_starts: list[tuple[str, float]] = []
        self.drains: list[float] = []
        self.lock = threading.Lock()


PROBE = _Probe()


class _Collector:
    interval = None
    timeout = 5.0

    def __init__(self, name: str) -> None:
        self.name = name

    def collect(self, ctx: Any) -> list[Any]:
        from migtui.model import Sample

        v = PROBE.value
        if v > THRESHOLD and PROBE.crossed_at is None:
            PROBE.crossed_at = time.perf_counter()
        return [Sample(ctx.now, self.name, "bench.value", v)]

    def panels(self) -> list[Any]:
        from migtui.model import MetricSpec, PanelSpec

        return [PanelSpec("data", "Bench", metrics=(MetricSpec("bench.value", "bench value"),), source=self.name)]

    def close(self) -> None:
        pass


class _Action:
    def __init__(self, name: str, verb: str) -> None:
        self.name = name
        self.verb = verb
        self.confirm = verb == "rollback"
        self.timeout = 5.0

    def describe(self, request: Any) -> str:
        return f"record the {self.verb} (benchmark action, does nothing)"

    def run(self, request: Any) -> Any:
        from migtui.model import ActionResult

        PROBE.action_starts.append((self.verb, time.perf_counter()))
        return ActionResult(True, f"{self.verb} recorded")


def _plugin() -> Any:
    from migtui.hookspecs import hookimpl

    class BenchPlugin:
        @hookimpl
        def migtui_source_types(self, register: Any) -> None:
            register("bench_value", lambda ctx: _Collector(ctx.name), doc="benchmark value")

        @hookimpl
        def migtui_action_types(self, register: Any) -> None:
            register("bench_record", lambda ctx, verb: _Action(ctx.name, verb), doc="benchmark action",
                     verbs=("pause", "resume", "rollback"))

    return BenchPlugin()


def _config(path: Path, interval: float) -> Path:
    path.write_text(textwrap.dedent(f"""
        name: bench-reaction
        interval: {interval}s
        sources:
          - {{type: bench_value, name: probe}}
        triggers:
          - {{name: probe_high, metric: bench.value, threshold: {THRESHOLD:g}, action: pause}}
        actions:
          pause: [{{type: bench_record, name: rec_pause}}]
          resume: [{{type: bench_record, name: rec_resume}}]
          rollback: [{{type: bench_record, name: rec_rollback}}]
    """))
    return path


def _engine(ctx: Context, interval: float, tag: str) -> Any:
    from migtui.config import load_config
    from migtui.engine import Engine
    from migtui.plugins import PluginHost
    from migtui.store import Store

    d = ctx.workdir / "reaction"
    d.mkdir(parents=True, exist_ok=True)
    for f in d.glob(f"{tag}*"):
        f.unlink()
    cfg = load_config(_config(d / f"{tag}.yaml", interval))
    host = PluginHost(disabled=cfg["plugins"]["disable"], extra_plugins=[("bench", _plugin())])
    store = Store.open(d / f"{tag}.duckdb")
    return Engine(cfg, store=store, host=host, phase="migration", headless=True)


def _load_extension_modules() -> list[str]:
    """The engine loads its own extension modules; the triggers runtime may not be listed yet."""
    loaded = []
    for mod in ("migtui.actions", "migtui.triggers.runtime"):
        if module_available(mod):
            importlib.import_module(mod)
            loaded.append(mod)
    return loaded


def threshold_to_pause(ctx: Context) -> dict[str, Any]:
    if not module_available("migtui.actions"):
        raise NotMeasured("migtui/actions.py is missing")
    if not (module_available("migtui.triggers.runtime")):
        raise NotMeasured("no triggers runtime")
    _load_extension_modules()
    interval = 0.5
    trials = int(ctx.scale(12, 5))
    engine = _engine(ctx, interval, "pause")
    missing = [x for x in ("triggers", "actions") if x not in engine.extensions]
    if missing:
        engine.close()
        raise NotMeasured(f"the engine has no {' / '.join(missing)} extension")
    orig_drain = engine._drain

    def drain(now: float) -> Any:
        PROBE.drains.append(time.perf_counter())
        return orig_drain(now)

    engine._drain = drain  # type: ignore[method-assign]
    engine.start()
    total, overhead = [], []
    misses = 0
    try:
        time.sleep(3 * interval)
        for _ in range(trials):
            PROBE.action_starts.clear()
            PROBE.crossed_at = None
            # cross at a random point inside a tick
            time.sleep(interval * (0.13 + 0.7 * (len(total) % 5) / 5))
            PROBE.value = THRESHOLD * 2
            deadline = time.perf_counter() + 4 * interval + 2.0
            while time.perf_counter() < deadline and not any(v == "pause" for v, _ in PROBE.action_starts):
                time.sleep(0.002)
            starts = [t for v, t in PROBE.action_starts if v == "pause"]
            if not starts or PROBE.crossed_at is None:
                misses += 1
            else:
                t_act, t_cross = starts[0], PROBE.crossed_at
                total.append(t_act - t_cross)
                drained = [t for t in PROBE.drains if t >= t_cross]
                if drained:
                    overhead.append(t_act - drained[0])
            PROBE.value = 0.0
            time.sleep(3 * interval)
            try:
                engine.resume(who="bench").result(timeout=5)
            except Exception:  # noqa: BLE001
                pass
            time.sleep(2 * interval)
    finally:
        engine.close()
    if not total:
        raise NotMeasured(f"the pause action never started in {trials} trials (triggers not wired?)")
    goal_s = interval + 0.050
    s = summary_ms(total)
    return {
        "interval_s": interval,
        "trials": trials,
        "missed_trials": misses,
        "sample_to_action": s,
        "tick_start_to_action": summary_ms(overhead),
        "goal": f"<= one tick + 50 ms ({goal_s * 1000:.0f} ms at a {interval:g}s tick)",
        "met": s["p95_ms"] <= goal_s * 1000 and not misses,
    }


def key_to_modal(ctx: Context) -> dict[str, Any]:
    if not module_available("migtui.tui.app"):
        raise NotMeasured("migtui/tui is missing")
    if not module_available("migtui.actions"):
        raise NotMeasured("migtui/actions.py is missing")
    _load_extension_modules()
    from migtui.tui import app as tui_app

    screens = importlib.import_module("migtui.tui.screens.confirm")
    rollback_screen = getattr(screens, "RollbackScreen", None)
    if rollback_screen is None:
        raise NotMeasured("the TUI has no RollbackScreen")
    from textual import events

    engine = _engine(ctx, 1.0, "modal")
    app = tui_app.MigtuiApp(engine, start_engine=False)
    trials = int(ctx.scale(30, 10))
    times: list[float] = []
    painted: list[float] = []
    orig_display = app._display

    def display(screen: Any, renderable: Any) -> None:
        # the first frame the compositor produces for the modal (what a terminal would be sent)
        if renderable is not None and isinstance(screen, rollback_screen) and not painted:
            painted.append(time.perf_counter())
        orig_display(screen, renderable)

    app._display = display  # type: ignore[method-assign]

    async def go() -> None:
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause(0.3)
            for _ in range(trials):
                painted.clear()
                t0 = time.perf_counter()
                # the same message the terminal driver posts for a key press
                app.post_message(events.Key("r", "r"))
                while not painted:
                    if time.perf_counter() - t0 > 5:
                        raise NotMeasured("pressing r did not paint the rollback modal within 5 s")
                    await asyncio.sleep(0.0005)
                times.append(painted[0] - t0)
                app.post_message(events.Key("escape", None))
                t1 = time.perf_counter()
                while isinstance(app.screen, rollback_screen) and time.perf_counter() - t1 < 5:
                    await asyncio.sleep(0.005)
                await asyncio.sleep(0.15)

    try:
        asyncio.run(go())
    finally:
        engine.close()
    s = summary_ms(times)
    return {"trials": trials, "key_to_modal_painted": s, "goal": "p95 < 100 ms", "met": s["p95_ms"] < 100,
            "how": "Key event posted to the app as the terminal driver does; stopwatch stops at the first "
                   "compositor frame of the RollbackScreen (Textual headless, 160x48)"}


def run(ctx: Context) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, fn in (("threshold_to_pause", threshold_to_pause), ("key_to_rollback_modal", key_to_modal)):
        try:
            out[name] = fn(ctx)
        except NotMeasured as exc:
            out[name] = {"status": f"not measured: {exc}"}
        except Exception as exc:  # noqa: BLE001
            out[name] = {"status": f"not measured: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
    return out
