"""Split a migration file into statements with PostgreSQL's own parser (pglast): each statement's
parse tree (:mod:`.node`), line, text and the ``-- migtui:ignore RULE reason`` comments written for it."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from migtui_postgres.lint.node import wrap

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


def _line_starts(data: bytes) -> list[int]:
    starts = [0]
    pos = data.find(b"\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = data.find(b"\n", pos + 1)
    return starts


def _skip_space_and_comments(data: bytes, pos: int, end: int) -> int:
    while pos < end:
        ch = data[pos]
        if ch in b" \t\r\n\f":
            pos += 1
        elif data.startswith(b"--", pos):
            nl = data.find(b"\n", pos)
            pos = end if nl == -1 else nl + 1
        elif data.startswith(b"/*", pos):
            close = data.find(b"*/", pos + 2)
            pos = end if close == -1 else close + 2
        else:
            break
    return pos


def split(text: str, file: str) -> list[Statement]:
    """The statements of one file. Raises :class:`ParseFailure` (file, line, parser message)."""
    import json

    from pglast.parser import ParseError, parse_sql_json

    try:
        tree = json.loads(parse_sql_json(text))
    except ParseError as exc:
        message, index = (exc.args + (0,))[:2] if exc.args else ("syntax error", 0)
        index = index if isinstance(index, int) else 0  # the error's position counts characters
        raise ParseFailure(file, text.count("\n", 0, max(0, index)) + 1, str(message)) from None
    data = text.encode("utf-8")  # statement locations count bytes
    starts = _line_starts(data)
    out = []
    prev_end = 0
    for raw in tree.get("stmts", ()):
        loc = raw.get("stmt_location", 0)
        length = raw.get("stmt_len") or (len(data) - loc)
        begin = _skip_space_and_comments(data, loc, loc + length)
        sql = data[begin:loc + length].decode("utf-8", "replace").strip()
        ignores = {}
        if b"migtui:ignore" in data[prev_end:loc + length]:
            for m in _IGNORE.finditer(data[prev_end:loc + length].decode("utf-8", "replace")):
                ignores[m.group(1)] = m.group(2).strip()
        prev_end = loc + length
        out.append(Statement(file, bisect.bisect_right(starts, begin), sql, wrap(raw["stmt"]), ignores))
    return out
