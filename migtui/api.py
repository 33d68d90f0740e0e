"""The public types a plugin works with: collectors, alerters, actions and their contexts.

A plugin registers *types* (``postgres``, ``prometheus``, ``slack``, ``k8s_pause`` ...) through the
hooks in :mod:`migtui.hookspecs`. For every config entry naming that type, the host calls the
type's factory with a :class:`BuildContext`; the factory validates its options (with
:func:`migtui.config.validate`, so errors name file, line and key) and returns an object following
one of the protocols below. The host owns lifecycles, timeouts and failure isolation.

Nothing here imports Textual.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence, runtime_checkable

from migtui import safetext
from migtui.workers import DaemonExecutor  # noqa: F401 - for plugins: worker threads exit never waits on

# Re-exports: everything a plugin needs from migtui comes from this module (a test enforces it).
from migtui.config import Config, Field, PluginItem, Schema, error_at, interpolate, parse_duration, validate
from migtui.config import _type_name as type_name
from migtui.errors import (ActionError, CatalogError, ConfigError, MigtuiError, PluginError, SourceError,
                           StoreError)
from migtui.hookspecs import hookimpl
from migtui.model import (ActionResult, Event, Level, MetricSpec, PanelSpec, Phase, Sample, TableSnapshot,
                          TableSpec, format_labels)
from migtui.redact import redact, redact_obj, register_dsn, register_secret

_LAZY = {
    # name -> module: imported on first use (these modules import this one, or are heavier)
    "common_fields": "migtui.actions",
    "Catalog": "migtui.sqlcatalog", "Query": "migtui.sqlcatalog", "Variant": "migtui.sqlcatalog",
    "load_catalog": "migtui.sqlcatalog", "param_defaults": "migtui.sqlparams", "catalog_panels": "migtui.sqlpanel",
    "check_params": "migtui.sqlparams",
    "CheckItem": "migtui.preflight", "PrepareStep": "migtui.preflight",
    # the pending migration from the tools (tool-generic; the server's history is the plugin's)
    "ToolProject": "migtui.migration_files", "from_command": "migtui.migration_files",
    "from_layout": "migtui.migration_files", "layouts_under": "migtui.migration_files",
    "sql_files": "migtui.migration_files", "sqitch_plan": "migtui.migration_files",
    "alembic_pending": "migtui.pending", "django_pending": "migtui.pending", "name_revisions": "migtui.pending",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'migtui.api' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


@dataclass
class BuildContext:
    """What a factory gets when the host builds a collector, alerter or action from config."""

    config: "Config"
    item: "PluginItem"
    sql_dirs: Sequence[Path] = ()
    sources: Mapping[str, Any] = field(default_factory=dict)
    """Collectors already built, by name (actions may refer to a source, e.g. the database)."""
    plugin_sql_dirs: Sequence[tuple[str, Path]] = ()
    """``(plugin name, folder)`` of .sql folders contributed through ``migtui_sql_dirs``."""

    @property
    def name(self) -> str:
        return self.item.name

    @property
    def options(self) -> Any:
        return self.item.options

    @property
    def path(self) -> str:
        return self.item.path


@dataclass
class CollectContext:
    """Passed to :meth:`Collector.collect` every time it is due."""

    now: float
    phase: Phase
    run: str
    tick: int


@runtime_checkable
class Collector(Protocol):
    """Produces samples and table snapshots. ``collect`` runs in a worker thread, never on the UI
    loop; it may block (up to ``timeout`` seconds, after which the host gives up on that call and
    records an error). Calls of one collector never overlap.
    """

    name: str
    interval: float
    timeout: float

    def collect(self, ctx: CollectContext) -> Iterable[Sample | TableSnapshot]: ...

    def panels(self) -> Sequence[PanelSpec]: ...

    def close(self) -> None: ...

    # Optional capabilities: declare the ones the collector has as class attributes (flags) or
    # properties; :func:`capabilities` reads them, with these defaults, in one place.
    #
    # opens: bool = False
    #     it has ``open()``, which connects; ``migtui watch`` calls it at start so a wrong DSN or
    #     password is one clear error instead of a stream of error events.
    # server: str = ""
    #     what it watches, shown in the cockpit's header (``PG16``); may change once connected.
    # session_names: tuple[str, ...] = ()
    #     ``application_name`` patterns of the migration's sessions, highlighted in the cockpit.
    # metric_kinds: Sequence[MetricSpec] = ()
    #     the kind (and direction, unit) of metrics it produces that its panels do not show, so
    #     reports judge them (health) or draw their timelines (progress, state, counter).


@dataclass(frozen=True)
class Capabilities:
    """A collector's optional capabilities (see :class:`Collector`), read by :func:`capabilities`."""

    collector: Any

    @property
    def opens(self) -> bool:
        return bool(getattr(self.collector, "opens", False))

    def server(self) -> str:
        return str(getattr(self.collector, "server", "") or "")

    def session_names(self) -> tuple[str, ...]:
        return tuple(str(n) for n in (getattr(self.collector, "session_names", ()) or ()) if n)

    def metric_kinds(self) -> tuple[MetricSpec, ...]:
        return tuple(s for s in (getattr(self.collector, "metric_kinds", ()) or ()) if isinstance(s, MetricSpec))


def capabilities(collector: Any) -> Capabilities:
    """The one place the host reads a collector's optional capabilities (flags on the protocol)."""
    return Capabilities(collector)


@dataclass
class Alert:
    """A notification about a trigger (or a test). ``status`` is firing or resolved."""

    key: str
    """Stable identity (dedup key): the same trigger gives the same key across ticks and restarts."""
    status: str
    level: Level
    summary: str
    run: str
    phase: Phase
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    starts_at: float = 0.0
    ends_at: float | None = None
    value: float | None = None
    test: bool = False

    def __post_init__(self) -> None:
        """Summary, labels and annotations as safe text (:mod:`migtui.safetext`): an alerter can put
        them in a log line, a chat message or a page without passing control characters on."""
        self.summary = safetext.visible(self.summary, keep_newlines=True)
        self.labels = {safetext.one_line(k): safetext.one_line(v) for k, v in self.labels.items()}
        self.annotations = {safetext.one_line(k): safetext.visible(v, keep_newlines=True)
                            for k, v in self.annotations.items()}


@dataclass
class DeliveryResult:
    ok: bool
    message: str
    attempts: int = 1
    status: int | None = None

    def __post_init__(self) -> None:
        self.message = safetext.visible(self.message, keep_newlines=True)  # e.g. an HTTP error body


@runtime_checkable
class Alerter(Protocol):
    """Delivers alerts. ``send`` runs in a worker thread with the host's timeout."""

    name: str

    def send(self, alerts: Sequence[Alert]) -> DeliveryResult: ...


@dataclass
class ActionRequest:
    """Why and by whom an action runs; the same for a key, a ctl command and a trigger."""

    verb: str
    """pause, resume or rollback (or a plugin-specific verb such as cancel/terminate)."""
    who: str
    why: str
    run: str
    phase: Phase
    dry_run: bool = False
    target: dict[str, Any] = field(default_factory=dict)
    """Optional target chosen by the operator, e.g. ``{"pid": 1234}`` from the blocking tree."""


@runtime_checkable
class Action(Protocol):
    """Pause, resume or roll back something. ``run`` must be idempotent (pausing twice is fine),
    use its own connection (never the monitoring one), and honour ``request.dry_run``.

    Optional attribute ``pause_scope`` says how long a pause by this action lasts, so that exit
    messages tell the truth: ``"session"`` (it ends with migtui's own session, like ``pg_pause``),
    ``"instant"`` (a one-off such as a cancel: nothing stays) or ``"lasting"`` (the default: it stays
    in force after migtui exits until someone resumes it, like a paused Deployment or a flag).
    """

    name: str
    verb: str
    confirm: bool

    def describe(self, request: ActionRequest) -> str: ...

    def run(self, request: ActionRequest) -> ActionResult: ...


Register = Callable[..., None]


class RunContext:
    """What a :func:`~migtui.hookspecs.migtui_run_components` factory gets: the run, seen from a
    plugin. Built by the engine; only the members below are for plugins."""

    def __init__(self, engine: Any, plugin: str) -> None:
        self._engine = engine
        self.plugin = plugin
        """The name of the plugin that registered the component."""

    @property
    def config(self) -> "Config":
        return self._engine.config

    @property
    def run_id(self) -> str:
        return self._engine.run_id

    @property
    def baseline_run(self) -> str | None:
        """The run whose baseline this run compares with (``--baseline RUN_ID``), if any."""
        return self._engine.baseline_run

    @property
    def phase(self) -> Phase:
        return self._engine.phase

    def now(self) -> float:
        """The run's clock (wall time, seconds)."""
        return self._engine.clock()

    def emit(self, event: Event) -> Event:
        """Record an event (any thread): stamped with run and phase, stored and shown."""
        return self._engine.emit(event)

    def set_phase(self, phase: Phase | str, *, who: str, why: str = "") -> None:
        """Switch the run's phase (call from ``on_step``: it runs on the engine thread)."""
        self._engine.set_phase(phase, who=who, why=why)

    def add_source(self, collector: Collector, *, type: str) -> None:
        """Poll ``collector`` like a configured source (its own interval, timeout, failure isolation;
        its panels are shown). Call from the factory only."""
        self._engine.add_source(collector, type=type, plugin=self.plugin)

    def stored_events(self, run_id: str, kinds: Sequence[str]) -> list[Event]:
        """Events of kinds ``kinds`` of an earlier run in this run's store ([] without a store)."""
        store = self._engine.store
        return list(store.events(run_id, list(kinds))) if store is not None else []


class RunComponent:
    """What a :func:`~migtui.hookspecs.migtui_run_components` factory returns. Subclass it and
    override what the component needs; the defaults do nothing."""

    name: str = ""

    def on_step(self, now: float, samples: Sequence[Sample], snapshots: Sequence[TableSnapshot]) -> None:
        """After every tick and every poll result, on the engine thread (be quick)."""

    def on_phase(self, old: Phase, new: Phase) -> None:
        """After each phase change, on the engine thread."""

    def status(self) -> dict[str, Any]:
        """What ``migtui ctl status`` shows about the component (plain JSON values)."""
        return {}

    def close(self) -> None:
        """At exit; must not block."""
