"""Parameters of the catalog's queries: the ``-- params:`` header (``name=default`` pairs), the
``:name`` placeholders turned into psycopg's ``%(name)s``, the defaults as Python values, and the
``params:`` a postgres source gives its queries, checked when the source is built.

A query declares its parameters with defaults in its ``-- params:`` header (``min_seconds=5``,
``tables={}``); the default's type is the parameter's type. A config value is converted to it, or
is one error naming file, line and key (``sources[0].params.limit: expected an integer, got 2.5``),
instead of a failing query at the first poll. A name no query declares is an error too.
"""

from __future__ import annotations

import difflib
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from migtui.errors import CatalogError
from migtui.schema import _join, _type_name, error_at

if TYPE_CHECKING:  # pragma: no cover
    from migtui.sqlcatalog import Query

_PARAM = re.compile(r"(?<![:\w]):(?P<name>[A-Za-z_][A-Za-z0-9_]*)\b")


def parse_params(text: str, path: Path, line: int) -> dict[str, str]:
    params: dict[str, str] = {}
    if not text:
        return params
    for part in _split_params(text):
        name, eq, default = part.partition("=")
        name = name.strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or not eq:
            raise CatalogError(f"{path}:{line}: params must be 'name=default' pairs, got {part.strip()!r}")
        params[name] = default.strip()
    return params


def _split_params(text: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def to_psycopg(text: str, path: Path, declared: Iterable[str], first_line: int = 1) -> tuple[str, tuple[str, ...]]:
    """Turn ``:name`` parameters into ``%(name)s`` and escape literal ``%``; skip ``::casts``,
    string literals and comments. ``first_line`` is the file line ``text`` starts on (for errors)."""
    out: list[str] = []
    used: list[str] = []
    i = 0
    declared = set(declared)
    # split into literal/comment and code chunks
    token = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.S)
    for m in token.finditer(text):
        out.append(_code_chunk(text[i:m.start()], used))
        out.append(m.group(0).replace("%", "%%"))
        i = m.end()
    out.append(_code_chunk(text[i:], used))
    for name in used:
        if name not in declared:
            m = re.search(rf"(?<![:\w]):{name}\b", text)
            line = first_line + (text[:m.start()].count("\n") if m else 0)
            raise CatalogError(f"{path}:{line}: parameter :{name} is used but not declared in the '-- params:' header")
    return "".join(out), tuple(dict.fromkeys(used))


def _code_chunk(chunk: str, used: list[str]) -> str:
    chunk = chunk.replace("%", "%%")

    def sub(m: re.Match[str]) -> str:
        used.append(m.group("name"))
        return f"%({m.group('name')})s"

    return _PARAM.sub(sub, chunk)


def convert_param_default(text: str) -> Any:
    """A ``-- params:`` default as the Python value psycopg should bind: ``30`` -> 30, ``0.5`` -> 0.5,
    ``true``/``false`` -> bool, ``null`` -> None, ``{}`` -> [] and ``{a,b}`` -> ["a", "b"] (a text
    array: write ``:tables::text[]`` in the SQL), ``'x'`` -> "x"; anything else stays a string."""
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        inner = text[1:-1].strip()
        return [p.strip().strip("'\"") for p in inner.split(",")] if inner else []
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if text.lower() == "null":
        return None
    return text


def param_defaults(query: Query) -> dict[str, Any]:
    """The query's ``-- params:`` defaults as Python values (see :func:`convert_param_default`).

    Always execute ``Variant.sql`` with a dict (this one, updated with the user's values), never with
    ``None``: the SQL has ``%`` doubled for psycopg's ``%(name)s`` placeholders."""
    return {name: convert_param_default(text) for name, text in query.params.items()}




def _kind(default: Any) -> str:
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "number"
    if isinstance(default, list):
        return "list"
    if default is None:
        return "any"
    return "text"


def _coerce(kind: str, value: Any) -> Any:
    """``value`` as ``kind``; ValueError with the message when it is not one."""
    if kind == "any":
        return value
    if kind == "list":
        if not isinstance(value, list) or any(isinstance(v, (dict, list)) or v is None for v in value):
            raise ValueError(f"expected a list of text like [orders, app.items], got {_type_name(value)}")
        return [str(v) for v in value]
    if isinstance(value, (dict, list)) or value is None:
        raise ValueError(f"expected {'text' if kind == 'text' else 'a single value'}, got {_type_name(value)}")
    if kind == "text":
        return str(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise ValueError(f"expected true or false, got {value!r}")
    if isinstance(value, bool):
        raise ValueError(f"expected {'an integer' if kind == 'int' else 'a number'}, got {value!r}")
    try:
        num = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected {'an integer' if kind == 'int' else 'a number'}, got {value!r}") from None
    if not math.isfinite(num):
        raise ValueError(f"expected a finite number, got {value!r}")
    if kind == "int":
        if not num.is_integer():
            raise ValueError(f"expected an integer, got {value!r}")
        return int(num)
    return num


def check_params(queries: Iterable[Query], values: Mapping[str, Any], node: Any, path: str) -> dict[str, Any]:
    """``values`` (the source's ``params``, ``node`` its mapping in the file) converted to the types
    the ``queries`` declare; ConfigError naming file, line and ``path.name`` otherwise."""
    kinds: dict[str, str] = {}
    for query in queries:
        for name, text in query.params.items():
            kinds.setdefault(name, _kind(convert_param_default(text)))
    out: dict[str, Any] = {}
    for name, value in values.items():
        where = _join(path, name)
        if name not in kinds:
            close = difflib.get_close_matches(name, list(kinds), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise error_at(node, name, where, f"no catalog query declares this parameter{hint}; declared: "
                                              f"{', '.join(sorted(kinds)) or 'none'}")
        try:
            out[name] = _coerce(kinds[name], value)
        except ValueError as exc:
            raise error_at(node, name, where, str(exc)) from None
    return out
