"""``migtui fleet``: read what a fleet of watches publishes (``fleet watch``: their /status and /metrics)."""

from __future__ import annotations

from pathlib import Path

import click

from migtui.commands.common import duration_callback
from migtui.commands.output import echo


@click.group()
def fleet() -> None:
    """A fleet of watches: one row per database from each watch's /status (watch), one campaign report over the runs' Parquet files (report)."""


@fleet.command("watch")
@click.option("--targets", "targets_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="YAML or text list of the watches' /status URLs (names and token_env optional).")
@click.option("--interval", callback=duration_callback, default="2s", show_default=True, metavar="DURATION",
              help="How often every target is read.")
@click.option("--timeout", callback=duration_callback, default="1.5s", show_default=True, metavar="DURATION",
              help="Total deadline of one request (connect, headers and body); at most the interval.")
@click.option("--concurrency", type=click.IntRange(1, 512), default=32, show_default=True,
              help="Requests in flight at once.")
@click.option("--headless", is_flag=True, help="No cockpit: print one line per refresh and per change.")
@click.option("--rounds", type=click.IntRange(1), default=None, help="Headless: stop after N refresh rounds.")
def watch(targets_path: Path, interval: float, timeout: float, concurrency: int, headless: bool,
          rounds: int | None) -> None:
    """Watch many migtui watches: phase, progress and ETA, throttle, worst trigger, lock waits, lag,
    verdict and the age of the data, one row per database. Enter opens a database's /metrics."""
    from migtui.fleet.poller import FleetPoller
    from migtui.fleet.targets import load_targets

    targets = load_targets(targets_path)
    if interval < 0.1 or timeout < 0.1:
        raise click.BadParameter("--interval and --timeout must be at least 100ms")
    poller = FleetPoller(targets, interval=interval, timeout=timeout, concurrency=concurrency)
    if headless:
        from migtui.fleet.headless import run_headless

        run_headless(poller, rounds, echo)
        return
    from migtui.tui.fleet import run_fleet

    run_fleet(poller)


@fleet.command("report")
@click.option("--from", "source", required=True, metavar="s3://BUCKET/PREFIX/|DIR",
              help="Where the runs' Parquet files are (database=<name>/run=<id>/, as report -o / watch --export write).")
@click.option("--campaign", metavar="NAME", help="Read FROM/NAME/ only (one campaign's prefix).")
@click.option("--format", "fmt", type=click.Choice(["html", "md", "json"]), default="md", show_default=True)
@click.option("-o", "--output", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here instead of standard output.")
def report(source: str, campaign: str | None, fmt: str, out_path: Path | None) -> None:
    """One campaign report over every run's Parquet files: per database the duration, phases, worst lock
    wait, p95 and error-rate changes against its baseline, triggers fired, actions, throttled time and
    integrity checks, worst first, with a fleet-wide summary and the outliers flagged."""
    from migtui.fleet.report import build_fleet_report
    from migtui.fleet.report_render import RENDERERS

    text = RENDERERS[fmt](build_fleet_report(source, campaign))
    if out_path is None:
        click.echo(text, nl=False)
        return
    try:
        out_path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"{out_path}: cannot write the report: {exc.strerror}") from None
    echo(f"fleet report written to {out_path}", err=True)
