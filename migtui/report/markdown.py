"""The Markdown report: the same sections as the HTML one, as tables; text from the store is
redacted and escaped (:func:`migtui.safetext.markdown`): it cannot break a table row, render as
markup or raw HTML, or carry a control character."""

from __future__ import annotations

from typing import Any, Sequence

from migtui import safetext
from migtui.redact import redact
from migtui.report.formatting import fmt_duration, fmt_value, labels_text, time_of_day
from migtui.report.statistics import ALPHA, MIN_SAMPLES


def _md(v: Any) -> str:
    """One line of safe text: control characters as ``\\x1b``, Markdown characters escaped, no raw HTML."""
    return safetext.markdown(redact(v if v is not None else ""))


def render_markdown(report: dict[str, Any]) -> str:
    run = report["run"]
    lines = [f"# Migration report: {_md(run['name'])}", "",
             f"Run `{run['run_id']}` on {_md(run['host'])}, started {run['started_at']}, ended "
             f"{run['ended_at'] or '(still running)'}, status **{run['status']}**; baseline from run "
             f"`{report['baseline_run']}`.", "",
             f"{report['counts']['samples']} samples in {report['counts']['series']} series, "
             f"{report['counts']['events']} events.", "",
             "## Post-migration checklist", "", "| Item | Result | Evidence |", "|---|---|---|"]
    lines += [f"| {_md(i['item'])} | **{i['status'].upper()}** | {_md(i['evidence'])} |" for i in report["checklist"]]
    lines += ["", "## Phases", "", "| Phase | Start (UTC) | End | Duration | Started by | Why |", "|---|---|---|---:|---|---|"]
    lines += [f"| {p['phase']} | {p['start'][:19].replace('T', ' ')} | {p['end'][11:19]} | {fmt_duration(p['seconds'])} | "
              f"{_md(p['started_by'])} | {_md(p['why'])} |" for p in report["phases"]]
    lines += ["", "## Metrics: baseline / migration / post", "",
              f"{report['statistics']['test']}; alpha {ALPHA}; at least {MIN_SAMPLES} samples per side.", "",
              "| Metric | Labels | Baseline mean | Migration mean | Post mean | Δ | p (post) | Verdict |",
              "|---|---|---:|---:|---:|---:|---:|---|"]
    for s in sorted(report["series"], key=lambda s: (s["post_vs_baseline"].get("verdict") != "differs", s["metric"])):
        st = s["stats"]
        c = s["post_vs_baseline"]
        p = c.get("p_value")
        lines.append(f"| {_md(s['metric'])} | {_md(labels_text(s['labels']))} | "
                     f"{fmt_value((st.get('baseline') or {}).get('mean'))} | {fmt_value((st.get('migration') or {}).get('mean'))} | "
                     f"{fmt_value((st.get('post') or {}).get('mean'))} | {fmt_value(s['delta'])} | "
                     f"{'' if p is None else f'{p:.3g}'} | {_md(c.get('verdict'))} {_md(c.get('shift', ''))} |")

    def section(title: str, rows: list[dict[str, Any]], extra: Sequence[tuple[str, str]] = ()) -> None:
        lines.extend(["", f"## {title}", ""])
        if not rows:
            lines.append("None.")
            return
        lines.append("| Time | Phase | Level | Subject | " + "".join(f"{h} | " for h, _ in extra) + "Message |")
        lines.append("|---|---|---|---|" + "---|" * len(extra) + "---|")
        for e in rows:
            lines.append(f"| {time_of_day(e['ts'])} | {e['phase']} | {e['level']} | {_md(e['subject'])} | "
                         + "".join(f"{_md(e['data'].get(k, ''))} | " for _, k in extra) + f"{_md(e['message'])} |")

    th = report["throttle"]
    lines += ["", "## Throttle", "", f"Throttled {th['count']} time{'s' if th['count'] != 1 else ''}, {fmt_duration(th['seconds'])} in all."
              if th["count"] else "Never throttled."]
    if th["count"]:
        lines += ["", "| Start | End | Duration | Reason |", "|---|---|---:|---|"]
        lines += [f"| {time_of_day(p['start'])} | {time_of_day(p['end']) if p['released'] else '(not released)'} | "
                  f"{fmt_duration(p['seconds'])} | {_md(p['reason'])} |" for p in th["periods"]]
    section("Trigger timeline", report["triggers"])
    section("Alerts", report["alerts"])
    section("Actions", report["actions"], [("Who", "who"), ("Why", "why"), ("OK", "ok")])
    section("Checks (preflight, integrity)", report["checks"], [("Result", "result")])
    section("Migration tools and notes", report["notes"])
    section("Errors", report["errors"][:200])
    return "\n".join(lines) + "\n"
