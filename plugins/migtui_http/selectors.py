"""PromQL instant-vector selectors (``name`` or ``name{label="v", code=~"5.."}``) that pick samples
out of an :class:`~migtui_http.textformat.Exposition`, read with the exposition's own scanner."""

from __future__ import annotations

import re
from dataclasses import dataclass

from migtui_http.textformat import Labels, LineScanner, ParsedSample, TextFormatError


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str  # = != =~ !~
    value: str
    _regex: object = None

    def matches(self, labels: Labels) -> bool:
        actual = dict(labels).get(self.label, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        rx = self._regex if self._regex is not None else re.compile(self.value)
        hit = rx.fullmatch(actual) is not None  # type: ignore[union-attr]
        return hit if self.op == "=~" else not hit


@dataclass(frozen=True)
class Selector:
    """``name`` or ``name{label="v", code=~"5.."}`` (PromQL instant-vector selector syntax)."""

    name: str
    matchers: tuple[Matcher, ...] = ()

    def matches(self, sample: ParsedSample) -> bool:
        return sample.name == self.name and all(m.matches(sample.labels) for m in self.matchers)

    def __str__(self) -> str:
        if not self.matchers:
            return self.name
        inner = ",".join(f'{m.label}{m.op}"{m.value}"' for m in self.matchers)
        return f"{self.name}{{{inner}}}"


def parse_selector(text: str) -> Selector:
    """Parse a selector; raises ValueError with a short message."""
    cur = LineScanner(text.strip(), 0)
    try:
        name = cur.name()
        matchers: list[Matcher] = []
        cur.skip_ws()
        if cur.peek() == "{":
            cur.i += 1
            while True:
                cur.skip_ws()
                if cur.peek() == "}":
                    cur.i += 1
                    break
                label = cur.name(label=True)
                cur.skip_ws()
                op = ""
                for candidate in ("=~", "!~", "!=", "="):
                    if cur.s.startswith(candidate, cur.i):
                        op = candidate
                        break
                if not op:
                    raise cur.err("expected =, !=, =~ or !~")
                cur.i += len(op)
                cur.skip_ws()
                value = cur.quoted()
                rx = None
                if op in ("=~", "!~"):
                    try:
                        rx = re.compile(value)
                    except re.error as exc:
                        raise ValueError(f"bad regular expression {value!r}: {exc}") from None
                matchers.append(Matcher(label, op, value, rx))
                cur.skip_ws()
                if cur.peek() == ",":
                    cur.i += 1
                elif cur.peek() != "}":
                    raise cur.err("expected , or }")
        cur.skip_ws()
        if cur.i != cur.n:
            raise cur.err("unexpected text")
    except TextFormatError:
        raise ValueError(f"invalid selector {text!r}; expected name or name{{label=\"value\"}}") from None
    return Selector(name, tuple(matchers))
