"""The Markdown report keeps within its paste-able size (migtui.report.markdown.fit): a short report
is left as it is; a long one has its tables cut, then its least important sections left out, and says so."""

from __future__ import annotations

from migtui.report.markdown import FOOTER, MAX_CHARS, MAX_LINES, fit


def _table(title: str, rows: int, width: int = 20) -> list[str]:
    return ["", f"## {title}", "", "| A | B |", "|---|---|"] + [f"| {title} {i} | {'x' * width} |" for i in range(rows)]


def _text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def test_a_short_report_is_left_as_it_is() -> None:
    lines = ["# Migration report: x", "", "**OK**: fine", *_table("Health metrics against the baseline", 12)]
    assert fit(lines) == [*lines, "", FOOTER]


def test_long_tables_are_cut_to_ten_rows_and_say_how_many_are_left_out() -> None:
    lines = ["# Migration report: x", "", "**DEGRADED**: worse", *_table("Health metrics against the baseline", 40),
             *_table("Progress and state", 40), *_table("Triggers", 40)]
    out = fit(lines)
    text = _text(out)
    assert len(out) <= MAX_LINES and len(text) <= MAX_CHARS
    assert [line for line in out if line.startswith("| Health")] == [f"| Health metrics against the baseline {i} | "
                                                                      f"{'x' * 20} |" for i in range(10)]
    assert out.count("30 more rows in the HTML and JSON reports.") == 3
    assert out[:3] == lines[:3] and out[-1] == FOOTER


def test_past_that_the_least_important_sections_are_left_out_and_named() -> None:
    sections = ("Worst moment", "Post-migration checklist", "Health metrics against the baseline", "Actions",
                "Progress and state", "Triggers", "Errors (40)")
    lines = ["# Migration report: x", "", "**FAILED**: bad"]
    for name in sections:
        lines += _table(name, 40, width=400)  # long cells: the characters run out first
    out = fit(lines)
    text = _text(out)
    assert len(out) <= MAX_LINES and len(text) <= MAX_CHARS, (len(out), len(text))
    headings = [line for line in out if line.startswith("## ")]
    assert headings[:2] == ["## Worst moment", "## Post-migration checklist"]
    assert "## Errors (40)" not in headings and "## Triggers" not in headings
    left = next(line for line in out if line.startswith("_Left out to stay short: "))
    named = left.removeprefix("_Left out to stay short: ").split(" (in the HTML")[0].split(", ")
    assert named[-2:] == ["Triggers", "Errors"] and all(f"## {n}" not in text for n in named)


def test_a_table_cut_twice_says_once_how_many_rows_it_left_out_with_those_it_had_left_out() -> None:
    lines = ["# Migration report: x", "", "**DEGRADED**: worse",
             *_table("Health metrics against the baseline", 15, width=300), "\n81 more in the HTML and JSON reports.",
             *_table("Progress and state", 40, width=300)]
    out = fit(lines)
    assert len(_text(out)) <= MAX_CHARS
    notes = [line for line in out if "more" in line and "HTML" in line]
    assert notes == ["86 more rows in the HTML and JSON reports.", "30 more rows in the HTML and JSON reports."]
