"""The ``params:`` a postgres source gives its catalog queries, checked when the source is built.

A query declares its parameters with defaults in its ``-- params:`` header (``min_seconds=5``,
``tables={}``); the default's type is the parameter's type. A config value is converted to it, or
is one error naming file, line and key (``sources[0].params.limit: expected an integer, got 2.5``),
instead of a failing query at the first poll. A name no query declares is an error too.
"""

from __future__ import annotations

import difflib
import math
from typing import Any, Iterable, Mapping

from migtui.schema import _join, _type_name, error_at
from migtui.sqlcatalog import Query, convert_param_default


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
