"""What the analysis needs to know about the schema: nothing statically (:class:`NoCatalog`), or the
server's catalog read over the read-only monitoring connection (:class:`ServerCatalog`). Only catalog
tables are read (pg_class, pg_attribute, pg_constraint, pg_index, pg_proc): no lock on a user table."""

from __future__ import annotations

from typing import Any


class NoCatalog:
    """Static analysis: every question is answered 'unknown' (None)."""

    connected = False

    def column_type(self, table: str, column: str) -> tuple[str, tuple[int, ...]] | None:
        return None

    def index_table(self, index: str) -> str | None:
        return None

    def valid_not_null_check(self, table: str, column: str) -> bool | None:
        return None

    def volatility(self, func: str) -> str | None:
        return None

    def fk_neighbours(self, table: str) -> list[str]:
        return []

    def referenced_table(self, table: str, constraint: str) -> str | None:
        return None


def _split(name: str) -> tuple[str | None, str]:
    schema, _, rel = name.rpartition(".")
    return (schema or None), rel


_OID = ("SELECT /* migtui */ c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relname = %(rel)s AND CASE WHEN %(schema)s::text IS NULL THEN pg_table_is_visible(c.oid) "
        "ELSE n.nspname = %(schema)s END LIMIT 1")


def typmod_args(typname: str, typmod: int) -> tuple[int, ...]:
    """The (n) or (p, s) a catalog typmod stands for."""
    if typmod < 0:
        return ()
    if typname in ("varchar", "bpchar"):
        return (typmod - 4,)
    if typname == "numeric":
        t = typmod - 4
        return (t >> 16, t & 0xFFFF)
    return (typmod,)


class ServerCatalog:
    """Reads the catalog once per question (cached); errors make the answer 'unknown'."""

    connected = True

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self._cache: dict[tuple[Any, ...], Any] = {}

    def _one(self, key: tuple[Any, ...], sql: str, params: dict[str, Any]) -> Any:
        if key not in self._cache:
            try:
                with self.conn.cursor() as cur:
                    cur.execute(sql, params)
                    self._cache[key] = cur.fetchall()
            except Exception:  # noqa: BLE001 - a catalog read that fails leaves the answer unknown
                self._cache[key] = None
        return self._cache[key]

    def _rel(self, name: str) -> dict[str, Any]:
        schema, rel = _split(name)
        return {"schema": schema, "rel": rel}

    def column_type(self, table: str, column: str) -> tuple[str, tuple[int, ...]] | None:
        rows = self._one(("col", table, column),
                         f"SELECT /* migtui */ t.typname, a.atttypmod FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
                         f"WHERE a.attrelid = ({_OID}) AND a.attname = %(col)s AND NOT a.attisdropped",
                         {**self._rel(table), "col": column})
        if not rows:
            return None
        typname, typmod = rows[0]
        return typname, typmod_args(typname, typmod)

    def index_table(self, index: str) -> str | None:
        rows = self._one(("idx", index),
                         f"SELECT /* migtui */ c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
                         f"WHERE i.indexrelid = ({_OID})", self._rel(index))
        return rows[0][0] if rows else None

    def valid_not_null_check(self, table: str, column: str) -> bool | None:
        rows = self._one(("nn", table), f"SELECT /* migtui */ pg_get_constraintdef(oid) FROM pg_constraint "
                         f"WHERE conrelid = ({_OID}) AND contype = 'c' AND convalidated", self._rel(table))
        if rows is None:
            return None
        wanted = {f"check (({column} is not null))", f'check ((("{column}") is not null))'}
        return any(str(r[0]).lower() in wanted for r in rows)

    def volatility(self, func: str) -> str | None:
        rows = self._one(("fn", func), "SELECT /* migtui */ max(provolatile::text) FROM pg_proc WHERE proname = %(f)s",
                         {"f": func})
        return rows[0][0] if rows and rows[0][0] else None

    def fk_neighbours(self, table: str) -> list[str]:
        rows = self._one(("fk", table),
                         f"SELECT /* migtui */ DISTINCT c.relname FROM pg_constraint k JOIN pg_class c "
                         f"ON c.oid = CASE WHEN k.conrelid = ({_OID}) THEN k.confrelid ELSE k.conrelid END "
                         f"WHERE k.contype = 'f' AND (k.conrelid = ({_OID}) OR k.confrelid = ({_OID}))",
                         self._rel(table))
        return sorted({r[0] for r in rows or ()} - {_split(table)[1]})

    def referenced_table(self, table: str, constraint: str) -> str | None:
        """The table a foreign key constraint of ``table`` references."""
        rows = self._one(("ref", table, constraint),
                         f"SELECT /* migtui */ c.relname FROM pg_constraint k JOIN pg_class c ON c.oid = k.confrelid "
                         f"WHERE k.conrelid = ({_OID}) AND k.conname = %(con)s AND k.contype = 'f'",
                         {**self._rel(table), "con": constraint})
        return rows[0][0] if rows else None
