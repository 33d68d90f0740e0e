"""``migtui watch`` and ``migtui baseline``."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import click

from migtui.commands.common import (config_option, duration_callback, http_options, json_option, load,
                                    store_option, store_path_for)
from migtui.model import Phase

EXPORT_HELP = "At the end of the run, write its Parquet files here under database=<name>/run=<id>/."


def _stop_on_signals(engine: Any) -> None:
    """Ctrl-C and SIGTERM stop a headless watch cleanly: the engine finishes its tick, writes the last
    batch and closes the run. The handler only sets the engine's stop flag, so the signal never lands
    inside a store write (DuckDB turns a pending KeyboardInterrupt into its own InterruptException,
    which looked like a failed write and kept the watch running). A second signal stops at once.
    SIGINT is set explicitly: a process started in the background by a non-interactive shell
    inherits it ignored."""
    seen = 0

    def handler(signum: int, frame: Any) -> None:
        nonlocal seen
        seen += 1
        if seen > 1:
            raise KeyboardInterrupt
        engine.stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run_headless(engine: Any, duration: float | None, *, as_json: bool,
                 before_close: Any = None) -> None:
    """Print ticks and events until ``duration`` passes or Ctrl-C / SIGTERM; always close the run."""
    from migtui.headless import HeadlessPrinter

    HeadlessPrinter(engine, as_json=as_json)
    _stop_on_signals(engine)
    try:
        engine.run(duration)
    except KeyboardInterrupt:
        pass
    finally:
        if before_close is not None:
            before_close()
        engine.close()


def report_exit(engine: Any) -> None:
    """After the run closed: name the plugins exit did not wait for; when samples could not be
    stored, say how many and where they were kept, and fail (exit 1) - the run is ``incomplete``."""
    from migtui.errors import StoreError

    if engine.busy_at_exit:
        click.echo(f"migtui: still busy at exit, not waited for: {', '.join(engine.busy_at_exit)}", err=True)
    if engine.unstored is not None:
        raise StoreError(f"run {engine.run_id} is incomplete: {engine.unstored.describe()}")


def serve_http(settings: Any, engine: Any) -> Any:
    """Start the ``--http`` server over ``engine`` (None when off); a port that cannot be bound closes
    the engine's run and is one clear error."""
    from migtui.http.server import serve_engine

    try:
        server = serve_engine(settings, engine)
    except BaseException:
        engine.close()
        raise
    if server is not None:
        click.echo(f"migtui: serving {server.url}/ (read-only: GET / lists the routes)", err=True)
    return server


def build_engine(config_path: Path, store_path: Path | None, *, phase: str, baseline: str | None,
                 headless: bool, name: str | None = None, prepare: Any = None) -> Any:
    """Load the config, open the store and build the engine (``prepare(config)`` runs in between)."""
    from migtui.engine import Engine
    from migtui.store import Store

    config, host = load(config_path)
    if not config["sources"]:
        from migtui.errors import ConfigError

        raise ConfigError("no sources: nothing to watch; add a `sources:` list (see sample_configs/)",
                          file=str(config.path), line=config.raw.line_of("sources"), path="sources")
    if prepare is not None:
        prepare(config)
    store = Store.open(store_path_for(config, store_path))
    for path, samples in store.imported:
        click.echo(f"migtui: imported {samples} samples that an earlier run could not store, from {path}", err=True)
    try:
        if baseline is not None:
            store.run(baseline)  # a clear error when the run does not exist
        store.interrupted_runs()
        return Engine(config, store=store, host=host, phase=phase, baseline_run=baseline, headless=headless,
                      run_name=name, connect_check=True)
    except BaseException:
        store.close()
        raise


@click.command()
@config_option()
@store_option()
@click.option("--headless", is_flag=True, help="No UI: print a status line per tick and a line per event.")
@click.option("--duration", callback=duration_callback, metavar="DURATION",
              help="Stop after this long (30s, 5m, 2h); default: until Ctrl-C.")
@json_option("With --headless: print one JSON object per event (ts, run, phase, kind, subject, level, message, data).")
@click.option("--phase", type=click.Choice([p.value for p in Phase]), default="baseline", show_default=True,
              help="Phase the run starts in.")
@click.option("--baseline", "baseline_run", metavar="RUN_ID",
              help="Compare with the baseline of this run in the same store (default: this run's baseline phase).")
@click.option("--name", help="Run name (default: the config's name).")
@http_options
@click.option("--export", "export_to", metavar="s3://BUCKET/PREFIX/|DIR", help=EXPORT_HELP)
def watch(config_path: Path, store_path: Path | None, headless: bool, duration: float | None, as_json: bool,
          phase: str, baseline_run: str | None, name: str | None, http_bind: str | None,
          http_token_file: Path | None, export_to: str | None) -> None:
    """Watch a migration: the cockpit, or with --headless a line per tick and per event."""
    from migtui.http.server import http_settings

    settings = http_settings(http_bind, http_token_file)
    check_export_target(export_to)
    engine = build_engine(config_path, store_path, phase=phase, baseline=baseline_run, headless=headless, name=name)
    server = serve_http(settings, engine)
    try:
        _watch(engine, headless, duration, as_json)
    finally:
        if server is not None:
            server.close()
        if export_to and not export_run(engine.store.path, engine.run_id, export_to):
            sys.exit(1)


def check_export_target(target: str | None) -> None:
    """``--export``: a wrong bucket or a dead endpoint fails before the run starts."""
    if target:
        from migtui.fleet.objectstore import check_reachable, open_location

        check_reachable(open_location(target))


def export_run(store_path: Path, run_id: str, target: str) -> bool:
    """``--export``: the closed run's Parquet files to ``target``; a failure is one line saying the
    run is still in the store (nothing is lost), and False."""
    from migtui.errors import MigtuiError
    from migtui.report.export import export_run_to, open_store_for_report

    try:
        store = open_store_for_report(store_path)
        try:
            where = export_run_to(store.cursor(), run_id, target)
        finally:
            store.close()
    except MigtuiError as exc:
        click.echo(f"migtui: export failed: {exc}; run {run_id} is kept in {store_path} "
                   f"(migtui report --store {store_path} --run {run_id} --format parquet -o {target})", err=True)
        return False
    click.echo(f"migtui: run {run_id} exported to {where}", err=True)
    return True


def _watch(engine: Any, headless: bool, duration: float | None, as_json: bool) -> None:
    if not headless:
        from migtui.tui.app import run_cockpit

        crashed = run_cockpit(engine)
        report_exit(engine)
        if crashed:
            sys.exit(1)  # the cockpit stopped on an error (the run went on headless until Ctrl-C)
        return
    run_headless(engine, duration, as_json=as_json)
    report_exit(engine)
    if not as_json:
        click.echo(f"run {engine.run_id} stored in {engine.store.path}", err=True)


@click.command()
@config_option()
@store_option()
@click.option("--duration", callback=duration_callback, default="5m", show_default=True, metavar="DURATION",
              help="How long to record the baseline.")
@json_option("Print one JSON object per event.")
def baseline(config_path: Path, store_path: Path | None, duration: float, as_json: bool) -> None:
    """Record a baseline run (phase baseline) and store its statistics for later comparisons."""
    engine = build_engine(config_path, store_path, phase="baseline", baseline=None, headless=True)

    def capture() -> None:
        engine.parts.baseline.capture(who="migtui baseline")

    run_headless(engine, duration, as_json=as_json, before_close=capture)
    report_exit(engine)
    click.echo(f"baseline run {engine.run_id} stored in {engine.store.path}; compare with it: "
               f"migtui watch --config {config_path} --baseline {engine.run_id}", err=True)
    sys.stdout.flush()
