"""``migtui demo``: watch a realistic migration on a throwaway embedded PostgreSQL."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import click

from migtui.commands.common import duration_callback, json_option

DEFAULT_STORE = "migtui-demo.duckdb"


class _Interrupted:
    signum = int(signal.SIGINT)


def _signals_to_interrupt() -> dict[int, Any]:
    """SIGTERM and SIGHUP end the demo like Ctrl-C does (everything is stopped and cleaned up)."""

    def handler(signum: int, frame: Any) -> None:
        _Interrupted.signum = signum
        raise KeyboardInterrupt

    old = {}
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            old[sig] = signal.signal(sig, handler)
    return old


@click.command()
@click.option("--headless", is_flag=True, help="No UI: print the event stream (a line per event, a status line every 5s).")
@click.option("--duration", callback=duration_callback, metavar="DURATION",
              help="Stop after this long (30s, 5m). Default: headless stops at the end of the scenario; the "
                   "cockpit stays until you quit.")
@click.option("--store", "-s", "store_path", type=click.Path(dir_okay=False, path_type=Path),
              default=DEFAULT_STORE, show_default=True, help="DuckDB store for the run (kept afterwards).")
@click.option("--fast", is_flag=True, help="A short scenario (50,000 orders, under a minute): tests and CI.")
@click.option("--scale", type=click.FloatRange(0.001, 20.0), metavar="FACTOR",
              help="Orders = FACTOR x 1,000,000 (default 1, or 0.05 with --fast).")
@click.option("--rollback", "rollback", is_flag=True,
              help="With --headless: the scripted operator rolls back the paused migration instead of resuming it.")
@click.option("--standby", is_flag=True,
              help="Also start a streaming standby; its replay lag spikes during the backfill and a throttle "
                   "trigger holds the backfill until it has caught up.")
@json_option("With --headless: one JSON object per event on stdout (messages go to stderr).")
@click.option("--keep-dir", is_flag=True, hidden=True, help="Keep the demo's temp folder (debugging).")
def demo(headless: bool, duration: float | None, store_path: Path, fast: bool, scale: float | None,
         rollback: bool, standby: bool, as_json: bool, keep_dir: bool) -> None:
    """Watch a realistic migration on a throwaway embedded PostgreSQL.

    Starts PostgreSQL with a shop database (a million orders), a client workload and a small API with
    OpenMetrics, then plays a scripted migration: baseline, ADD COLUMN, CREATE INDEX CONCURRENTLY,
    a lock queue, and a batched backfill during which the API's errors trip the seed triggers
    (warn, then pause). Resume or roll back from the cockpit. Everything is stopped at the end.
    """
    from migtui.commands.watch import report_exit
    from migtui.demo.orchestrator import Demo
    from migtui.demo.scenario import scenario_for

    scenario = scenario_for(fast=fast, scale=scale, rollback=rollback, standby=standby)
    if as_json and not headless:
        raise click.UsageError("--json needs --headless")
    if rollback and not headless:
        raise click.UsageError("--rollback needs --headless (in the cockpit, press r)")

    def say(msg: str) -> None:
        click.echo(msg, err=True)

    d = Demo(scenario, store_path, headless=headless, duration=duration, say=say, keep_dir=keep_dir)
    old = _signals_to_interrupt()
    interrupted = False
    try:
        d.setup()
        if headless:
            from migtui.headless import HeadlessPrinter

            HeadlessPrinter(d.engine, as_json=as_json, status_every=5.0)
            d.run_headless()
        else:
            d.run_cockpit()
            if d.signal is not None:
                _Interrupted.signum = d.signal
                interrupted = True
    except KeyboardInterrupt:
        interrupted = True
    finally:
        for _ in range(10):  # a second Ctrl-C while stopping skips the step it hit, not the rest
            try:
                d.shutdown()
                break
            except KeyboardInterrupt:
                interrupted = True
        for sig, handler in old.items():
            signal.signal(sig, handler)
    code = 128 + _Interrupted.signum if interrupted else 0
    if d.run_id is None:
        sys.exit(code or 1)
    first = d.timings.get("first samples")
    if first is not None:
        say(f"demo: first samples {first:.1f}s after start (PostgreSQL {d.timings.get('postgres start', 0):.1f}s, "
            f"data {d.timings.get('data load', 0):.1f}s)")
    unstored = d.engine is not None and d.engine.unstored is not None
    status = "incomplete" if unstored else "interrupted" if interrupted else "finished"
    say(f"demo: run {d.run_id} {status}; stored in {store_path}")
    say(f"demo: export the report:  migtui report --store {store_path} --run {d.run_id} --format html "
        f"-o report.html")
    if d.engine is not None:
        report_exit(d.engine)  # like watch: the plugins not waited for; samples not stored fail the demo
    if code:
        sys.exit(code)
