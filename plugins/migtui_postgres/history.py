"""What each migration tool leaves on the server: its advisory-lock keys (as ``pg_locks`` shows them)
and its history table, read into a :class:`ToolState` (current, applied, running, leftovers and
their fix). Used by the ``migration`` source (:mod:`migtui_postgres.migration_tools`); the tables
and keys are those of reference/postgres-sql.md section 5."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Callable


# --------------------------------------------------------------------------- advisory lock keys


def _signed64(v: int) -> int:
    v &= 0xFFFFFFFFFFFFFFFF
    return v - (1 << 64) if v >= (1 << 63) else v


def rails_lock_key(dbname: str) -> int:
    """ActiveRecord's migrator lock: ``2053462845 * crc32(database)``."""
    return _signed64(2053462845 * zlib.crc32(dbname.encode()))


def golang_migrate_lock_key(dbname: str, schema: str = "public", table: str = "schema_migrations") -> int:
    """golang-migrate: ``uint32(crc32(schema \\0 table \\0 db) * 1486364155)``."""
    return (zlib.crc32("\x00".join([schema, table, dbname]).encode()) * 1486364155) & 0xFFFFFFFF


def _fnv1_32(text: str) -> int:
    h = 0x811C9DC5
    for b in text.encode():
        h = (h * 0x01000193) & 0xFFFFFFFF
        h ^= b
    return h


FIXED_KEYS = {
    72707369: "prisma",
    75474063: "sqitch",
    5887940537704921958: "goose",  # goose's session locker default (crc64 of "goose")
    4097083626: "goose",  # older goose releases
    _fnv1_32("atlas_migrate_execute"): "atlas",
}
FLYWAY_CLASSID = 0x466C  # pg_advisory_lock(0x466C79776179 + discriminator): high 32 bits


def match_advisory(classid: int, objid: int, objsubid: int, dbname: str, schemas: list[str]) -> str | None:
    """The tool whose advisory lock this pg_locks row is, or None."""
    if objsubid != 1:  # two-int4 form: no known tool uses it
        return None
    key = _signed64((int(classid) << 32) | int(objid))
    if int(classid) == FLYWAY_CLASSID:
        return "flyway"
    if key in FIXED_KEYS:
        return FIXED_KEYS[key]
    if key == rails_lock_key(dbname):
        return "rails"
    for schema in schemas or ["public"]:
        if key == golang_migrate_lock_key(dbname, schema):
            return "golang-migrate"
    if key == (zlib.crc32(dbname.encode()) * 1486364155) & 0xFFFFFFFF:  # releases before schema/table were hashed
        return "golang-migrate"
    return None


# --------------------------------------------------------------------------- history readers


@dataclass
class ToolState:
    tool: str
    table: str
    current: str = ""
    applied: int = 0
    last_applied_at: str = ""
    state: str = "idle"  # idle | running | dirty | failed | locked | error
    running: str = ""
    pid: int | None = None
    since: float | None = None
    hint: str = ""
    signals: list[str] = field(default_factory=list)
    in_progress_row: bool = False
    failed_row: bool = False
    error: str = ""

    def version_key(self) -> tuple[str, int]:
        return (self.current, self.applied)


HISTORY_TABLES: dict[str, list[str]] = {
    "alembic": ["alembic_version"],
    "flyway": ["flyway_schema_history"],
    "django": ["django_migrations"],
    "rails": ["schema_migrations"],
    "golang-migrate": ["schema_migrations"],
    "prisma": ["_prisma_migrations"],
    "goose": ["goose_db_version"],
    "sqitch": ["sqitch.changes", "sqitch.events"],
    "liquibase": ["databasechangelog", "databasechangeloglock"],
    "atlas": ["atlas_schema_revisions.atlas_schema_revisions", "atlas_schema_revisions"],
    "pgroll": ["pgroll.migrations"],
}


def _s(v: Any) -> str:
    if v is None:
        return ""
    if hasattr(v, "isoformat"):
        return v.isoformat(timespec="seconds")
    return str(v)


def _one(cur: Any, sql: str, params: Any = None) -> Any:
    cur.execute(sql, params)
    return cur.fetchone()


def read_alembic(cur: Any, st: ToolState) -> None:
    cur.execute(f"SELECT /* migtui */ version_num FROM {st.table}")
    heads = sorted(str(r[0]) for r in cur.fetchall())
    st.current, st.applied = ",".join(heads), len(heads)


def read_flyway(cur: Any, st: ToolState) -> None:
    n, failed = _one(cur, f"SELECT /* migtui */ count(*), count(*) FILTER (WHERE NOT success) FROM {st.table}")
    st.applied = int(n)
    row = _one(cur, f"SELECT /* migtui */ version, description, installed_on, success FROM {st.table} "
                    "ORDER BY installed_rank DESC LIMIT 1")
    if row:
        st.current = f"{_s(row[0])} {_s(row[1])}".strip()
        st.last_applied_at = _s(row[2])
    if failed:
        st.failed_row = True
        st.hint = "a failed migration is recorded: fix it, then `flyway repair`"


def read_django(cur: Any, st: ToolState) -> None:
    n, = _one(cur, f"SELECT /* migtui */ count(*) FROM {st.table}")
    st.applied = int(n)
    row = _one(cur, f"SELECT /* migtui */ app, name, applied FROM {st.table} ORDER BY id DESC LIMIT 1")
    if row:
        st.current, st.last_applied_at = f"{row[0]}.{row[1]}", _s(row[2])


def read_rails(cur: Any, st: ToolState) -> None:
    n, mx = _one(cur, f"SELECT /* migtui */ count(*), max(version) FROM {st.table}")
    st.applied, st.current = int(n), _s(mx)


def read_golang_migrate(cur: Any, st: ToolState) -> None:
    row = _one(cur, f"SELECT /* migtui */ version, dirty FROM {st.table} LIMIT 1")
    if row:
        st.current, st.applied = _s(row[0]), 1
        if row[1]:
            st.in_progress_row = True
            st.running = f"version {row[0]} (dirty)"
            st.hint = "dirty: after a crash fix the schema, then `migrate force <last good version>`"


def read_prisma(cur: Any, st: ToolState) -> None:
    n, last = _one(cur, f"SELECT /* migtui */ count(*) FILTER (WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL), "
                        f"max(finished_at) FROM {st.table}")
    st.applied, st.last_applied_at = int(n), _s(last)
    row = _one(cur, f"SELECT /* migtui */ migration_name FROM {st.table} WHERE finished_at IS NOT NULL "
                    "AND rolled_back_at IS NULL ORDER BY finished_at DESC LIMIT 1")
    st.current = _s(row[0]) if row else ""
    row = _one(cur, f"SELECT /* migtui */ migration_name, started_at, applied_steps_count FROM {st.table} "
                    "WHERE finished_at IS NULL AND rolled_back_at IS NULL ORDER BY started_at DESC LIMIT 1")
    if row:
        st.in_progress_row = True
        st.running = f"{row[0]} (step {row[2]})"
        st.hint = f"if it failed: `prisma migrate resolve --rolled-back {row[0]}`"


def read_goose(cur: Any, st: ToolState) -> None:
    n, = _one(cur, f"SELECT /* migtui */ count(*) FILTER (WHERE is_applied) FROM {st.table}")
    st.applied = int(n)
    row = _one(cur, f"SELECT /* migtui */ version_id, is_applied, tstamp FROM {st.table} ORDER BY id DESC LIMIT 1")
    if row:
        st.current, st.last_applied_at = _s(row[0]) + ("" if row[1] else " (down)"), _s(row[2])


def read_sqitch(cur: Any, st: ToolState) -> None:
    schema = st.table.rsplit(".", 1)[0] if "." in st.table else "sqitch"
    n, = _one(cur, f"SELECT /* migtui */ count(*) FROM {schema}.changes")
    st.applied = int(n)
    row = _one(cur, f"SELECT /* migtui */ change, committed_at FROM {schema}.changes ORDER BY committed_at DESC LIMIT 1")
    if row:
        st.current, st.last_applied_at = _s(row[0]), _s(row[1])
    row = _one(cur, f"SELECT /* migtui */ event, change FROM {schema}.events ORDER BY committed_at DESC LIMIT 1")
    if row and row[0] == "fail":
        st.failed_row = True
        st.hint = f"last event: fail of {row[1]}"


def read_liquibase(cur: Any, st: ToolState) -> None:
    schema = st.table.rsplit(".", 1)[0] + "." if "." in st.table else ""
    n, = _one(cur, f"SELECT /* migtui */ count(*) FROM {schema}databasechangelog")
    st.applied = int(n)
    row = _one(cur, f"SELECT /* migtui */ id, author, dateexecuted, exectype FROM {schema}databasechangelog "
                    "ORDER BY orderexecuted DESC LIMIT 1")
    if row:
        st.current, st.last_applied_at = f"{row[0]} ({row[1]})", _s(row[2])
        if row[3] == "FAILED":
            st.failed_row = True
    try:
        row = _one(cur, f"SELECT /* migtui */ locked, lockgranted, lockedby FROM {schema}databasechangeloglock "
                        "WHERE locked LIMIT 1")
    except Exception:  # noqa: BLE001 - the lock table may be missing
        row = None
    if row:
        st.in_progress_row = True
        st.running = f"locked by {row[2]} since {_s(row[1])}"
        st.hint = "if no Liquibase is running: `liquibase release-locks`"


def read_atlas(cur: Any, st: ToolState) -> None:
    n, = _one(cur, f"SELECT /* migtui */ count(*) FROM {st.table} WHERE version NOT LIKE '.%%'")
    st.applied = int(n)
    row = _one(cur, f"SELECT /* migtui */ version, description, applied, total, executed_at, error FROM {st.table} "
                    "WHERE version NOT LIKE '.%%' ORDER BY version DESC LIMIT 1")
    if row:
        st.current, st.last_applied_at = f"{_s(row[0])} {_s(row[1])}".strip(), _s(row[4])
        if row[5]:
            st.failed_row = True
            st.hint = f"error: {str(row[5])[:120]}"
        elif row[2] is not None and row[3] is not None and row[2] < row[3]:
            st.in_progress_row = True
            st.running = f"{row[0]} ({row[2]}/{row[3]} statements)"


def read_pgroll(cur: Any, st: ToolState) -> None:
    n, = _one(cur, f"SELECT /* migtui */ count(*) FROM {st.table}")
    st.applied = int(n)
    row = _one(cur, f"SELECT /* migtui */ name, created_at FROM {st.table} WHERE done ORDER BY created_at DESC LIMIT 1")
    if row:
        st.current, st.last_applied_at = _s(row[0]), _s(row[1])
    row = _one(cur, f"SELECT /* migtui */ name, schema FROM {st.table} WHERE NOT done ORDER BY created_at DESC LIMIT 1")
    if row:
        st.in_progress_row = True
        st.running = f"{row[0]} (schema {row[1]}, not completed)"
        st.hint = "`pgroll complete` to finish, `pgroll rollback` to undo"


READERS: dict[str, Callable[[Any, ToolState], None]] = {
    "alembic": read_alembic, "flyway": read_flyway, "django": read_django, "rails": read_rails,
    "golang-migrate": read_golang_migrate, "prisma": read_prisma, "goose": read_goose, "sqitch": read_sqitch,
    "liquibase": read_liquibase, "atlas": read_atlas, "pgroll": read_pgroll,
}
