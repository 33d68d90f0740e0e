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


from migtui_postgres.actions import migtui_action_types  # noqa: E402,F401 - the actions hook
