"""The fleet report as Markdown, HTML or JSON. Every name read from the runs' files (databases, runs,
triggers, actions, checks, metrics) is outside text and goes through :mod:`migtui.safetext`.

The HTML has charts (inline SVG from :mod:`migtui.report.charts`, no script, nothing fetched, the
single-run report's stylesheet so it prints on A4): per database the duration with the throttled
time inside it, and the p95 and error-rate changes against the baseline as dots, worst first, the
outliers marked; at most ``CHART_ROWS`` databases each."""

from __future__ import annotations

import math
from typing import Any

from migtui import safetext
from migtui.report.charts import INNER_COLOR, ChartRow, svg_rows
from migtui.report.html import CSS

CHART_ROWS = 40
"""Databases per chart at most (the worst by that chart's measure): 40 rows fill about half an A4 page."""
COLUMNS = ("database", "run", "status", "duration", "phases", "worst lock wait", "p95 Δ", "error rate Δ",
           "triggers fired", "actions", "throttled", "checks", "outlier")


OUTLIER_NAMES = {"duration_seconds": "duration", "worst_lock_wait_seconds": "lock wait", "p95_delta": "p95 Δ",
                 "error_rate_delta": "error rate Δ", "throttled_seconds": "throttled"}
"""The outlier column names the columns it is about (the JSON keeps the keys)."""


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(round(seconds))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def _delta(d: dict[str, Any] | None, unit: str) -> str:
    if not d:
        return "-"
    return f"{d['delta']:+.1f}{unit} ({d['metric']})" if unit == "%" else f"{d['delta']:+.4g} ({d['metric']})"


def cells(row: dict[str, Any]) -> list[str]:
    """One database's cells as plain (unescaped) text."""
    checks = row["checks"]
    return [
        row["database"], row["run"], row["status"], _dur(row["duration_seconds"]),
        " ".join(f"{p['phase']} {_dur(p['seconds'])}" for p in row["phases"]) or "-",
        "-" if row["worst_lock_wait_seconds"] is None else f"{row['worst_lock_wait_seconds']:.3g} s",
        _delta(row["p95_delta"], "%"), _delta(row["error_rate_delta"], ""),
        ", ".join(row["triggers_fired"]) or "-", ", ".join(row["actions"]) or "-",
        _dur(row["throttled_seconds"]) if row["throttled_seconds"] else "-",
        (f"{len(checks) - row['checks_failed']}/{len(checks)} pass" if checks else "-"),
        ", ".join(OUTLIER_NAMES.get(f, f) for f in row["outliers"]),
    ]


def summary_lines(report: dict[str, Any]) -> list[str]:
    s = report["summary"]
    return [
        f"{s['databases']} databases, {s['runs']} runs ({', '.join(f'{n} {k}' for k, n in sorted(s['statuses'].items()))})",
        f"duration median {_dur(s['duration_median_seconds'])}, longest {_dur(s['duration_max_seconds'])}",
        f"{s['triggers_fired']} triggers fired on {s['databases_with_triggers']} databases; {s['actions']} actions "
        f"({s['rollbacks']} rollbacks); throttled {_dur(s['throttled_seconds'])} in all",
        f"integrity checks: {s['checks'] - s['checks_failed']}/{s['checks']} pass; {s['outliers']} outliers flagged",
    ]


def _title(report: dict[str, Any]) -> str:
    return f"Fleet report: {report['campaign'] or report['source']}"


def render_markdown(report: dict[str, Any]) -> str:
    md = safetext.markdown
    out = [f"# {md(_title(report))}", ""]
    out += [f"- {md(line)}" for line in summary_lines(report)]
    out += ["", "Worst first. Δ: the migration phase's p95 against the baseline phase's, per series (the worst).", "",
            "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in report["databases"]:
        c = [md(x) for x in cells(row)]
        if row["outliers"]:
            c[-1] = "**" + c[-1] + "**"
        out.append("| " + " | ".join(c) + " |")
    return "\n".join(out) + "\n"


def _pct(v: float) -> str:
    return f"{v:+.0f}%" if abs(v) >= 10 else f"{v:+.1f}%"


def _change(v: float) -> str:
    return "0" if v == 0 else f"{v:+.3g}"


def fleet_charts(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(title, caption, svg)`` of each chart that has data."""
    rows, out = report["databases"], []

    def caption(shown: int, total: int, what: str) -> str:
        first = f"all {total} databases" if shown == total else f"the {shown} {what} of {total} databases"
        return f"{first}, {what} first; ◆ outlier (far above the fleet's median)"

    timed = sorted((r for r in rows if r["duration_seconds"] is not None),
                   key=lambda r: (-r["duration_seconds"], -(r["throttled_seconds"] or 0), r["database"]))
    if timed:
        def marked(r: dict[str, Any]) -> bool:
            return bool({"duration_seconds", "throttled_seconds"} & set(r["outliers"]))

        # the outliers (a long throttle in a run of usual length) and then the longest
        keep = {id(r) for r in ([r for r in timed if marked(r)] + [r for r in timed if not marked(r)])[:CHART_ROWS]}
        shown = [r for r in timed if id(r) in keep]
        items = [ChartRow(r["database"], r["duration_seconds"], r["throttled_seconds"] or None, marked(r))
                 for r in shown]
        out.append(("Duration, with the throttled time inside it",
                    caption(len(shown), len(timed), "longest") +
                    f'; <span style="color:{INNER_COLOR}">■</span> throttled', svg_rows(items, fmt=_dur)))
    for key, title, fmt in (("p95_delta", "p95 change against the baseline", _pct),
                            ("error_rate_delta", "Error-rate change against the baseline", _change)):
        have = sorted((r for r in rows if r[key] and r[key].get("delta") is not None),
                      key=lambda r: (-float(r[key]["delta"]), r["database"]))
        if have:
            shown = have[:CHART_ROWS]
            items = [ChartRow(r["database"], float(r[key]["delta"]), None, key in r["outliers"]) for r in shown]
            out.append((title, caption(len(shown), len(have), "largest"), svg_rows(items, dots=True, fmt=fmt)))
    return out


def render_html(report: dict[str, Any]) -> str:
    h = safetext.html
    body = [f"<h1>{h(_title(report))}</h1>", "<ul>"] + [f"<li>{h(line)}</li>" for line in summary_lines(report)]
    body.append("</ul>")
    charts = fleet_charts(report)
    if charts:
        body.append("<h2>Charts</h2>")
        body += [f'<div class="chart"><h3>{h(title)}</h3><div class="muted">{cap}</div>{svg}</div>'
                 for title, cap, svg in charts]
    body += ["<h2>Databases</h2>", '<table class="fleet">', "<tr>" + "".join(f"<th>{h(c)}</th>" for c in COLUMNS) + "</tr>"]
    for row in report["databases"]:
        cls = ' class="outlier"' if row["outliers"] else (' class="bad"' if row["checks_failed"] else "")
        body.append(f"<tr{cls}>" + "".join(f"<td>{h(c)}</td>" for c in cells(row)) + "</tr>")
    body.append("</table>")
    # the table: 13 columns, words whole (a name or a number cut in two is unreadable): A4 landscape
    style = CSS + ("tr.outlier{background:#fde2e2} tr.bad{background:#fff3cd}\n"
                   "table.fleet{font-size:11px} table.fleet td,table.fleet th{overflow-wrap:normal;padding:2px 4px}\n"
                   ".chart svg{max-width:760px} "  # 40 rows at this scale fit a landscape page with the title
                   "@media print{table.fleet{font-size:8pt}} @page{size:A4 landscape}\n")
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{h(_title(report))}</title>"
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _clean(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return obj


def render_json(report: dict[str, Any]) -> str:
    return safetext.json_text(_clean(report), indent=1) + "\n"


RENDERERS = {"md": render_markdown, "html": render_html, "json": render_json}
