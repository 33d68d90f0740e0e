"""Bundled plugin: everything PostgreSQL. The host (``migtui/``) reaches it only through hooks.

- source type ``postgres`` (:mod:`~migtui_postgres.collector`, :mod:`~migtui_postgres.schedule`):
  the SQL catalog on a read-only monitoring connection (:mod:`~migtui_postgres.pgconn` opens every
  connection, with statement and lock timeouts);
- actions ``pg_pause``, ``pg_cancel``, ``pg_terminate`` (offered implicitly for postgres sources),
  ``pg_rollback_sql`` (:mod:`~migtui_postgres.actions`) and the cooperative pause helper that
  migrations call (:mod:`~migtui_postgres.pause`);
- run components ``migration`` (migration-tool awareness, phases, progress:
  :mod:`~migtui_postgres.migration_tools`, :mod:`~migtui_postgres.progress`) and ``integrity``
  (:mod:`~migtui_postgres.integrity`), with their config sections ``migration`` and ``integrity``;
- preflight checks and the role SQL (:mod:`~migtui_postgres.preflight`), point-in-time recovery
  preparation (:mod:`~migtui_postgres.pitr`), and ``PGAPPNAME`` for ``migtui run``;
- ``migtui lint`` for PostgreSQL (:mod:`~migtui_postgres.lint`): locks, rewrites, scans, findings
  and live evidence of migration SQL, parsed with PostgreSQL's own parser (pglast).

It imports only :mod:`migtui.api` from migtui; modules that need psycopg import it when used, so
loading the plugin stays cheap.
"""

from __future__ import annotations

from typing import Any

from migtui.api import Field, hookimpl

__version__ = "0.1.0"


@hookimpl
def migtui_source_types(register: Any) -> None:
    from migtui_postgres import collector

    register("postgres", collector.build, schema=collector.SCHEMA,
             doc="PostgreSQL: locks, blocking tree, progress, replication, WAL, tables (the SQL catalog).")


DEFAULT_MIGRATION_APP = "migration"
"""PGAPPNAME of a command `migtui run` starts when the source names no ``migration_application_name``."""


def migration_application_name(config: Any) -> str:
    """The ``migration_application_name`` of the postgres source the migration watch uses (``migration.source``,
    default the first), or "" when there is none."""
    from migtui.api import validate
    from migtui_postgres.collector import SCHEMA

    wanted = str((config.get("migration") or {}).get("source") or "")
    for item in config.sources_of_type("postgres"):
        if not wanted or item.name == wanted:
            return str(validate(SCHEMA, item.options, item.path).get("migration_application_name") or "")
    return ""


@hookimpl
def migtui_command_env(config: Any, register: Any) -> None:
    """``migtui run``: the migration's sessions carry the source's ``migration_application_name``."""
    if config.sources_of_type("postgres"):
        register("PGAPPNAME", migration_application_name(config) or DEFAULT_MIGRATION_APP)


def _pending_panel(run: Any) -> Any:
    from migtui_postgres.lint.panel import build_component

    return build_component(run)


@hookimpl
def migtui_run_components(register: Any) -> None:
    from migtui_postgres import integrity, migration_component

    register("migration", migration_component.build_component,
             doc="Migration-tool awareness: Alembic, Django, Flyway, Liquibase, ... runs, phases and progress.")
    register("lint", _pending_panel, doc="The cockpit's panel 'Pending migration': `migration.files` linted with "
                                         "live evidence while in `migration.lint_phases`; events `lint` for the report.")
    register("integrity", integrity.build_component, doc="Integrity checks: baseline values compared after the migration.")


from migtui_postgres.actions import migtui_action_types  # noqa: E402,F401 - the actions hook


class _Section:
    """The converter of a config section, in a submodule imported only when the section is present.
    Its ``schema`` (shown by the config reference of the docs) is that converter's own."""

    def __init__(self, module: str) -> None:
        self.module = module

    def _convert(self) -> Any:
        import importlib

        return importlib.import_module(f"migtui_postgres.{self.module}").config_field

    def __call__(self, value: Any, parent: Any, key: Any, path: str) -> Any:
        return self._convert()(value, parent, key, path)

    @property
    def schema(self) -> Any:
        return getattr(self._convert(), "schema", None)


@hookimpl
def migtui_config_sections(register: Any) -> None:
    register("integrity", Field(_Section("integrity"), default=list,
                                doc="Data integrity checks (SQL), compared between baseline and post."))
    register("migration", Field(_Section("migration_config"), default=dict,
                                doc="Migration-tool awareness, automatic phases, backfill progress, preflight."))


@hookimpl
def migtui_preflight_checks(register: Any) -> None:
    def checks(config: Any) -> Any:
        from migtui_postgres.preflight import postgres_checks

        return postgres_checks(config)

    register("postgres", checks, doc="Connectivity, privileges, catalog, WAL, slots, archiving, blockers, "
                                     "connection headroom of every postgres source.")

    def pending(config: Any) -> Any:
        from migtui_postgres.lint.check import pending_migration

        return pending_migration(config)

    register("pending_migration", pending, doc="`migration.files` linted against the first postgres source: "
                                               "locks, rewrites, findings and the sessions they would queue behind.")


@hookimpl
def migtui_prepare_steps(register: Any) -> None:
    def prepare(config: Any, **kw: Any) -> Any:
        from migtui_postgres.pitr import prepare as run

        return run(config, **kw)

    register("postgres", prepare, doc="A named restore point and, optionally, a logical replication slot.")


@hookimpl
def migtui_role_sql(register: Any) -> None:
    def role_sql(monitor_role: str, action_role: str | None, **kw: Any) -> str:
        from migtui_postgres.preflight import grants_sql

        return grants_sql(monitor_role, action_role, **kw)

    register("postgres", role_sql, doc="A pg_monitor role (read-only, timeouts) and an optional action role.")


@hookimpl
def migtui_sql_linters(register: Any) -> None:
    def lint(files: Any, *, server_version: Any = None, dsn: str = "", config: Any = None,
             sample: float = 5.0, projects: Any = None) -> Any:
        from migtui_postgres.lint import lint as run
        from migtui_postgres.pgconn import source_dsn

        if config is not None and not dsn:
            dsn = source_dsn(config)[1]
        if not projects and (files or config is None):
            return run(files, server_version=server_version, dsn=dsn, sample=sample)
        from migtui_postgres.lint.resolve import analyse, as_lint_result

        return as_lint_result(analyse(config, dsn=dsn, sample=sample, server_version=server_version,
                                      projects=list(projects or ()) if projects else None,
                                      files=list(files) if projects else None), config)

    register("postgres", lint, doc="Locks (pg_locks names), rewrites, scans and findings of migration SQL "
                                   "(pglast); with a connection, the column types and live blockers.")
