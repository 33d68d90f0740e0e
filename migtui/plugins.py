"""The plugin manager: entry-point loading with error capture, type registries, and isolation.

pluggy dispatches hooks but does not isolate failures; this module does:

- each entry point is loaded on its own; an import error is recorded and shown by
  ``migtui plugins``, never a traceback at start-up;
- ``MIGTUI_DISABLE_PLUGINS=a,b`` and the config's ``plugins.disable`` block plugins *before*
  they are imported;
- every call into a plugin object goes through :class:`Guard`: a timeout, an ``error`` count, and a
  quarantine after repeated failures, so one bad plugin never stops the others or the UI.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib.metadata as md
import os
import re
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import pluggy

from migtui import hookspecs
from migtui.errors import ConfigError, MigtuiError, PluginError, SourceError
from migtui.redact import redact
from migtui.workers import DaemonExecutor

ENTRY_POINT_GROUP = "migtui"
DISABLE_ENV = "MIGTUI_DISABLE_PLUGINS"


@dataclass
class PluginInfo:
    """What ``migtui plugins`` shows for one plugin."""

    name: str
    module: str
    version: str
    dist: str
    status: str  # loaded | disabled | failed
    error: str = ""
    hooks: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "module": self.module, "version": self.version, "dist": self.dist,
                "status": self.status, "error": self.error, "hooks": self.hooks, "types": self.types}


@dataclass
class TypeEntry:
    kind: str  # source | alerter | action
    type: str
    factory: Callable[..., Any]
    plugin: str
    doc: str = ""
    verbs: tuple[str, ...] = ()
    schema: Any = None
    """The Schema of the type's options, or a function returning it (given the verb, for an action
    type); optional, shown in the config reference of the docs."""
    implicit_for: str = ""
    """Action types: a source type; a run with such a source offers this action for its own verbs
    (those beyond pause/resume/rollback, e.g. cancel) when the config configures none."""


@dataclass
class Contribution:
    """A named thing a plugin contributes through a register hook other than the type hooks: a config
    section, a preflight check, a ``prepare``, ``role-sql`` or ``lint`` implementation for a source type."""

    kind: str  # config_section | preflight_check | prepare | role_sql | sql_linter | fleet_discovery
    name: str
    obj: Any
    plugin: str
    doc: str = ""


CONTRIBUTION_HOOKS = {"config_section": "migtui_config_sections", "preflight_check": "migtui_preflight_checks",
                      "prepare": "migtui_prepare_steps", "role_sql": "migtui_role_sql",
                      "sql_linter": "migtui_sql_linters", "fleet_discovery": "migtui_fleet_discovery"}
_CONTRIBUTION_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


class PluginHost:
    """Owns the pluggy manager and the registries of source, alerter and action types."""

    def __init__(self, *, disabled: Iterable[str] = (), load_entry_points: bool = True,
                 extra_plugins: Iterable[tuple[str, Any]] = ()) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        env_disabled = [n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()]
        self.disabled = set(disabled) | set(env_disabled)
        self.infos: dict[str, PluginInfo] = {}
        self.types: dict[tuple[str, str], TypeEntry] = {}
        self.sql_dirs: list[tuple[str, Any, str]] = []  # (plugin, path, target)
        self.contributions: dict[str, dict[str, Contribution]] = {kind: {} for kind in CONTRIBUTION_HOOKS}
        if load_entry_points:
            self._load_entry_points()
        for name, obj in extra_plugins:
            self.register(obj, name)
        self._collect_types()

    # -- loading

    def _load_entry_points(self) -> None:
        seen: set[str] = set()
        for ep in sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if ep.name in seen:
                continue
            seen.add(ep.name)
            dist = getattr(ep, "dist", None)
            dist_name = dist.name if dist is not None else ""
            version = dist.version if dist is not None else ""
            info = PluginInfo(name=ep.name, module=ep.value, version=version, dist=dist_name, status="loaded")
            self.infos[ep.name] = info
            if ep.name in self.disabled:
                info.status = "disabled"
                continue  # never imported
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop start-up
                info.status, info.error = "failed", f"{type(exc).__name__}: {redact(exc)}"
                continue
            try:
                self.pm.register(plugin, name=ep.name)
            except Exception as exc:  # noqa: BLE001
                info.status, info.error = "failed", f"{type(exc).__name__}: {redact(exc)}"

    def register(self, plugin: Any, name: str) -> None:
        """Register an in-process plugin object (tests, the demo)."""
        if name in self.disabled:
            self.infos[name] = PluginInfo(name, getattr(plugin, "__name__", type(plugin).__name__), "", "", "disabled")
            return
        self.pm.register(plugin, name=name)
        self.infos.setdefault(name, PluginInfo(name, getattr(plugin, "__name__", type(plugin).__name__),
                                               getattr(plugin, "__version__", ""), "", "loaded"))

    def _collect_types(self) -> None:
        for info in self.infos.values():
            if info.status == "loaded":
                plugin = self.pm.get_plugin(info.name)
                info.hooks = sorted(impl.name for impl in self._hooks_of(plugin))
        for kind, hook in (("source", "migtui_source_types"), ("alerter", "migtui_alerter_types"),
                           ("action", "migtui_action_types")):
            for impl in getattr(self.pm.hook, hook).get_hookimpls():
                self._call_register_hook(impl, kind)
        for impl in self.pm.hook.migtui_sql_dirs.get_hookimpls():
            plugin_name = impl.plugin_name

            def reg(path: Any, *, target: str = "postgres", _p: str = plugin_name) -> None:
                self.sql_dirs.append((_p, path, target))

            self._guarded_hook(impl, plugin_name, register=reg)
        for kind, hook in CONTRIBUTION_HOOKS.items():
            for impl in getattr(self.pm.hook, hook).get_hookimpls():
                self._guarded_hook(impl, impl.plugin_name, register=self._contribution_register(kind, impl.plugin_name))

    def _contribution_register(self, kind: str, plugin_name: str) -> Callable[..., None]:
        def register(name: str, obj: Any, *, doc: str = "") -> None:
            name = str(name)
            if not _CONTRIBUTION_NAME.match(name):
                raise PluginError(f"{kind} name {name!r} must match [a-z][a-z0-9_]*")
            if kind == "config_section" and name in _core_config_keys():
                raise PluginError(f"config section {name!r} is a core key; a plugin cannot own it")
            have = self.contributions[kind].get(name)
            if have is not None and have.plugin != plugin_name:
                raise PluginError(f"{kind} {name!r} is registered by both {have.plugin!r} and {plugin_name!r}")
            self.contributions[kind][name] = Contribution(kind, name, obj, plugin_name, doc)
            if plugin_name in self.infos:
                self.infos[plugin_name].types.append(f"{kind}:{name}")

        return register

    def contributed(self, kind: str) -> list[Contribution]:
        """What loaded plugins registered through the hook of ``kind`` (see :data:`CONTRIBUTION_HOOKS`)."""
        return list(self.contributions[kind].values())

    def config_sections(self) -> dict[str, Any]:
        """Top-level config keys owned by plugins: ``{key: Field}``."""
        return {c.name: c.obj for c in self.contributed("config_section")}

    def _hooks_of(self, plugin: Any) -> list[Any]:
        out = []
        for hook_caller in self.pm.get_hookcallers(plugin) or []:
            out.append(hook_caller)
        return out

    def _call_register_hook(self, impl: Any, kind: str) -> None:
        plugin_name = impl.plugin_name

        def register(type_name: str, factory: Callable[..., Any], *, doc: str = "",
                     verbs: Iterable[str] = ("pause", "resume", "rollback"), schema: Any = None,
                     implicit_for: str = "") -> None:
            key = (kind, str(type_name))
            if key in self.types and self.types[key].plugin != plugin_name:
                raise PluginError(f"{kind} type {type_name!r} is registered by both "
                                  f"{self.types[key].plugin!r} and {plugin_name!r}")
            self.types[key] = TypeEntry(kind, str(type_name), factory, plugin_name, doc, tuple(verbs), schema,
                                        str(implicit_for or ""))
            if plugin_name in self.infos:
                self.infos[plugin_name].types.append(f"{kind}:{type_name}")

        self._guarded_hook(impl, plugin_name, register=register)

    def _guarded_hook(self, impl: Any, plugin_name: str, **kwargs: Any) -> None:
        try:
            wanted = {k: v for k, v in kwargs.items() if k in impl.argnames}
            impl.function(**wanted)
        except Exception as exc:  # noqa: BLE001
            info = self.infos.get(plugin_name)
            if info is not None:
                info.status, info.error = "failed", f"{type(exc).__name__}: {redact(exc)}"

    # -- building

    def build(self, kind: str, item: Any, ctx: Any, **extra: Any) -> Any:
        """Build the object for a config entry, with errors that name the entry."""
        entry = self.types.get((kind, item.type))
        if entry is None:
            known = sorted(t for (k, t) in self.types if k == kind)
            import difflib

            close = difflib.get_close_matches(item.type, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown {kind} type {item.type!r}{hint}; installed: {', '.join(known) or 'none'}",
                              file=item.options.file, line=item.options.line_of("type"), path=f"{item.path}.type")
        try:
            obj = entry.factory(ctx, **extra)
        except MigtuiError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise PluginError(f"plugin {entry.plugin!r} failed to build {kind} {item.name!r}: "
                              f"{type(exc).__name__}: {redact(exc)}") from exc
        return obj

    def plugin_of(self, kind: str, type_name: str) -> str:
        entry = self.types.get((kind, type_name))
        return entry.plugin if entry else "?"

    def panels(self, config: Any) -> list[Any]:
        out: list[Any] = []
        for impl in self.pm.hook.migtui_panels.get_hookimpls():
            self._guarded_hook(impl, impl.plugin_name, config=config, register=out.append)
        return out

    def command_env(self, config: Any) -> dict[str, str]:
        """Environment variables plugins set for a migration command (``migtui_command_env``)."""
        out: dict[str, str] = {}

        def register(name: str, value: str) -> None:
            out[str(name)] = str(value)

        for impl in self.pm.hook.migtui_command_env.get_hookimpls():
            self._guarded_hook(impl, impl.plugin_name, config=config, register=register)
        return out

    def run_components(self) -> list[tuple[str, str, Callable[..., Any]]]:
        """``(plugin, name, factory)`` of every component registered through
        :func:`migtui.hookspecs.migtui_run_components`, in plugin order."""
        out: list[tuple[str, str, Callable[..., Any]]] = []
        for impl in self.pm.hook.migtui_run_components.get_hookimpls():
            def register(name: str, factory: Callable[..., Any], *, doc: str = "", _p: str = impl.plugin_name) -> None:
                out.append((_p, str(name), factory))

            self._guarded_hook(impl, impl.plugin_name, register=register)
        return out

    def list(self) -> list[PluginInfo]:
        return sorted(self.infos.values(), key=lambda i: i.name)


def _core_config_keys() -> set[str]:
    from migtui.config import CONFIG_SCHEMA

    return set(CONFIG_SCHEMA.fields)


# --------------------------------------------------------------------------- isolation


class GuardError(Exception):
    """A guarded call failed: raised, timed out, was skipped, or returned garbage."""

    def __init__(self, name: str, reason: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.name, self.reason = name, reason
        self.detail = detail or message


class Guard:
    """Runs one plugin object's calls in its own thread with a timeout, counts failures, and
    quarantines the object after ``max_failures`` consecutive failures for ``quarantine_for``
    seconds. Calls never overlap: while a timed-out call is still running the next is skipped.
    A :class:`~migtui.errors.SourceError` (the monitored system is down or refuses us) is reported
    but not counted: it says nothing about the plugin, and the next poll tries again.
    """

    def __init__(self, name: str, *, max_failures: int = 5, quarantine_for: float = 60.0) -> None:
        self.name = name
        self.max_failures = max_failures
        self.quarantine_for = quarantine_for
        self.failures = 0
        self.total_failures = 0
        self.calls = 0
        self.quarantined_until = 0.0
        self.last_error = ""
        self._pending: cf.Future[Any] | None = None
        self._lock = threading.Lock()
        self._executor = DaemonExecutor(max_workers=1, thread_name_prefix=f"migtui-{name}")

    @property
    def quarantined(self) -> bool:
        return time.monotonic() < self.quarantined_until

    @property
    def busy(self) -> bool:
        return self._pending is not None and not self._pending.done()

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float, **kwargs: Any) -> Any:
        with self._lock:
            if self.quarantined:
                raise GuardError(self.name, "quarantined",
                                 f"{self.name} is quarantined after {self.failures} failures: {self.last_error}")
            if self.busy:
                return self._fail("busy", f"{self.name}: previous call still running (over {timeout:g}s)")
            self.calls += 1
            self._pending = self._executor.submit(fn, *args, **kwargs)
            future = self._pending
        try:
            result = future.result(timeout=timeout)
        except cf.TimeoutError:
            return self._fail("timeout", f"{self.name}: timed out after {timeout:g}s")
        except SourceError as exc:
            # the monitored system is down or refuses us: the plugin works and is asked again next
            # poll (a quarantine would leave the panel blind for a minute after the server is back)
            detail = redact(exc)
            self.last_error = f"{self.name}: {detail}"
            raise GuardError(self.name, "unavailable", self.last_error, detail) from None
        except Exception as exc:  # noqa: BLE001
            detail = redact(exc) if isinstance(exc, MigtuiError) else f"{type(exc).__name__}: {redact(exc)}"
            return self._fail("error", f"{self.name}: {detail}", tb=traceback.format_exc(), detail=detail)
        self._prior_failures, self.failures = self.failures, 0
        return result

    def _fail(self, reason: str, message: str, tb: str = "", detail: str = "") -> Any:
        self.failures += 1
        self.total_failures += 1
        self.last_error = message
        if self.failures >= self.max_failures:
            self.quarantined_until = time.monotonic() + self.quarantine_for
            reason = f"{reason}; quarantined for {self.quarantine_for:g}s"
        raise GuardError(self.name, reason, message, detail)

    def record_garbage(self, message: str) -> None:
        """Count a call whose result was unusable as a failure (raises GuardError)."""
        with self._lock:
            # the call returned, which ended the failure streak; unusable output continues it
            self.failures = max(self.failures, getattr(self, "_prior_failures", 0))
            self._fail("garbage", f"{self.name}: {message}")

    def release(self) -> None:
        """Lift a quarantine (operator command)."""
        self.quarantined_until = 0.0
        self.failures = 0

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
