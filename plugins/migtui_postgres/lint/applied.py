"""Which migration files the server has applied already, from the tools' history tables: with a
connection, ``migtui lint`` lints only the pending ones (Flyway ``V<version>__*.sql``, golang-migrate
``<version>_*.up.sql``, goose ``<version>_*.sql``, Prisma ``<name>/migration.sql``, Sqitch
``deploy/<change>.sql`` next to its ``sqitch.plan``: the changes of the plan's project not in
``sqitch.changes``). Files no tool claims, and tools whose history table is absent, are all pending."""

from __future__ import annotations

import functools
import re
from pathlib import Path, PurePath
from typing import Any, Callable

from migtui.api import sqitch_plan

_FLYWAY = re.compile(r"^V(\d[\d._]*)__.*\.sql$", re.I)
_GOLANG = re.compile(r"^(\d+)_.*\.up\.sql$", re.I)
_GOOSE = re.compile(r"^(\d+)_.*\.sql$", re.I)


def _flyway(name: str, text: str) -> str | None:
    m = _FLYWAY.match(name)
    return m.group(1).replace("_", ".") if m else None


def _golang(name: str, text: str) -> str | None:
    m = _GOLANG.match(name)
    return str(int(m.group(1))) if m else None


def _goose(name: str, text: str) -> str | None:
    m = _GOOSE.match(name)
    return str(int(m.group(1))) if m and "+goose up" in text.lower() else None


def _prisma(path: str, text: str) -> str | None:
    p = PurePath(path)
    return p.parent.name if p.name == "migration.sql" else None


@functools.lru_cache(maxsize=32)
def _sqitch_project(plan: str, mtime: float) -> str:
    return sqitch_plan(Path(plan))[0]


def _sqitch(path: str, text: str) -> str | None:
    p = Path(path)
    plan = p.parent.parent / "sqitch.plan"
    if p.parent.name != "deploy" or p.suffix != ".sql" or not plan.is_file():
        return None
    return f"{_sqitch_project(str(plan), plan.stat().st_mtime)}:{p.stem}"


# tool -> (history table, how a file names its version, the applied versions' query)
TOOLS: dict[str, tuple[str, Callable[[str, str], str | None], str]] = {
    "flyway": ("flyway_schema_history", _flyway, "SELECT /* migtui */ version FROM flyway_schema_history WHERE success"),
    "golang-migrate": ("schema_migrations", _golang,
                       "SELECT /* migtui */ generate_series(1, version)::text FROM schema_migrations WHERE NOT dirty"),
    "goose": ("goose_db_version", _goose, "SELECT /* migtui */ version_id::text FROM (SELECT DISTINCT ON (version_id) version_id, "
                                          "is_applied FROM goose_db_version ORDER BY version_id, id DESC) last "
                                          "WHERE is_applied"),
    "prisma": ("_prisma_migrations", _prisma, "SELECT /* migtui */ migration_name FROM _prisma_migrations "
                                               "WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL"),
    "sqitch": ("sqitch.changes", _sqitch, "SELECT /* migtui */ project || ':' || change FROM sqitch.changes"),
}


def has_history(cur: Any, tool: str, table: str) -> bool:
    """Is ``tool``'s history ``table`` on the server (catalog lookups only, no table is opened)? Rails
    and golang-migrate both name theirs ``schema_migrations``: golang-migrate's has ``dirty``, Rails' not."""
    cur.execute("SELECT /* migtui */ to_regclass(%s)::oid", (table,))
    oid = cur.fetchone()[0]
    if oid is None:
        return False
    if table != "schema_migrations":
        return True
    cur.execute("SELECT /* migtui */ count(*) FROM pg_attribute WHERE attrelid = %s AND attname = 'dirty' "
                "AND NOT attisdropped", (oid,))
    return bool(cur.fetchone()[0]) == (tool == "golang-migrate")


def _applied(cur: Any, tool: str) -> set[str] | None:
    table, _, query = TOOLS[tool]
    if not has_history(cur, tool, table):
        return None
    cur.execute(query)
    return {str(r[0]) for r in cur.fetchall()}


def pending_only(conn: Any, files: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[str]]:
    """The files not applied yet, and a note per tool that had applied files."""
    claims: dict[int, tuple[str, str]] = {}
    for i, (path, text) in enumerate(files):
        for tool, (_, version_of, _) in sorted(TOOLS.items(), key=lambda t: t[0] != "sqitch"):
            name = path if tool in ("prisma", "sqitch") else PurePath(path).name
            version = version_of(name, text)
            if version is not None:
                claims[i] = (tool, version)
                break
    if not claims:
        return files, []
    applied: dict[str, set[str] | None] = {}
    with conn.cursor() as cur:
        for tool in {t for t, _ in claims.values()}:
            applied[tool] = _applied(cur, tool)
    keep, skipped = [], {}
    for i, f in enumerate(files):
        tool, version = claims.get(i, ("", ""))
        done = applied.get(tool)
        if done is not None and version in done:
            skipped.setdefault(tool, []).append(PurePath(f[0]).name)
        else:
            keep.append(f)
    notes = [f"{len(names)} file(s) already applied ({TOOLS[tool][0]}), not linted: {', '.join(names[:5])}"
             + (" ..." if len(names) > 5 else "") for tool, names in skipped.items()]
    return keep, notes
