"""The SQL catalog against real PostgreSQL servers (the ``pg`` fixture: MIGTUI_TEST_DSN and an embedded one).

Every query runs on a monitoring connection set up the way migtui sets up its own (autocommit,
application_name migtui, statement_timeout, lock_timeout, read-only), with its header's param
defaults. Then real migration activity is created and the catalog must see it: a blocked ALTER
TABLE with a queue behind it, a CREATE INDEX CONCURRENTLY waiting for a writer (and cancelled),
batched UPDATEs, migration-tool advisory locks and history tables.
"""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import threading
import zlib
from typing import Any, Iterator

import psycopg
import pytest
from psycopg import errors, sql

from migtui.sqlcatalog import Query, Variant, load_catalog
from migtui.sqlparams import param_defaults
from tests.conftest import scratch_database, wait_until

CATALOG = load_catalog()

TEXT_OIDS = {25, 1043, 19}  # text, varchar, name
NUMERIC_OIDS = {20, 21, 23, 26, 700, 701, 1700, 16}  # int8 int2 int4 oid float4 float8 numeric bool
SUPERSEDED = (errors.UndefinedColumn, errors.UndefinedTable, errors.UndefinedFunction, errors.UndefinedObject)
# Variants that stop working where PostgreSQL (or the extension) removed what they read; a newer
# variant replaces each of them there. Any other failure of any variant is a bug.
REMOVED_FROM_SERVER = {"checkpoints.sql": 17, "checkpoint_pressure.sql": 17, "progress_vacuum.sql": 17, "wal_stats.sql": 18}
REMOVED_FROM_EXTENSION = {"statements_top.sql": (1, 11), "statements_top.ext1_9.sql": (1, 11)}


# ---------------------------------------------------------------------------------------------- helpers


def monitor_connect(dsn: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(dsn, autocommit=True, application_name="migtui", connect_timeout=10)
    conn.execute("SET statement_timeout = '2s'")
    conn.execute("SET lock_timeout = '200ms'")
    conn.execute("SET default_transaction_read_only = on")
    return conn


@pytest.fixture
def monitor(pg: Any) -> Iterator[psycopg.Connection[Any]]:
    conn = monitor_connect(pg.dsn)
    try:
        yield conn
    finally:
        conn.close()


def extensions(conn: psycopg.Connection[Any]) -> dict[str, tuple[int, ...]]:
    rows = conn.execute("SELECT /* migtui */ extname, extversion FROM pg_extension").fetchall()
    return {name: tuple(int(p) for p in version.split(".")) for name, version in rows}


def chosen(conn: psycopg.Connection[Any], name: str) -> Variant:
    query = CATALOG.get(name)
    variant = query.variant_for(conn.info.server_version, extensions(conn))
    assert variant is not None, f"{name} does not run on {conn.info.server_version}"
    return variant


def execute(conn: psycopg.Connection[Any], query: Query, variant: Variant,
            **params: Any) -> tuple[list[tuple[str, int]], list[dict[str, Any]]]:
    values = param_defaults(query)
    values.update(params)
    cur = conn.execute(variant.sql, values)
    columns = [(d.name, d.type_code) for d in cur.description or ()]
    rows = [dict(zip([c for c, _ in columns], r)) for r in cur.fetchall()]
    return columns, rows


def run(conn: psycopg.Connection[Any], name: str, **params: Any) -> list[dict[str, Any]]:
    return execute(conn, CATALOG.get(name), chosen(conn, name), **params)[1]


class Background:
    """A statement that blocks, run on its own connection in a thread; its error (if any) is kept."""

    def __init__(self, dsn: str, statement: str, *, app: str, setup: tuple[str, ...] = ()) -> None:
        self.conn = psycopg.connect(dsn, autocommit=True, application_name=app)
        for s in setup:
            self.conn.execute(s)
        self.pid = self.conn.info.backend_pid
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(statement,), daemon=True)
        self.thread.start()

    def _run(self, statement: str) -> None:
        try:
            self.conn.execute(statement)
        except BaseException as exc:  # noqa: BLE001
            self.error = exc

    def cancel(self, admin_dsn: str) -> None:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_cancel_backend(%s)", [self.pid])
        self.thread.join(timeout=30)

    def finish(self, admin_dsn: str) -> None:
        """Let the statement end (cancel it if it still blocks after 30 s) and close the session."""
        self.thread.join(timeout=30)
        if self.thread.is_alive():
            self.cancel(admin_dsn)
        self.conn.close()


def unique(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(3)}"


# ---------------------------------------------------------------------------------------------- every query


def test_every_query_runs_with_its_defaults_and_variants_agree(pg: Any, monitor: psycopg.Connection[Any]) -> None:
    version = monitor.info.server_version
    exts = extensions(monitor)
    for query in CATALOG:
        pick = query.variant_for(version, exts)
        if query.extension and query.extension not in exts:
            assert pick is None
            continue
        if query.min_version <= version // 10000:
            assert pick is not None, f"{query.name}: no variant for {version}"
        shapes: dict[str, list[tuple[str, int]]] = {}
        for variant in query.variants:
            if variant.min_version > version // 10000:
                continue
            if variant.ext_version and query.extension and variant.ext_version > exts[query.extension]:
                continue
            try:
                columns, rows = execute(monitor, query, variant)
            except SUPERSEDED as exc:
                assert variant is not pick, f"{variant.path.name} on {version}: {exc}"
                name = variant.path.name
                gone_server = REMOVED_FROM_SERVER.get(name, 99) <= version // 10000
                gone_ext = query.extension is not None and REMOVED_FROM_EXTENSION.get(name, (99,)) <= exts[query.extension]
                assert gone_server or gone_ext, f"{name} on {version}: {exc}"
                continue
            shapes[variant.path.name] = columns
            names = [c for c, _ in columns]
            assert len(set(names)) == len(names), f"{variant.path.name}: duplicate column"
            counters = set(query.rates) | {c for r in query.ratios for c in (r.numerator, *r.denominator)}
            assert counters <= set(names), f"{variant.path.name}: rates/ratios name unknown columns"
            assert not counters or query.kind == "metrics", variant.path.name
            for name, oid in columns:
                if name.startswith("tag_"):
                    assert oid in TEXT_OIDS, f"{variant.path.name}: {name} must be text"
                    assert all(r[name] is None or isinstance(r[name], str) for r in rows)
                elif query.kind == "metrics":
                    assert oid in NUMERIC_OIDS, f"{variant.path.name}: {name} must be numeric or boolean (oid {oid})"
        assert pick is None or pick.path.name in shapes
        reference = next(iter(shapes.values()), None)
        for filename, columns in shapes.items():
            assert columns == reference, f"{query.name}: {filename} returns other columns than its siblings"


def test_statements_top_variants_follow_the_installed_extension_version(pg: Any) -> None:
    """A cluster whose pg_stat_statements was not updated keeps the old columns: the variant is picked
    by the extension's version, and every variant returns the same columns."""
    with psycopg.connect(pg.admin_dsn, autocommit=True) as admin:
        available = {r[0] for r in admin.execute(
            "SELECT version FROM pg_available_extension_versions WHERE name = 'pg_stat_statements'")}
    wanted = [v for v in ("1.8", "1.9", "1.10", "1.11", "1.12") if v in available]
    if not wanted:
        pytest.skip("pg_stat_statements is not available on this server")
    query = CATALOG.get("statements_top")
    shapes: dict[str, list[tuple[str, int]]] = {}
    picked: dict[str, str] = {}
    with scratch_database(pg) as dsn:
        for version in wanted:
            with psycopg.connect(dsn, autocommit=True) as owner:
                owner.execute("DROP EXTENSION IF EXISTS pg_stat_statements")
                owner.execute(sql.SQL("CREATE EXTENSION pg_stat_statements VERSION {}").format(sql.Literal(version)))
            with contextlib.closing(monitor_connect(dsn)) as conn:
                variant = query.variant_for(conn.info.server_version, extensions(conn))
                assert variant is not None
                picked[version] = variant.path.name
                columns, rows = execute(conn, query, variant)
                shapes[version] = columns
                assert all(r["calls"] >= 1 for r in rows)
                loaded = conn.execute("SELECT current_setting('pg_stat_statements.max', true)").fetchone()[0]
                if loaded:  # only then does the extension collect anything
                    assert rows and all(r["username"] == conn.info.user for r in rows)
                assert not execute(conn, query, variant, exclude_users=[conn.info.user])[1]
    assert picked.get("1.8", "statements_top.sql") == "statements_top.sql"
    assert picked.get("1.9", "statements_top.ext1_9.sql") == "statements_top.ext1_9.sql"
    assert picked.get("1.11", "statements_top.ext1_11.sql") == "statements_top.ext1_11.sql"
    assert len({tuple(s) for s in shapes.values()}) == 1, shapes


# ---------------------------------------------------------------------------------------------- a blocked ALTER TABLE


def test_blocked_alter_table_shows_in_the_lock_views_and_nothing_queues_behind_it(
        pg: Any, monitor: psycopg.Connection[Any]) -> None:
    table = unique("orders")
    with psycopg.connect(pg.dsn, autocommit=True) as setup:
        setup.execute(sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, note text)").format(sql.Identifier(table)))
        setup.execute(sql.SQL("INSERT INTO {} SELECT g, repeat('x', 100) FROM generate_series(1, 2000) g")
                      .format(sql.Identifier(table)))
        setup.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.Identifier(table)))

    holder = psycopg.connect(pg.dsn, application_name="test-report-reader")  # an open transaction
    holder.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
    holder_pid = holder.info.backend_pid
    alter = reader = None
    try:
        alter = Background(pg.dsn, f"ALTER TABLE {table} ADD COLUMN flag boolean", app="test-migration",
                           setup=("SET lock_timeout = '60s'",))
        wait_until(lambda: any(r["pid"] == alter.pid for r in run(monitor, "lock_waits")), "the ALTER TABLE to wait")
        reader = Background(pg.dsn, f"SELECT count(*) FROM {table}", app="test-app-reader",
                            setup=("SET lock_timeout = '60s'",))
        wait_until(lambda: any(r["pid"] == reader.pid for r in run(monitor, "lock_waits")), "the reader to queue")

        waits = {r["pid"]: r for r in run(monitor, "lock_waits")}
        assert waits[alter.pid]["blocked_by"] == [holder_pid]
        assert waits[alter.pid]["mode"] == "AccessExclusiveLock"
        assert waits[alter.pid]["locktype"] == "relation"
        assert waits[alter.pid]["relation"] == table
        assert waits[alter.pid]["application_name"] == "test-migration"
        assert waits[alter.pid]["query"].startswith("ALTER TABLE")
        assert waits[alter.pid]["wait_seconds"] >= 0
        assert waits[reader.pid]["blocked_by"] == [alter.pid], "the reader queues behind the waiting ALTER"
        assert waits[reader.pid]["mode"] == "AccessShareLock"
        assert holder_pid not in waits

        tree = [r for r in run(monitor, "blocking_tree") if r["root_pid"] == holder_pid]
        assert [(r["depth"], r["pid"]) for r in tree] == [(0, holder_pid), (1, alter.pid), (2, reader.pid)]
        root, migration, queued = tree
        assert root["blocked_by"] == [] and root["state"] == "idle in transaction"
        assert root["waiters"] == 2 and migration["waiters"] == 1 and queued["waiters"] == 0
        assert root["wait_seconds"] is None and root["xact_seconds"] >= 0
        assert migration["application_name"] == "test-migration" and "ADD COLUMN flag" in migration["query"]
        assert migration["blocked_by"] == [holder_pid] and migration["wait_event_type"] == "Lock"
        assert migration["mode"] == "AccessExclusiveLock" and migration["relation"] == table
        assert queued["mode"] == "AccessShareLock" and root["mode"] is None

        summary = run(monitor, "lock_waits_summary")[0]
        assert summary["waiting"] >= 2 and summary["root_blockers"] >= 1 and summary["max_blocked_by_one"] >= 1

        locks = {r["tag_mode"]: r for r in run(monitor, "relation_locks", tables=[table])}
        assert len(locks) == 8, "every mode of a named table is reported, zeros included"
        assert {r["tag_relation"] for r in locks.values()} == {table}
        assert locks["AccessExclusiveLock"]["waiting"] == 1 and locks["AccessExclusiveLock"]["granted"] == 0
        assert locks["AccessShareLock"]["granted"] >= 1 and locks["AccessShareLock"]["waiting"] == 1
        assert locks["RowExclusiveLock"]["granted"] == locks["RowExclusiveLock"]["waiting"] == 0
        busy = {(r["tag_relation"], r["tag_mode"]): r for r in run(monitor, "relation_locks")}
        assert busy[(table, "AccessExclusiveLock")]["waiting"] == 1, "tables={} finds the table with a waiter"

        activity = run(monitor, "activity_summary")[0]
        assert activity["waiting"] >= 2 and activity["idle_in_transaction"] >= 1
        idle = run(monitor, "idle_in_transaction", min_seconds=0)
        assert holder_pid in {r["pid"] for r in idle}

        # Harmless: the lock-free size query answers within lock_timeout while the ALTER is queued...
        sizes = {r["tag_relation"]: r for r in run(monitor, "table_sizes_approx", tables=[table])}
        assert sizes[table]["table_bytes"] > 0 and sizes[table]["indexes_bytes"] > 0
        assert sizes[table]["row_estimate"] == pytest.approx(2000, rel=0.2)
        # ...where an exact size function queues behind it and runs into lock_timeout,
        with pytest.raises(errors.LockNotAvailable):
            monitor.execute("SELECT pg_relation_size(%s::regclass)", [table])
        # and no query of the catalog gets stuck behind the migration's lock queue.
        for query in CATALOG:
            variant = query.variant_for(monitor.info.server_version, extensions(monitor))
            if variant is not None:
                execute(monitor, query, variant, **({"tables": [table]} if "tables" in query.params else {}))
        assert reader.thread.is_alive() and alter.thread.is_alive()
    finally:
        holder.rollback()
        holder.close()
        for bg in (alter, reader):
            if bg is not None:
                bg.finish(pg.admin_dsn)
    assert alter.error is None and reader.error is None
    assert not any(r["pid"] in (alter.pid, reader.pid) for r in run(monitor, "lock_waits"))


# ---------------------------------------------------------------------------------------------- CREATE INDEX CONCURRENTLY


def test_create_index_concurrently_progress_and_the_invalid_index_it_leaves(
        pg: Any, monitor: psycopg.Connection[Any]) -> None:
    table, index = unique("events"), unique("events_kind_idx")
    with psycopg.connect(pg.dsn, autocommit=True) as setup:
        setup.execute(sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, kind int)").format(sql.Identifier(table)))
        setup.execute(sql.SQL("INSERT INTO {} SELECT g, g % 7 FROM generate_series(1, 1000) g")
                      .format(sql.Identifier(table)))
    before = run(monitor, "invalid_indexes")[0]["count"]
    writer = psycopg.connect(pg.dsn, application_name="test-writer")  # an open write transaction
    writer.execute(sql.SQL("INSERT INTO {} VALUES (100000, 1)").format(sql.Identifier(table)))
    cic = None
    try:
        cic = Background(pg.dsn, f"CREATE INDEX CONCURRENTLY {index} ON {table} (kind)", app="test-migration")

        def build() -> dict[str, Any] | None:
            rows = [r for r in run(monitor, "progress_create_index") if r["tag_pid"] == str(cic.pid)]
            return rows[0] if rows and rows[0]["tag_phase"].startswith("waiting for writers") else None

        row = wait_until(build, "the index build to wait for the writer")
        assert row["tag_relation"] == table
        assert row["tag_index"] == index
        assert row["tag_command"] == "CREATE INDEX CONCURRENTLY"
        assert row["current_locker_pid"] == writer.info.backend_pid
        assert row["lockers_total"] >= 1 and row["seconds"] >= 0
        waits = {r["pid"]: r for r in run(monitor, "lock_waits")}
        assert waits[cic.pid]["locktype"] == "virtualxid"
        assert waits[cic.pid]["blocked_by"] == [writer.info.backend_pid]

        # the build in flight is invalid in pg_index, but it is not reported as an invalid index
        assert run(monitor, "invalid_indexes")[0]["count"] == before
        assert index not in {r["index"] for r in run(monitor, "invalid_indexes_list")}

        cic.cancel(pg.admin_dsn)  # the operator cancels the build
        assert isinstance(cic.error, errors.QueryCanceled)
    finally:
        writer.rollback()
        writer.close()
        if cic is not None:
            cic.finish(pg.admin_dsn)
    assert run(monitor, "invalid_indexes")[0]["count"] == before + 1
    leftover = {r["index"]: r for r in run(monitor, "invalid_indexes_list")}[index]
    assert leftover["relation"] == table and leftover["ready"] is False
    assert leftover["drop_statement"] == f"DROP INDEX CONCURRENTLY {index}"
    assert not [r for r in run(monitor, "progress_create_index") if r["tag_pid"] == str(cic.pid)]
    with psycopg.connect(pg.dsn, autocommit=True) as cleanup:
        cleanup.execute(leftover["drop_statement"])
    assert run(monitor, "invalid_indexes")[0]["count"] == before


# ---------------------------------------------------------------------------------------------- batched backfill


def test_batched_update_shows_up_batch_by_batch_in_table_activity(pg: Any, monitor: psycopg.Connection[Any]) -> None:
    table = unique("accounts")
    with psycopg.connect(pg.dsn, autocommit=True) as setup:
        setup.execute(sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, balance int, migrated bool DEFAULT false) "
                              "WITH (autovacuum_enabled = off)").format(sql.Identifier(table)))
        setup.execute(sql.SQL("INSERT INTO {} (id, balance) SELECT g, g FROM generate_series(1, 1000) g")
                      .format(sql.Identifier(table)))

    def updated() -> int:
        rows = run(monitor, "table_activity", tables=[table])
        assert [r["tag_relation"] for r in rows] == [table]
        return int(rows[0]["n_tup_upd"])

    wait_until(lambda: run(monitor, "table_activity", tables=[table])[0]["n_tup_ins"] == 1000, "the insert stats")
    start = updated()
    wal_before = run(monitor, "wal_position")[0]["wal_bytes"]
    with psycopg.connect(pg.dsn, autocommit=True, application_name="test-backfill") as backfill:
        for batch, low in enumerate(range(1, 1001, 250), start=1):  # four committed batches of 250 rows
            backfill.execute(sql.SQL("UPDATE {} SET migrated = true WHERE id BETWEEN %s AND %s")
                             .format(sql.Identifier(table)), [low, low + 249])
            if backfill.info.server_version >= 150000:
                # a backend flushes its counters when idle but at most once a second (else after 10 s);
                # a real backfill pauses between batches, this one asks for the flush instead
                backfill.execute("SELECT pg_stat_force_next_flush()")
            wait_until(lambda: updated() >= start + 250 * batch, f"table_activity to count batch {batch}")
    row = run(monitor, "table_activity", tables=[table])[0]
    assert row["n_tup_upd"] - start == 1000
    assert row["n_dead_tup"] == 1000 and row["dead_ratio"] == pytest.approx(0.5)
    assert run(monitor, "wal_position")[0]["wal_bytes"] > wal_before
    assert run(monitor, "database_counters")[0]["tup_updated"] >= 1000


# ---------------------------------------------------------------------------------------------- sessions


def test_long_running_statements_and_idle_transactions_are_listed_without_migtui(
        pg: Any, monitor: psycopg.Connection[Any]) -> None:
    idle = psycopg.connect(pg.dsn, application_name="test-forgotten-tx")
    idle.execute("SELECT txid_current()")
    sleeper = Background(pg.dsn, "SELECT pg_sleep(30)", app="test-sleeper")
    try:
        long = wait_until(lambda: {r["pid"]: r for r in run(monitor, "long_running", min_seconds=0)}.get(sleeper.pid),
                        "the sleeping statement")
        assert long["application_name"] == "test-sleeper" and long["query"] == "SELECT pg_sleep(30)"
        assert long["state"] == "active" and long["query_seconds"] >= 0
        idle_rows = {r["pid"]: r for r in run(monitor, "idle_in_transaction", min_seconds=0)}
        assert idle_rows[idle.info.backend_pid]["application_name"] == "test-forgotten-tx"
        assert idle_rows[idle.info.backend_pid]["backend_xmin_age"] is None or \
            idle_rows[idle.info.backend_pid]["backend_xmin_age"] >= 0
        everything = run(monitor, "long_running", min_seconds=0) + run(monitor, "idle_in_transaction", min_seconds=0)
        assert monitor.info.backend_pid not in {r["pid"] for r in everything}
        assert not [r for r in everything if r["application_name"] == "migtui"]
        assert sleeper.pid not in {r["pid"] for r in run(monitor, "long_running", min_seconds=3600)}
        summary = run(monitor, "long_running_summary", min_seconds=0)[0]
        assert summary["long_running"] >= 1 and summary["idle_in_transaction"] >= 1
        assert summary["max_xact_seconds"] >= summary["max_idle_in_transaction_seconds"] >= 0
        ages = {r["tag_datname"]: r for r in run(monitor, "xid_age")}
        assert ages[pg.dbname]["oldest_backend_xid_age"] >= 1, "the open transaction has an xid"
        conns = run(monitor, "connections")[0]
        assert conns["client_backends"] >= 3 and conns["this_database"] >= 3 and conns["migtui"] >= 1
        assert conns["usable_slots"] == conns["max_connections"] - conns["superuser_reserved"] - conns["reserved"]
    finally:
        idle.rollback()
        idle.close()
        sleeper.cancel(pg.admin_dsn)
        sleeper.finish(pg.admin_dsn)


# ---------------------------------------------------------------------------------------------- migration tools


def test_advisory_locks_of_migration_tools_are_recognised(pg: Any, monitor: psycopg.Connection[Any]) -> None:
    dbname = pg.dbname.encode()
    keys = {
        "prisma": 72707369,
        "flyway": 0x466C79776179 + 123456,
        "rails": zlib.crc32(dbname) * 2053462845,
        "golang-migrate": (zlib.crc32(b"public\0schema_migrations\0" + dbname) * 1486364155) % 2**32,
    }
    before = {r["tag_tool"]: r for r in run(monitor, "migration_tool_locks")}
    assert set(before) == {"flyway", "prisma", "sqitch", "rails", "golang-migrate", "goose", "atlas"}
    holders = []
    waiter = None
    try:
        for tool, key in keys.items():
            conn = psycopg.connect(pg.dsn, autocommit=True, application_name=f"test-{tool}")
            assert conn.execute("SELECT pg_try_advisory_lock(%s::bigint)", [key]).fetchone()[0]
            holders.append(conn)
        waiter = Background(pg.dsn, "SELECT pg_advisory_lock(72707369)", app="test-prisma-2")
        wait_until(lambda: {r["tag_tool"]: r for r in run(monitor, "migration_tool_locks")}["prisma"]["waiting"] == 1,
                 "the second prisma to wait")
        now = {r["tag_tool"]: r for r in run(monitor, "migration_tool_locks")}
        for tool in keys:
            assert now[tool]["held"] == before[tool]["held"] + 1, tool
        assert now["prisma"]["waiting"] == before["prisma"]["waiting"] + 1
        for tool in ("sqitch", "goose", "atlas"):
            assert now[tool] == before[tool]
    finally:
        for conn in holders:
            conn.close()
        if waiter is not None:
            waiter.finish(pg.admin_dsn)
    wait_until(lambda: {r["tag_tool"]: r for r in run(monitor, "migration_tool_locks")} == before,
             "the advisory locks to go with their sessions")


def test_migration_history_tables_are_detected_in_any_schema(pg: Any, monitor: psycopg.Connection[Any]) -> None:
    def present() -> dict[str, int]:
        return {r["tag_tool"]: r["present"] for r in run(monitor, "migration_tables_detect")}

    assert len(present()) == 11
    gm, rails, prisma = unique("gm"), unique("rails"), unique("app")
    with psycopg.connect(pg.dsn, autocommit=True) as owner:
        for schema in (gm, rails, prisma):
            owner.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            owner.execute(sql.SQL("CREATE TABLE {}.schema_migrations (version bigint PRIMARY KEY, dirty boolean)")
                          .format(sql.Identifier(gm)))
            found = present()
            assert found["golang-migrate"] == 1
            owner.execute(sql.SQL("CREATE TABLE {}.schema_migrations (version varchar PRIMARY KEY)")
                          .format(sql.Identifier(rails)))
            owner.execute(sql.SQL("CREATE TABLE {}._prisma_migrations (id varchar(36) PRIMARY KEY, "
                                  "finished_at timestamptz)").format(sql.Identifier(prisma)))
            found = present()
            assert found["rails"] == 1 and found["prisma"] == 1 and found["golang-migrate"] == 1
        finally:
            for schema in (gm, rails, prisma):
                owner.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


# ---------------------------------------------------------------------------------------------- privileges


def test_the_declared_privileges_are_enough(pg: Any) -> None:
    """Each query runs for a role holding exactly what its header declares (none, pg_read_all_stats,
    pg_monitor): `migtui sql list` tells an operator which GRANT the monitoring role needs."""
    suffix = secrets.token_hex(3)
    roles = {(): f"migtui_none_{suffix}", ("pg_read_all_stats",): f"migtui_stats_{suffix}",
             ("pg_monitor",): f"migtui_monitor_{suffix}"}
    with psycopg.connect(pg.admin_dsn, autocommit=True) as admin:
        for grants, role in roles.items():
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
            for grant in grants:
                admin.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(grant), sql.Identifier(role)))
    witness = psycopg.connect(pg.dsn, autocommit=True, application_name="test-other-user")
    try:
        checked = 0
        for query in CATALOG:
            role = roles.get(tuple(query.privileges))
            assert role is not None, f"{query.name}: unexpected privileges {query.privileges}"
            with contextlib.closing(monitor_connect(_as_role(pg.dsn, role))) as conn:
                variant = query.variant_for(conn.info.server_version, extensions(conn))
                if variant is None:
                    continue
                _, rows = execute(conn, query, variant)
                checked += 1
                if query.name == "connections":
                    assert rows[0]["client_backends"] >= 2, "other users' client backends are counted"
        assert checked >= 30
    finally:
        witness.close()
        with psycopg.connect(pg.admin_dsn, autocommit=True) as admin:
            for role in roles.values():
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [role])
                admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def _as_role(dsn: str, role: str) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(dsn, user=role)


# ---------------------------------------------------------------------------------------------- COPY, slots


def test_copy_backfill_progress_is_visible_while_it_streams(pg: Any, monitor: psycopg.Connection[Any]) -> None:
    if pg.version < 14:
        pytest.skip("pg_stat_progress_copy appeared in PostgreSQL 14")
    table = unique("imported")
    with psycopg.connect(pg.dsn, autocommit=True, application_name="test-copy") as loader:
        loader.execute(sql.SQL("CREATE TABLE {} (id int, payload text)").format(sql.Identifier(table)))
        with loader.cursor() as cur:
            with cur.copy(sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(table))) as copy:
                for i in range(50_000):
                    copy.write_row((i, "x" * 40))

                def progress() -> dict[str, Any] | None:
                    rows = [r for r in run(monitor, "progress_copy") if r["tag_pid"] == str(loader.info.backend_pid)]
                    return rows[0] if rows and rows[0]["tuples_processed"] > 0 else None

                row = wait_until(progress, "the COPY to report progress")
                assert row["tag_relation"] == table and row["tag_command"] == "COPY FROM"
                assert row["tag_type"] == "PIPE" and row["bytes_processed"] > 0
                assert row["bytes_total"] == 0 and row["bytes_pct"] is None, "a pipe has no known size"
        assert not [r for r in run(monitor, "progress_copy") if r["tag_pid"] == str(loader.info.backend_pid)]


def test_replication_slot_retains_wal(pg: Any, monitor: psycopg.Connection[Any]) -> None:
    slot = unique("migtui_test_slot")
    with psycopg.connect(pg.dsn, autocommit=True) as owner:
        # a temporary slot disappears with this session, whatever happens to the test
        owner.execute("SELECT pg_create_physical_replication_slot(%s, true, true)", [slot])
        row = {r["tag_slot_name"]: r for r in run(monitor, "replication_slots")}[slot]
        assert row["tag_slot_type"] == "physical" and row["is_temporary"] is True
        assert row["wal_status_level"] == 0 and row["retained_bytes"] >= 0
        first = row["retained_bytes"]
        owner.execute(sql.SQL("CREATE TABLE {} AS SELECT g FROM generate_series(1, 20000) g")
                      .format(sql.Identifier(unique("wal_filler"))))
        wait_until(lambda: {r["tag_slot_name"]: r for r in run(monitor, "replication_slots")}[slot]["retained_bytes"]
                 > first, "the slot to retain the new WAL")
    wait_until(lambda: slot not in {r["tag_slot_name"] for r in run(monitor, "replication_slots")},
             "the temporary slot to go with its session")


def test_a_streaming_wal_receiver_shows_in_replication_lag(pg: Any, monitor: psycopg.Connection[Any],
                                                          tmp_path: Any) -> None:
    """pg_receivewal is a real walsender client, like a standby."""
    from psycopg.conninfo import conninfo_to_dict

    from migtui.embedded import _bin_dir

    info = conninfo_to_dict(pg.dsn)
    proc = subprocess.Popen([str(_bin_dir() / "pg_receivewal"), "-D", str(tmp_path), "--no-loop", "-w",
                             "-h", str(info.get("host", "127.0.0.1")), "-p", str(info.get("port", 5432)),
                             "-U", str(info.get("user", "postgres"))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def streaming() -> dict[str, Any] | None:
            if proc.poll() is not None:
                return {"exited": proc.stderr.read() if proc.stderr else ""}
            rows = [r for r in run(monitor, "replication_lag") if r["tag_application_name"] == "pg_receivewal"]
            return rows[0] if rows and rows[0]["streaming"] else None

        row = wait_until(streaming, "pg_receivewal to stream")
        if "exited" in row:
            pytest.skip(f"this server refuses replication connections: {row['exited'].strip()[:200]}")
        assert row["tag_client_addr"] == "127.0.0.1" and row["synchronous"] is False
        assert row["sent_lag_bytes"] >= 0 and row["write_lag_bytes"] >= 0
        assert run(monitor, "progress_basebackup") == []
        assert run(monitor, "standby_replay") == [], "a primary has no replay to report"
    finally:
        proc.terminate()
        proc.wait(timeout=15)
