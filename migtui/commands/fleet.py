"""``migtui fleet``: read what a fleet of watches publishes (``fleet watch``: their /status and /metrics)."""

from __future__ import annotations

from pathlib import Path

import click

from migtui.commands.common import duration_callback
from migtui.commands.output import echo


@click.group()
def fleet() -> None:
    """A fleet of watches: one row per database from each watch's /status."""


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
