"""Split a migration file into statements with PostgreSQL's own parser (pglast): each statement's
parse tree, line, text and the ``-- migtui:ignore RULE reason`` comments written for it."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

_IGNORE = re.compile(r"--\s*migtui:ignore\s+([a-z0-9-]+)[ \t]*(.*)")


@dataclass
class Statement:
    file: str
    line: int
    sql: str
    node: Any
    ignores: dict[str, str] = field(default_factory=dict)  # rule -> reason


class ParseFailure(Exception):
    def __init__(self, file: str, line: int, message: str) -> None:
        super().__init__(f"{file}:{line}: {message}")
        self.file, self.line, self.message = file, line, message


def _line_starts(text: str) -> list[int]:
    starts = [0]
    pos = text.find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return starts


def _skip_space_and_comments(text: str, pos: int, end: int) -> int:
    while pos < end:
        ch = text[pos]
        if ch in " \t\r\n\f":
            pos += 1
        elif text.startswith("--", pos):
            nl = text.find("\n", pos)
            pos = end if nl == -1 else nl + 1
        elif text.startswith("/*", pos):
            close = text.find("*/", pos + 2)
            pos = end if close == -1 else close + 2
        else:
            break
    return pos


def split(text: str, file: str) -> list[Statement]:
    """The statements of one file. Raises :class:`ParseFailure` (file, line, parser message)."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    # pglast's locations count characters of the text it parsed (it hands UTF-8 to the parser and maps back)
    starts = _line_starts(text)
    try:
        raw = parse_sql(text)
    except ParseError as exc:
        message, index = (exc.args + (0,))[:2] if exc.args else ("syntax error", 0)
        index = index if isinstance(index, int) else 0
        return_line = bisect.bisect_right(starts, max(0, index))
        raise ParseFailure(file, return_line, str(message)) from None
    out = []
    prev_end = 0
    for r in raw:
        loc = r.stmt_location or 0
        length = r.stmt_len or (len(text) - loc)
        begin = _skip_space_and_comments(text, loc, loc + length)
        sql = text[begin:loc + length].strip()
        ignores = {}
        for m in _IGNORE.finditer(text, prev_end, loc + length):
            ignores[m.group(1)] = m.group(2).strip()
        prev_end = loc + length
        out.append(Statement(file, bisect.bisect_right(starts, begin), sql, r.stmt, ignores))
    return out
