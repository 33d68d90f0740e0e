"""Bundled plugin: the PostgreSQL collector (source type ``postgres``).

It runs the SQL catalog (``sql/postgres`` plus folders from ``sql_dirs`` and other plugins) on a
read-only monitoring connection. PostgreSQL actions (cooperative pause, cancel/terminate, rollback
SQL) live in :mod:`migtui_postgres.actions`.
"""

from __future__ import annotations

from typing import Any

from migtui.hookspecs import hookimpl

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
    from migtui.config import validate
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


from migtui_postgres.actions import migtui_action_types  # noqa: E402,F401 - the actions hook
