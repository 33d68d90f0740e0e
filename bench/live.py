"""Figures 1 and 2, measured together against one live server (see bench.pgserver).

Phases, one after the other, each with the same pgbench load (20 clients) and the same ~200
connections. Each phase is measured twice, from pg_stat_statements:

- cold: the first ``COLD`` seconds from the tool's start (statements reset just before it is
  launched, no warm-up): its first connection, its first polls, its catalog caches filling;
- steady: after that, a reset and a ``window`` of the running tool.

  migtui headless at 2 s (the default interval)  |  pg_activity at --refresh 2 (tmux)
  migtui headless at 1 s  |  migtui cockpit at 1 s (tmux)  |  pg_activity at --refresh 1 (tmux)

Server side: the sum of total_exec_time + total_plan_time over the statements of the tool's own role
(migtui connects as ``migtui_bench``, pg_activity as ``pga_bench``, both superusers), divided by the
refreshes in the window (window / interval). migtui's statements carry ``/* migtui */``; the part
without it is its per-query ``SET statement_timeout``.
Client side: utime+stime from /proc/<pid>/stat over the window (process and children), peak RSS
(VmHWM) of the process.
"""

from __future__ import annotations

import re
import signal
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

from bench import term
from bench.common import Context, NotMeasured, cpu_seconds, module_available, ratio, rss_mib, venv_bin

WARMUP = 8.0
COLD = 20.0
"""The cold window: from the tool's launch (no warm-up, statements reset just before it)."""


def _migtui_config(path: Path, dsn: str, interval: float) -> Path:
    path.write_text(textwrap.dedent(f"""
        name: bench-live
        interval: {interval:g}s
        sources:
          - type: postgres
            name: db
            dsn: "{dsn}"
    """))
    return path


def _window(ctx: Context, srv: Any, pids: Any, window: float, role: str | None,
            launched: float | None = None) -> dict[str, Any]:
    """With ``launched`` (monotonic time of the launch, statements reset just before it): the cold
    window's statements first. Then, after the warm-up: reset statements, measure CPU over
    ``window``, read statements."""
    cold: dict[str, Any] = {}
    if launched is not None and role:
        time.sleep(max(0.0, launched + COLD - time.monotonic()))
        cold = {"window_s": round(time.monotonic() - launched, 1), "server": srv.statements(role)}
    else:
        time.sleep(WARMUP)
    if role:
        srv.reset_statements()
    pid_list = pids()
    c0 = sum(cpu_seconds(p, children=False) for p in pid_list)
    t0 = time.monotonic()
    time.sleep(window)
    elapsed = time.monotonic() - t0
    pid_list2 = pids()
    c1 = sum(cpu_seconds(p, children=False) for p in pid_list2)
    stm = srv.statements(role) if role else {}
    peak = max((rss_mib(p)[1] for p in pid_list2), default=0.0)
    rss = max((rss_mib(p)[0] for p in pid_list2), default=0.0)
    cpu = c1 - c0
    res = {"window_s": round(elapsed, 1), "cpu_s": round(cpu, 3), "cpu_s_per_min": round(cpu / elapsed * 60, 3),
           "cpu_pct_of_one_core": round(cpu / elapsed * 100, 2), "peak_rss_mib": round(peak, 1),
           "rss_mib": round(rss, 1), "server": stm}
    if cold:
        res["cold"] = cold
    return res


def _per_refresh(res: dict[str, Any], interval: float) -> None:
    for part in (res, res.get("cold") or {}):
        stm = part.get("server") or {}
        if not stm:
            continue
        refreshes = part["window_s"] / interval
        part["refreshes"] = round(refreshes, 1)
        part["server_ms_per_refresh"] = round(stm["total_ms"] / refreshes, 3)
        part["server_ms_per_refresh_tagged"] = round(stm["tagged_ms"] / refreshes, 3)


def run_migtui_headless(ctx: Context, srv: Any, interval: float, window: float, tag: str) -> dict[str, Any]:
    exe = venv_bin("migtui")
    if not exe:
        raise NotMeasured("the migtui console script is not installed")
    d = ctx.workdir / "live"
    d.mkdir(parents=True, exist_ok=True)
    cfg = _migtui_config(d / f"{tag}.yaml", srv.dsn("migtui_bench"), interval)
    store = d / f"{tag}.duckdb"
    for f in d.glob(f"{tag}.duckdb*"):
        f.unlink()
    out = open(d / f"{tag}.out", "w")
    srv.start_load(COLD + window + 5)
    time.sleep(2)  # the load running before the tool starts, as in production
    srv.reset_statements()
    launched = time.monotonic()
    proc = subprocess.Popen([exe, "watch", "--config", str(cfg), "--store", str(store), "--headless"],
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        res = _window(ctx, srv, lambda: [proc.pid], window, "migtui_bench", launched)
        if proc.poll() is not None:
            raise NotMeasured(f"migtui watch exited early (code {proc.returncode}); see {out.name}")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        out.close()
        srv.stop_load()
    _per_refresh(res, interval)
    res["metrics"] = _migtui_metrics(store)
    return res


def _migtui_metrics(store_path: Path) -> dict[str, Any]:
    try:
        import duckdb

        con = duckdb.connect(str(store_path), read_only=True)
    except Exception as exc:  # noqa: BLE001
        return {"status": f"not measured: cannot read the store: {exc}"}
    try:
        run = con.execute("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()[0]
        series = con.execute("SELECT count(*) FROM series WHERE run_id = ?", [run]).fetchone()[0]
        metrics = con.execute("SELECT count(DISTINCT metric) FROM series WHERE run_id = ?", [run]).fetchone()[0]
        per_tick = con.execute("""SELECT avg(c), max(c) FROM (SELECT ts, count(*) c FROM samples WHERE run_id = ?
                                  GROUP BY ts)""", [run]).fetchone()
        snaps = con.execute("""SELECT name, count(*), avg(json_array_length(rows)) FROM snapshots WHERE run_id = ?
                               GROUP BY name ORDER BY name""", [run]).fetchall()
    finally:
        con.close()
    return {"distinct_series": int(series), "distinct_metric_names": int(metrics),
            "samples_per_tick_mean": round(float(per_tick[0] or 0), 1), "samples_per_tick_max": int(per_tick[1] or 0),
            "table_snapshots": {n: {"snapshots": int(c), "rows_mean": round(float(r or 0), 1)} for n, c, r in snaps}}


def run_in_tmux(ctx: Context, srv: Any, name: str, argv: list[str], window: float, role: str | None,
                quit_keys: tuple[str, ...] = ()) -> dict[str, Any]:
    srv.start_load(COLD + window + 5)
    time.sleep(2)  # the load running before the tool starts, as in production
    if role:
        srv.reset_statements()
    launched = time.monotonic()
    pane = term.start(name, argv, env={"TERM": "xterm-256color", "COLUMNS": str(term.COLS), "LINES": str(term.ROWS)})
    try:
        res = _window(ctx, srv, lambda: term.tree(pane), window, role, launched)
        screen = term.capture(name)
        if term.pane_dead(name):
            raise NotMeasured(f"{argv[0]} exited in tmux: {screen.strip()[-300:]}")
        (ctx.workdir / "live" / f"{name}.screen.txt").write_text(screen)
        res["screen"] = screen
    finally:
        for k in quit_keys:
            term.send_keys(name, k)
        if quit_keys:
            term.wait_dead(name, 10)
        term.kill(name)
        srv.stop_load()
    return res


def pg_activity_argv(srv: Any, refresh: float) -> list[str]:
    exe = venv_bin("pg_activity")
    if not exe:
        raise NotMeasured("pg_activity is not installed (pip install pg_activity)")
    return [exe, "--refresh", f"{refresh:g}", "-h", "127.0.0.1", "-p", str(srv.port), "-U", "pga_bench", "-d", "bench"]


def pg_activity_shows(screen: str) -> dict[str, Any]:
    """What pg_activity's screen shows: header figures, the process table's columns and rows."""
    lines = screen.splitlines()
    head_idx = next((i for i, l in enumerate(lines) if re.match(r"^\s*PID\s", l)), None)
    if head_idx is None:
        return {"status": "not measured: no process table header (PID ...) on the captured screen"}
    # header: "Label: a, b - c, d" lines under the title line; each comma/" - " item is one figure
    # ("Load average: 1.0 2.0 3.0" counts its three numbers)
    figures = 0
    for l in lines[1:head_idx]:
        if ":" not in l:
            continue
        label, _, rest = l.partition(":")
        if "load average" in label.lower():
            figures += len(re.findall(r"\d+(?:\.\d+)?", rest))
        else:
            figures += len([x for x in re.split(r",| - ", rest) if x.strip()])
    columns = lines[head_idx].split()
    rows = [l for l in lines[head_idx + 1:] if l.strip() and not re.match(r"^\s*F\d", l)]
    return {"header_figures": figures, "table_columns": len(columns), "column_names": columns,
            "table_rows_shown": len(rows), "cells_shown": len(columns) * len(rows)}


def run(ctx: Context) -> dict[str, Any]:
    from bench.pgserver import BenchServer

    window = ctx.scale(50, 15)
    srv = BenchServer(ctx.workdir, log=ctx.log)
    out: dict[str, Any] = {"window_s": window, "cold_window_s": COLD}
    try:
        srv.start()
        srv.populate()
        srv.open_idle_sessions()
        srv.warm_up()
        out["server"] = srv.info()
        phases: dict[str, Any] = {}

        def phase(name: str, fn: Any) -> None:
            ctx.log(f"  phase {name} ({window:g}s)")
            try:
                phases[name] = fn()
            except NotMeasured as exc:
                phases[name] = {"status": f"not measured: {exc}"}
            except Exception as exc:  # noqa: BLE001
                phases[name] = {"status": f"not measured: {type(exc).__name__}: {exc}"}

        phase("migtui_headless_2s", lambda: run_migtui_headless(ctx, srv, 2.0, window, "headless2"))
        phase("pg_activity_2s", lambda: _pga(ctx, srv, 2.0, window))
        phase("migtui_headless_1s", lambda: run_migtui_headless(ctx, srv, 1.0, window, "headless1"))
        phase("migtui_tui_1s", lambda: _tui(ctx, srv, 1.0, window))
        phase("pg_activity_1s", lambda: _pga(ctx, srv, 1.0, window))
        out["phases"] = phases
    except NotMeasured as exc:
        out["status"] = f"not measured: {exc}"
    finally:
        term.kill_server()
        srv.stop()
    out["overhead"] = _overhead(out.get("phases", {}))
    out["client"] = _client(out.get("phases", {}))
    for p in out.get("phases", {}).values():
        p.pop("screen", None)
    return out


def _pga(ctx: Context, srv: Any, refresh: float, window: float) -> dict[str, Any]:
    argv = pg_activity_argv(srv, refresh)
    res = run_in_tmux(ctx, srv, f"pga{refresh:g}", argv, window, "pga_bench", quit_keys=("q",))
    _per_refresh(res, refresh)
    res["shows"] = pg_activity_shows(res.get("screen", ""))
    res["screen_head"] = [line.rstrip() for line in res.get("screen", "").splitlines()[:13]]
    return res


def _tui(ctx: Context, srv: Any, interval: float, window: float) -> dict[str, Any]:
    if not module_available("migtui.tui.app"):
        raise NotMeasured("migtui/tui is missing")
    exe = venv_bin("migtui")
    d = ctx.workdir / "live"
    cfg = _migtui_config(d / "tui.yaml", srv.dsn("migtui_bench"), interval)
    store = d / "tui.duckdb"
    for f in d.glob("tui.duckdb*"):
        f.unlink()
    res = run_in_tmux(ctx, srv, "migtui-tui", [exe, "watch", "--config", str(cfg), "--store", str(store)],
                      window, "migtui_bench", quit_keys=("q",))
    _per_refresh(res, interval)
    return res


def _overhead(phases: dict[str, Any]) -> dict[str, Any]:
    m, p = phases.get("migtui_headless_2s", {}), phases.get("pg_activity_2s", {})
    if "server_ms_per_refresh" not in m or "server_ms_per_refresh" not in p:
        reasons = [x.get("status", "no server figures") for x in (m, p) if "server_ms_per_refresh" not in x]
        return {"status": "not measured: " + "; ".join(reasons)}
    mm, pm = m["metrics"], p.get("shows", {})
    r = ratio(m["server_ms_per_refresh"], p["server_ms_per_refresh"])
    mc, pc = m.get("cold") or {}, p.get("cold") or {}
    rc = ratio(mc.get("server_ms_per_refresh"), pc.get("server_ms_per_refresh"))
    return {
        "interval_s": 2.0,
        "migtui_server_ms_per_tick": m["server_ms_per_refresh"],
        "migtui_server_ms_per_tick_tagged_only": m["server_ms_per_refresh_tagged"],
        "pg_activity_server_ms_per_refresh": p["server_ms_per_refresh"],
        "ratio_migtui_over_pg_activity": r,
        "cold_window_s": COLD,
        "migtui_cold_server_ms_per_tick": mc.get("server_ms_per_refresh"),
        "pg_activity_cold_server_ms_per_refresh": pc.get("server_ms_per_refresh"),
        "ratio_cold_migtui_over_pg_activity": rc,
        "migtui_metrics": mm,
        "pg_activity_shows": pm,
        "goal": "server time per refresh: migtui <= 1.0 x pg_activity in the cold 20 s from launch, "
                "<= 0.3 x in the steady state, while collecting far more",
        "met": r is not None and r <= 0.3 and rc is not None and rc <= 1.0,
        "met_steady": r is not None and r <= 0.3,
        "met_cold": rc is not None and rc <= 1.0,
    }


def _client(phases: dict[str, Any]) -> dict[str, Any]:
    def pick(name: str) -> dict[str, Any]:
        ph = phases.get(name, {})
        if "cpu_s_per_min" not in ph:
            return {"status": ph.get("status", "not measured")}
        return {k: ph[k] for k in ("cpu_s_per_min", "cpu_pct_of_one_core", "peak_rss_mib", "rss_mib")}

    out = {name: pick(name) for name in ("migtui_headless_1s", "migtui_tui_1s", "pg_activity_1s",
                                        "migtui_headless_2s", "pg_activity_2s")}
    h, u, p = out["migtui_headless_1s"], out["migtui_tui_1s"], out["pg_activity_1s"]
    out["ratio_tui_over_pg_activity_cpu"] = ratio(u.get("cpu_s_per_min"), p.get("cpu_s_per_min"))
    out["ratio_headless_over_pg_activity_cpu"] = ratio(h.get("cpu_s_per_min"), p.get("cpu_s_per_min"))
    out["goal"] = "headless < 2% of one core; cockpit CPU <= 2x pg_activity's (1 s refresh)"
    out["met_headless"] = bool(h.get("cpu_pct_of_one_core") is not None and h["cpu_pct_of_one_core"] < 2.0)
    rr = out["ratio_tui_over_pg_activity_cpu"]
    out["met_tui"] = bool(rr is not None and rr <= 2.0)
    return out
