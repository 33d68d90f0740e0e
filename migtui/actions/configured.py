"""Configured actions: the options every action type accepts, one built action with its bookkeeping
(:class:`Configured`), and building them from the config's ``actions:`` section through the plugin host."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

from migtui.api import BuildContext
from migtui.config import CDict, Field, PluginItem
from migtui.plugins import Guard

if TYPE_CHECKING:  # pragma: no cover
    from migtui.engine import Engine

VERBS = ("pause", "resume", "rollback", "cancel", "terminate")
CONFIGURABLE_VERBS = ("pause", "resume", "rollback")
DEFAULT_TIMEOUT = 60.0
PAUSE_SCOPES = ("session", "instant", "lasting")
PAUSE_CHECK_EVERY = 5.0
"""Seconds between checks that a pause still holds (see :meth:`ActionRunner.on_tick`)."""


def common_fields(verb: str, *, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Field]:
    """Options every action type accepts; plugin schemas include them (``Schema({**common_fields(verb), ...})``)."""
    return {
        "type": Field("str", required=True),
        "name": Field("str", doc="Action name (default: the type)."),
        "confirm": Field("bool", default=default_confirm(verb),
                         doc="Ask the operator before running (default: true for rollback, false otherwise)."),
        "dry_run": Field("bool", default=False, doc="Only describe and record; never act."),
        "timeout": Field("duration", default=timeout, minimum=0.1,
                         doc="How long the action may take before it is recorded as failed."),
    }


def default_confirm(verb: str) -> bool:
    return verb == "rollback"


@dataclass


class Configured:
    """One built action and its bookkeeping."""

    verb: str
    name: str
    type: str
    plugin: str
    action: Any
    guard: Guard
    confirm: bool
    dry_run: bool
    timeout: float
    implicit: bool = False
    succeeded_at: float | None = None
    in_force: str = ""
    """A pause of this action that is in force: what it did (its description when it succeeded)."""

    @property
    def pause_scope(self) -> str:
        """How long a pause by this action lasts: ``session`` (ends with migtui's own session, like
        ``pg_pause``), ``instant`` (a one-off, e.g. a cancel: nothing stays) or ``lasting`` (stays in
        force until resumed, like a paused Deployment; the default for actions that do not say)."""
        scope = getattr(self.action, "pause_scope", "lasting")
        return scope if scope in PAUSE_SCOPES else "lasting"

    def label(self) -> str:
        return self.name if self.name == self.type else f"{self.name} ({self.type})"


def _ctx(engine: Engine, item: PluginItem) -> BuildContext:
    cfg = engine.config
    return BuildContext(config=cfg, item=item, sql_dirs=[cfg.resolve_path(p) for p in cfg["sql_dirs"]],
                        sources=engine.collectors)


def make_action(engine: Engine, verb: str, item: PluginItem, *, implicit: bool = False) -> Configured:
    """Build one configured action of ``verb`` through the plugin host, checked against its type's verbs."""
    host = engine.host
    action = host.build("action", item, _ctx(engine, item), verb=verb)
    entry = host.types.get(("action", item.type))
    if entry is not None and entry.verbs and verb not in entry.verbs:
        from migtui.config import error_at

        raise error_at(item.options, "type", f"{item.path}.type",
                       f"action type {item.type!r} cannot {verb}; it supports: {', '.join(entry.verbs)}")
    for attr in ("describe", "run"):
        if not callable(getattr(action, attr, None)):
            from migtui.errors import PluginError

            raise PluginError(f"plugin {host.plugin_of('action', item.type)!r} built action {item.name!r} "
                              f"without a {attr}() method")
    opts = item.options
    confirm = getattr(action, "confirm", None)
    if confirm is None:
        confirm = bool(opts.get("confirm", default_confirm(verb)))
    timeout = float(getattr(action, "timeout", None) or DEFAULT_TIMEOUT)
    return Configured(verb=verb, name=item.name, type=item.type, plugin=host.plugin_of("action", item.type),
                      action=action, guard=Guard(f"{verb}:{item.name}", max_failures=1_000_000),
                      confirm=bool(confirm), dry_run=bool(getattr(action, "dry_run", False)),
                      timeout=timeout, implicit=implicit)


def build_actions(engine: Engine) -> dict[str, list[Configured]]:
    """The config's ``actions:`` as built actions by verb, plus ``resume`` derived from the pauses that
    undo themselves and the implicit ``cancel``/``terminate`` of a source type."""
    actions: dict[str, list[Configured]] = {}
    configured: Mapping[str, list[PluginItem]] = engine.config["actions"] or {}
    for verb, items in configured.items():
        actions[verb] = [make_action(engine, verb, item) for item in items]
    if not actions.get("resume"):
        derived = []
        for item in reversed(configured.get("pause", [])):
            entry = engine.host.types.get(("action", item.type))
            if entry is not None and "resume" in entry.verbs:
                c = make_action(engine, "resume", item)
                if getattr(c.action, "undoes_pause", False):
                    derived.append(c)
                else:
                    close = getattr(c.action, "close", None)
                    if close is not None:
                        close()
        if derived:
            actions["resume"] = derived
    for entry in sorted(engine.host.types.values(), key=lambda e: (e.kind, e.type)):
        sources = engine.config.sources_of_type(entry.implicit_for) if entry.implicit_for else []
        if entry.kind != "action" or not sources:
            continue
        for verb in (v for v in entry.verbs if v not in CONFIGURABLE_VERBS and not actions.get(v)):
            opts = CDict({"type": entry.type, "name": entry.type, "source": sources[0].name})
            opts.file, opts.line, opts.key_lines = str(engine.config.path), None, {}
            item = PluginItem(type=entry.type, name=entry.type, options=opts, path=f"actions.{verb}[implicit]")
            actions[verb] = [make_action(engine, verb, item, implicit=True)]
    return actions
