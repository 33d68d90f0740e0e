"""Point-in-time recovery preparation (``migtui prepare``), done safely.

Steps, each a :class:`Step` (ok / warn / failed / info), run on a separate action connection (never
the monitoring one):

1. server facts: version, ``wal_level``, ``archive_mode`` and the archiver's health, and the backup
   function names for this version (``pg_backup_start``/``pg_backup_stop`` from 15,
   ``pg_start_backup``/``pg_stop_backup`` before). prepare does not take a base backup itself: a
   non-exclusive backup must keep its connection open until it is stopped, which a command that
   exits cannot do; the step says which tool/functions to use;
2. a named restore point, ``pg_create_restore_point``; the name is made unique with a UTC
   timestamp (recovery stops at the first restore point of a name);
3. optionally a logical replication slot (``temporary false``, pgoutput or test_decoding), with the
   reminder that it retains WAL until dropped and the exact command to drop it.

The host (``migtui prepare``, through ``migtui_prepare_steps``) prints the steps and records them as
``action`` events of a run named ``<config name> prepare`` (:func:`migtui.preflight.record_prepare`).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from migtui.api import Config, MigtuiError, redact
from migtui.api import PrepareStep as Step

SLOT_NAME = re.compile(r"^[a-z0-9_]{1,63}$")
SLOT_PLUGINS = ("pgoutput", "test_decoding")


class PrepareError(MigtuiError):
    """prepare was asked for something it cannot do (bad slot name ...)."""

    exit_code = 2


def backup_functions(server_version: int) -> tuple[str, str]:
    """The non-exclusive backup start/stop calls for a server version (e.g. 150004 or 15)."""
    major = server_version // 10000 if server_version >= 1000 else server_version
    if major >= 15:
        return "pg_backup_start(label, fast => true)", "pg_backup_stop(wait_for_archive => true)"
    return "pg_start_backup(label, fast => true, exclusive => false)", "pg_stop_backup(exclusive => false)"


def restore_point_name(prefix: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{prefix}-{stamp}"


def drop_slot_command(slot: str) -> str:
    return f"SELECT pg_drop_replication_slot('{slot}');"


def prepare(config: Config, *, source: str | None = None, restore_point: str | None = None,
            make_restore_point: bool = True, slot: str | None = None, slot_plugin: str = "pgoutput",
            now: datetime | None = None) -> list[Step]:
    """Run the steps (see the module docstring) and return them; never raises for a failed step."""
    import psycopg

    from migtui_postgres.pgconn import connect_action, describe_target, first_line, source_dsn

    if slot is not None and not SLOT_NAME.match(slot):
        raise PrepareError(f"slot name {slot!r}: use 1-63 lower-case letters, digits and _")
    if slot_plugin not in SLOT_PLUGINS:
        raise PrepareError(f"slot plugin {slot_plugin!r}: use one of {', '.join(SLOT_PLUGINS)}")
    name, dsn = source_dsn(config, source)
    target = describe_target(dsn)
    steps: list[Step] = []
    try:
        conn = connect_action(dsn)
    except MigtuiError as exc:
        return [Step("connect", "failed", str(exc))]
    try:
        version = conn.info.server_version
        with conn.cursor() as cur:
            cur.execute("SELECT /* migtui */ current_setting('server_version'), current_setting('wal_level'), "
                        "current_setting('archive_mode'), current_user, pg_is_in_recovery()")
            ver, wal_level, archive_mode, user, standby = cur.fetchone()
            cur.execute("SELECT /* migtui */ archived_count, failed_count, "
                        "coalesce(last_failed_time > coalesce(last_archived_time, '-infinity'), false) "
                        "FROM pg_stat_archiver")
            archived, failed, failing = cur.fetchone()
        start, stop = backup_functions(version)
        facts = {"source": name, "target": target, "server_version": version, "wal_level": wal_level,
                 "archive_mode": archive_mode, "user": user, "backup_start": start, "backup_stop": stop}
        steps.append(Step("server", "info", f"PostgreSQL {ver} at {target} as {user}; wal_level {wal_level}; "
                          f"base backups on this version: {start} ... {stop} on one connection kept open until "
                          "the stop (or pg_basebackup -X stream); prepare does not take one", facts))
        if standby:
            steps.append(Step("archiving", "failed", "this server is a standby: create the restore point and slot "
                              "on the primary", facts))
            return steps
        if archive_mode == "off":
            steps.append(Step("archiving", "warn", "archive_mode is off: a restore point is only usable with a "
                              "base backup plus archived WAL; take a dump or snapshot instead", facts))
        elif failing:
            steps.append(Step("archiving", "warn", f"WAL archiving is failing ({failed} failures): recovery to the "
                              "restore point needs the archived WAL; fix archive_command first", facts))
        else:
            steps.append(Step("archiving", "ok", f"archive_mode {archive_mode}, {archived} segments archived, "
                              f"{failed} failures", facts))
        if make_restore_point:
            rp = restore_point_name(restore_point or f"migtui-{config.name}", now)
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT /* migtui */ pg_create_restore_point(%s)::text, "
                                "pg_walfile_name(pg_current_wal_lsn())", [rp])
                    lsn, walfile = cur.fetchone()
                steps.append(Step("restore_point", "ok", f"restore point {rp!r} at LSN {lsn} (WAL file {walfile}); "
                                  f"to recover to it: recovery_target_name = '{rp}' and "
                                  "recovery_target_action = 'pause'", {"name": rp, "lsn": lsn, "walfile": walfile}))
            except psycopg.errors.InsufficientPrivilege as exc:
                steps.append(Step("restore_point", "failed", f"{redact(first_line(exc))}: a superuser must run "
                                  f"GRANT EXECUTE ON FUNCTION pg_create_restore_point(text) TO {user}",
                                  {"name": rp}))
            except psycopg.Error as exc:
                steps.append(Step("restore_point", "failed", redact(first_line(exc)), {"name": rp}))
        if slot:
            steps.append(_slot(conn, slot, slot_plugin, wal_level, user, dsn))
    finally:
        conn.close()
    return steps


def _slot(conn: Any, slot: str, plugin: str, wal_level: str, user: str, dsn: str) -> Step:
    import psycopg

    from migtui_postgres.pgconn import first_line

    drop = drop_slot_command(slot)
    data = {"slot": slot, "plugin": plugin, "drop": drop}
    if wal_level != "logical":
        return Step("slot", "failed", f"wal_level is {wal_level}; a logical slot needs wal_level = logical "
                    "(ALTER SYSTEM SET wal_level = logical; then restart the server)", data)
    with conn.cursor() as cur:
        cur.execute("SELECT /* migtui */ slot_type, active FROM pg_replication_slots WHERE slot_name = %s", [slot])
        if cur.fetchone() is not None:
            return Step("slot", "failed", f"a slot named {slot!r} already exists; pick another name, or drop it: "
                        f"{drop}", data)
        try:
            cur.execute("SELECT /* migtui */ slot_name::text, lsn::text FROM "
                        "pg_create_logical_replication_slot(%s, %s, false)", [slot, plugin])
            _, lsn = cur.fetchone()
        except psycopg.errors.InsufficientPrivilege as exc:
            return Step("slot", "failed", f"{redact(first_line(exc))}: creating slots needs the REPLICATION "
                        f"attribute: ALTER ROLE {user} REPLICATION", data)
        except psycopg.Error as exc:
            return Step("slot", "failed", redact(first_line(exc)), data)
    data["lsn"] = lsn
    return Step("slot", "ok", f"logical slot {slot!r} ({plugin}) created at LSN {lsn}. REMINDER: it retains WAL and "
                "catalog rows until dropped (a forgotten slot can fill pg_wal); `migtui watch` shows its retained WAL. "
                f"Drop it after the migration: {drop}", data)
