"""The pending migration in a report (section "Pending migration"): the statements of
``migration.files`` as the last analysis of the run saw them (locks, risk, findings) and every session
an analysis found they would queue behind, from the run's ``lint`` events (one per change, recorded
by the cockpit's panel "Pending migration"). Text from the store is escaped by the caller's escaper."""

from __future__ import annotations

from typing import Any, Callable

from migtui.report.formatting import time_of_day


def lint_section(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """``{"at", "phase", "origin", "statements", "errors", "warnings", "blockers_seen"}`` or None (no
    analysis ran). ``origin``: where the pending SQL came from (``migration.files``,
    ``migration.command (alembic)``, ``flyway detected on the server``).
    ``blockers_seen``: each (statement, pid) once, with the first time and the longest age seen."""
    runs = [e for e in events if e["kind"] == "lint"]
    if not runs:
        return None
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for e in runs:
        for st in e["data"].get("statements") or ():
            for b in st.get("blockers") or ():
                key = (st["file"], st["line"], b["pid"])
                age = b.get("xact_age_s") or 0.0
                if key not in seen:
                    seen[key] = {"file": st["file"], "line": st["line"], "pid": b["pid"], "state": b["state"],
                                 "relation": b.get("relation", ""), "query": b.get("query", ""),
                                 "first_seen": e["ts"], "xact_age_s": age}
                else:
                    seen[key]["xact_age_s"] = max(seen[key]["xact_age_s"], age)
    last = runs[-1]
    return {"at": last["ts"], "phase": last["phase"], "origin": last["data"].get("origin") or "", "statements": last["data"].get("statements") or [],
            "errors": last["data"].get("errors") or [], "warnings": last["data"].get("warnings") or [],
            "blockers_seen": list(seen.values())}


def _locks(st: dict[str, Any]) -> str:
    return ", ".join(f"{lk['mode']} {lk['relation']}" for lk in st["locks"]) or "-"


def _findings(st: dict[str, Any]) -> str:
    return "; ".join(f"{f['rule']} ({f['severity']}): {f['message']}" for f in st["findings"]) or "-"


def lint_rows(section: dict[str, Any]) -> tuple[list[list[str]], list[list[str]]]:
    """The statements' rows and the blockers' rows (plain text, not escaped yet)."""
    stmts = [[f"{st['file']}:{st['line']}", st["sql"][:80], _locks(st), st["risk"], _findings(st)]
             for st in section["statements"]]
    stmts += [[f"{e['file']}:{e['line']}", "", "-", "error", f"parse-error: {e['message']}"] for e in section["errors"]]
    blockers = [[f"{b['file']}:{b['line']}", str(b["pid"]), b["state"], f"{b['xact_age_s']:.0f}s", b["relation"],
                 time_of_day(b["first_seen"]), b["query"][:80]] for b in section["blockers_seen"]]
    return stmts, blockers


STATEMENT_HEADS = ["Statement", "SQL", "Locks", "Risk", "Findings"]
BLOCKER_HEADS = ["Statement", "Pid", "State", "Longest xact age", "Relation", "First seen", "Query"]


def _origin(section: dict[str, Any], esc: Callable[[Any], str]) -> str:
    return f", from {esc(section['origin'])}" if section.get("origin") else ""


def lint_markdown(report: dict[str, Any], esc: Callable[[Any], str]) -> list[str]:
    section = report.get("lint")
    if not section:
        return []
    stmts, blockers = lint_rows(section)
    lines = ["", "## Pending migration (lint findings)", "",
             f"Last analysed at {time_of_day(section['at'])} ({section['phase']} phase){_origin(section, esc)}.", "",
             "| " + " | ".join(STATEMENT_HEADS) + " |", "|" + "---|" * len(STATEMENT_HEADS)]
    lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in stmts]
    if blockers:
        lines += ["", "Sessions the migration would have queued behind:", "",
                  "| " + " | ".join(BLOCKER_HEADS) + " |", "|" + "---|" * len(BLOCKER_HEADS)]
        lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in blockers]
    lines += [f"- {esc(w)}" for w in section["warnings"]]
    return lines


def lint_html(report: dict[str, Any], esc: Callable[[Any], str]) -> str:
    section = report.get("lint")
    if not section:
        return ""
    stmts, blockers = lint_rows(section)

    def table(heads: list[str], rows: list[list[str]]) -> str:
        return ("<table><tr>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr>"
                + "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows) + "</table>")

    out = (f"<h2>Pending migration (lint findings)</h2><p>Last analysed at {time_of_day(section['at'])} "
           f"({esc(section['phase'])} phase){_origin(section, esc)}.</p>" + table(STATEMENT_HEADS, stmts))
    if blockers:
        out += "<p>Sessions the migration would have queued behind:</p>" + table(BLOCKER_HEADS, blockers)
    return out + "".join(f"<p>{esc(w)}</p>" for w in section["warnings"])
