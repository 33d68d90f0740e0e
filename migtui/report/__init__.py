"""Reports of a run from the store: HTML (self-contained, inline SVG charts, printable), Markdown,
JSON (the store's rows and the statistics computed from them) and Parquet (the run's raw tables).

Everything heavy happens in DuckDB. Secrets: the store holds none (configs are redacted on the way
in); text from the store is redacted once more and escaped for the format it is written in.

The package, imports pointing down the list:

- :mod:`~migtui.report.export`: :func:`export_report` (open the store, build, write one format; Parquet).
- :mod:`~migtui.report.html` and :mod:`~migtui.report.markdown`: render the report data.
- :mod:`~migtui.report.charts`: which series get a chart, their downsampled points, the SVG.
- :mod:`~migtui.report.formatting`: numbers, durations, labels and times as both formats write them.
- :mod:`~migtui.report.data`: :func:`build_report`, the report as plain data (the JSON format).
- :mod:`~migtui.report.checklist`: the post-migration checklist.
- :mod:`~migtui.report.summary`: the first screen: outcome (ok, degraded, rolled back, failed), what ran, worst moment.
- :mod:`~migtui.report.health`: each series' kind (:mod:`migtui.metrickinds`), verdicts or timeline.
- :mod:`~migtui.report.verdicts`: Hodges-Lehmann shift, worst window, the verdict rules, timelines.
- :mod:`~migtui.report.statistics`: per-phase statistics and Mann-Whitney rank sums in DuckDB.
- :mod:`~migtui.report.statements_view`: the sections below as HTML and Markdown.
- :mod:`~migtui.report.statements`: queries that got slower (the application's, the migration's,
  migtui's own cost) from the pg_stat_statements snapshots; :mod:`~migtui.report.indexes`: new and
  dropped indexes.
"""

from __future__ import annotations

from migtui.report.checklist import post_migration_checklist
from migtui.report.data import build_report
from migtui.report.export import FORMATS, ReportError, export_report, open_store_for_report, write_parquet
from migtui.report.html import render_html
from migtui.report.markdown import render_markdown
from migtui.report.statistics import mann_whitney_from_ranks

__all__ = ["FORMATS", "ReportError", "build_report", "export_report", "mann_whitney_from_ranks", "open_store_for_report",
           "post_migration_checklist", "render_html", "render_markdown", "write_parquet"]
