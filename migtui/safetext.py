"""The one rendering path for text that comes from outside migtui.

Query text, ``application_name``, lock and relation names, HTTP bodies and headers, Kubernetes
messages, plugin error messages and flag names are chosen by someone else. Whatever front end shows
them, they pass through here first:

- :func:`visible` makes a string that cannot drive a terminal: every control character (C0, DEL, C1,
  lone surrogates, line/paragraph separators, bidi overrides and isolates) is shown as its escape,
  ``\\x1b``, ``\\u202e``; newlines and tabs fold to a space unless ``keep_newlines``;
- :func:`one_line` is that, whitespace folded, cut to a width with ``…``;
- :func:`rich` wraps it in a ``rich.text.Text``, which Rich and Textual never parse as markup (a plain
  ``str`` given to a Rich table, a Textual ``Label`` or a notification *is* parsed: ``[/]`` raises);
- :func:`html` and :func:`markdown` escape it for the reports, :func:`slack` for Slack messages;
- :func:`json_text` is the one JSON dump of every JSON output (reports, ``--json``, ``/status``, log
  files): UTF-8 text stays readable, and what JSON itself leaves raw (DEL, C1 controls such as
  ``\\u009b``, bidi overrides and isolates, line/paragraph separators, lone surrogates) is written as a
  ``\\uXXXX`` escape, so ``cat`` or ``less`` on the output cannot be driven or fooled by it.

The rule: outside text reaches a renderer only as the result of one of these functions. No Textual
here (the headless printer, the reports and the alerters use it too).
"""

from __future__ import annotations

import html as _html
import json
import math
import re
from datetime import datetime
from typing import Any, Callable

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Characters that reorder the text around them (Trojan Source): shown as escapes, never applied."""

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
                     + "".join(sorted(BIDI_CONTROLS)) + "]")
_UNSAFE_KEEP_NL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
                             + "".join(sorted(BIDI_CONTROLS)) + "]")
_SPACE = re.compile(r"[\t\n\r\x0b\x0c ]+")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
"""What can start inline Markdown inside a line or a table cell (emphasis, code, links and images,
strikethrough, a cell border); ``<``, ``>`` and ``&`` become entities (no raw HTML)."""

UNRENDERABLE = "<unrenderable>"


def _escape(match: re.Match[str]) -> str:
    c = match.group(0)
    n = ord(c)
    return f"\\x{n:02x}" if n <= 0xFF else f"\\u{n:04x}"


def as_str(value: Any) -> str:
    """``str(value)``, and :data:`UNRENDERABLE` when even that fails (a hostile ``__str__``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "backslashreplace")
    try:
        return str(value)
    except Exception:  # noqa: BLE001 - an object that cannot say what it is still gets a cell
        return UNRENDERABLE


def visible(value: Any, *, keep_newlines: bool = False) -> str:
    """``value`` as text with every control character shown as its escape (``\\x1b``, ``\\u202e``).

    Tabs and line breaks fold to one space each (``keep_newlines`` keeps ``\\n`` and folds ``\\r\\n``)."""
    text = as_str(value)
    if keep_newlines:
        text = text.replace("\r\n", "\n").replace("\t", " ")
        return _UNSAFE_KEEP_NL.sub(_escape, text)
    text = text.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
    return _UNSAFE.sub(_escape, text)


def one_line(value: Any, width: int | None = None) -> str:
    """One line of safe text: whitespace runs folded to one space, cut to ``width`` with ``…``."""
    text = visible(_SPACE.sub(" ", as_str(value)).strip())
    if width is not None and width > 0 and len(text) > width:
        return text[: width - 1] + "…"
    return text


def rich(value: Any, style: str = "", *, width: int | None = None, keep_newlines: bool = False) -> Any:
    """A ``rich.text.Text`` of safe text (never parsed as markup), in ``style``."""
    from rich.text import Text

    text = visible(value, keep_newlines=True) if keep_newlines else one_line(value, width)
    return Text(text, style=style, end="")


def html(value: Any, *, keep_newlines: bool = True) -> str:
    """Safe text escaped for HTML (``<``, ``>``, ``&`` and both quotes)."""
    return _html.escape(visible(value, keep_newlines=keep_newlines), quote=True)


def markdown(value: Any) -> str:
    """Safe text for a Markdown paragraph or table cell: one line, every Markdown character
    backslash-escaped and ``<``/``>``/``&`` as entities, so nothing renders as markup or raw HTML."""
    text = one_line(value)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack(value: Any, *, keep_newlines: bool = True) -> str:
    """Safe text for Slack ``mrkdwn``: ``&``, ``<`` and ``>`` as entities (Slack's own escaping), so
    ``<!channel>`` or ``<https://x|click>`` from outside is shown, not turned into a mention or a link."""
    text = visible(value, keep_newlines=keep_newlines)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff" + "".join(sorted(BIDI_CONTROLS)) + "]")
"""What JSON leaves raw inside a string (it escapes only C0, the quote and the backslash)."""


def json_default(obj: Any) -> Any:
    """How a value JSON has no type for is written: a datetime as ISO 8601, bytes as hex, a
    non-finite float as null, anything else as its ``str``."""
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return bytes(obj).hex()
    return as_str(obj)


def json_text(obj: Any, *, indent: int | None = None, separators: tuple[str, str] | None = None,
              sort_keys: bool = False, default: Callable[[Any], Any] = json_default) -> str:
    """``obj`` as JSON that is safe to print: readable UTF-8, with every character a terminal would
    act on or that reorders text escaped as ``\\uXXXX`` (the same value for any JSON reader)."""
    text = json.dumps(obj, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys,
                      default=default)
    # outside strings JSON is ASCII, so every match is inside a string, where \uXXXX means the same
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def has_unsafe(text: str) -> bool:
    """True when ``text`` holds a character :func:`visible` would escape (tests and assertions)."""
    return _UNSAFE.search(text) is not None


__all__ = ["BIDI_CONTROLS", "UNRENDERABLE", "as_str", "has_unsafe", "html", "json_default", "json_text",
           "markdown", "one_line", "rich", "slack", "visible"]
