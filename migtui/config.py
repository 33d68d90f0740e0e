"""The config file: its top-level schema (:data:`CONFIG_SCHEMA`), :func:`load_config` and
:class:`Config`. Sections that belong to plugins (``sources``, ``alerters``, ``actions``) are
validated by the schema each plugin type registers; ``triggers`` by :mod:`migtui.triggers.parsing`,
``alerting`` by :mod:`migtui.alerting_config`.

The validation machinery (YAML with line numbers, ``${ENV}`` interpolation, :class:`Schema`,
:class:`Field`, :func:`validate`) lives in :mod:`migtui.schema` and is importable from here too.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from migtui.alerting_config import config_field as alerting_config_field
from migtui.alerting_config import defaults as alerting_defaults
from migtui.errors import ConfigError
from migtui.metrickinds import DEFAULT_TOLERANCE, DEFAULT_WINDOW, check_override
from migtui.model import METRIC_DIRECTIONS, METRIC_KINDS
from migtui.schema import (CDict, CList, Field, Schema, _join, _type_name, error_at, interpolate, parse_duration,
                           parse_yaml, validate)
from migtui.triggers.parsing import parse_triggers

__all__ = ["CONFIG_SCHEMA", "CDict", "CList", "Config", "Field", "PluginItem", "Schema", "error_at", "interpolate",
           "load_config", "parse_duration", "parse_yaml", "validate"]


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
        "triggers": Field(parse_triggers, default=list,
                          doc="Trigger rules: metric + condition -> warn, pause or rollback."),
        "trigger_defaults": Field("dict", default=dict, doc="Defaults merged into every trigger."),
        "alerters": Field(_typed_items("alerters"), default=list, doc="Where alerts go."),
        "alerting": Field(alerting_config_field, default=alerting_defaults,
                          doc="Alert grouping and repeat interval."),
        "actions": Field(_actions, default=dict, doc="pause / resume / rollback implementations."),
        "baseline": Field("dict", default=dict,
                          doc="Reserved for baseline options; none is read yet (baselines are set with "
                              "--baseline and the phase keys)."),
        "report": Field(Schema({
            "tolerance": Field("number", default=DEFAULT_TOLERANCE, minimum=0,
                               doc="A health metric's shift from its baseline level within this fraction "
                                   "(0.1 = 10%) is 'same' even when it is significant."),
            "window": Field("duration", default=DEFAULT_WINDOW,
                            doc="The worst window of a phase, compared with the baseline's p99 so a short "
                                "burst is caught (default 1m)."),
            "slower_by": Field("number", minimum=0,
                               doc="Queries that got slower: a statement is listed when its mean time grew by more "
                                   "than this fraction between the baseline and post (default 0.1 = 10%) ..."),
            "slower_min_ms": Field("number", minimum=0,
                                   doc="... and by at least this many milliseconds (default 0.1: a 1 µs -> 2 µs change "
                                       "is not slower) ..."),
            "slower_min_calls": Field("int", minimum=1,
                                      doc="... with at least this many calls in the baseline and in post (default 10)."),
            "unused_index_after": Field("duration", minimum=0,
                                        doc="A new index without a single scan after existing this long in post "
                                            "is flagged unused (default 5m)."),
            "metrics": Field("dict", items=Schema({
                "kind": Field("str", choices=METRIC_KINDS, default="health",
                              doc="health (judged against the baseline), progress, state or counter (timelines)."),
                "direction": Field("str", choices=METRIC_DIRECTIONS,
                                   doc="For health metrics: higher_is_worse, lower_is_worse or either (default)."),
                "tolerance": Field("number", minimum=0, doc="This metric's tolerance (default: report.tolerance)."),
                "min_change": Field("number", minimum=0,
                                    doc="For health metrics: the smallest change that matters, in the metric's unit "
                                        "(a shift or worst window within it is 'same'; default: as declared, else 0)."),
                "unit": Field("str", doc="How the report writes its values: % (a ratio as percent), ms, s, ..."),
            }), default=dict, check=lambda v: {k: check_override(x) for k, x in v.items()},
                doc="Kind of metric by name or glob (`error_rate`, `backfill.*`, `shop-api/throughput`); "
                    "overrides what sources and .sql headers declare."),
        }), default=lambda: {"tolerance": DEFAULT_TOLERANCE, "window": DEFAULT_WINDOW, "metrics": {}},
            doc="How reports judge the run: which metrics are health metrics and how much change is tolerated."),
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
    host: Any = field(default=None, repr=False, compare=False)
    """The :class:`migtui.plugins.PluginHost` whose plugin-owned sections validated the file, when
    loading needed one (a caller that needs plugins anyway reuses it)."""

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

        return redact_obj(plain(self.raw))  # values of secret-named keys are masked whole


def load_config(path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None, host: Any = None) -> Config:
    """Read and validate a config file. Raises ConfigError (one line, with file:line: key: problem).

    Top-level sections owned by plugins (``migtui_config_sections``, e.g. the postgres plugin's
    ``migration`` and ``integrity``) are validated with the rest; they come from ``host`` (a
    :class:`migtui.plugins.PluginHost`), else from the installed plugins the file does not disable."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("config file not found", file=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config: {exc}", file=str(p)) from None
    raw = parse_yaml(text, str(p))
    if raw is None or raw == {}:
        raise ConfigError("the config is empty: it needs `sources:` (what to watch, e.g. a postgres source with "
                          "its dsn) and usually `triggers:`; see sample_configs/", file=str(p), line=1)
    if not isinstance(raw, CDict):
        raise ConfigError("the top level must be a mapping of keys", file=str(p), line=1)
    if env is not None:
        _attach_env(raw, env)
    if host is None and set(raw) - set(CONFIG_SCHEMA.fields):  # a key beyond the core ones: ask the plugins
        from migtui.plugins import PluginHost

        only_plugins = Schema({"plugins": CONFIG_SCHEMA.fields["plugins"]}, open=True)
        host = PluginHost(disabled=validate(only_plugins, raw, "", env=env)["plugins"]["disable"])
    sections = host.config_sections() if host is not None else {}
    data = validate(CONFIG_SCHEMA.with_fields(sections), raw, "", env=env)
    return Config(path=p, data=data, raw=raw, host=host)


def _attach_env(node: Any, env: Mapping[str, str]) -> None:
    """Remember the environment a config was loaded with, so plugin options validated later
    interpolate ``${VAR}`` from the same place."""
    if isinstance(node, (CDict, CList)):
        node.env = env  # type: ignore[attr-defined]
        for child in (node.values() if isinstance(node, CDict) else node):
            _attach_env(child, env)
