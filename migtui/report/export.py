"""``export_report``: open the store (read-only, or the cockpit's own), build the report and write it
as HTML, Markdown, JSON, or Parquet (the run's raw rows of every store table)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from migtui.errors import MigtuiError, StoreLockedError
from migtui.fleet.objectstore import is_url
from migtui.report.charts import chart_points, pick_chart_series
from migtui.report.data import build_report, resolve_run
from migtui.report.html import render_html
from migtui.report.markdown import render_markdown
from migtui.safetext import json_text

FORMATS = ("html", "md", "json", "parquet")
TABLES = ("runs", "series", "samples", "snapshots", "events", "baselines")


class ReportError(MigtuiError):
    """The report cannot be written (bad format, output path)."""


def open_store_for_report(path: str | os.PathLike[str]) -> Any:
    from migtui.store import Store

    try:
        return Store.open(path, read_only=True)
    except StoreLockedError as exc:
        pid = ""
        text = str(exc)
        if "(process " in text:
            pid = " " + text[text.index("(process "):text.index(")", text.index("(process ")) + 1]
        raise StoreLockedError(
            f"{path}: a running migtui{pid} holds this store and DuckDB lets only one process open the file; "
            f"press e in that cockpit to export, or run `migtui report` again when the watch has ended") from None


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def write_parquet(con: Any, run_id: str, folder: Path) -> list[Path]:
    """The run's rows of every store table, one Parquet file each, into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in TABLES:
        path = folder / f"{table}.parquet"
        order = " ORDER BY ts" if table in ("samples", "snapshots", "events") else ""
        con.execute(f"COPY (SELECT * FROM {table} WHERE run_id = {_sql_str(run_id)}{order}) "
                    f"TO {_sql_str(str(path))} (FORMAT parquet)")
        written.append(path)
    return written


def run_tables(con: Any, run_id: str) -> dict[str, Any]:
    """The run's rows of every store table as Arrow tables; the config snapshot redacted once more
    (DSN passwords and secret-named keys masked even if nobody registered them)."""
    import pyarrow as pa

    from migtui.redact import redact

    tables = {}
    for table in TABLES:
        order = " ORDER BY ts" if table in ("samples", "snapshots", "events") else ""
        tables[table] = con.sql(f"SELECT * FROM {table} WHERE run_id = {_sql_str(run_id)}{order}").to_arrow_table()
    runs = tables["runs"]
    i = runs.schema.get_field_index("config")
    configs = [None if c is None else redact(c) for c in runs.column(i).to_pylist()]
    tables["runs"] = runs.set_column(i, runs.schema.field(i), pa.array(configs, pa.string()))
    return tables


def export_run_to(con: Any, run_id: str, target: str | os.PathLike[str]) -> str:
    """Write the run's Parquet files under ``target`` (``s3://BUCKET/PREFIX/``, ``file://DIR`` or a
    folder) as ``database=<run name>/run=<id>/<table>.parquet``; returns where they went."""
    from migtui.fleet.objectstore import open_location, partition, write_tables

    loc = open_location(target)
    name = con.execute("SELECT name FROM runs WHERE run_id = ?", [run_id]).fetchall()[0][0]
    folder = partition(name, run_id)
    write_tables(loc, folder, run_tables(con, run_id))
    return loc.url.rstrip("/") + "/" + folder + "/"


def export_report(store_or_path: Any, run_id: str = "latest", fmt: str = "html",
                  out_path: str | os.PathLike[str] | None = None) -> Path:
    """Write a report of ``run_id`` (or ``latest``) as html, md, json or parquet; returns the path.

    ``store_or_path``: an open :class:`migtui.store.Store` (the cockpit's own) or a store file.
    For parquet, ``out_path`` is a folder, or a URL (``s3://BUCKET/PREFIX/``, ``file://DIR``) under
    which the files go hive-partitioned (see :func:`export_run_to`); then the URL is returned.
    """
    from migtui.store import Store

    if fmt not in FORMATS:
        raise ReportError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    own = not isinstance(store_or_path, Store)
    store = open_store_for_report(store_or_path) if own else store_or_path
    try:
        con = store.cursor()
        run_id = resolve_run(con, run_id)
        suffix = {"html": ".html", "md": ".md", "json": ".json", "parquet": ""}[fmt]
        out = Path(out_path) if out_path else Path(f"migtui-report-{run_id}{suffix}")
        if fmt == "parquet" and out_path is not None and is_url(str(out_path)):
            return export_run_to(con, run_id, str(out_path))  # type: ignore[return-value]
        if fmt == "parquet":
            write_parquet(con, run_id, out)
            return out
        report = build_report(con, run_id, store.settled)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReportError(f"{out}: cannot create its folder: {exc.strerror}") from None
        if fmt == "json":
            text = json_text(report, indent=1)
        elif fmt == "md":
            text = render_markdown(report)
        else:
            chosen = pick_chart_series(report)
            t0 = datetime.fromisoformat(report["phases"][0]["start"])
            t1 = datetime.fromisoformat(report["phases"][-1]["end"])
            pts = chart_points(con, run_id, [s["series_id"] for s in chosen], t0, t1)
            charts = {s["series_id"]: pts[s["series_id"]] for s in chosen if s["series_id"] in pts}
            text = render_html(report, charts)
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ReportError(f"{out}: cannot write the report: {exc.strerror}") from None
        return out
    finally:
        if own:
            store.close()
