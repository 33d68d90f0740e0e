"""PostgreSQL items of the preflight checklist (``migtui check``) and the role SQL (``migtui role-sql``).

Per postgres source: connectivity and privileges (pg_monitor, pg_signal_backend), server version and
which catalog entries run on it, WAL space (pg_ls_waldir, needs pg_monitor; a warn without it),
replication slots and the WAL they retain, archiving (pg_stat_archiver), idle-in-transaction and
long transactions that would block the migration's DDL, max_connections headroom. The host
(:mod:`migtui.preflight`) adds the baseline, alerter and action items.

Every query runs on a read-only monitoring connection with statement and lock timeouts.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any, Callable

from migtui.api import CheckItem, Config, Field, MigtuiError, Schema, load_catalog, redact, validate

GiB = 1024 ** 3

PREFLIGHT_SCHEMA = Schema({
    "idle_in_transaction": Field("duration", default=5.0,
                                 doc="An idle-in-transaction session older than this fails the check."),
    "long_transaction": Field("duration", default=300.0, doc="An open transaction older than this is a warn."),
    "connections_warn": Field("float", default=0.8, doc="Share of usable connections in use that warns."),
    "connections_fail": Field("float", default=0.95, doc="... and fails."),
    "baseline_max_age": Field("duration", default=86400.0, doc="A baseline older than this is stale (warn)."),
    "wal_free_min_gb": Field("float", default=1.0,
                             doc="Free space under pg_wal below this many GiB fails (only when migtui runs on the "
                                 "database host and may read data_directory)."),
    "slot_retained_warn_gb": Field("float", default=1.0, doc="A slot retaining more WAL than this warns."),
    "test_alerts": Field("bool", default=True, doc="Test-fire every alerter."),
    "dry_run_actions": Field("bool", default=True, doc="Dry-run every action."),
}, doc="Preflight thresholds (`migration.preflight`).")


def preflight_options(config: Config) -> dict[str, Any]:
    mig = config.raw.get("migration")
    node = mig.get("preflight") if isinstance(mig, dict) else None
    return validate(PREFLIGHT_SCHEMA, node or {}, "migration.preflight")


def _size(n: float | None) -> str:
    if n is None:
        return "?"
    for unit, div in (("GiB", GiB), ("MiB", 1024 ** 2), ("kiB", 1024)):
        if abs(n) >= div:
            return f"{n / div:.1f} {unit}"
    return f"{int(n)} B"


def _dur(s: float | None) -> str:
    if s is None:
        return "?"
    s = int(s)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


# --------------------------------------------------------------------------- PostgreSQL checks


class _PgChecks:
    def __init__(self, name: str, dsn: str, opts: dict[str, Any], config: Config) -> None:
        self.name, self.dsn, self.opts, self.config = name, dsn, opts, config
        self.group = f"postgres:{name}"
        self.conn: Any = None
        self.version = 0
        self.roles: dict[str, bool] = {}

    def item(self, name: str, status: str, evidence: str, **data: Any) -> CheckItem:
        return CheckItem(self.group, name, status, redact(evidence), data)

    def q(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def run(self) -> list[CheckItem]:
        from migtui_postgres.pgconn import connect_monitor, describe_target

        started = time.monotonic()
        try:
            self.conn = connect_monitor(self.dsn, statement_timeout=3.0, lock_timeout=0.2)
        except MigtuiError as exc:
            return [self.item("Connectivity", "fail", str(exc))]
        try:
            self.version = self.conn.info.server_version
            user, db, ver = self.q("SELECT /* migtui */ current_user, current_database(), "
                                   "current_setting('server_version')")[0]
            ms = (time.monotonic() - started) * 1000
            out = [self.item("Connectivity", "pass", f"connected to {describe_target(self.dsn)} as {user} "
                             f"(PostgreSQL {ver}) in {ms:.0f} ms", user=user, database=db, version=ver)]
            checks: list[Callable[[], CheckItem]] = [self.privileges, self.catalog, self.wal_space, self.slots,
                                                     self.archiving, self.blockers, self.connections]
            for fn in checks:
                try:
                    out.append(fn())
                except Exception as exc:  # noqa: BLE001 - one check's failure is that check's result
                    from migtui_postgres.pgconn import first_line

                    out.append(self.item(fn.__name__.replace("_", " ").capitalize(), "warn",
                                         f"could not check: {redact(first_line(exc))}"))
            return out
        finally:
            self.conn.close()

    def privileges(self) -> CheckItem:
        row = self.q("""SELECT /* migtui */ r.rolsuper, r.rolreplication,
                        pg_has_role(current_user, 'pg_monitor', 'USAGE'),
                        pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'),
                        pg_has_role(current_user, 'pg_signal_backend', 'USAGE')
                        FROM pg_roles r WHERE r.rolname = current_user""")[0]
        sup, repl, mon, stats, sig = row
        self.roles = {"superuser": sup, "replication": repl, "pg_monitor": mon or sup,
                      "pg_read_all_stats": stats or sup, "pg_signal_backend": sig or sup}
        has = [n for n in ("pg_monitor", "pg_signal_backend") if self.roles[n]]
        data = dict(self.roles)
        if sup:
            return self.item("Privileges", "pass", "superuser: every query and action works (a pg_monitor role "
                             "is safer for monitoring: `migtui role-sql`)", **data)
        missing = []
        if not mon:
            missing.append("pg_monitor (full pg_stat_activity, pg_ls_waldir, other users' progress rows)")
        if not sig:  # cancel/terminate are always offered in the cockpit
            missing.append("pg_signal_backend (cancel/terminate the migration's or a blocker's backend)")
        if missing:
            return self.item("Privileges", "warn", f"has {', '.join(has) or 'no monitoring role'}; missing: "
                             + "; ".join(missing) + ". `migtui role-sql` prints the GRANTs", **data)
        return self.item("Privileges", "pass", f"has {', '.join(has)}", **data)

    def catalog(self) -> CheckItem:
        catalog = load_catalog()
        major = self.version // 10000
        exts: dict[str, tuple[int, ...]] = {}
        for name, ver in self.q("SELECT /* migtui */ extname, extversion FROM pg_extension"):
            try:
                exts[name] = tuple(int(p) for p in str(ver).split("."))
            except ValueError:
                pass
        runs, skipped, no_priv = [], [], []
        for q in catalog:
            if q.variant_for(self.version, exts) is None:
                skipped.append(f"{q.name} (needs {q.extension or f'PostgreSQL {q.min_version}+'})")
            elif any(p in ("pg_monitor", "pg_read_all_stats") and not self.roles.get(p, False) for p in q.privileges):
                no_priv.append(f"{q.name} ({', '.join(q.privileges)})")
            else:
                runs.append(q.name)
        status = "fail" if major < 13 else "warn" if no_priv else "pass"
        evidence = f"PostgreSQL {major}: {len(runs)} of {len(catalog)} catalog queries run"
        if skipped:
            evidence += f"; not on this server: {', '.join(skipped)}"
        if no_priv:
            evidence += f"; limited without the role: {', '.join(no_priv)}"
        if major < 13:
            evidence = f"PostgreSQL {major} is older than the oldest supported version (13)"
        return self.item("Server version and catalog", status, evidence, server_version=self.version, runs=runs,
                         skipped=skipped, limited=no_priv)

    def wal_space(self) -> CheckItem:
        import psycopg

        settings = dict(self.q("SELECT /* migtui */ name, setting FROM pg_settings WHERE name IN "
                               "('max_wal_size', 'max_slot_wal_keep_size', 'wal_segment_size')"))
        max_wal = float(settings.get("max_wal_size", 1024)) * 1024 * 1024  # MB
        data: dict[str, Any] = {"max_wal_size": max_wal}
        try:
            files, size = self.q("SELECT /* migtui */ count(*), coalesce(sum(size), 0) FROM pg_ls_waldir()")[0]
        except psycopg.errors.InsufficientPrivilege:
            return self.item("WAL space", "warn", "cannot read pg_wal: pg_ls_waldir() needs pg_monitor; WAL space "
                             "is unchecked", **data)
        data.update(wal_files=files, wal_bytes=float(size))
        evidence = f"pg_wal holds {files} files, {_size(float(size))} (max_wal_size {_size(max_wal)})"
        status = "pass"
        if float(size) > 2 * max_wal:
            status, evidence = "warn", evidence + "; WAL is piling up (a slot or a failing archiver?)"
        free = self._local_free_bytes()
        if free is not None:
            data["free_bytes"] = free
            evidence += f"; {_size(free)} free on its disk"
            need = max(float(self.opts["wal_free_min_gb"]) * GiB, 2 * max_wal)
            if free < need:
                status, evidence = "fail", evidence + f" (less than {_size(need)}: a big migration can fill it)"
        else:
            evidence += "; free disk space not visible from here (check the host's pg_wal filesystem)"
        return self.item("WAL space", status, evidence, **data)

    def _local_free_bytes(self) -> float | None:
        try:
            rows = self.q("SELECT /* migtui */ current_setting('data_directory')")
        except Exception:  # noqa: BLE001 - needs pg_read_all_settings
            return None
        path = Path(str(rows[0][0])) / "pg_wal"
        try:
            if path.exists():
                return float(shutil.disk_usage(path).free)
        except OSError:
            return None
        return None

    def slots(self) -> CheckItem:
        rows = self.q("""SELECT /* migtui */ slot_name::text, slot_type, active, temporary, wal_status,
                         pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                                              ELSE pg_current_wal_lsn() END, restart_lsn)::float8
                         FROM pg_replication_slots""")
        if not rows:
            return self.item("Replication slots", "pass", "no replication slots retain WAL", slots=[])
        limit = float(self.opts["slot_retained_warn_gb"]) * GiB
        slots = [{"slot": n, "type": t, "active": a, "temporary": tmp, "wal_status": w, "retained_bytes": r}
                 for n, t, a, tmp, w, r in rows]
        lost = [s for s in slots if s["wal_status"] == "lost"]
        risky = [s for s in slots if s["wal_status"] in ("extended", "unreserved")
                 or (not s["active"] and (s["retained_bytes"] or 0) > limit)]
        text = ", ".join(f"{s['slot']} ({s['type']}, {'active' if s['active'] else 'inactive'}, retains "
                         f"{_size(s['retained_bytes'])}, {s['wal_status']})" for s in slots)
        status = "fail" if lost else "warn" if risky else "pass"
        hint = ""
        if lost:
            hint = "; a lost slot cannot be used again: drop it"
        elif risky:
            hint = "; an inactive slot keeps WAL until dropped: SELECT pg_drop_replication_slot('name')"
        return self.item("Replication slots", status, text + hint, slots=slots)

    def archiving(self) -> CheckItem:
        mode, cmd, lib = self.q("SELECT /* migtui */ current_setting('archive_mode'), "
                                "current_setting('archive_command'), "
                                "coalesce(current_setting('archive_library', true), '')")[0]
        if mode == "off":
            return self.item("WAL archiving", "warn", "archive_mode is off: no point-in-time recovery to a restore "
                             "point; rely on a fresh base backup or dump", archive_mode=mode)
        archived, failed, last_ok, last_fail, ok_ago, fail_ago = self.q(
            "SELECT /* migtui */ archived_count, failed_count, last_archived_wal, last_failed_wal, "
            "extract(epoch FROM now() - last_archived_time)::float8, extract(epoch FROM now() - last_failed_time)::float8 "
            "FROM pg_stat_archiver")[0]
        data = {"archive_mode": mode, "archived_count": archived, "failed_count": failed,
                "last_archived_wal": last_ok, "last_failed_wal": last_fail}
        if fail_ago is not None and (ok_ago is None or fail_ago < ok_ago):
            return self.item("WAL archiving", "fail", f"archiving is failing: last failure {_dur(fail_ago)} ago "
                             f"({last_fail}), last success {_dur(ok_ago) + ' ago' if ok_ago is not None else 'never'}",
                             **data)
        if archived == 0:
            return self.item("WAL archiving", "warn", f"archive_mode={mode} but nothing archived yet "
                             f"(archive_command {'set' if cmd or lib else 'empty'})", **data)
        return self.item("WAL archiving", "pass", f"archiving works: {archived} segments, last {last_ok} "
                         f"{_dur(ok_ago)} ago, {failed} failures", **data)

    def blockers(self) -> CheckItem:
        rows = self.q("""SELECT /* migtui */ pid, usename::text, application_name, state,
                         extract(epoch FROM clock_timestamp() - xact_start)::float8 AS xact_s,
                         extract(epoch FROM clock_timestamp() - state_change)::float8 AS state_s, left(query, 120)
                         FROM pg_stat_activity
                         WHERE datname = current_database() AND backend_type = 'client backend'
                           AND pid <> pg_backend_pid() AND coalesce(application_name, '') NOT LIKE 'migtui%%'
                           AND xact_start IS NOT NULL ORDER BY xact_start""")
        idle_limit, long_limit = float(self.opts["idle_in_transaction"]), float(self.opts["long_transaction"])
        idle = [r for r in rows if str(r[3]).startswith("idle in transaction") and (r[5] or 0) >= idle_limit]
        long = [r for r in rows if r not in idle and (r[4] or 0) >= long_limit]
        from migtui_postgres.pgconn import scrub_query

        idle = [(*r[:6], scrub_query(r[6])) for r in idle]
        long = [(*r[:6], scrub_query(r[6])) for r in long]
        sessions = [{"pid": r[0], "user": r[1], "application_name": r[2], "state": r[3], "xact_seconds": r[4],
                     "state_seconds": r[5], "query": r[6]} for r in idle + long]
        if not idle and not long:
            return self.item("Blocking sessions", "pass", f"no session idle in transaction over {_dur(idle_limit)} "
                             f"and no transaction over {_dur(long_limit)}", sessions=[])
        desc = "; ".join(f"pid {r[0]} ({r[1]}, {r[2] or 'no app name'}) {r[3]} for {_dur(r[5])}, transaction "
                         f"{_dur(r[4])}: {str(r[6] or '')[:60]}" for r in (idle + long)[:5])
        if idle:
            return self.item("Blocking sessions", "fail", f"{len(idle)} idle-in-transaction session(s) hold locks "
                             f"the migration's DDL would queue behind (and every query after it): {desc}. "
                             "End them: SELECT pg_terminate_backend(pid)", sessions=sessions)
        return self.item("Blocking sessions", "warn", f"{len(long)} long transaction(s) may block DDL: {desc}",
                         sessions=sessions)

    def connections(self) -> CheckItem:
        used, mx, su, res = self.q("""SELECT /* migtui */
            (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
            current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int,
            coalesce(current_setting('reserved_connections', true), '0')::int""")[0]
        usable = max(1, mx - su - res)
        ratio = used / usable
        status = ("fail" if ratio >= float(self.opts["connections_fail"]) else
                  "warn" if ratio >= float(self.opts["connections_warn"]) else "pass")
        return self.item("Connection headroom", status, f"{used} of {usable} usable connections in use "
                         f"({ratio:.0%}; max_connections {mx})", used=used, usable=usable, ratio=ratio)


# --------------------------------------------------------------------------- the hook


def postgres_checks(config: Config) -> list[CheckItem]:
    """``migtui_preflight_checks``: the checks above for every postgres source of the config."""
    from migtui_postgres.pgconn import postgres_sources

    opts = preflight_options(config)
    sources = postgres_sources(config)
    if not sources:
        return [CheckItem("postgres", "PostgreSQL", "warn", "the config has no `type: postgres` source")]
    items: list[CheckItem] = []
    for name, dsn in sources:
        items.extend(_PgChecks(name, dsn, opts, config).run())
    return items


# --------------------------------------------------------------------------- role-sql


def quote_ident(name: str) -> str:
    import re

    return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else '"' + name.replace('"', '""') + '"'


def grants_sql(monitor_role: str = "migtui_monitor", action_role: str | None = None, *,
               server_version: int | None = None, connection_limit: int = 5) -> str:
    """The SQL that creates a monitoring role (pg_monitor, CONNECTION LIMIT) and, optionally, a
    separate action role (pg_signal_backend, EXECUTE on the restore-point and backup functions).
    ``server_version`` (e.g. 15 or 150004) picks the backup function names; None prints both."""
    major = None if server_version is None else (server_version // 10000 if server_version >= 1000 else server_version)
    m = quote_ident(monitor_role)
    lines = [
        "-- migtui: monitoring role (read-only; every query has statement and lock timeouts)",
        f"CREATE ROLE {m} WITH LOGIN CONNECTION LIMIT {int(connection_limit)};",
        f"-- set its password outside shell history: \\password {monitor_role}",
        f"GRANT pg_monitor TO {m};",
        f"ALTER ROLE {m} SET default_transaction_read_only = on;",
        f"ALTER ROLE {m} SET statement_timeout = '5s';",
        f"ALTER ROLE {m} SET lock_timeout = '200ms';",
    ]
    if action_role:
        a = quote_ident(action_role)
        lines += [
            "",
            "-- migtui: action role (opt-in; cancel/terminate, restore points, backups; used only by actions)",
            f"CREATE ROLE {a} WITH LOGIN CONNECTION LIMIT 2;",
            f"GRANT pg_signal_backend TO {a};  -- only superusers can terminate superuser backends",
            f"GRANT EXECUTE ON FUNCTION pg_create_restore_point(text) TO {a};",
        ]
        new = ["GRANT EXECUTE ON FUNCTION pg_backup_start(text, boolean) TO {a};",
               "GRANT EXECUTE ON FUNCTION pg_backup_stop(boolean) TO {a};"]
        old = ["GRANT EXECUTE ON FUNCTION pg_start_backup(text, boolean, boolean) TO {a};",
               "GRANT EXECUTE ON FUNCTION pg_stop_backup(boolean, boolean) TO {a};"]
        if major is None:
            lines += ["-- PostgreSQL 15 and later:"] + [x.format(a=a) for x in new]
            lines += ["-- PostgreSQL 13 and 14 (instead of the two above):"] + ["-- " + x.format(a=a) for x in old]
        else:
            lines += [x.format(a=a) for x in (new if major >= 15 else old)]
        lines += [f"ALTER ROLE {a} REPLICATION;  -- only if `migtui prepare --slot` creates replication slots"]
        if major is None or major >= 15:
            lines += [f"-- GRANT pg_checkpoint TO {a};  -- (15+) only if you want CHECKPOINT before a restore point"]
    return "\n".join(lines) + "\n"
