"""Rails: what can honestly be linted without Ruby.

A Rails migration is Ruby; its SQL exists only when Rails runs it. What the project has on disk is
``db/migrate/<version>_<name>.rb`` and, with ``config.active_record.schema_format = :sql``, the dump
``db/structure.sql`` of the schema *after* every migration. So, against a server:

- the pending migrations are named (the versions in ``db/migrate`` not in ``schema_migrations``), with
  a note that their SQL needs Rails (``bin/rails db:migrate:status``; or lint the SQL a migration logs
  with ``migtui lint FILE``);
- from ``db/structure.sql``, the statements that create what the server does not have yet (a table,
  an index, a constraint by name) are linted, each at its line in the dump: the locks and live blockers
  of "CREATE INDEX ... ON orders" are real whatever Ruby wrote it. The dump does not say *how* the
  migration does it (``algorithm: :concurrently``, ``validate: false`` are not in a dump), so such
  findings carry that caveat in the note. Column changes inside a ``CREATE TABLE`` of an existing
  table cannot be told from the dump and are not linted."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from migtui_postgres.lint.parse import ParseFailure, split

_VERSION = re.compile(r"^(\d{14})_(\w+)\.rb$")


def pending_versions(root: Path, conn: Any) -> list[str]:
    """The ``db/migrate`` files whose version ``schema_migrations`` does not have (all without a server)."""
    files = sorted(p.name for p in (root / "db" / "migrate").glob("*.rb") if _VERSION.match(p.name))
    if conn is None:
        return files
    with conn.cursor() as cur:
        cur.execute("SELECT /* migtui */ to_regclass('schema_migrations') IS NOT NULL")
        applied: set[str] = set()
        if cur.fetchone()[0]:
            cur.execute("SELECT /* migtui */ version::text FROM schema_migrations")
            applied = {r[0] for r in cur.fetchall()}
    return [f for f in files if _VERSION.match(f).group(1) not in applied]  # type: ignore[union-attr]


def _name(rv: Any) -> tuple[str | None, str]:
    return rv.schemaname, rv.relname


def _exists(cur: Any, kind: str, schema: str | None, name: str, table: Any = None) -> bool:
    if kind == "constraint":
        cur.execute("SELECT /* migtui */ count(*) FROM pg_constraint WHERE conname = %s AND conrelid = to_regclass(%s)",
                    (name, table))
    else:
        cur.execute("SELECT /* migtui */ to_regclass(%s) IS NOT NULL", (f'"{schema}"."{name}"' if schema else f'"{name}"',))
    return bool(cur.fetchone()[0])


def new_statements(text: str, file: str, conn: Any) -> str:
    """The dump's statements that create a table, index or constraint the server does not have, each
    at its own line (the other lines blank). Raises :class:`ParseFailure`."""
    keep: list[tuple[int, str]] = []
    with conn.cursor() as cur:
        for st in split(text, file):
            n = st.node
            if n.tag == "CreateStmt":
                new = not _exists(cur, "rel", *_name(n.relation))
            elif n.tag == "IndexStmt" and n.idxname:
                new = not _exists(cur, "rel", n.relation.schemaname, n.idxname)
            elif n.tag == "AlterTableStmt":
                table = ".".join(x for x in _name(n.relation) if x)
                adds = [c.def_ for c in n.cmds or () if c.subtype == "AT_AddConstraint" and c.def_ is not None]
                new = bool(adds) and _exists(cur, "rel", *_name(n.relation)) and any(
                    a.conname and not _exists(cur, "constraint", None, a.conname, table) for a in adds)
            else:
                new = False
            if new:
                keep.append((st.line, st.sql))
    out, line = [], 1
    for at, sql in keep:
        out.append("\n" * max(0, at - line))
        out.append(sql + ";\n")
        line = at + sql.count("\n") + 1
    return "".join(out)


def rails_pending(root: Path, conn: Any, origin: str) -> Any:
    from migtui_postgres.lint.resolve import Pending

    pending = Pending(origin)
    versions = pending_versions(root, conn)
    if versions:
        pending.notes.append(
            f"{len(versions)} Rails migration(s) pending on the server: {', '.join(versions[:5])}"
            + (" ..." if len(versions) > 5 else "") + "; their SQL needs Rails (bin/rails db:migrate:status), "
            "so they are not linted themselves")
    structure = root / "db" / "structure.sql"
    if not structure.is_file():
        if versions:
            pending.warnings.append("no db/structure.sql (schema_format :sql): nothing of the Rails migrations "
                                    "can be linted")
        return pending
    if conn is None:
        pending.warnings.append("without a server, db/structure.sql cannot be compared: not linted")
        return pending
    try:
        text = new_statements(structure.read_text(encoding="utf-8", errors="replace"), str(structure), conn)
    except ParseFailure as exc:
        pending.error = str(exc)
        return pending
    if text.strip():
        pending.files.append((str(structure), text))
        pending.notes.append("db/structure.sql: only what the server does not have yet is linted; the dump "
                             "does not say how a migration creates it (algorithm: :concurrently, "
                             "validate: false are not in a dump)")
    return pending
