"""The hooks a migtui plugin can implement.

A plugin is a module or object with functions named after these specs, decorated with
``migtui.hookimpl`` (``from migtui.hookspecs import hookimpl``), and published under the
``migtui`` entry-point group::

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
        error. The factory validates ``ctx.options`` and raises :class:`migtui.errors.ConfigError`
        (use :func:`migtui.config.validate`) for bad options. ``schema``, the
        :class:`migtui.config.Schema` of those options (or a function returning it, so a slow import
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

    :param register: ``register(type, factory, *, verbs=("pause", "resume", "rollback"), doc="", schema=None)``;
        ``factory(ctx: BuildContext, verb: str)`` returns a :class:`migtui.api.Action`: an object with
        ``name``, ``verb``, ``confirm``, ``describe(request) -> str`` and
        ``run(request) -> ActionResult``, idempotent and honouring ``request.dry_run``. ``schema`` as
        for source types; a function gets the verb.

    .. versionadded:: 0.1
    """


@hookspec
def migtui_sql_dirs(register: Any) -> None:
    """Contribute folders of monitoring ``.sql`` files, loaded exactly like the built-in catalog.

    :param register: ``register(path, *, target="postgres")``, a folder holding ``.sql`` files with the
        catalog header. They are version-matched, timed out, stored and shown like the built-in ones.

    .. versionadded:: 0.1
    """


@hookspec
def migtui_panels(config: Any, register: Any) -> None:
    """Describe panels as data (migration type, title, metrics, units, thresholds); the TUI draws them.

    :param config: the loaded :class:`migtui.config.Config`.
    :param register: ``register(panel: migtui.model.PanelSpec)``.

    .. versionadded:: 0.1
    """


@hookspec
def migtui_command_env(config: Any, register: Any) -> None:
    """Environment for the migration command that ``migtui run`` starts, so its sessions can be told
    apart on the server (the bundled PostgreSQL plugin sets ``PGAPPNAME`` to the postgres source's
    ``migration_application_name``).

    :param config: the loaded :class:`migtui.config.Config`.
    :param register: ``register(name: str, value: str)``, one environment variable.

    .. versionadded:: 0.2
    """
