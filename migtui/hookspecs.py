"""The hooks a migtui plugin can implement.

A plugin is a module or object with functions named after these specs, decorated with
``hookimpl`` (``from migtui.api import hookimpl``: ``migtui.api`` is the one module a plugin
imports), and published under the ``migtui`` entry-point group::

    [project.entry-points.migtui]
    myplugin = "myplugin"

Every hook takes keyword arguments; an implementation may accept fewer than the spec lists.
Registration hooks hand the plugin a ``register(...)`` callback: the host validates names, owns the
objects' lifecycles, and isolates failures (a factory that raises is reported with the plugin's name,
the rest keep working). The documentation's hook reference (docs/reference/hooks.md) is generated
from this file at every build of the site.
"""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "migtui"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def migtui_source_types(register: Any) -> None:
    """Register collector types usable in the config's ``sources:`` list.

    :param register: ``register(type, factory, *, doc="", schema=None)``. ``factory(ctx: BuildContext)`` returns
        a :class:`migtui.api.Collector`: an object with ``name``, ``interval``, ``timeout``,
        ``collect(ctx) -> iterable of Sample | TableSnapshot | Event``, ``panels() -> list[PanelSpec]``
        and ``close()``; an optional ``open()`` is called at start, so a wrong address is one clear
        error. The factory validates ``ctx.options`` and raises :class:`migtui.api.ConfigError`
        (use :func:`migtui.api.validate`) for bad options. ``schema``, the
        :class:`migtui.api.Schema` of those options (or a function returning it, so a slow import
        can wait), puts every option with its ``doc`` into the generated config reference.

    .. versionadded:: 0.1
    """


@hookspec
def migtui_alerter_types(register: Any) -> None:
    """Register alerter types usable in the config's ``alerters:`` list.

    :param register: ``register(type, factory, *, doc="", schema=None)``; ``factory(ctx: BuildContext)``
        returns a :class:`migtui.api.Alerter`: an object with ``name`` and
        ``send(alerts) -> DeliveryResult``. ``schema`` as for source types.

    .. versionadded:: 0.1
    """


@hookspec
def migtui_action_types(register: Any) -> None:
    """Register action types usable under ``actions: {pause|resume|rollback: [...]}``.

    :param register: ``register(type, factory, *, verbs=("pause", "resume", "rollback"), doc="", schema=None,
        implicit_for="")``; ``factory(ctx: BuildContext, verb: str)`` returns a :class:`migtui.api.Action`:
        an object with ``name``, ``verb``, ``confirm``, ``describe(request) -> str`` and
        ``run(request) -> ActionResult``, idempotent and honouring ``request.dry_run``. ``schema`` as
        for source types; a function gets the verb. ``implicit_for`` (a source type, added in 0.2): a
        run with a source of that type offers this action for its verbs beyond pause, resume and
        rollback (the postgres plugin's ``pg_cancel`` for ``cancel``) when the config configures none,
        built with ``{type, name, source: <the first such source>}``.

    .. versionadded:: 0.1
    """


@hookspec
def migtui_sql_dirs(register: Any) -> None:
    """Contribute folders of monitoring ``.sql`` files, loaded exactly like the built-in catalog.

    :param register: ``register(path, *, target="postgres")``, a folder holding ``.sql`` files with the
        catalog header. They are version-matched, timed out, stored and shown like the built-in ones:
        each header declares its panel (``-- panel:``, ``-- show:``, ``-- render:``; no Python needed).

    .. versionadded:: 0.1
    """


@hookspec
def migtui_panels(config: Any, register: Any) -> None:
    """Describe panels as data (migration type, title, metrics, units, thresholds); the TUI draws them.

    :param config: the loaded :class:`migtui.api.Config`.
    :param register: ``register(panel: migtui.api.PanelSpec)``.

    .. versionadded:: 0.1
    """


@hookspec
def migtui_command_env(config: Any, register: Any) -> None:
    """Environment for the migration command that ``migtui run`` starts, so its sessions can be told
    apart on the server (the bundled PostgreSQL plugin sets ``PGAPPNAME`` to the postgres source's
    ``migration_application_name``).

    :param config: the loaded :class:`migtui.api.Config`.
    :param register: ``register(name: str, value: str)``, one environment variable.

    .. versionadded:: 0.2
    """


@hookspec
def migtui_config_sections(register: Any) -> None:
    """Own a top-level section of the config file (the postgres plugin owns ``migration`` and
    ``integrity``). The section is validated when the config loads, so a bad value fails with file,
    line and key like any core key; while the plugin is disabled or missing the key is unknown.

    :param register: ``register(key, field)``. ``key`` is a lower-case name (``[a-z][a-z0-9_]*``) that
        neither the core schema nor another plugin uses; ``field`` is a :class:`migtui.api.Field` whose
        type is a :class:`migtui.api.Schema` or a converter ``convert(value, parent, key, path)`` that
        raises :class:`migtui.api.ConfigError` (use :func:`migtui.api.error_at`).

    .. versionadded:: 0.2
    """


@hookspec
def migtui_preflight_checks(register: Any) -> None:
    """Add items to the preflight checklist (``migtui check``).

    :param register: ``register(name, check, *, doc="")``. ``check(config)`` returns an iterable of
        :class:`migtui.api.CheckItem` (``pass``, ``warn``, ``fail`` or ``skip``, each with its evidence).
        Plugin checks run before the host's own items (baseline, alerters, actions); one that raises
        becomes a single ``fail`` item naming the plugin, and the rest of the checklist still runs.

    .. versionadded:: 0.2
    """


@hookspec
def migtui_prepare_steps(register: Any) -> None:
    """Point-in-time recovery preparation for a source type (``migtui prepare``).

    :param register: ``register(source_type, prepare, *, doc="")``. ``prepare(config, *, source,
        restore_point, make_restore_point, slot, slot_plugin)`` (``source`` is the config's source name
        or None for the first source of that type) returns a list of :class:`migtui.api.PrepareStep`
        (``ok``, ``warn``, ``failed`` or ``info``); the host prints them and records them in the store.
        It raises :class:`migtui.api.MigtuiError` for a request it cannot carry out.

    .. versionadded:: 0.2
    """


@hookspec
def migtui_role_sql(register: Any) -> None:
    """The SQL (or other text) that creates least-privilege roles for a source type (``migtui role-sql``).

    :param register: ``register(source_type, role_sql, *, doc="")``. ``role_sql(monitor_role,
        action_role, *, server_version, connection_limit)`` returns the text to print; ``action_role``
        and ``server_version`` may be None.

    .. versionadded:: 0.2
    """


@hookspec
def migtui_sql_linters(register: Any) -> None:
    """Analyse migration SQL before it runs (``migtui lint``): the locks each statement takes, whether
    it rewrites or scans the table, findings with the safe way to write it, and live evidence.

    :param register: ``register(source_type, lint, *, doc="")``. ``lint(files, *, server_version,
        dsn, config, sample)`` gets ``files`` as ``[(name, text)]`` (``server_version`` an int or None,
        ``dsn`` a connection string or ``""``, ``config`` the loaded :class:`migtui.api.Config` or None,
        ``sample`` seconds of traffic to sample) and returns ``{"statements": [...], "errors": [...],
        "warnings": [...], "server_version": N}``: each statement ``{file, line, sql, locks: [{relation,
        mode}], rewrites, scans, findings: [{rule, severity, message, fix}], live}``, each error
        ``{file, line, message, rule}`` (a file that does not parse; the others are still linted).
        The shapes are documented on the docs' lint page. Given ``config`` and no ``files``, the linter
        lints the config's pending migration (``migration.files``, ``migration.command``, a tool detected
        on the server); ``projects`` (keyword, only passed when given: ``migtui lint --rails DIR``) is a
        list of :class:`migtui.api.ToolProject` whose pending migrations are linted too.

    .. versionadded:: 0.2
    """


@hookspec
def migtui_run_components(register: Any) -> None:
    """Contribute a part of every run that is more than one source: it follows the whole run, may
    add sources, move the phase forward and record events (the postgres plugin's migration-tool
    awareness and integrity checks are built this way).

    :param register: ``register(name, factory, *, doc="")``. ``name`` names the component (in events,
        ``migtui ctl status`` and errors). When a run starts, the engine calls
        ``factory(run: migtui.api.RunContext)`` once, after it has built the configured sources; the
        factory returns None when the run does not need it (its config section is absent), or a
        :class:`migtui.api.RunComponent`. The engine calls the component's ``on_step(now, samples,
        snapshots)`` on its own thread after every tick and every poll result (be quick: hand slow
        work to a thread), ``on_phase(old, new)`` after each phase change, ``status()`` for
        ``migtui ctl status``, and ``close()`` at exit (it must not block). A factory or a method that
        raises is reported as an ``error`` event naming the plugin; the run goes on without it.

    .. versionadded:: 0.2
    """


@hookspec
def migtui_fleet_discovery(register: Any) -> None:
    """Find the watches of ``migtui fleet watch`` in a system that knows where they run (the
    Kubernetes plugin lists the watch pods that a label selector picks). A targets-file entry
    ``- KIND: {options}`` (or the command's ``--selector`` for ``kubernetes``) uses the finder of that
    kind; the fleet view lists again every ``relist`` seconds on its own thread, so watches that come
    and go in a rollout appear and leave, and a slow or failing list is a line of the view, never a
    frozen one (the targets of the last good list are kept).

    :param register: ``register(kind, factory, *, doc="")``. ``factory(options, path)`` validates
        ``options`` (the entry's mapping, with file and line; raise :class:`migtui.api.ConfigError`
        through :func:`migtui.api.validate` / :func:`migtui.api.error_at`) without network I/O and
        returns a finder: ``describe() -> str`` (what it lists, for the view), ``find()`` (may block up
        to its own request timeout; raises :class:`migtui.api.MigtuiError` with one line) returning
        ``(targets, notes)``: each target ``{"name", "url", "instance"}`` (the database's name, the
        watch's ``/status`` URL, what tells two watches of one database apart, such as a pod name),
        ``notes`` lines about what was left out and why; and ``close()``.

    .. versionadded:: 0.2
    """
