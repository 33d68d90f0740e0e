"""Figure 9: the fleet view over 200 watches.

A child process serves 200 stand-in watches' ``/status`` on 200 ports of 127.0.0.1 (asyncio, HTTP/1.1
keep-alive; each answer a realistic /status document that changes every request). The fleet view
reads them every 2 s:

- 9a. ``migtui fleet watch --targets FILE --headless`` (the CLI, a subprocess): CPU of that process
  (psutil, user + system, all threads) over the rounds after a warm-up, and the refresh time of
  each round (from the round's start to its last answer, as the command prints it);
- 9b. the Textual cockpit (:class:`migtui.tui.fleet.FleetApp`, run headless at 200x60): CPU of its
  process over the same window, and the refresh time as a user sees it: from the start of a round to
  the end of the first screen update (Textual's compositor has rendered the changed lines and written
  them to the driver: ``call_after_refresh``) that shows a snapshot holding every answer of the round.
  The poller's own round time (start to last answer) is kept beside it as ``answers``.

Goal: < 10% of one core and a p95 refresh under 500 ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, Context, summary_ms, venv_bin

TARGETS = 200
INTERVAL = 2.0
GOAL_CPU_PCT = 10.0
GOAL_P95_MS = 500.0
WARMUP_ROUNDS = 3


# --------------------------------------------------------------------------- the stand-in watches (child)

async def _serve(n: int) -> None:
    counters = [0] * n

    def body(i: int) -> bytes:
        counters[i] += 1
        c = counters[i]
        verdict = ("ok", "ok", "ok", "warn", "pause", "inconclusive")[(i + c // 10) % 6]
        return json.dumps({
            "run": f"run-{i:04d}", "name": f"tenant-{i:04d}", "phase": "migration",
            "progress": {"percent": min(100.0, c * 0.5 + i % 50), "eta_seconds": max(0, 600 - c)},
            "throttle": {"throttled": verdict == "pause", "reason": "lag" if verdict == "pause" else ""},
            "triggers": [{"name": "lock-waits", "state": "firing" if verdict == "pause" else "ok",
                          "value": c % 9, "threshold": 5, "action": "pause"},
                         {"name": "p95-latency", "state": "pending" if verdict == "warn" else "ok",
                          "value": 120 + c % 40, "threshold": 150, "action": "warn"}],
            "sources": [{"name": "db", "type": "postgres", "state": "ok", "last_error": None},
                        {"name": "api", "type": "prometheus", "state": "ok", "last_error": None}],
            "verdict": verdict, "lock_waits": c % 4, "lag_seconds": (c % 7) * 0.5, "time": time.time(),
        }).encode()

    def handler(i: int) -> Any:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    if not head:
                        break
                    data = body(i)
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                                 + str(len(data)).encode() + b"\r\n\r\n" + data)
                    await writer.drain()
            except (asyncio.IncompleteReadError, asyncio.CancelledError, ConnectionError):
                pass
            finally:
                writer.close()
        return handle

    servers = [await asyncio.start_server(handler(i), "127.0.0.1", 0) for i in range(n)]
    print(json.dumps([s.sockets[0].getsockname()[1] for s in servers]), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes stdin


# --------------------------------------------------------------------------- the cockpit, headless (child)

def _cockpit(targets_file: str, rounds: int) -> None:
    """Run FleetApp headless until ``rounds`` poll rounds ended; print CPU and round times as JSON."""
    from migtui.fleet.poller import FleetPoller
    from migtui.fleet.targets import load_targets
    from migtui.tui.fleet import FleetApp

    painted: list[tuple[float, int]] = []

    class Measured(FleetApp):
        def redraw(self) -> None:
            super().redraw()
            version = self._seen_version
            self.call_after_refresh(lambda: painted.append((time.monotonic(), version)))

    poller = FleetPoller(load_targets(targets_file), interval=INTERVAL, timeout=1.5)
    app = Measured(poller)
    box: dict[str, Any] = {}

    def check() -> None:
        if poller.round_count >= WARMUP_ROUNDS and "cpu0" not in box:
            box["cpu0"], box["t0"], box["r0"] = time.process_time(), time.monotonic(), poller.round_count
        if poller.round_count >= rounds:
            box["cpu1"], box["t1"] = time.process_time(), time.monotonic()
            box["painted_rows"] = getattr(app.query_one("#fleet-table"), "painted_rows", None)
            app.exit()

    app.call_later(lambda: app.set_interval(0.05, check))
    app.run(headless=True, size=(200, 60))
    shown = []
    for start, _end, version in list(poller.round_log)[box["r0"]:]:
        at = next((t for t, v in painted if v >= version), None)
        if at is not None:
            shown.append(at - start)
    print(json.dumps({"cpu_s": box["cpu1"] - box["cpu0"], "wall_s": box["t1"] - box["t0"], "shown": shown,
                      "rounds": list(poller.rounds)[box["r0"]:], "rows": len(poller.snapshot()[1]),
                      "rows_painted": box["painted_rows"]}), flush=True)


# --------------------------------------------------------------------------- the figure

def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "plugins"), env.get("PYTHONPATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _headless(targets_file: Path, rounds: int) -> dict[str, Any]:
    import psutil

    exe = venv_bin("migtui")
    cmd = ([exe] if exe else [sys.executable, "-m", "migtui"]) + [
        "fleet", "watch", "--targets", str(targets_file), "--headless", "--interval", f"{INTERVAL:g}s",
        "--rounds", str(rounds + 1)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=_env())
    ps = psutil.Process(proc.pid)
    took: list[float] = []
    cpu0 = t0 = cpu1 = t1 = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if not line.startswith("round "):
            continue
        n = int(line.split()[1].rstrip(":"))
        if n == WARMUP_ROUNDS:
            c = ps.cpu_times()
            cpu0, t0 = c.user + c.system, time.monotonic()
        elif n > WARMUP_ROUNDS:
            took.append(float(line.rsplit("refresh ", 1)[1].split()[0]) / 1000)
        if n == rounds:
            c = ps.cpu_times()
            cpu1, t1 = c.user + c.system, time.monotonic()
    proc.wait(30)
    if cpu0 is None or cpu1 is None:
        raise RuntimeError(f"migtui fleet watch ended early (exit {proc.returncode})")
    return {"cpu_pct": round(100 * (cpu1 - cpu0) / (t1 - t0), 2), "window_s": round(t1 - t0, 1),
            "refresh": summary_ms(took)}


def run(ctx: Context) -> dict[str, Any]:
    rounds = int(ctx.scale(33, 8))
    server = subprocess.Popen([sys.executable, "-m", "bench.fleet_view_bench", "--serve", str(TARGETS)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              env=_env(), cwd=ROOT)
    try:
        assert server.stdout is not None
        ports = json.loads(server.stdout.readline())
        with tempfile.TemporaryDirectory() as tmp:
            targets = Path(tmp) / "fleet.txt"
            targets.write_text("".join(f"tenant-{i:04d} http://127.0.0.1:{p}/status\n" for i, p in enumerate(ports)))
            ctx.log(f"fleetview: {len(ports)} stand-in watches; headless for {rounds} rounds")
            headless = _headless(targets, rounds)
            ctx.log(f"fleetview: headless {headless}; cockpit for {rounds} rounds")
            out = subprocess.run([sys.executable, "-m", "bench.fleet_view_bench", "--cockpit", str(targets),
                                  str(rounds)], capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=600)
            if out.returncode != 0:
                raise RuntimeError(f"cockpit run failed: {out.stderr[-500:]}")
            c = json.loads(out.stdout.strip().splitlines()[-1])
            if len(c["shown"]) < len(c["rounds"]) - 1:
                raise RuntimeError(f"the cockpit painted {len(c['shown'])} of {len(c['rounds'])} rounds")
            cockpit = {"cpu_pct": round(100 * c["cpu_s"] / c["wall_s"], 2), "window_s": round(c["wall_s"], 1),
                       "refresh": summary_ms(c["shown"]), "answers": summary_ms(c["rounds"]),
                       "rows_painted": c["rows_painted"]}
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(10)
    met = all(r["cpu_pct"] < GOAL_CPU_PCT and r["refresh"]["p95_ms"] < GOAL_P95_MS for r in (headless, cockpit))
    return {"targets": TARGETS, "interval_s": INTERVAL, "rounds": rounds - WARMUP_ROUNDS, "headless": headless,
            "cockpit": cockpit, "met": met}


if __name__ == "__main__":
    if sys.argv[1] == "--serve":
        asyncio.run(_serve(int(sys.argv[2])))
    elif sys.argv[1] == "--cockpit":
        _cockpit(sys.argv[2], int(sys.argv[3]))
