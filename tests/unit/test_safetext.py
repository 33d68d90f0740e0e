"""Text from outside migtui, generated: arbitrary Unicode with markup brackets, OSC/CSI escapes, NUL
and bidi overrides goes through every rendering path (the cockpit's cells, tree labels, trigger
table and header, the event log's events, the headless lines, the alerts, the reports) and comes out
with no control character, no markup interpreted, and no exception (issue 14, items 1 and 2)."""

from __future__ import annotations

import io
import json
import re
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rich.console import Console

from migtui import safetext
from migtui.api import Alert, DeliveryResult
from migtui.model import Event, Level, Phase

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=True)

NASTY = ["[/]", "[bold red]X[/]", "[link=http://evil.example]click[/link]", "\x1b]2;PWNED\x07", "\x1b[2J",
         "\x1b]8;;http://e.x\x1b\\L\x1b]8;;\x1b\\", "\x00", "\u202eevil\u202c", "\u2066x\u2069", "\x9b31m", "\r\n",
         "\t", "\x7f", "<script>alert(1)</script>", "*_`|#", "\ud800", "\u2028", ":smile:", "&amp;", "\\"]
hostile = st.one_of(
    st.sampled_from(NASTY),
    st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=8)), max_size=6).map("".join),
    st.text(alphabet=st.characters(codec=None), max_size=40),
)

CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
                     + "".join(safetext.BIDI_CONTROLS) + "]")


def no_controls(out: str) -> None:
    """Only printable text and newlines: no ESC, C1, NUL, bidi override or lone surrogate."""
    bad = CONTROL.search(out)
    assert bad is None, f"{bad.group(0)!r} in {out!r}"
    out.encode("utf-8")  # a terminal can be written this


def render(renderable: Any, width: int = 2000) -> str:
    """What Rich writes to a terminal for ``renderable`` (colours off, so any ESC would be the input's)."""
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, force_terminal=False, legacy_windows=False,
                      emoji=False)
    console.print(renderable, soft_wrap=True)
    return buf.getvalue()


@SETTINGS
@given(hostile)
@example("[/]")
def test_the_safe_text_functions(s: str) -> None:
    for out in (safetext.visible(s), safetext.one_line(s), safetext.one_line(s, 10), safetext.html(s),
                safetext.markdown(s), safetext.slack(s)):
        no_controls(out)
    assert "\n" not in safetext.visible(s) and "\n" not in safetext.markdown(s)
    assert "<" not in safetext.html(s) and "<" not in safetext.markdown(s) and "<" not in safetext.slack(s)
    no_controls(safetext.visible(s, keep_newlines=True))
    # a Rich Text of it is written exactly as it reads: nothing parsed as markup, nothing dropped
    assert render(safetext.rich(s)) == safetext.one_line(s) + "\n"


def test_visible_shows_each_control_character_as_its_escape() -> None:
    assert safetext.visible("a\x1b]2;T\x07b") == "a\\x1b]2;T\\x07b"
    assert safetext.visible("\u202eabc\x00\x9b") == "\\u202eabc\\x00\\x9b"
    assert safetext.visible("one\ntwo") == "one two"
    assert safetext.visible("one\r\ntwo", keep_newlines=True) == "one\ntwo"
    assert safetext.one_line("  a \n\t b  ", 4) == "a b"
    assert safetext.one_line("abcdefgh", 4) == "abc…"
    assert safetext.markdown("<script>x</script> | *b*") == "&lt;script&gt;x&lt;/script&gt; \\| \\*b\\*"


@SETTINGS
@given(hostile, hostile)
def test_cockpit_tables_and_tree_labels(app: str, query: str) -> None:
    from migtui.tui.view import BlockNode, TriggerRow, node_label
    from migtui.tui.widgets.panel import render_progress, render_rows
    from migtui.tui.widgets.triggers import render_triggers

    row = {"pid": 4242, "usename": app, "application_name": app, "state": app, "mode": query, "relation": app,
           "query": query, "blocked_by": 17, "wait_seconds": 3.0}
    from migtui.model import TableSpec

    for ts in (TableSpec("lock_waits", columns=("pid", "application_name", "mode", "relation", "query")),
               TableSpec(app, title=query), TableSpec("long_running", render="progress")):
        no_controls(render(render_rows(ts, [row]), 80))
    no_controls(render(render_progress([{"pid": 1, "index_name": app, "phase": query, "percent": 50.0}])))
    out = render(node_label(BlockNode(4242, row), root=True))
    no_controls(out)
    assert safetext.one_line(app, 60) in out  # as typed (escaped, cut at 60), not interpreted
    trig = TriggerRow(name=app, state="firing", action="pause", threshold=query, metric=app, value=1.0)
    no_controls(render(render_triggers([trig], now=0.0, width=200), 200))


@SETTINGS
@given(hostile, hostile)
def test_header_events_alerts_and_headless_lines(name: str, text: str) -> None:
    from migtui.engine import EngineUpdate
    from migtui.headless import HeadlessPrinter
    from migtui.tui.view import TriggerRow
    from migtui.tui.widgets.header import render_header

    source = SimpleNamespace(name=name, state="error", last_error=text, last_ok=None, server=text)
    frame = SimpleNamespace(name=name, phase=Phase.MIGRATION, started_at=0.0, sources={name: source},
                            paused=True, paused_by=text, store_path=None, store_ok=True)
    engine = SimpleNamespace(subscribe=lambda fn: None, frame=frame)
    trig = TriggerRow(name=text, state="firing", action="pause")
    no_controls(render(render_header(frame, [trig], now=10.0, frozen=True)))

    ev = Event("error", name, text, Level.ERROR, {"body": text})
    no_controls(ev.subject)
    no_controls(ev.message.replace("\n", " "))
    out = io.StringIO()
    printer = HeadlessPrinter(engine, out=out, status_every=1e15)  # type: ignore[arg-type]
    printer.on_update(EngineUpdate(1, 10.0, Phase.MIGRATION, [], [], [ev], kind="result"))
    no_controls(out.getvalue())

    from migtui_alerts.slack import slack_payload

    alert = Alert(key="k", status="firing", level=Level.PAUSE, summary=text, run=name, phase=Phase.MIGRATION,
                  labels={name: text}, annotations={"reason": text})
    for part in (alert.summary, *alert.labels, *alert.labels.values(), *alert.annotations.values(),
                 DeliveryResult(False, text).message):
        no_controls(part.replace("\n", " "))
    payload = slack_payload([alert])
    for block in (payload["text"], payload["blocks"][0]["text"]["text"], payload["blocks"][1]["elements"][0]["text"]):
        no_controls(block.replace("\n", " "))
        assert "<" not in block


def test_a_slack_mention_or_link_from_outside_is_shown_not_sent() -> None:
    from migtui_alerts.slack import slack_payload

    alert = Alert(key="k", status="firing", level=Level.WARN, summary="lock on <!channel> <http://e.x|click>",
                  run="r", phase=Phase.MIGRATION)
    assert "&lt;!channel&gt; &lt;http://e.x|click&gt;" in slack_payload([alert])["text"]


@SETTINGS
@given(hostile)
def test_report_cells(s: str) -> None:
    from migtui.report.html import _e
    from migtui.report.markdown import _md

    out = _e(s)
    no_controls(out.replace("\n", " "))
    assert "<" not in out and ">" not in out
    md = _md(s)
    no_controls(md)
    assert "\n" not in md and "<" not in md and re.search(r"(?<!\\)\|", md) is None  # one cell, no raw HTML


def test_reports_from_a_store_with_hostile_text(migtui_store: Any, tmp_path: Any) -> None:
    """A run whose events, action data and series labels hold terminal escapes, markup and a script:
    the HTML and Markdown reports show them, escaped, and keep no control byte."""
    from migtui.model import Sample
    from migtui.report import export_report

    nasty = "<script>alert(1)</script> \x1b]2;PWNED\x07\x1b[2J [x](http://e.x) *b* | \u202e \x9b31m größe"
    run_id = migtui_store.create_run("hostile")
    migtui_store.add_event(Event("action", "pause", f"pause ok: {nasty}", Level.PAUSE,
                                 {"stage": "result", "who": nasty, "why": nasty, "ok": True}, ts=1.0, run=run_id))
    migtui_store.add_event(Event("error", nasty, nasty, Level.ERROR, {"body": nasty}, ts=2.0, run=run_id))
    migtui_store.add_samples(run_id, Phase.BASELINE, [Sample(10.0 + i, "db", "m", float(i), {"table": nasty})
                                                      for i in range(3)])
    migtui_store.flush()
    # shown, visibly: \x1b]2;PWNED\x07 (Markdown escapes the backslashes and the bracket to render it so)
    for fmt, shown in (("html", r"\x1b]2;PWNED\x07"), ("md", r"\\x1b\]2;PWNED\\x07")):
        text = export_report(migtui_store, run_id, fmt, tmp_path / f"r.{fmt}").read_text()
        no_controls(text.replace("\n", " "))
        assert "<script>" not in text and shown in text, (fmt, text)
    # the JSON report keeps the text as it was for a JSON reader; printed, it cannot drive a terminal
    text = export_report(migtui_store, run_id, "json", tmp_path / "r.json").read_text()
    no_controls(text.replace("\n", " "))
    assert "größe" in text and "\\u202e \\u009b31m" in text, text
    assert {"body": nasty} in [e.get("data") for e in json.loads(text)["events"]], text


@SETTINGS
@given(hostile)
@example("\u202e\x9b\ud800\u2028\x7f größe")
def test_json_text_is_safe_to_print_and_reads_back_the_same(s: str) -> None:
    doc = {s: [s, 1.5, None], "k": {"v": s}}
    for out in (safetext.json_text(doc), safetext.json_text(doc, indent=1, sort_keys=True)):
        no_controls(out.replace("\n", " "))
        assert json.loads(out) == doc
