"""Config validation by schema: YAML that remembers file and line, ``${ENV}`` interpolation,
durations, and :class:`Schema` / :class:`Field` with :func:`validate`.

Every error names the file, the line and the key path (``triggers[1].threshold``), and an unknown key
gets a did-you-mean. The config file (:mod:`migtui.config`), the trigger rules
(:mod:`migtui.triggers.parsing`) and every plugin type's options are validated with it; plugins
reach it through :mod:`migtui.api`.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import yaml

from migtui.errors import ConfigError
from migtui.redact import register_dsn, register_secret

# --------------------------------------------------------------------------- YAML with positions


class CDict(dict):
    """A mapping from the config file that remembers where it and each key came from."""

    file: str | None = None
    line: int | None = None
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int | None:
        return getattr(self, "key_lines", {}).get(key, self.line)


class CList(list):
    """A sequence from the config file that remembers where it and each item came from."""

    file: str | None = None
    line: int | None = None
    item_lines: list[int]

    def line_of(self, index: int) -> int | None:
        lines = getattr(self, "item_lines", [])
        return lines[index] if index < len(lines) else self.line


class _Loader(yaml.SafeLoader):
    """SafeLoader that builds CDict/CList with 1-based line numbers."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> CDict:
    loader.flatten_mapping(node)
    out = CDict()
    out.file, out.line, out.key_lines = loader.name, node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)):
            raise ConfigError("mapping keys must be plain scalars", file=loader.name,
                              line=key_node.start_mark.line + 1)
        key = str(key)
        if key in out:
            raise ConfigError(f"duplicate key {key!r}", file=loader.name, line=key_node.start_mark.line + 1)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> CList:
    out = CList(loader.construct_object(child, deep=True) for child in node.value)
    out.file, out.line = loader.name, node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def parse_yaml(text: str, file: str) -> Any:
    """Parse YAML text into CDict/CList; a syntax error becomes one ConfigError with the line."""
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:  # a control character: YAML refuses the text outright
        line = text[:exc.position].count("\n") + 1
        char = chr(exc.character) if isinstance(exc.character, int) else exc.character
        raise ConfigError(f"invalid YAML: control character {char!r} is not allowed", file=file, line=line) from None
    loader.name = file
    try:
        return loader.get_single_data()
    except ConfigError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(f"invalid YAML: {exc.problem or exc.context}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", file=file) from None
    finally:
        loader.dispose()


# --------------------------------------------------------------------------- ${ENV} interpolation

_ENV_REF = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}|\$\$"
                      r"|(?P<bad>\$\{[^}\s]*\}?)")


def interpolate(value: str, *, file: str | None, line: int | None, path: str,
                env: Mapping[str, str] | None = None) -> str:
    """Replace ``${NAME}`` and ``${NAME:-default}``; ``$$`` is a literal ``$``. Any other ``${`` (not
    closed, or not a variable name) is an error: it would otherwise reach a DSN or a URL as text."""
    env = os.environ if env is None else env

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        if m.group("bad") is not None:
            raise ConfigError(f"unterminated or malformed reference {m.group('bad')!r}: write ${{NAME}} or "
                              "${NAME:-default} with a variable name, or $$ for a literal $",
                              file=file, line=line, path=path)
        name = m.group("name")
        if name in env:
            return env[name]
        if m.group("default") is not None:
            return m.group("default")
        raise ConfigError(f"environment variable {name} is not set (use ${{{name}:-default}} for a default)",
                          file=file, line=line, path=path)

    return _ENV_REF.sub(sub, value)


# --------------------------------------------------------------------------- schema

_DURATION = re.compile(r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<u>ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


MIN_TIMING = 0.1
"""The least ``interval``, ``intervals`` item, ``timeout`` or ``*_timeout`` a config may set (100ms),
unless its Field says otherwise with ``minimum``."""


def _least(fdef: Field | None, key: Any) -> float | None:
    """The minimum of a value: its Field's, else :data:`MIN_TIMING` for a timing key, else none."""
    if fdef is not None and fdef.minimum is not None:
        return fdef.minimum
    k = str(key)
    return MIN_TIMING if k in ("interval", "intervals", "timeout") or k.endswith("_timeout") else None


def fmt_duration(seconds: float) -> str:
    """``0.1`` -> ``100ms``, ``2`` -> ``2s``, ``90`` -> ``90s`` (for messages)."""
    return f"{seconds * 1000:g}ms" if seconds < 1 else f"{seconds:g}s"


def parse_duration(value: Any) -> float:
    """``30`` / ``"30s"`` / ``"5m"`` / ``"250ms"`` / ``"1h"`` -> seconds. Raises ValueError."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 30s, 5m or 250ms")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError(f"expected a finite duration like 30s, 5m or 250ms, got {value!r}")
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"expected a duration like 30s, 5m or 250ms, got {value!r}")
    return float(m.group("n")) * _UNITS[m.group("u")]


@dataclass
class Field:
    """One key of a schema.

    ``type`` is one of ``str int float number bool duration list dict any path`` or a nested
    :class:`Schema`; ``items`` gives the type of list items. ``secret`` registers the value for
    redaction; ``dsn`` registers the password inside a connection string. ``check`` is a callable
    that receives the converted value and raises ValueError with a message.
    """

    type: Any = "str"
    required: bool = False
    default: Any = None
    choices: Iterable[Any] | None = None
    doc: str = ""
    items: Any = None
    secret: bool = False
    dsn: bool = False
    check: Callable[[Any], Any] | None = None
    minimum: float | None = None


@dataclass
class Schema:
    """A mapping's allowed keys. ``open`` lets unknown keys through (for plugin-owned parts)."""

    fields: dict[str, Field]
    doc: str = ""
    open: bool = False
    extra: dict[str, Field] = field(default_factory=dict)

    def with_fields(self, more: Mapping[str, Field]) -> "Schema":
        return Schema({**self.fields, **more}, doc=self.doc, open=self.open)


def _where(node: Any, key: str | int | None = None) -> tuple[str | None, int | None]:
    file = getattr(node, "file", None)
    if isinstance(node, CDict) and isinstance(key, str):
        return file, node.line_of(key)
    if isinstance(node, CList) and isinstance(key, int):
        return file, node.line_of(key)
    return file, getattr(node, "line", None)


def error_at(node: Any, key: str | int | None, path: str, message: str) -> ConfigError:
    """A ConfigError positioned at ``node[key]`` (or at ``node`` when key is None)."""
    file, line = _where(node, key)
    return ConfigError(message, file=file, line=line, path=path or None)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if not str(key).isprintable():  # a key with a newline or control character: keep errors one line
        return f"{path}[{key!r}]"
    return f"{path}.{key}" if path else key


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    return {CDict: "a mapping", dict: "a mapping", CList: "a list", list: "a list", bool: "true/false",
            int: "a number", float: "a number", str: "text"}.get(type(value), type(value).__name__)


def _convert(ftype: Any, value: Any, parent: Any, key: Any, path: str, fdef: Field | None,
             env: Mapping[str, str] | None) -> Any:
    def bad(msg: str) -> ConfigError:
        return error_at(parent, key, path, msg)

    if isinstance(value, str) and ftype != "raw":
        file, line = _where(parent, key)
        value = interpolate(value, file=file, line=line, path=path,
                            env=env if env is not None else getattr(parent, "env", None))
    if isinstance(ftype, Schema):
        if not isinstance(value, dict):
            raise bad(f"expected a mapping, got {_type_name(value)}")
        return validate(ftype, value, path, env=env)
    if callable(ftype) and not isinstance(ftype, str):
        return ftype(value, parent, key, path)
    if ftype in ("str", "path", "raw"):
        if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
            raise bad(f"expected text, got {_type_name(value)}")
        return str(value)
    if ftype == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "on", "off"):
            return value.lower() in ("true", "yes", "on")
        raise bad(f"expected true or false, got {value!r}")
    if ftype in ("int", "float", "number"):
        if isinstance(value, bool):
            raise bad(f"expected a number, got {value!r}")
        try:
            num = int(value) if ftype == "int" else float(value)
        except (TypeError, ValueError):
            raise bad(f"expected {'an integer' if ftype == 'int' else 'a number'}, got {value!r}") from None
        if ftype == "int" and isinstance(value, float) and not value.is_integer():
            raise bad(f"expected an integer, got {value!r}")
        if not math.isfinite(num):
            raise bad(f"expected a finite number, got {value!r}")
        if fdef is not None and fdef.minimum is not None and num < fdef.minimum:
            raise bad(f"must be at least {fdef.minimum:g}, got {value!r}")
        return num
    if ftype == "duration":
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            raise bad(str(exc)) from None
        least = _least(fdef, key)
        if least is not None and seconds < least:
            raise bad(f"must be at least {fmt_duration(least)}, got {value}")
        return seconds
    if ftype == "list":
        if not isinstance(value, list):
            raise bad(f"expected a list, got {_type_name(value)}")
        if fdef is None or fdef.items is None:
            return list(value)
        return [_convert(fdef.items, item, value, i, _join(path, i), Field(fdef.items, minimum=_least(fdef, key)), env)
                for i, item in enumerate(value)]
    if ftype == "dict":
        if not isinstance(value, dict):
            raise bad(f"expected a mapping, got {_type_name(value)}")
        if fdef is None or fdef.items is None:
            return dict(value)
        return {k: _convert(fdef.items, v, value, k, _join(path, k), Field(fdef.items, minimum=_least(fdef, key)), env)
                for k, v in value.items()}
    if ftype == "any":
        return value
    raise AssertionError(f"unknown field type {ftype!r}")


def validate(schema: Schema, node: Any, path: str = "", *, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Check ``node`` against ``schema`` and return plain, converted values with defaults filled in."""
    if not isinstance(node, dict):
        raise error_at(node, None, path, f"expected a mapping, got {_type_name(node)}")
    out: dict[str, Any] = {}
    for key in node:
        if key not in schema.fields and not schema.open:
            close = difflib.get_close_matches(key, list(schema.fields), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            allowed = ", ".join(sorted(schema.fields))
            raise error_at(node, key, _join(path, key), f"unknown key{hint}; allowed keys: {allowed}")
    for key, fdef in schema.fields.items():
        kpath = _join(path, key)
        if key not in node or node[key] is None:
            if fdef.required:
                raise error_at(node, None, kpath, "is required")
            out[key] = fdef.default() if callable(fdef.default) else fdef.default
            continue
        value = _convert(fdef.type, node[key], node, key, kpath, fdef, env)
        if fdef.choices is not None and value not in fdef.choices:
            choices = ", ".join(map(str, fdef.choices))
            raise error_at(node, key, kpath, f"must be one of {choices}, got {value!r}")
        if fdef.check is not None:
            try:
                checked = fdef.check(value)
            except ValueError as exc:
                raise error_at(node, key, kpath, str(exc)) from None
            if checked is not None:
                value = checked
        if fdef.secret and isinstance(value, str):
            register_secret(value)
        if fdef.dsn and isinstance(value, str):
            register_dsn(value)
        out[key] = value
    if schema.open:
        for key in node:
            if key not in schema.fields:
                out[key] = node[key]
    return out
