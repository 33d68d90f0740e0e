"""A small parser of the Prometheus text exposition format (0.0.4) and OpenMetrics 1.0 text.

Handles ``# HELP`` / ``# TYPE`` / ``# UNIT`` lines and other comments, labels with the ``\\\\``,
``\\"`` and ``\\n`` escapes, optional timestamps, OpenMetrics exemplars (``# {...} value``),
quoted UTF-8 metric names (``{"my.metric", a="b"} 1``) and ``# EOF``. Any input gives either a
:class:`Exposition` or one :class:`TextFormatError` naming the line; it never raises anything else
and runs in linear time (a hand-written scanner, no backtracking regular expressions).
Selectors that pick samples out of an exposition: :mod:`migtui_http.selectors`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from migtui.api import SourceError

TYPES = ("counter", "gauge", "histogram", "gaugehistogram", "summary", "untyped", "unknown", "info",
         "stateset")
_SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created", "_gcount", "_gsum", "_info")

Labels = tuple[tuple[str, str], ...]


class TextFormatError(SourceError):
    """The exposition text is malformed (the message names the line)."""


@dataclass(frozen=True, slots=True)
class ParsedSample:
    name: str
    labels: Labels
    value: float
    timestamp: float | None = None

    def label(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.labels:
            if k == key:
                return v
        return default


@dataclass
class Exposition:
    """The parsed text: samples in order, and the declared type/help/unit of each family."""

    samples: list[ParsedSample] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)
    help: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    eof: bool = False

    def family_of(self, sample_name: str) -> tuple[str, str]:
        """(family name, type) of a sample name: ``x_bucket`` of a histogram ``x`` -> (x, histogram)."""
        if sample_name in self.types:
            return sample_name, self.types[sample_name]
        for suffix in _SUFFIXES:
            if sample_name.endswith(suffix):
                base = sample_name[: -len(suffix)]
                if base in self.types:
                    return base, self.types[base]
        return sample_name, "untyped"

    def type_of(self, sample_name: str) -> str:
        return self.family_of(sample_name)[1]


def _is_name_start(c: str) -> bool:
    return c == "_" or c == ":" or ("a" <= c <= "z") or ("A" <= c <= "Z")


def _is_name_char(c: str) -> bool:
    return _is_name_start(c) or ("0" <= c <= "9")


def _is_label_start(c: str) -> bool:
    return c == "_" or ("a" <= c <= "z") or ("A" <= c <= "Z")


def _is_label_char(c: str) -> bool:
    return _is_label_start(c) or ("0" <= c <= "9")


def parse_float(text: str) -> float:
    """A sample value as Prometheus writes it: decimal/exponent floats, NaN, +Inf, -Inf. ValueError else."""
    t = text.strip()
    low = t.lower()
    if low in ("nan",):
        return math.nan
    if low in ("+inf", "inf", "+infinity", "infinity"):
        return math.inf
    if low in ("-inf", "-infinity"):
        return -math.inf
    if not t or "_" in t or low.lstrip("+-").startswith(("nan", "inf")):
        raise ValueError(f"invalid number {text!r}")
    for c in t:
        if c not in "0123456789+-.eE":
            raise ValueError(f"invalid number {text!r}")
    try:
        return float(t)
    except ValueError:
        raise ValueError(f"invalid number {text!r}") from None


class LineScanner:
    __slots__ = ("s", "i", "n", "lineno")

    def __init__(self, s: str, lineno: int) -> None:
        self.s, self.i, self.n, self.lineno = s, 0, len(s), lineno

    def err(self, msg: str) -> TextFormatError:
        return TextFormatError(f"line {self.lineno}: {msg}: {self.s[:120]!r}")

    def peek(self) -> str:
        return self.s[self.i] if self.i < self.n else ""

    def skip_ws(self) -> None:
        while self.i < self.n and self.s[self.i] in " \t":
            self.i += 1

    def name(self, label: bool = False) -> str:
        start = self.i
        first = _is_label_start if label else _is_name_start
        rest = _is_label_char if label else _is_name_char
        if self.i >= self.n or not first(self.s[self.i]):
            raise self.err("expected a label name" if label else "expected a metric name")
        self.i += 1
        while self.i < self.n and rest(self.s[self.i]):
            self.i += 1
        return self.s[start:self.i]

    def quoted(self) -> str:
        if self.peek() != '"':
            raise self.err('expected "')
        self.i += 1
        out: list[str] = []
        while self.i < self.n:
            c = self.s[self.i]
            if c == "\\":
                if self.i + 1 >= self.n:
                    break
                nxt = self.s[self.i + 1]
                if nxt == "n":
                    out.append("\n")
                elif nxt == "\\":
                    out.append("\\")
                elif nxt == '"':
                    out.append('"')
                else:  # Prometheus keeps unknown escapes verbatim
                    out.append("\\" + nxt)
                self.i += 2
                continue
            if c == '"':
                self.i += 1
                return "".join(out)
            out.append(c)
            self.i += 1
        raise self.err("unterminated quoted string")

    def labels(self, allow_name: bool) -> tuple[str | None, Labels]:
        """Parse ``{...}`` at the cursor. With ``allow_name``, a leading bare quoted string is the
        metric name (UTF-8 names)."""
        assert self.peek() == "{"
        self.i += 1
        name: str | None = None
        out: list[tuple[str, str]] = []
        seen: set[str] = set()
        first = True
        while True:
            self.skip_ws()
            c = self.peek()
            if c == "}":
                self.i += 1
                return name, tuple(out)
            if c == "":
                raise self.err("unterminated label set")
            if c == '"':
                key = self.quoted()
                self.skip_ws()
                if self.peek() != "=":
                    if allow_name and first and name is None:
                        name = key
                        first = False
                        if self.peek() == ",":
                            self.i += 1
                        elif self.peek() != "}":
                            raise self.err("expected , or } after the metric name")
                        continue
                    raise self.err("expected = after a label name")
            else:
                key = self.name(label=True)
            self.skip_ws()
            if self.peek() != "=":
                raise self.err("expected = after a label name")
            self.i += 1
            self.skip_ws()
            value = self.quoted()
            if key in seen:
                raise self.err(f"duplicate label {key!r}")
            seen.add(key)
            out.append((key, value))
            first = False
            self.skip_ws()
            c = self.peek()
            if c == ",":
                self.i += 1
            elif c != "}":
                raise self.err("expected , or } in the label set")

    def token(self) -> str:
        self.skip_ws()
        start = self.i
        while self.i < self.n and self.s[self.i] not in " \t":
            self.i += 1
        return self.s[start:self.i]


def parse(text: str | bytes, *, max_lines: int = 2_000_000) -> Exposition:
    """Parse exposition text. Raises :class:`TextFormatError` (one line, naming the line) on bad input."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TextFormatError(f"not UTF-8 text (byte {exc.start})") from None
    if not isinstance(text, str):
        raise TextFormatError(f"expected text, got {type(text).__name__}")
    expo = Exposition()
    lines = text.split("\n")
    if len(lines) > max_lines:
        raise TextFormatError(f"too many lines ({len(lines)} > {max_lines})")
    for lineno, raw in enumerate(lines, start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if expo.eof:
            if line.strip():
                raise TextFormatError(f"line {lineno}: content after # EOF")
            continue
        if not line.strip():
            continue
        if line.startswith("#"):
            _comment(expo, line, lineno)
            continue
        expo.samples.append(_sample(LineScanner(line, lineno)))
    return expo


def _comment(expo: Exposition, line: str, lineno: int) -> None:
    body = line[1:].strip(" \t")
    if body == "EOF":
        expo.eof = True
        return
    parts = body.split(None, 2)
    if not parts or parts[0] not in ("HELP", "TYPE", "UNIT"):
        return  # a plain comment
    if len(parts) < 2:
        raise TextFormatError(f"line {lineno}: # {parts[0]} without a metric name")
    name = parts[1]
    if name.startswith('"'):
        cur = LineScanner(body[len(parts[0]):].lstrip(" \t"), lineno)
        name = cur.quoted()
        rest = cur.s[cur.i:].strip(" \t")
    else:
        cur = LineScanner(name, lineno)
        cur.name()
        if cur.i != cur.n:
            raise TextFormatError(f"line {lineno}: invalid metric name {name!r}")
        rest = parts[2] if len(parts) > 2 else ""
    kind = parts[0]
    if kind == "TYPE":
        typ = rest.strip().lower()
        if typ not in TYPES:
            raise TextFormatError(f"line {lineno}: unknown metric type {rest.strip()!r} for {name}")
        if name in expo.types and expo.types[name] != typ:
            raise TextFormatError(f"line {lineno}: second # TYPE for {name}")
        expo.types[name] = typ
    elif kind == "HELP":
        expo.help[name] = rest.replace("\\n", "\n").replace("\\\\", "\\")
    else:
        expo.units[name] = rest.strip()


def _sample(cur: LineScanner) -> ParsedSample:
    labels: Labels = ()
    if cur.peek() == "{":
        name, labels = cur.labels(allow_name=True)
        if name is None:
            raise cur.err("expected a metric name")
    else:
        name = cur.name()
        if cur.peek() == "{":
            _, labels = cur.labels(allow_name=False)
    if cur.peek() not in (" ", "\t"):
        raise cur.err("expected a space before the value")
    value_text = cur.token()
    if not value_text:
        raise cur.err("missing value")
    try:
        value = parse_float(value_text)
    except ValueError as exc:
        raise cur.err(str(exc)) from None
    ts: float | None = None
    cur.skip_ws()
    if cur.i < cur.n and cur.peek() != "#":
        ts_text = cur.token()
        try:
            ts = parse_float(ts_text)
        except ValueError:
            raise cur.err(f"invalid timestamp {ts_text!r}") from None
        if not math.isfinite(ts):
            raise cur.err(f"invalid timestamp {ts_text!r}")
        cur.skip_ws()
    if cur.i < cur.n:
        if cur.peek() != "#":
            raise cur.err("unexpected text after the value")
        _exemplar(cur)
    return ParsedSample(name, labels, value, ts)


def _exemplar(cur: LineScanner) -> None:
    """Validate and skip an OpenMetrics exemplar: ``# {labels} value [timestamp]``."""
    cur.i += 1
    cur.skip_ws()
    if cur.peek() != "{":
        raise cur.err("malformed exemplar")
    cur.labels(allow_name=False)
    parts = cur.s[cur.i:].split()
    if not 1 <= len(parts) <= 2:
        raise cur.err("malformed exemplar")
    for p in parts:
        try:
            parse_float(p)
        except ValueError:
            raise cur.err("malformed exemplar value") from None
