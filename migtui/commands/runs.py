"""``migtui runs``."""

from __future__ import annotations

from pathlib import Path

import click

from migtui.cli import echo_json
from migtui.commands.common import json_option
from migtui.commands.output import echo


@click.command()
@click.option("--store", "-s", "store_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="DuckDB store file.")
@json_option()
def runs(store_path: Path, as_json: bool) -> None:
    """List the runs in a store: id, name, start, end, status, samples, events."""
    from migtui.store import Store

    from migtui.store_recovery import recovery_files

    store = Store.open(store_path, read_only=True)
    try:
        rows = store.runs()
    finally:
        store.close()
    for waiting in recovery_files(store_path):
        click.echo(f"migtui: {waiting} holds what an incomplete run could not store; the next watch on this "
                   "store imports it", err=True)
    for r in rows:
        if not r["end_recorded"]:
            echo(f"migtui: run {r['run_id']} ended without a recorded end (the store still says running); "
                 f"it reads {r['status']}, as the next watch on this store records it", err=True)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        echo(f"{store_path}: no runs yet")
        return
    echo(f"{'RUN':<22} {'NAME':<20} {'STARTED (UTC)':<20} {'DURATION':>9} {'STATUS':<11} {'SAMPLES':>9} {'EVENTS':>7}")
    for r in rows:
        started = r["started_at"].strftime("%Y-%m-%d %H:%M:%S")
        dur = ""
        if r["ended_at"] is not None:
            secs = int((r["ended_at"] - r["started_at"]).total_seconds())
            dur = f"{secs // 60}m{secs % 60:02d}s"
        echo(f"{r['run_id']:<22} {r['name'][:20]:<20} {started:<20} {dur:>9} {r['status']:<11} "
                   f"{r['samples']:>9} {r['events']:>7}")
