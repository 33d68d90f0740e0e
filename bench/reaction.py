"""Figure 5: reaction time.

(a) threshold -> pause: a real Engine with the real triggers and actions, scraping a real HTTP
    endpoint on 127.0.0.1 (the ``openmetrics`` source of the bundled migtui_http plugin) whose gauge
    the benchmark flips above the threshold at a known moment, and an in-process pause action that
    records when it starts. Two figures, at a 0.5 s and a 2 s poll/tick interval:

    - sample -> action: from the moment the collector returns the poll result holding the sample
      over the threshold to the moment the pause action's ``run`` starts (engine wake-up, triggers,
      actions). Goal: p95 <= 50 ms at any interval.
    - endpoint -> action: from the moment the endpoint starts serving the bad value to the action
      starting (includes waiting for the next poll). Goal: <= one poll interval + 50 ms.

    The flip lands at a different point inside the poll interval on every trial.
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.common import Context, NotMeasured, module_available, summary_ms

THRESHOLD = 10.0
INTERVALS = (0.5, 2.0)


class _Probe:
    """Shared state between the bench, its endpoint, its collector wrapper and its action."""

    def __init__(self) -> None:
        self.value = 0.0
        self.flipped_at: float | None = None  # perf_counter when the endpoint starts serving the bad value
        self.returned_at: float | None = None  # perf_counter when the collector returned the bad sample
        self.action_starts: list[tuple[str, float]] = []
        self.lock = threading.Lock()

    def flip(self, value: float) -> None:
        with self.lock:
            self.value = value
            self.flipped_at = time.perf_counter() if value > THRESHOLD else None
            self.returned_at = None


PROBE = _Probe()


class _Endpoint(BaseHTTPRequestHandler):
    """``GET /metrics``: one gauge, Prometheus text format."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        with PROBE.lock:
            body = f"# TYPE bench_value gauge\nbench_value {PROBE.value:g}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
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
        def migtui_action_types(self, register: Any) -> None:
            register("bench_record", lambda ctx, verb: _Action(ctx.name, verb), doc="benchmark action",
                     verbs=("pause", "resume", "rollback"))

    return BenchPlugin()


def _config(path: Path, interval: float, url: str) -> Path:
    path.write_text(textwrap.dedent(f"""
        name: bench-reaction
        interval: {interval}s
        sources:
          - type: openmetrics
            name: probe
            url: {url}/metrics
            interval: {interval}s
            auto: false
            gauges: {{bench_value: bench_value}}
        triggers:
          - {{name: probe_high, metric: bench_value, threshold: {THRESHOLD:g}, action: pause}}
        actions:
          pause: [{{type: bench_record, name: rec_pause}}]
          resume: [{{type: bench_record, name: rec_resume}}]
          rollback: [{{type: bench_record, name: rec_rollback}}]
    """))
    return path


def _engine(ctx: Context, interval: float, tag: str, url: str = "http://127.0.0.1:9") -> Any:
    from migtui.config import load_config
    from migtui.engine import Engine
    from migtui.plugins import PluginHost
    from migtui.store import Store

    d = ctx.workdir / "reaction"
    d.mkdir(parents=True, exist_ok=True)
    for f in d.glob(f"{tag}*"):
        f.unlink()
    cfg = load_config(_config(d / f"{tag}.yaml", interval, url))
    host = PluginHost(disabled=cfg["plugins"]["disable"], extra_plugins=[("bench", _plugin())])
    store = Store.open(d / f"{tag}.duckdb")
    return Engine(cfg, store=store, host=host, phase="migration", headless=True)


def _instrument(collector: Any) -> None:
    """Record when the collector returns the first poll result over the threshold (the moment the
    result is handed to the engine)."""
    inner = collector.collect

    def collect(cctx: Any) -> Any:
        out = list(inner(cctx) or ())
        if any(getattr(s, "metric", "") == "bench_value" and s.value > THRESHOLD for s in out):
            with PROBE.lock:
                if PROBE.returned_at is None and PROBE.flipped_at is not None:
                    PROBE.returned_at = time.perf_counter()
        return out

    collector.collect = collect


def _one_interval(ctx: Context, interval: float, url: str) -> dict[str, Any]:
    trials = int(ctx.scale(20, 6))
    engine = _engine(ctx, interval, f"pause-{interval:g}", url)
    _instrument(engine.collectors["probe"])
    engine.start()
    sample_to_action, endpoint_to_action = [], []
    misses = 0
    try:
        time.sleep(2 * interval + 0.3)
        for i in range(trials):
            PROBE.action_starts.clear()
            # flip at a different point inside the poll interval on every trial
            time.sleep(interval * ((i * 0.37) % 1.0))
            PROBE.flip(THRESHOLD * 2)
            deadline = time.perf_counter() + 3 * interval + 2.0
            while time.perf_counter() < deadline and not any(v == "pause" for v, _ in PROBE.action_starts):
                time.sleep(0.001)
            starts = [t for v, t in PROBE.action_starts if v == "pause"]
            with PROBE.lock:
                flipped, returned = PROBE.flipped_at, PROBE.returned_at
            if not starts or flipped is None or returned is None:
                misses += 1
            else:
                sample_to_action.append(starts[0] - returned)
                endpoint_to_action.append(starts[0] - flipped)
            PROBE.flip(0.0)
            time.sleep(2 * interval + 0.2)  # the trigger resolves
            try:
                engine.resume(who="bench").result(timeout=5)
            except Exception:  # noqa: BLE001
                pass
            time.sleep(interval)
    finally:
        engine.close()
    if not sample_to_action:
        raise NotMeasured(f"the pause action never started in {trials} trials at a {interval:g}s interval")
    s1, s2 = summary_ms(sample_to_action), summary_ms(endpoint_to_action)
    goal2 = (interval + 0.050) * 1000
    return {
        "interval_s": interval,
        "trials": trials,
        "missed_trials": misses,
        "sample_to_action": s1,
        "endpoint_to_action": s2,
        "goal_sample_to_action": "p95 <= 50 ms",
        "goal_endpoint_to_action": f"max <= one poll interval + 50 ms ({goal2:.0f} ms)",
        "met": s1["p95_ms"] <= 50 and s2["max_ms"] <= goal2 and not misses,
    }


def threshold_to_pause(ctx: Context) -> dict[str, Any]:
    for mod in ("migtui.actions", "migtui_http"):
        if not module_available(mod):
            raise NotMeasured(f"{mod} is missing")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
    threading.Thread(target=server.serve_forever, name="bench-endpoint", daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        runs = [_one_interval(ctx, interval, url) for interval in INTERVALS]
    finally:
        server.shutdown()
        server.server_close()
    return {
        "how": "openmetrics source scraping a 127.0.0.1 endpoint whose gauge flips above the threshold at a "
               "known moment (a different point of the poll interval each trial); stopwatches stop when the "
               "in-process pause action's run() starts",
        "runs": runs,
        "met": all(r["met"] for r in runs),
    }


def key_to_modal(ctx: Context) -> dict[str, Any]:
    if not module_available("migtui.tui.app"):
        raise NotMeasured("migtui/tui is missing")
    if not module_available("migtui.actions"):
        raise NotMeasured("migtui/actions.py is missing")
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
