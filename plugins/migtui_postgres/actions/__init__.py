"""PostgreSQL actions: cooperative pause, cancel / terminate of the migration's backend, rollback SQL.

Every action opens its own connection (application_name ``migtui-action``, or ``migtui-pause`` for
the connection holding the pause lock), never the monitoring one. The DSN is the action's ``dsn``
option or the ``dsn`` of a postgres source (``source: NAME``; default the first postgres source).
Identifiers and values from the config reach SQL only as bound parameters or through
:mod:`psycopg.sql` quoting.

Types:

``pg_pause`` (verbs pause, resume)
    pause: the dedicated connection takes ``pg_advisory_lock(key)`` and keeps it; resume releases
    it and closes the connection. Both are idempotent. Migrations check between batches with
    :func:`migtui_postgres.pause.wait_if_paused` (or the SQL in :data:`migtui_postgres.pause.CHECK_SQL`).
``pg_cancel`` / ``pg_terminate`` (verbs pause, rollback, cancel, terminate)
    the migration's backend by ``pid`` (or the request's target pid), ``application_name`` or a
    ``query`` regular expression; cancel acts on active statements (an idle-in-transaction session
    ignores a cancel: use terminate, or ``terminate_idle_in_transaction: true``); terminate ends the
    session. migtui's own sessions (application_name ``migtui*``) are never touched.
``pg_rollback_sql`` (verb rollback)
    runs a .sql file from the configured folder in one transaction with ``lock_timeout`` and
    ``statement_timeout``; notices and each statement's status are the output.

Modules: :mod:`.connection` (options, DSN, own connection), :mod:`.pg_pause`, :mod:`.pg_signal`
(cancel/terminate), :mod:`.rollback_sql`; this module builds them and registers the types.
"""

from __future__ import annotations

from typing import Any

from migtui.api import ConfigError, Field, Schema, common_fields, error_at, hookimpl, validate
from migtui_postgres.actions.connection import conn_fields, resolve_dsn
from migtui_postgres.actions.pg_pause import PAUSE_SCHEMA_FIELDS, PgPause
from migtui_postgres.actions.pg_signal import PgSignal, TARGET_FIELDS
from migtui_postgres.actions.rollback_sql import PgRollbackSql, ROLLBACK_FIELDS

# --------------------------------------------------------------------------- factories


def _schema(verb: str, *fields: dict[str, Field]) -> Schema:
    merged: dict[str, Field] = {**common_fields(verb)}
    for f in fields:
        merged.update(f)
    return Schema(merged)


def build_pause(ctx: Any, verb: str = "pause") -> PgPause:
    opts = validate(_schema(verb, conn_fields(), PAUSE_SCHEMA_FIELDS), ctx.options, ctx.path)
    return PgPause(ctx.name, verb, opts, resolve_dsn(ctx, opts))


def _default_app(ctx: Any, opts: dict[str, Any]) -> str:
    sources = ctx.config.sources_of_type("postgres")
    name = opts.get("source")
    item = next((s for s in sources if s.name == name), None) if name else (sources[0] if sources else None)
    if item is None:
        return ""
    try:
        from migtui_postgres.collector import SCHEMA as SOURCE_SCHEMA

        return str(validate(SOURCE_SCHEMA, item.options, item.path).get("migration_application_name") or "")
    except ConfigError:
        return ""


def _build_signal(mode: str) -> Any:
    def build(ctx: Any, verb: str = mode) -> PgSignal:
        opts = validate(_schema(verb, conn_fields(), TARGET_FIELDS), ctx.options, ctx.path)
        return PgSignal(ctx.name, verb, mode, opts, resolve_dsn(ctx, opts), default_app=_default_app(ctx, opts))

    return build


def build_rollback_sql(ctx: Any, verb: str = "rollback") -> PgRollbackSql:
    opts = validate(_schema(verb, conn_fields(), ROLLBACK_FIELDS), ctx.options, ctx.path)
    folder = ctx.config.resolve_path(opts["dir"]) if opts.get("dir") else ctx.config.path.parent
    folder = folder.resolve()
    file = (folder / opts["file"]).resolve()
    if not file.is_relative_to(folder):
        raise error_at(ctx.options, "file", f"{ctx.path}.file",
                       f"{opts['file']} is outside the rollback folder {folder}; set 'dir' to allow another folder")
    if file.suffix != ".sql":
        raise error_at(ctx.options, "file", f"{ctx.path}.file", "expected a .sql file")
    if not file.is_file():
        raise error_at(ctx.options, "file", f"{ctx.path}.file", f"file not found: {file}")
    return PgRollbackSql(ctx.name, verb, opts, resolve_dsn(ctx, opts), folder, file)


def _options(*fields: dict[str, Field]) -> Any:
    """The schema of an action type's options for a verb (for the config reference)."""
    return lambda verb: _schema(verb, conn_fields(), *fields)


@hookimpl
def migtui_action_types(register: Any) -> None:
    register("pg_pause", build_pause, verbs=("pause", "resume"), schema=_options(PAUSE_SCHEMA_FIELDS),
             doc="Cooperative pause: hold an advisory lock that batched migrations check between batches.")
    register("pg_cancel", _build_signal("cancel"), verbs=("pause", "rollback", "cancel"),
             schema=_options(TARGET_FIELDS), implicit_for="postgres",
             doc="Cancel the migration's active statement (pid, application_name or query pattern).")
    register("pg_terminate", _build_signal("terminate"), verbs=("pause", "rollback", "terminate"),
             schema=_options(TARGET_FIELDS), implicit_for="postgres",
             doc="Terminate the migration's session (e.g. an idle-in-transaction blocker).")
    register("pg_rollback_sql", build_rollback_sql, verbs=("rollback",), schema=_options(ROLLBACK_FIELDS),
             doc="Run a rollback .sql file in one transaction with lock_timeout.")
