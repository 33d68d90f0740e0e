"""Figure 6: start-up.

- ``migtui --help`` wall time (hyperfine when installed, else repeated subprocess runs; exit codes
  ignored: pg_activity --help exits 1), against
  ``pg_activity --help`` in the same run; plus which heavy modules ``--help`` imports
  (``python -X importtime``), since heavy clients such as kubernetes must be imported lazily.
- First frame of the cockpit: ``migtui watch`` started in a 200x50 tmux pane; the stopwatch stops
  when the pane shows the cockpit's footer (its key bar). Against pg_activity's first frame (its
  process table header) on the same server.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Callable

from bench import term
from bench.common import Context, NotMeasured, module_available, pctl, ratio, venv_bin

HEAVY = ("kubernetes", "duckdb", "textual", "psycopg", "pyarrow", "httpx", "scipy", "numpy", "openfeature")


def _time_cmd(argv: list[str], runs: int) -> dict[str, Any]:
    hf = shutil.which("hyperfine")
    if hf:
        out = Path("/tmp") / f"hyperfine-{abs(hash(tuple(argv)))}.json"
        r = subprocess.run([hf, "--warmup", "2", "--runs", str(runs), "--export-json", str(out), "-N", "-i",
                            " ".join(argv)], capture_output=True, text=True, timeout=300)
        if r.returncode == 0:
            data = json.loads(out.read_text())["results"][0]
            return {"tool": "hyperfine", "runs": runs, "mean_s": round(data["mean"], 4),
                    "median_s": round(data["median"], 4), "min_s": round(data["min"], 4),
                    "stddev_s": round(data["stddev"] or 0, 4)}
    times = []
    for i in range(runs + 2):
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60, check=False)
        if i >= 2:  # warm-up runs
            times.append(time.perf_counter() - t)
    return {"tool": "subprocess (hyperfine not installed)", "runs": runs, "mean_s": round(statistics.fmean(times), 4),
            "median_s": round(statistics.median(times), 4), "min_s": round(min(times), 4),
            "stddev_s": round(statistics.pstdev(times), 4)}


def help_time(ctx: Context) -> dict[str, Any]:
    exe = venv_bin("migtui")
    if not exe:
        raise NotMeasured("the migtui console script is not installed")
    runs = int(ctx.scale(15, 5))
    out: dict[str, Any] = {"migtui": _time_cmd([exe, "--help"], runs)}
    pga = venv_bin("pg_activity")
    out["pg_activity"] = _time_cmd([pga, "--help"], runs) if pga else {"status": "not measured: pg_activity missing"}
    out["ratio_median"] = ratio(out["migtui"]["median_s"], out["pg_activity"].get("median_s"))
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "migtui", "--help"], capture_output=True,
                       text=True, timeout=60)
    imported = set(re.findall(r"\|\s+(\w+)$", r.stderr, re.M))
    out["heavy_modules_imported_by_help"] = sorted(m for m in HEAVY if m in imported)
    out["goal"] = "< 0.3 s"
    out["met"] = out["migtui"]["median_s"] < 0.3
    return out


COCKPIT_PATH = """
import sys
from pathlib import Path
from migtui.commands.watch import build_engine
engine = build_engine(Path(sys.argv[1]), Path(sys.argv[2]), phase="baseline", baseline=None, headless=False)
from migtui.tui.app import MigtuiApp
MigtuiApp(engine, start_engine=False)
engine.close()
"""


def cockpit_imports(cfg: Path, store: Path) -> dict[str, Any]:
    """Top-level imports on the cockpit's start path (config, plugins, store, engine, TUI), by
    cumulative import time (``python -X importtime``; times inflate under load, the ranking holds)."""
    r = subprocess.run([sys.executable, "-X", "importtime", "-c", COCKPIT_PATH, str(cfg), str(store)],
                       capture_output=True, text=True, timeout=120)
    top: dict[str, float] = {}
    total = 0.0
    for m in re.finditer(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)$", r.stderr, re.M):
        if m.group(3) == "":  # imported directly by the script or at top level
            name, cum = m.group(4), int(m.group(2)) / 1000
            top[name] = top.get(name, 0.0) + cum
            total += cum
    ranked = sorted(top.items(), key=lambda kv: -kv[1])[:12]
    return {"total_import_ms": round(total), "top_level_ms": {k: round(v) for k, v in ranked},
            "exit_code": r.returncode, "error": r.stderr.strip().splitlines()[-1][:300] if r.returncode else ""}


def _first_frame(name: str, argv: list[str], ready: Callable[[str], bool], timeout: float = 20.0) -> float:
    t0 = time.perf_counter()
    term.start(name, argv, env={"TERM": "xterm-256color"})
    try:
        while time.perf_counter() - t0 < timeout:
            screen = term.capture(name)
            if ready(screen):
                return time.perf_counter() - t0
            if "Traceback" in screen or "Error" in screen and term.pane_dead(name):
                raise NotMeasured(f"{Path(argv[0]).name} failed: {screen.strip()[-300:]}")
            time.sleep(0.01)
        raise NotMeasured(f"{Path(argv[0]).name} showed no frame within {timeout:g}s: {term.capture(name).strip()[-200:]}")
    finally:
        term.send_keys(name, "q")
        term.wait_dead(name, 5)
        term.kill(name)


def first_frame(ctx: Context) -> dict[str, Any]:
    if not term.available():
        raise NotMeasured("tmux is not installed")
    if not module_available("migtui.tui.app"):
        raise NotMeasured("migtui/tui is missing")
    from bench.pgserver import BenchServer

    exe = venv_bin("migtui")
    runs = int(ctx.scale(7, 3))
    srv = BenchServer(ctx.workdir / "startup", log=ctx.log)
    d = ctx.workdir / "startup"
    d.mkdir(parents=True, exist_ok=True)
    try:
        srv.start()
        cfg = d / "cockpit.yaml"
        cfg.write_text(textwrap.dedent(f"""
            name: bench-startup
            sources:
              - {{type: postgres, name: db, dsn: "{srv.dsn('migtui_bench')}"}}
        """))
        # the key bar at the bottom is drawn with the first full frame
        migtui_ready = lambda s: bool(re.search(r"Rollback", s)) and bool(re.search(r"Quit", s))  # noqa: E731
        pga_ready = lambda s: bool(re.search(r"^\s*PID\s", s, re.M))  # noqa: E731
        m_times, p_times = [], []
        pga = venv_bin("pg_activity")
        for i in range(runs):
            for f in d.glob("s*.duckdb*"):
                f.unlink()
            m_times.append(_first_frame("ff-migtui", [exe, "watch", "--config", str(cfg), "--store",
                                                      str(d / f"s{i}.duckdb")], migtui_ready))
            if pga:
                p_times.append(_first_frame("ff-pga", [pga, "-h", "127.0.0.1", "-p", str(srv.port), "-U", "pga_bench",
                                                       "-d", "bench"], pga_ready))
        try:
            imports = cockpit_imports(cfg, d / "imports.duckdb")
        except Exception as exc:  # noqa: BLE001
            imports = {"status": f"not measured: {exc}"}
    finally:
        term.kill_server()
        srv.stop()
    med = statistics.median(m_times)
    out = {"runs": runs, "migtui_median_s": round(med, 3), "migtui_p95_s": round(pctl(m_times, 0.95), 3),
           "pg_activity_median_s": round(statistics.median(p_times), 3) if p_times else None,
           "goal": "< 1.5 s", "met": med < 1.5,
           "how": "tmux 200x50; until the key bar (Rollback ... Quit) is on the pane / pg_activity's PID header",
           "cockpit_imports": imports}
    out["ratio_median"] = ratio(out["migtui_median_s"], out["pg_activity_median_s"])
    return out


def run(ctx: Context) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, fn in (("help", help_time), ("first_frame", first_frame)):
        try:
            out[name] = fn(ctx)
        except NotMeasured as exc:
            out[name] = {"status": f"not measured: {exc}"}
        except Exception as exc:  # noqa: BLE001
            out[name] = {"status": f"not measured: {type(exc).__name__}: {exc}"}
    return out
