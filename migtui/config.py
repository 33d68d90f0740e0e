"""Config files: YAML with line numbers, ``${ENV}`` interpolation, and validation by schema.

Every error names the file, the line and the key path (``triggers[1].threshold``), and an unknown key
gets a did-you-mean. Sections that belong to plugins (``sources``, ``alerters``, ``actions``) are
validated by the schema each plugin type registers, with the same error format.

Plugins describe their options with :class:`Schema` and :class:`Field` and call
:func:`validate`; nothing here imports Textual.
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
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

_ENV_REF = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}|\$\$")


def interpolate(value: str, *, file: str | None, line: int | None, path: str,
                env: Mapping[str, str] | None = None) -> str:
    """Replace ``${NAME}`` and ``${NAME:-default}``; ``$$`` is a literal ``$``."""
    env = os.environ if env is None else env

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
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


def parse_duration(value: Any) -> float:
    """``30`` / ``"30s"`` / ``"5m"`` / ``"250ms"`` / ``"1h"`` -> seconds. Raises ValueError."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 30s, 5m or 250ms")
    if isinstance(value, (int, float)):
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
        if fdef is not None and fdef.minimum is not None and num < fdef.minimum:
            raise bad(f"must be at least {fdef.minimum:g}, got {value!r}")
        return num
    if ftype == "duration":
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise bad(str(exc)) from None
    if ftype == "list":
        if not isinstance(value, list):
            raise bad(f"expected a list, got {_type_name(value)}")
        if fdef is None or fdef.items is None:
            return list(value)
        return [_convert(fdef.items, item, value, i, _join(path, i), Field(type=fdef.items), env)
                for i, item in enumerate(value)]
    if ftype == "dict":
        if not isinstance(value, dict):
            raise bad(f"expected a mapping, got {_type_name(value)}")
        if fdef is None or fdef.items is None:
            return dict(value)
        return {k: _convert(fdef.items, v, value, k, _join(path, k), Field(type=fdef.items), env)
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


# --------------------------------------------------------------------------- the config file


@dataclass
class PluginItem:
    """An entry of ``sources``, ``alerters`` or ``actions``: a plugin type and its raw options.

    ``options`` is the CDict from the file; the plugin type validates it (see :func:`validate`).
    """

    type: str
    name: str
    options: CDict
    path: str


def _typed_items(kind: str) -> Callable[[Any, Any, Any, str], list[PluginItem]]:
    def convert(value: Any, parent: Any, key: Any, path: str) -> list[PluginItem]:
        if not isinstance(value, list):
            raise error_at(parent, key, path, f"expected a list of {kind}, got {_type_name(value)}")
        items: list[PluginItem] = []
        seen: set[str] = set()
        for i, item in enumerate(value):
            ipath = _join(path, i)
            if not isinstance(item, dict):
                raise error_at(value, i, ipath, f"expected a mapping with a 'type', got {_type_name(item)}")
            if "type" not in item:
                raise error_at(item, None, _join(ipath, "type"), "is required")
            typ = str(item["type"])
            name = str(item.get("name") or typ)
            if name in seen:
                raise error_at(item, "name", _join(ipath, "name"),
                               f"duplicate name {name!r}; give each of the {kind} its own 'name'")
            seen.add(name)
            items.append(PluginItem(type=typ, name=name, options=item, path=ipath))
        return items

    return convert


def _actions(value: Any, parent: Any, key: Any, path: str) -> dict[str, list[PluginItem]]:
    if not isinstance(value, dict):
        raise error_at(parent, key, path, f"expected a mapping of pause/resume/rollback, got {_type_name(value)}")
    out: dict[str, list[PluginItem]] = {}
    for verb in value:
        if verb not in ("pause", "resume", "rollback"):
            close = difflib.get_close_matches(verb, ["pause", "resume", "rollback"], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise error_at(value, verb, _join(path, verb), f"unknown action{hint}; allowed: pause, resume, rollback")
        out[verb] = _typed_items("actions")(value[verb], value, verb, _join(path, verb))
    return out


class _Lazy:
    """A converter implemented in another module, imported only when the key is present.

    Its ``schema`` is the converter's own ``schema`` attribute (the Schema it validates each item or
    the section with), which the generated config reference of the docs shows.
    """

    def __init__(self, dotted: str) -> None:
        self.dotted = dotted

    def _target(self) -> Callable[[Any, Any, Any, str], Any]:
        module, _, attr = self.dotted.partition(":")
        return getattr(importlib.import_module(module), attr)

    def __call__(self, value: Any, parent: Any, key: Any, path: str) -> Any:
        return self._target()(value, parent, key, path)

    @property
    def schema(self) -> "Schema | None":
        return getattr(self._target(), "schema", None)


def _lazy(dotted: str) -> _Lazy:
    return _Lazy(dotted)


CONFIG_SCHEMA = Schema(
    {
        "name": Field("str", doc="Run name shown in the header and reports (default: the config file's name)."),
        "interval": Field("duration", default=2.0, minimum=0.1, doc="Engine tick: how often collectors are due."),
        "store": Field("path", doc="DuckDB file for samples and events (overridden by --store)."),
        "sources": Field(_typed_items("sources"), default=list,
                         doc="Collectors: each has a type (postgres, prometheus, openmetrics, http_probe, "
                             "kubernetes, ...) and a name."),
        "sql_dirs": Field("list", items="path", default=list,
                          doc="Extra folders of monitoring .sql files (relative to the config file)."),
        "plugins": Field(Schema({
            "disable": Field("list", items="str", default=list, doc="Plugin names not to load."),
        }), default=lambda: {"disable": []}, doc="Plugin loading."),
        "triggers": Field(_lazy("migtui.triggers.parsing:parse_triggers"), default=list,
                          doc="Trigger rules: metric + condition -> warn, pause or rollback."),
        "trigger_defaults": Field("dict", default=dict, doc="Defaults merged into every trigger."),
        "alerters": Field(_typed_items("alerters"), default=list, doc="Where alerts go."),
        "alerting": Field("dict", default=dict, doc="Alert grouping and repeat interval."),
        "actions": Field(_actions, default=dict, doc="pause / resume / rollback implementations."),
        "baseline": Field("dict", default=dict,
                          doc="Reserved for baseline options; none is read yet (baselines are set with "
                              "--baseline and the phase keys)."),
        "integrity": Field(_lazy("migtui_postgres.integrity:config_field"), default=list,
                           doc="Data integrity checks (SQL), compared between baseline and post."),
        "migration": Field(_lazy("migtui_postgres.migration_tools:config_field"), default=dict,
                           doc="Migration-tool awareness, automatic phases, backfill progress, preflight."),
        "ui": Field(Schema({
            "keymap": Field("dict", items="str", default=dict,
                            doc="Move cockpit keys: binding id -> key, e.g. {pause: P} (ids on the cockpit page)."),
        }), default=lambda: {"keymap": {}}, doc="Cockpit options."),
        "control": Field(Schema({
            "enabled": Field("bool", default=True, doc="Serve the control socket that migtui ctl talks to."),
            "socket": Field("path", doc="Where the socket lives (relative to the config file; default: "
                                        "next to the store, in a folder only its user can enter)."),
        }), default=lambda: {"enabled": True, "socket": None}, doc="Control socket options."),
        "headless": Field(Schema({
            "act": Field("bool", default=False, doc="Run trigger actions that need confirmation without asking."),
            "alert_only": Field("bool", default=False, doc="Never act on triggers; only record and alert."),
        }), default=lambda: {"act": False, "alert_only": False}, doc="Headless front-end options."),
    },
    doc="A migtui config file.",
)


@dataclass
class Config:
    """A loaded, validated config file."""

    path: Path
    data: dict[str, Any]
    raw: CDict

    @property
    def name(self) -> str:
        return self.data.get("name") or self.path.stem

    @property
    def interval(self) -> float:
        return float(self.data["interval"])

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def resolve_path(self, p: str | os.PathLike[str]) -> Path:
        """A path from the config, relative to the config file's folder."""
        path = Path(os.path.expanduser(str(p)))
        return path if path.is_absolute() else (self.path.parent / path)

    def sources_of_type(self, *types: str) -> list[PluginItem]:
        return [s for s in self.data["sources"] if s.type in types]

    def snapshot(self) -> dict[str, Any]:
        """The config as plain data with secrets masked, for the store and reports."""
        from migtui.redact import redact_obj

        def plain(v: Any) -> Any:
            if isinstance(v, dict):
                return {k: plain(x) for k, x in v.items()}
            if isinstance(v, list):
                return [plain(x) for x in v]
            return v

        return redact_obj(_mask_secret_keys(plain(self.raw)))


_SECRET_KEY = re.compile(r"(password|passwd|secret|token|api_key|apikey|routing_key|webhook|authorization)", re.I)


def _mask_secret_keys(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: ("***" if _SECRET_KEY.search(str(k)) and isinstance(v, str) else _mask_secret_keys(v))
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [_mask_secret_keys(v) for v in obj]
    return obj


def load_config(path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a config file. Raises ConfigError (one line, with file:line: key: problem)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("config file not found", file=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config: {exc}", file=str(p)) from None
    raw = parse_yaml(text, str(p))
    if raw is None:
        raw = CDict()
        raw.file, raw.line, raw.key_lines = str(p), 1, {}
    if not isinstance(raw, CDict):
        raise ConfigError("the top level must be a mapping of keys", file=str(p), line=1)
    if env is not None:
        _attach_env(raw, env)
    data = validate(CONFIG_SCHEMA, raw, "", env=env)
    return Config(path=p, data=data, raw=raw)


def _attach_env(node: Any, env: Mapping[str, str]) -> None:
    """Remember the environment a config was loaded with, so plugin options validated later
    interpolate ``${VAR}`` from the same place."""
    if isinstance(node, (CDict, CList)):
        node.env = env  # type: ignore[attr-defined]
        for child in (node.values() if isinstance(node, CDict) else node):
            _attach_env(child, env)
