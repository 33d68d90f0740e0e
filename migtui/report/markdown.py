"""The Markdown report: short enough to paste into a pull request or a chat thread. The outcome with
the facts that decided it, what ran, the worst moment, actions, the checklist, health verdicts and
the timelines of progress and state; charts and the full statistics are in the HTML and JSON.
Text from the store is redacted and escaped (:func:`migtui.safetext.markdown`): it cannot break a
table row, render as markup or raw HTML, or carry a control character."""

from __future__ import annotations

import re
from typing import Any

from migtui import safetext
from migtui.redact import redact
from migtui.report.formatting import ended_unknown, fmt_duration, labels_text, time_of_day, timeline_text, verdict_text
from migtui.report.lint import lint_markdown
from migtui.report.statements_view import statements_markdown
from migtui.report.summary import what_ran_text, worst_text

MAX_ROWS = 15
MAX_LINES = 120
"""The Markdown report stays within this many lines and :data:`MAX_CHARS` characters, so it pastes
into a pull request or a chat thread (docs/reports.md): past them its tables are cut to 10, then
5 rows (:data:`SHORT_ROWS`), then whole sections are left out, the least important first."""
MAX_CHARS = 12_000
SHORT_ROWS = (10, 5)
KEEP_ORDER = ("What ran", "Worst moment", "Post-migration checklist", "Health metrics against the baseline",
              "Queries that got slower", "New and dropped indexes", "Actions", "Pending migration (lint findings)", "Throttle",
              "Progress and state", "Triggers", "Errors")
"""The sections by importance: the last ones are left out first when the report is too long."""
FOOTER = "_Charts, every metric's statistics and the full event log: `migtui report --format html`._"


def _md(v: Any) -> str:
    """One line of safe text: control characters as ``\\x1b``, Markdown characters escaped, no raw HTML."""
    return safetext.markdown(redact(v if v is not None else ""))


def _name(s: dict[str, Any]) -> str:
    return _md(s["metric"] + (f" {{{labels_text(s['labels'])}}}" if s["labels"] else ""))


def _cut(text: Any, n: int = 80) -> str:
    t = str(text if text is not None else "")
    return t if len(t) <= n else t[:n - 1] + "…"


def what_ran_lines(report: dict[str, Any]) -> list[str]:
    return [f"- {_md(line)}" for line in what_ran_text(report)]


def worst_lines(report: dict[str, Any]) -> list[str]:
    p95, lock = worst_text(report)
    lines = [f"- {_md(p95)}"] if p95 else []
    lw = report["worst_moment"]["lock_wait"]
    if lw:
        lines += [f"- {_md(lock)}", "", "| " + " | ".join(lw["columns"]) + " |", "|" + "---|" * len(lw["columns"])]
        lines += ["| " + " | ".join(_md(_cut(v)) for v in row) + " |" for row in lw["tree"]]
    return lines or ["- No lock wait and no p95 latency was recorded."]


def render_markdown(report: dict[str, Any]) -> str:
    run = report["run"]
    out = report["outcome"]
    lines = [f"# Migration report: {_md(run['name'])}", "",
             f"**{out['verdict'].upper()}**: " + "; ".join(_md(f) for f in out["facts"]), "",
             f"Run `{run['run_id']}` on {_md(run['host'])}, {run['started_at'][:19].replace('T', ' ')} to "
             f"{run['ended_at'][:19].replace('T', ' ') + ' UTC' if run['ended_at'] else ended_unknown(run)}, status {run['status']}; "
             f"phases " + ", ".join(f"{p['phase']} {fmt_duration(p['seconds'])}" for p in report["phases"]) + ".",
             "", "## What ran", "", *what_ran_lines(report), "", "## Worst moment", "", *worst_lines(report),
             "", "## Actions", ""]
    if report["actions"]:
        lines += ["| Time | Who | Action | Why | OK |", "|---|---|---|---|---|"]
        lines += [f"| {time_of_day(e['ts'])} | {_md(e['data'].get('who', ''))} | {_md(e['data'].get('verb', e['subject']))} | "
                  f"{_md(_cut(e['data'].get('why', ''), 160))} | {_md(e['data'].get('ok', ''))} |"
                  for e in report["actions"][:MAX_ROWS]]
    else:
        lines.append("None.")
    th = report["throttle"]
    lines += ["", "## Throttle", "", f"Throttled {th['count']} time{'s' if th['count'] != 1 else ''}, {fmt_duration(th['seconds'])} in all."
              if th["count"] else "Never throttled."]
    if th["count"]:
        lines += ["", "| Start | End | Duration | Reason |", "|---|---|---:|---|"]
        lines += [f"| {time_of_day(p['start'])} | {time_of_day(p['end']) if p['released'] else '(not released)'} | "
                  f"{fmt_duration(p['seconds'])} | {_md(p['reason'])} |" for p in th["periods"]]
    lines += lint_markdown(report, _md)
    lines += ["", "## Post-migration checklist", "", "| Item | Result | Evidence |", "|---|---|---|"]
    lines += [f"| {_md(i['item'])} | **{i['status'].upper()}** | {_md(i['evidence'])} |" for i in report["checklist"]]
    health = sorted((s for s in report["series"] if s.get("kind") == "health"),
                    key=lambda s: (not any(v.get("verdict") == "worse" for v in s["verdicts"].values()), s["metric"]))
    lines += ["", "## Health metrics against the baseline", ""]
    if health:
        lines += ["| Metric | Source | Verdict |", "|---|---|---|"]
        lines += [f"| {_name(s)} | {_md(s['source'])} | {_md(verdict_text(s))} |" for s in health[:MAX_ROWS]]
        if len(health) > MAX_ROWS:
            lines.append(f"\n{len(health) - MAX_ROWS} more in the HTML and JSON reports.")
    else:
        lines.append("No metric is declared a health metric (see the kinds in docs/reports.md).")
    lines += statements_markdown(report, _md)
    other = [s for s in report["series"] if s.get("kind") in ("progress", "state") and (s.get("timeline") or {}).get("changes")]
    if other:
        lines += ["", "## Progress and state", "", "| Metric | Kind | Timeline |", "|---|---|---|"]
        lines += [f"| {_name(s)} | {s['kind']} | {_md(timeline_text(s))} |" for s in other[:MAX_ROWS]]
    firing = [e for e in report["triggers"]][:MAX_ROWS]
    if firing:
        lines += ["", "## Triggers", "", "| Time | Subject | Message |", "|---|---|---|"]
        lines += [f"| {time_of_day(e['ts'])} | {_md(e['subject'])} | {_md(_cut(e['message'], 160))} |" for e in firing]
    errors = [e for e in report["errors"] if e["level"] in ("warn", "error")]
    if errors:
        lines += ["", f"## Errors ({len(errors)})", "", "| Time | Subject | Message |", "|---|---|---|"]
        lines += [f"| {time_of_day(e['ts'])} | {_md(e['subject'])} | {_md(_cut(e['message'], 160))} |"
                  for e in errors[:5]]
    return "\n".join(fit(lines)) + "\n"


def _sections(lines: list[str]) -> list[list[str]]:
    """The lines cut at each ``## `` heading (the first part is the title and the outcome)."""
    out: list[list[str]] = [[]]
    for line in lines:
        if line.startswith("## "):
            out.append([])
        out[-1].append(line)
    return out


def _size(parts: list[list[str]]) -> tuple[int, int]:
    text = "\n".join(line for part in parts for line in part) + "\n\n" + FOOTER + "\n"
    return text.count("\n"), len(text)


_MORE = re.compile(r"^\n?(\d+) more (?:rows? )?in the HTML and JSON reports\.$")


def _short_tables(part: list[str], keep: int) -> list[str]:
    """A section with each table cut to ``keep`` rows and one line saying how many rows are left out
    (counting those the table had already left out: its "N more ..." line)."""
    out: list[str] = []
    i, n = 0, len(part)
    while i < n:
        if not part[i].startswith("|"):
            out.append(part[i])
            i += 1
            continue
        j = i
        while j < n and part[j].startswith("|"):
            j += 1
        table = part[i:j]
        left = max(0, len(table) - keep - 2)  # the header and its rule, then the rows
        out += table[:keep + 2]
        k = j + 1 if j < n and part[j] == "" else j
        more = _MORE.match(part[k]) if k < n else None
        if more:
            left += int(more.group(1))
            j = k + 1
        if left:
            out += ["", f"{left} more row{'s' if left != 1 else ''} in the HTML and JSON reports."]
        i = j
    return out


def fit(lines: list[str]) -> list[str]:
    """``lines`` with the footer, within :data:`MAX_LINES` and :data:`MAX_CHARS`: as they are when they
    fit; else with every table cut to 10, then 5 rows (:data:`SHORT_ROWS`); else also without the
    least important sections (:data:`KEEP_ORDER`), named in one line."""
    parts = _sections(lines)

    def over(note: bool) -> bool:  # the note naming what was left out takes 2 lines
        n, c = _size(parts)
        return n + 2 * note > MAX_LINES or c + 200 * note > MAX_CHARS

    def title(part: list[str]) -> str:
        return part[0][3:].split(" (")[0] if part and part[0].startswith("## ") else ""

    whole = parts
    for keep in SHORT_ROWS:
        if over(False):
            parts = [whole[0]] + [_short_tables(p, keep) for p in whole[1:]]
    dropped: list[str] = []
    for name in (n.split(" (")[0] for n in reversed(KEEP_ORDER)):
        if not over(bool(dropped)):
            break
        if any(title(p) == name for p in parts):
            parts = [p for p in parts if title(p) != name]
            dropped.append(name)
    out = [line for part in parts for line in part]
    if dropped:
        out += ["", f"_Left out to stay short: {', '.join(reversed(dropped))} (in the HTML and JSON reports)._"]
    return out + ["", FOOTER]
