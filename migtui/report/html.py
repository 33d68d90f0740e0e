"""The HTML report: one self-contained, printable page (inline CSS and SVG charts); every text from
the store is redacted and HTML-escaped on the way in."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from migtui import safetext
from migtui.redact import redact
from migtui.report.charts import PHASE_COLORS, svg_chart
from migtui.report.checklist import fired
from migtui.report.formatting import (ended_unknown, fmt_duration, fmt_metric, fmt_value, labels_text, time_of_day,
                                      timeline_text, verdict_text)
from migtui.report.lint import lint_html
from migtui.report.statistics import ALPHA, MIN_SAMPLES
from migtui.report.statements_view import statements_html
from migtui.report.summary import what_ran_text, worst_text


CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1b1f24;margin:24px auto;max-width:1100px;
     padding:0 16px;font-size:14px;line-height:1.4}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #ccd;padding-bottom:3px}
.meta{color:#555} table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:12.5px}
th,td{border:1px solid #d4d7dc;padding:3px 6px;text-align:left;vertical-align:top;overflow-wrap:break-word}
td.id{overflow-wrap:anywhere}
th{background:#f1f3f6} td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.pass,td.warn,td.fail{white-space:nowrap} .pass{color:#1e7b34;font-weight:600} .warn{color:#9a6700;font-weight:600} .fail,.error{color:#b42318;font-weight:600}
.same{color:#1e7b34} .muted{color:#777}
.chart{break-inside:avoid;page-break-inside:avoid;margin:8px 0 14px} .chart h3{font-size:13px;margin:0 0 2px}
.legend span{display:inline-block;padding:1px 8px;margin-right:6px;border:1px solid #ccc;font-size:12px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(500px,1fr));gap:4px 18px}
svg{display:block;max-width:100%;height:auto}
.outcome{font-size:18px;padding:8px 12px;border-radius:4px;margin:10px 0 4px;border:1px solid}
.outcome.ok{background:#e6f4ea;border-color:#1e7b34} .outcome.degraded{background:#fff4e0;border-color:#9a6700}
.outcome.failed,.outcome.rolled{background:#fde8e6;border-color:#b42318} .outcome ul{font-size:13.5px;margin:4px 0 0 0}
.worse{color:#b42318;font-weight:600} h3{font-size:14px;margin:14px 0 4px}
th.num{white-space:nowrap} details[open]>summary>code{display:none} code.sql{font-family:Menlo,Consolas,monospace;font-size:11.5px;white-space:pre-wrap;overflow-wrap:anywhere} .better{color:#1e5fa8}
@media print{body{margin:0;max-width:none;font-size:10.5pt} h2{break-after:avoid} tr{break-inside:avoid}
  a{color:inherit;text-decoration:none}}
@page{size:A4;margin:12mm}
"""


def _e(v: Any) -> str:
    return safetext.html(redact(v if v is not None else ""))  # control characters shown as \x1b, then escaped


def render_html(report: dict[str, Any], charts: dict[int, list[tuple[float, float, float, float]]]) -> str:
    run = report["run"]
    out: list[str] = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
                      f'<title>migtui report: {_e(run["name"])} {_e(run["run_id"])}</title>',
                      f"<style>{CSS}</style></head><body>"]
    out.append(f'<h1>Migration report: {_e(run["name"])}</h1>')
    out.append(f'<div class="meta">run {_e(run["run_id"])} on {_e(run["host"])} · started {_e(run["started_at"])} · '
               f'ended {_e(run["ended_at"] or ended_unknown(run))} · status <b>{_e(run["status"])}</b> · '
               f'migtui {_e(run["version"])} · baseline from run {_e(report["baseline_run"])}</div>')
    c = report["counts"]
    out.append(f'<p class="meta">{c["samples"]:,} samples in {c["series"]:,} series, {c["events"]:,} events, '
               f'{c["snapshots"]:,} snapshots.</p>')

    def events_table(title: str, rows: list[dict[str, Any]], extra: Sequence[tuple[str, str]] = ()) -> None:
        out.append(f"<h2>{title}</h2>")
        if not rows:
            out.append('<p class="muted">None.</p>')
            return
        out.append("<table><tr><th>Time</th><th>Phase</th><th>Level</th><th>Subject</th>"
                   + "".join(f"<th>{h}</th>" for h, _ in extra) + "<th>Message</th></tr>")
        for e in rows:
            out.append(f'<tr><td>{time_of_day(e["ts"])}</td><td>{_e(e["phase"])}</td>'
                       f'<td class="{_e(e["level"])}">{_e(e["level"])}</td><td>{_e(e["subject"])}</td>'
                       + "".join(f'<td>{_e(e["data"].get(k, ""))}</td>' for _, k in extra)
                       + f'<td>{_e(e["message"])}</td></tr>')
        out.append("</table>")

    # the first screen: are we OK?
    o = report["outcome"]
    out.append(f'<div class="outcome {o["verdict"].split()[0]}"><b>{_e(o["verdict"].upper())}</b><ul>'
               + "".join(f"<li>{_e(f)}</li>" for f in o["facts"]) + "</ul></div>")
    out.append("<h2>What ran</h2><ul>" + "".join(f"<li>{_e(x)}</li>" for x in what_ran_text(report)) + "</ul>")
    out.append("<h2>Worst moment</h2>" + _worst_html(report))
    events_table("Actions", report["actions"], [("Who", "who"), ("Why", "why"), ("OK", "ok")])
    th = report["throttle"]
    out.append("<h2>Throttle</h2><p>" + (f"Throttled {th['count']} time{'s' if th['count'] != 1 else ''}, {fmt_duration(th['seconds'])} in all."
                                         if th["count"] else "Never throttled.") + "</p>")
    if th["count"]:
        out.append("<table><tr><th>Start</th><th>End</th><th>Duration</th><th>Reason</th></tr>" + "".join(
            f'<tr><td>{time_of_day(p["start"])}</td><td>{time_of_day(p["end"]) if p["released"] else "(not released)"}'
            f'</td><td class="num">{fmt_duration(p["seconds"])}</td><td>{_e(p["reason"])}</td></tr>'
            for p in th["periods"]) + "</table>")
    # checklist
    out.append("<h2>Post-migration checklist</h2><table><tr><th>Item</th><th>Result</th><th>Evidence</th></tr>")
    for it in report["checklist"]:
        out.append(f'<tr><td>{_e(it["item"])}</td><td class="{it["status"]}">{it["status"].upper()}</td>'
                   f'<td>{_e(it["evidence"])}</td></tr>')
    out.append("</table>")
    out.append(lint_html(report, _e))
    _verdicts_html(out, report)
    out.append(statements_html(report, _e))
    # phases
    out.append("<h2>Phases</h2><table><tr><th>Phase</th><th>Start (UTC)</th><th>End</th><th>Duration</th>"
               "<th>Started by</th><th>Why</th></tr>")
    for p in report["phases"]:
        out.append(f'<tr><td><span style="background:{PHASE_COLORS.get(p["phase"], "#eee")};padding:0 6px">'
                   f'{_e(p["phase"])}</span></td><td>{_e(p["start"][:19].replace("T", " "))}</td>'
                   f'<td>{_e(p["end"][11:19])}</td><td class="num">{fmt_duration(p["seconds"])}</td>'
                   f'<td>{_e(p["started_by"])}</td><td>{_e(p["why"])}</td></tr>')
    out.append("</table>")
    # charts
    t0 = datetime.fromisoformat(report["phases"][0]["start"]).timestamp()
    t1 = datetime.fromisoformat(report["phases"][-1]["end"]).timestamp()
    marks = [datetime.fromisoformat(e["ts"]).timestamp() for e in report["triggers"] if fired(e)]
    throttles = [datetime.fromisoformat(e["ts"]).timestamp() for e in report["actions"]
                 if e["data"].get("verb") in ("pause", "resume") and e["data"].get("ok")]
    throttles += [datetime.fromisoformat(p[k]).timestamp() for p in report["throttle"]["periods"]
                  for k in ("start", "end") if p.get(k) and (k == "start" or p.get("released"))]
    by_id = {s["series_id"]: s for s in report["series"]}
    if charts:
        out.append('<h2>Charts</h2><div class="legend">'
                   + "".join(f'<span style="background:{col}">{ph}</span>' for ph, col in PHASE_COLORS.items())
                   + '<span>— average, band: min–max per bucket</span>'
                   + '<span style="color:#c0392b">┆ trigger fired</span><span style="color:#7d3c98">┆ pause / resume</span>'
                   + '</div><div class="charts">')
        for sid, pts in charts.items():
            s = by_id[sid]
            verdict = verdict_text(s) if s.get("kind") == "health" else s.get("kind", "")
            css = "worse" if "worse" in verdict else "muted"
            title = f'{s["metric"]} {{{labels_text(s["labels"])}}}' if s["labels"] else s["metric"]
            out.append(f'<div class="chart"><h3>{_e(title)} <span class="muted">({_e(s["source"])})</span> '
                       f'<span class="{css}">{_e(verdict)}</span>'
                       f'</h3>{svg_chart(pts, report["phases"], t0, t1, marks, throttles=throttles)}</div>')
        out.append("</div>")
    # metrics table
    out.append(f'<h2>Metrics: baseline / migration / post</h2><p class="meta">{_e(report["statistics"]["test"])}; '
               f'α = {ALPHA}; at least {MIN_SAMPLES} samples per side. Δ = post mean − baseline mean.</p>')
    out.append('<table><tr><th>Metric</th><th>Labels</th><th>Baseline mean (p95)</th><th>Migration mean (p95)</th>'
               '<th>Post mean (p95)</th><th>Δ</th><th>Ratio</th><th>p (post)</th><th>Verdict (health metrics only)</th></tr>')

    def cell(st: dict[str, Any] | None) -> str:
        if not st or not st.get("n"):
            return '<td class="num muted">–</td>'
        return f'<td class="num">{fmt_value(st.get("mean"))} ({fmt_value(st.get("p95"))})</td>'

    order = {"health": 0, "progress": 1, "state": 2, "counter": 3}
    for s in sorted(report["series"], key=lambda s: (order.get(s.get("kind", ""), 4), s["metric"])):
        p = s["post_vs_baseline"].get("p_value")
        ratio_text = "" if s["ratio"] is None else f"{s['ratio']:.2f}×"
        p_text = "" if p is None else f"{p:.3g}"
        v = verdict_text(s) if s.get("kind") == "health" else f'{s.get("kind", "")}: not judged'
        out.append(f'<tr><td class="id">{_e(s["metric"])}</td><td class="id">{_e(labels_text(s["labels"]))}</td>'
                   f'{cell(s["stats"].get("baseline"))}{cell(s["stats"].get("migration"))}{cell(s["stats"].get("post"))}'
                   f'<td class="num">{fmt_value(s["delta"])}</td>'
                   f'<td class="num">{ratio_text}</td><td class="num">{p_text}</td>'
                   f'<td class="{"worse" if "worse" in v else "muted"}">{_e(v)}</td></tr>')
    out.append("</table>")
    events_table("Trigger timeline", report["triggers"])
    events_table("Alerts", report["alerts"])
    events_table("Checks (preflight, integrity)", report["checks"], [("Result", "result")])
    events_table("Migration tools and notes", report["notes"])
    events_table("Errors", report["errors"][:200])
    out.append(f'<p class="muted">Generated by migtui at {_e(report["generated_at"][:19])} UTC from the run\'s store. '
               "No secrets are stored or shown.</p></body></html>")
    return "\n".join(out)


def _worst_html(report: dict[str, Any]) -> str:
    p95, lock = worst_text(report)
    parts = [f"<p>{_e(p95)}</p>"] if p95 else []
    lw = report["worst_moment"]["lock_wait"]
    if lw:
        parts.append(f"<p>{_e(lock)}</p><table><tr>" + "".join(f"<th>{_e(c)}</th>" for c in lw["columns"]) + "</tr>")
        for row in lw["tree"]:
            depth = row[lw["columns"].index("depth")] if "depth" in lw["columns"] else 0
            cells = [f"<td>{_e(v)}</td>" for v in row]
            if "query" in lw["columns"]:
                i = lw["columns"].index("query")
                cells[i] = f'<td style="padding-left:{6 + 14 * int(depth or 0)}px">{_e(row[i])}</td>'
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</table>")
    return "".join(parts) or '<p class="muted">No lock wait and no p95 latency was recorded.</p>'


def _verdicts_html(out: list[str], report: dict[str, Any]) -> None:
    health = sorted((s for s in report["series"] if s.get("kind") == "health"),
                    key=lambda s: (not any(v.get("verdict") == "worse" for v in s["verdicts"].values()), s["metric"]))
    out.append('<h2>Health metrics against the baseline</h2><p class="meta">Mann-Whitney U and the Hodges-Lehmann '
               "shift (95% interval) against each metric's tolerance, per phase; and the worst window of each phase "
               "against the baseline's p99.</p>")
    if not health:
        out.append('<p class="muted">No metric is declared a health metric.</p>')
    else:
        out.append("<table><tr><th>Metric</th><th>Source</th><th>Verdict</th><th>Shift during migration</th>"
                   "<th>Shift after</th></tr>")
        for s in health:
            text = verdict_text(s)
            shifts = []
            for ph in ("migration", "post"):
                v = s["verdicts"].get(ph, {})
                shifts.append(f'<td class="num">{_e(fmt_metric(v["shift"], s["unit"]))} '
                              f'[{_e(fmt_metric(v["ci"][0], s["unit"]))}, {_e(fmt_metric(v["ci"][1], s["unit"]))}]</td>'
                              if "shift" in v else '<td class="num muted">–</td>')
            name = s["metric"] + (f' {{{labels_text(s["labels"])}}}' if s["labels"] else "")
            out.append(f'<tr><td class="id">{_e(name)}</td><td>{_e(s["source"])}</td>'
                       f'<td class="{"worse" if "worse" in text else "muted" if "no data" in text else "same"}">{_e(text)}</td>'
                       f'{"".join(shifts)}</tr>')
        out.append("</table>")
    other = [s for s in report["series"] if s.get("kind") in ("progress", "state")
             and (s.get("timeline") or {}).get("changes")]
    if other:
        out.append("<h2>Progress and state</h2><table><tr><th>Metric</th><th>Source</th><th>Kind</th>"
                   "<th>Timeline (time since the run started)</th></tr>")
        out += [f'<tr><td>{_e(s["metric"])}</td><td>{_e(s["source"])}</td><td>{_e(s["kind"])}</td>'
                f'<td>{_e(timeline_text(s))}</td></tr>' for s in other]
        out.append("</table>")
