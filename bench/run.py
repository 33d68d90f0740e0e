"""Run migtui's benchmarks: ``python -m bench.run [--only NAME ...] [--quick]``.

Figures (see the issue "Benchmarks"): ``live`` (1. overhead on the monitored server and 2. client
cost, against pg_activity; aliases ``overhead``, ``client``), ``store`` (3.), ``longrun`` (4.),
``reaction`` (5.), ``startup`` (6.), ``lint`` (7., against squawk), ``throttle`` (8.), ``fleetview`` (9.), ``fleetreport`` (10.). Writes bench/results/latest.json and latest.md (``--out`` to
put them elsewhere). A missing part of migtui or a missing peer tool is recorded as
``not measured: <reason>``; the run goes on.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from bench.common import RESULTS, Context, NotMeasured, machine

FIGURES = {
    "live": "bench.live",
    "store": "bench.store_bench",
    "longrun": "bench.longrun",
    "reaction": "bench.reaction",
    "startup": "bench.startup",
    "lint": "bench.lint_bench",
    "throttle": "bench.throttle_bench",
    "fleetview": "bench.fleet_view_bench",
    "fleetreport": "bench.fleet_report_bench",
}
ALIASES = {"overhead": "live", "client": "live", "server": "live", "long": "longrun", "start": "startup"}
ORDER = ["store", "reaction", "startup", "lint", "throttle", "fleetview", "fleetreport", "live", "longrun"]


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def run_figure(name: str, ctx: Context) -> dict[str, Any]:
    t = time.monotonic()
    load0 = _loadavg()
    try:
        mod = importlib.import_module(FIGURES[name])
        res = mod.run(ctx)
    except NotMeasured as exc:
        res = {"status": f"not measured: {exc}"}
    except Exception as exc:  # noqa: BLE001 - one broken figure must not lose the others
        res = {"status": f"not measured: {type(exc).__name__}: {exc}",
               "traceback": traceback.format_exc()[-2000:]}
    res["elapsed_s"] = round(time.monotonic() - t, 1)
    res["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if ctx.note:
        res["note"] = ctx.note
    res["loadavg_before"] = load0
    res["loadavg_after"] = _loadavg()
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", metavar="NAME",
                    help=f"run only this figure (repeatable): {', '.join(ORDER)} (aliases: {', '.join(ALIASES)})")
    ap.add_argument("--quick", action="store_true", help="smaller sizes and shorter windows (a few minutes)")
    ap.add_argument("--out", type=Path, default=RESULTS, help="folder for latest.json and latest.md")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder (stores, screens, server log)")
    ap.add_argument("--note", default="", help="a note kept with the figures measured now (e.g. the host was shared)")
    args = ap.parse_args(argv)
    names = []
    for n in args.only or ORDER:
        n = ALIASES.get(n, n)
        if n not in FIGURES:
            ap.error(f"unknown figure {n!r}; choose from {', '.join(ORDER)}")
        if n not in names:
            names.append(n)
    names.sort(key=ORDER.index)
    work = Path(tempfile.mkdtemp(prefix="migtui-bench-"))
    os.chmod(work, 0o755)  # the embedded server runs as an unprivileged user

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    ctx = Context(quick=args.quick, workdir=work, log=log, note=args.note)
    out_json = args.out / "latest.json"
    previous: dict[str, Any] = {}
    if args.only and out_json.exists():
        try:
            prev_run = json.loads(out_json.read_text())
        except ValueError:
            prev_run = {}
        previous = prev_run.get("figures", {})
        for fig in previous.values():  # figures kept from an earlier run say when and under what load
            if isinstance(fig, dict):
                fig.setdefault("measured_at", (prev_run.get("machine") or {}).get("date"))
                fig.setdefault("loadavg_before", prev_run.get("loadavg_at_start"))
    results: dict[str, Any] = {
        "command": "python -m bench.run" + (" --quick" if args.quick else "")
                   + "".join(f" --only {n}" for n in (args.only or [])),
        "quick": args.quick,
        "machine": machine(),
        "loadavg_at_start": _loadavg(),
        "figures": dict(previous),
    }
    started = time.monotonic()
    try:
        for name in names:
            log(f"bench: {name} ...")
            results["figures"][name] = run_figure(name, ctx)
            log(f"bench: {name} done in {results['figures'][name]['elapsed_s']}s")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"bench: scratch kept in {work}")
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    results["loadavg_at_end"] = _loadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(results, indent=1, default=str) + "\n")
    from bench.report import markdown

    md = markdown(results)
    (args.out / "latest.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
