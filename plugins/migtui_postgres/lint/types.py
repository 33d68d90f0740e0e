"""Column types as the parser and the catalog name them, and whether a type change rewrites the table
(PostgreSQL skips the rewrite when the cast is binary-coercible and the new type modifier does not
shrink: varchar(50) -> text, varchar(50) -> varchar(100), numeric(10,2) -> numeric(12,2))."""

from __future__ import annotations

from typing import Any

from migtui_postgres.lint.node import const

ALIASES = {"int": "int4", "integer": "int4", "bigint": "int8", "smallint": "int2", "serial": "int4",
           "bigserial": "int8", "smallserial": "int2", "serial4": "int4", "serial8": "int8", "serial2": "int2",
           "boolean": "bool", "real": "float4", "float": "float8", "decimal": "numeric", "character varying": "varchar",
           "char": "bpchar", "character": "bpchar", "timestamp with time zone": "timestamptz",
           "varbit": "varbit", "bit varying": "varbit"}

# casts that need no rewrite (binary-coercible, no length check)
_FREE = {("varchar", "text"), ("text", "varchar"), ("cidr", "inet"), ("xml", "text")}
_LENGTHED = {"varchar", "bpchar", "varbit", "bit"}
_PRECISION = {"timestamp", "timestamptz", "time", "timetz", "interval"}


def type_of(type_name: Any) -> tuple[str, tuple[int, ...]]:
    """``(catalog type name, modifiers)`` of a parse tree's TypeName (e.g. ``('varchar', (50,))``)."""
    names = [getattr(n, "sval", "") for n in type_name.names or ()]
    name = names[-1].lower() if names else ""
    name = ALIASES.get(name, name)
    args = []
    for m in type_name.typmods or ():
        val = const(m)
        if isinstance(val, int):
            args.append(val)
    if type_name.arrayBounds:
        name = "_" + name
    return name, tuple(args)


def type_change_rewrites(old: tuple[str, tuple[int, ...]], new: tuple[str, tuple[int, ...]]) -> bool:
    (o, oargs), (n, nargs) = old, new
    if o == n:
        if oargs == nargs or not nargs:
            return o == "bpchar" and not nargs and bool(oargs)  # char(n) -> char is char(1): shrinks
        if not oargs:
            return True  # unconstrained -> constrained: every value is checked and may change
        if o in _LENGTHED:
            return o == "bpchar" or nargs[0] < oargs[0]  # char(n) pads: always rewritten
        if o == "numeric":
            return len(nargs) < 2 or len(oargs) < 2 or nargs[1] != oargs[1] or nargs[0] < oargs[0]
        if o in _PRECISION:
            return nargs[0] < oargs[0]
        return True
    if (o, n) in _FREE:
        return n == "varchar" and bool(nargs)  # text -> varchar(n) checks every value
    return True
