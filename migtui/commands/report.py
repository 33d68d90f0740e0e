"""``migtui report``: export a run as HTML, Markdown, JSON or Parquet."""

from __future__ import annotations

from pathlib import Path

import click

from migtui.commands.output import echo


@click.command()
@click.option("--store", "-s", "store_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="DuckDB store file.")
@click.option("--run", "run_id", default="latest", show_default=True, metavar="ID|latest",
              help="Which run (see `migtui runs`).")
@click.option("--format", "fmt", type=click.Choice(["html", "md", "json", "parquet"]), default="html",
              show_default=True, help="html: one self-contained printable file with charts; md: tables; "
                                      "json: the store's rows and statistics; parquet: the run's raw tables (a folder).")
@click.option("-o", "--output", "out_path", metavar="PATH|URL",
              help="Output file (a folder for parquet). Default: migtui-report-<run>.<ext>. For parquet also "
                   "s3://BUCKET/PREFIX/ or file://DIR: the files go under database=<name>/run=<id>/.")
def report(store_path: Path, run_id: str, fmt: str, out_path: str | None) -> None:
    """Export a run: summary, phases, per-metric baseline/migration/post statistics with the verdict,
    trigger timeline, alerts, actions, checklist and integrity results."""
    from migtui.report import export_report

    out = export_report(store_path, run_id, fmt, out_path)
    echo(f"report written to {out}", err=True)
