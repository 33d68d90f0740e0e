"""The report's sections "Queries that got slower" and "New and dropped indexes" as HTML and
Markdown. Statement text is hostile (a user typed it): it is cut to one line here and escaped by
the caller's escaper (the HTML shows it in a code cell; Markdown as escaped text)."""

from __future__ import annotations

from typing import Any, Callable

from migtui.report.formatting import fmt_duration, fmt_value

Esc = Callable[[Any], str]
HTML_TEXT = 300
MD_TEXT = 70


def _text(e: dict[str, Any], width: int) -> str:
    """The statement's normalized text on one line, cut to ``width`` (unsafe yet: escape it)."""
    text = " ".join(str(e.get("text") or "").split())
    if not text:
        return f"(text not read) queryid {e['queryid']}"
    return text if len(text) <= width else text[: width - 1] + "…"


def _ms(v: float | None) -> str:
    return "-" if v is None else (f"{v:.3g} ms" if abs(v) < 1000 else f"{v / 1000:.3g} s")


def _bytes(v: Any) -> str:
    if v is None:
        return "-"
    v = float(v)
    for unit in ("B", "kB", "MB", "GB"):
        if v < 1024 or unit == "GB":
            return f"{v:.0f} {unit}" if unit == "B" else f"{v:.1f} {unit}"
        v /= 1024
    return ""


def thresholds_text(st: dict[str, Any]) -> str:
    o = st["options"]
    return (f"Listed when the mean grew by more than {o['slower_by'] * 100:g}% and at least {o['slower_min_ms']:g} ms, "
            f"with at least {o['slower_min_calls']:g} calls in the baseline and in post (report.slower_by, "
            "report.slower_min_ms, report.slower_min_calls).")


def migtui_text(st: dict[str, Any]) -> str:
    own = st["migtui"]
    if not own["statements"]:
        return "migtui's own statements: not measured (no statements_text read of pg_stat_statements)."
    extra = [f"{_ms(own['total_ms'] / own['seconds'] * 60)} per minute"] if own["seconds"] else []
    if own.get("share") is not None:
        extra.append(f"{own['share'] * 100:.2g}% of all statements' time in the database")
    return (f"migtui's own statements (kept out of the lists above): {own['statements']} statements, "
            f"{own['calls']:,} calls, {_ms(own['total_ms'])} of server time in {fmt_duration(own['seconds'])}"
            + (f" ({'; '.join(extra)})" if extra else "") + ".")


def slower_text(e: dict[str, Any], width: int = 60) -> str:
    """One slower statement on a line: its text, mean before -> after, and the extra time it cost in post
    (plain text: escape it)."""
    return (f"{_text(e, width)} {_ms(e['mean_before_ms'])} -> {_ms(e['mean_after_ms'])} "
            f"(+{_ms(e['total_change_ms'])} in post)")


def checklist_item(report: dict[str, Any]) -> dict[str, str] | None:
    """The checklist's "Queries vs baseline": warn when an application statement got slower or a new
    index is unused or invalid; None when neither statements nor indexes were measured."""
    st, ix = report["statements"], report.get("indexes") or {"available": False}
    if not st["available"] and not ix["available"]:
        return None
    bad = [slower_text(e) for e in st["slower"][:3]]
    if len(st["slower"]) > 3:
        bad.append(f"{len(st['slower']) - 3} more")
    flagged = [e for e in ix["new"] if e["unused"] or not e["valid"]] if ix["available"] else []
    bad += [f"new index {e['index']} {index_note(ix, e)}" for e in flagged]
    if bad:
        return {"item": "Queries vs baseline", "status": "warn",
                "evidence": (f"{len(st['slower'])} application statement(s) slower: " if st["slower"] else "")
                + "; ".join(bad)}
    measured = (["no application statement slower than the baseline"] if st["available"] else
                [f"statements not measured ({st['why']})"])
    if ix["available"]:
        measured.append(f"{len(ix['new'])} new index(es), none unused, {len(ix['dropped'])} dropped")
    return {"item": "Queries vs baseline", "status": "pass" if st["available"] else "warn",
            "evidence": "; ".join(measured)}


def index_note(ix: dict[str, Any], e: dict[str, Any]) -> str:
    if e["unused"]:
        return f"UNUSED: no scan in {fmt_duration(e['post_seconds'])} of post"
    if not e["valid"]:
        return "INVALID (a failed CREATE INDEX CONCURRENTLY?)"
    if e["scans"] == 0:
        return (f"no scan yet (watched {fmt_duration(e['post_seconds'])} in post; flagged unused after "
                f"{fmt_duration(ix['unused_after'])})")
    return ""


def _slower_cells(e: dict[str, Any]) -> list[str]:
    return [str(e["calls_before"]), str(e["calls_after"]), _ms(e["mean_before_ms"]), _ms(e["mean_after_ms"]),
            f"+{_ms(e['change_ms'])}", f"+{_ms(e['total_change_ms'])}", f"{e['share_after'] * 100:.0f}%"]


SLOWER_HEADS = ["Calls before", "Calls after", "Mean before", "Mean after", "Change", "Extra time", "Share of post"]


def statements_html(report: dict[str, Any], esc: Esc) -> str:
    st = report["statements"]
    out = ["<h2>Queries that got slower</h2>"]
    if not st["available"]:
        return out[0] + f'<p class="meta">Not measured: {esc(st["why"])}.</p>' + indexes_html(report, esc)

    def code(e: dict[str, Any]) -> str:
        short, full = _text(e, HTML_TEXT), _text(e, 10 ** 6)
        sql = (f'<code class="sql">{esc(short)}</code>' if short == full else  # a long one opens to its whole text
               f'<details><summary><code class="sql">{esc(short)}</code></summary><code class="sql">{esc(full)}</code>'
               '</details>')
        return (f'<td>{sql}<div class="muted">queryid '
                f'{esc(e["queryid"])}{" · " + esc(e["username"]) if e.get("username") else ""}</div></td>')

    if st["slower"]:
        out.append("<table><tr><th>Statement</th>" + "".join(f"<th class=\"num\">{h}</th>" for h in SLOWER_HEADS) + "</tr>")
        out += ["<tr>" + code(e) + "".join(f'<td class="num">{esc(c)}</td>' for c in _slower_cells(e)) + "</tr>"
                for e in st["slower"]]
        out.append("</table>")
    else:
        out.append("<p>No statement of the application got slower.</p>")
    out.append(f'<p class="meta">{esc(thresholds_text(st))}</p>')
    if st["new_after"]:
        out.append("<h3>Appeared only after the migration</h3><table><tr><th>Statement</th><th>Calls</th>"
                   "<th>Mean</th><th>Share of post</th></tr>")
        out += ["<tr>" + code(e) + f'<td class="num">{e["calls_after"]}</td><td class="num">{_ms(e["mean_after_ms"])}'
                f'</td><td class="num">{e["share_after"] * 100:.0f}%</td></tr>' for e in st["new_after"]]
        out.append("</table>")
    out.append("<h3>The migration's statements</h3>")
    if st["migration"]:
        out.append("<table><tr><th>Statement</th><th>Calls during</th><th>Total</th><th>Mean</th></tr>")
        out += ["<tr>" + code(e) + f'<td class="num">{e["calls"] if e["calls"] is not None else "-"}</td>'
                f'<td class="num">{_ms(e["total_ms"])}</td><td class="num">{_ms(e["mean_ms"])}</td></tr>'
                for e in st["migration"]]
        out.append("</table>")
    else:
        out.append('<p class="meta">None seen (statements first seen during the migration, or running in its sessions).</p>')
    out.append(f'<p class="meta">{esc(migtui_text(st))}</p>')
    return "".join(out) + indexes_html(report, esc)


def indexes_html(report: dict[str, Any], esc: Esc) -> str:
    ix = report.get("indexes")
    if not ix:
        return ""
    out = ["<h2>New and dropped indexes</h2>"]
    if not ix["available"]:
        return out[0] + f'<p class="meta">Not measured: {esc(ix["why"])}.</p>'
    if ix["new"]:
        out.append("<table><tr><th>New index</th><th>Table</th><th>Scans since created</th><th>Size</th>"
                   "<th>Note</th></tr>")
        out += [f'<tr><td><code>{esc(e["index"])}</code></td><td>{esc(e["relation"])}</td>'
                f'<td class="num">{e["scans"]:,}</td><td class="num">{_bytes(e["bytes"])}</td>'
                f'<td class="{"fail" if e["unused"] or not e["valid"] else ""}">{esc(index_note(ix, e))}</td></tr>'
                for e in ix["new"]]
        out.append("</table>")
    else:
        out.append("<p>No index was created.</p>")
    if ix["dropped"]:
        out.append("<table><tr><th>Dropped index</th><th>Table</th><th>Scans before</th><th>Size</th></tr>")
        out += [f'<tr><td><code>{esc(e["index"])}</code></td><td>{esc(e["relation"])}</td>'
                f'<td class="num">{fmt_value(e["scans_before"])}</td><td class="num">{_bytes(e["bytes"])}</td></tr>'
                for e in ix["dropped"]]
        out.append("</table>")
    return "".join(out)


def statements_markdown(report: dict[str, Any], md: Esc, limit: int = 5) -> list[str]:
    st = report["statements"]
    lines = ["", "## Queries that got slower", ""]
    if not st["available"]:
        lines.append(md(f"Not measured: {st['why']}."))
    else:
        if st["slower"]:
            lines += ["| Statement | " + " | ".join(SLOWER_HEADS) + " |", "|---" * (len(SLOWER_HEADS) + 1) + "|"]
            lines += ["| " + " | ".join([md(_text(e, MD_TEXT)), *(md(c) for c in _slower_cells(e))]) + " |"
                      for e in st["slower"][:limit]]
            lines.append("")
        else:
            lines += ["No statement of the application got slower.", ""]
        lines.append(md(thresholds_text(st)))
        if st["new_after"]:
            lines += ["", "Appeared only after the migration: " + "; ".join(
                f"{md(_text(e, MD_TEXT))} ({e['calls_after']} calls, {e['share_after'] * 100:.0f}% of post time)"
                for e in st["new_after"][:3])]
        if st["migration"]:
            lines += ["", "The migration's statements: " + "; ".join(
                f"{md(_text(e, MD_TEXT))} ({_ms(e['total_ms'])})" for e in st["migration"][:3])]
        lines += ["", md(migtui_text(st))]
    ix = report.get("indexes")
    if ix and ix["available"] and (ix["new"] or ix["dropped"]):
        parts = [f"{md(e['index'])} on {md(e['relation'])}: {e['scans']:,} scans"
                 + (f" ({md(index_note(ix, e))})" if index_note(ix, e) else "") for e in ix["new"][:limit]]
        lines += ["", "## New and dropped indexes", ""]
        if parts:
            lines.append("New: " + "; ".join(parts) + ".")
        if ix["dropped"]:
            lines.append(("" if not parts else "\n") + "Dropped: " + ", ".join(
                f"{md(e['index'])} on {md(e['relation'])}" for e in ix["dropped"][:limit]) + ".")
    return lines
