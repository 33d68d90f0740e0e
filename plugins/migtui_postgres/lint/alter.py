"""ALTER TABLE: each subcommand's lock (the statement takes the strongest), rewrite, scan and findings."""

from __future__ import annotations

from typing import Any

from migtui_postgres.lint.analyze import (AEL, SRE, SUE, Analysis, FileState, _SUE_RELOPTIONS, SERIALS, ROW_SHARE,
                                          relname, volatility)
from migtui_postgres.lint.types import type_change_rewrites, type_of

_SUE_SUBTYPES = {"AT_SetStatistics", "AT_SetOptions", "AT_ResetOptions", "AT_ClusterOn", "AT_DropCluster",
                 "AT_ValidateConstraint", "AT_AttachPartition"}
_SRE_SUBTYPES = {"AT_EnableTrig", "AT_DisableTrig", "AT_EnableAlwaysTrig", "AT_EnableReplicaTrig",
                 "AT_EnableTrigAll", "AT_DisableTrigAll", "AT_EnableTrigUser", "AT_DisableTrigUser"}
_REWRITING = {"AT_SetLogged": "SET LOGGED", "AT_SetUnLogged": "SET UNLOGGED", "AT_SetTableSpace": "SET TABLESPACE",
              "AT_SetAccessMethod": "SET ACCESS METHOD"}


def alter_table(node: Any, a: Analysis, state: FileState, catalog: Any) -> None:
    table = relname(node.relation)
    new = table in state.created
    for cmd in node.cmds or ():
        sub = cmd.subtype
        mode = AEL
        if sub in _SUE_SUBTYPES:
            mode = SUE
        elif sub in _SRE_SUBTYPES:
            mode = SRE
        elif sub in ("AT_SetRelOptions", "AT_ResetRelOptions"):
            names = [d.defname if not d.defnamespace else f"{d.defnamespace}.{d.defname}" for d in cmd.def_ or ()]
            mode = SUE if names and all(n.startswith(_SUE_RELOPTIONS) for n in names) else AEL
        elif sub == "AT_AddConstraint" and cmd.def_.contype == "CONSTR_FOREIGN":
            mode = SRE
        elif sub == "AT_DetachPartition" and getattr(cmd.def_, "concurrent", False):
            mode = SUE
        a.lock(table, mode)
        _SUBCOMMANDS.get(sub, _nothing)(cmd, table, new, a, state, catalog)


def _nothing(*_: Any) -> None:
    return None


def _add_column(cmd: Any, table: str, new: bool, a: Analysis, state: FileState, catalog: Any) -> None:
    col = cmd.def_
    constraints = {c.contype: c for c in col.constraints or ()}
    default = constraints.get("CONSTR_DEFAULT")
    if "CONSTR_FOREIGN" in constraints:
        a.lock(relname(constraints["CONSTR_FOREIGN"].pktable), SRE)
    rewrite: bool | None = False
    why = ""
    if (col.typeName is not None and [getattr(n, "sval", "") for n in col.typeName.names][-1].lower() in SERIALS) \
            or "CONSTR_IDENTITY" in constraints:
        rewrite, why = True, "a serial or identity column fills every row from a sequence"
    elif "CONSTR_GENERATED" in constraints and constraints["CONSTR_GENERATED"].generated_kind == "s":
        rewrite, why = True, "a STORED generated column is computed for every row"
    elif default is not None:
        vol = volatility(default.raw_expr, catalog)
        if state.server_version < 11:
            rewrite, why = True, "any default"
        elif vol == "v":
            rewrite, why = True, "a volatile default"
        elif vol is None:
            rewrite, why = None, "a default whose volatility is unknown without the catalog"
    if rewrite is not False:
        a.rewrite(rewrite)
        if not new:
            rule = "add-column-default" if state.server_version < 11 and default is not None else (
                "volatile-default" if default is not None else "table-rewrite")
            verb = "rewrites" if rewrite else "may rewrite"
            a.find(rule, f"ADD COLUMN {col.colname} {verb} {table} under AccessExclusiveLock: {why}")
    if any(k in constraints for k in ("CONSTR_CHECK", "CONSTR_UNIQUE", "CONSTR_PRIMARY")):
        a.scan(True)
    elif "CONSTR_FOREIGN" in constraints and default is not None:
        a.scan(True)  # a new column's foreign key is checked only when a default fills it
    elif "CONSTR_NOTNULL" in constraints and (default is None or getattr(default.raw_expr, "isnull", False)):
        a.scan(True)  # NOT NULL is checked unless a non-null default fills every row


def _type(cmd: Any, table: str, new: bool, a: Analysis, state: FileState, catalog: Any) -> None:
    col = cmd.def_
    target = type_of(col.typeName)
    if col.raw_default is not None:  # USING
        rewrite: bool | None = True
    else:
        old = catalog.column_type(table, cmd.name)
        rewrite = None if old is None else type_change_rewrites(old, target)
    a.rewrite(rewrite)
    if rewrite is not False and not new:
        shown = target[0] + (f"({','.join(map(str, target[1]))})" if target[1] else "")
        verb = "rewrites" if rewrite else "may rewrite (the column's current type decides; connect to know)"
        a.find("column-type-change", f"ALTER COLUMN {cmd.name} TYPE {shown} {verb} {table} and its indexes "
                                     f"under AccessExclusiveLock")


def _set_not_null(cmd: Any, table: str, new: bool, a: Analysis, state: FileState, catalog: Any) -> None:
    covered = state.server_version >= 12 and (
        (table, cmd.name) in state.not_null_checks or catalog.valid_not_null_check(table, cmd.name))
    if covered:
        return
    a.scan(True)
    if not new:
        a.find("set-not-null", f"SET NOT NULL on {table}.{cmd.name} scans the table under AccessExclusiveLock")


def _add_constraint(cmd: Any, table: str, new: bool, a: Analysis, state: FileState, catalog: Any) -> None:
    c = cmd.def_
    kind = c.contype
    if kind == "CONSTR_FOREIGN":
        a.lock(relname(c.pktable), SRE)
        if c.conname:
            state.foreign_keys[c.conname] = relname(c.pktable)
        if not c.skip_validation:
            a.scan(True)
            if not new:
                a.find("foreign-key-not-valid", f"ADD FOREIGN KEY on {table} scans it under ShareRowExclusiveLock "
                                                f"on {table} and {relname(c.pktable)}")
    elif kind == "CONSTR_CHECK":
        if not c.skip_validation:
            a.scan(True)
            if not new:
                a.find("check-not-valid", f"ADD CHECK on {table} scans it under AccessExclusiveLock")
        _remember_not_null_check(c, table, state, valid=not c.skip_validation)
    elif kind in ("CONSTR_UNIQUE", "CONSTR_PRIMARY", "CONSTR_EXCLUSION"):
        if not c.indexname:
            a.scan(True)
            if not new:
                a.find("unique-without-index", f"ADD {kind[7:]} on {table} builds its index under "
                                               f"AccessExclusiveLock")
        elif kind == "CONSTR_PRIMARY":
            a.scan(None)  # the columns become NOT NULL: scanned unless they already are


def _remember_not_null_check(c: Any, table: str, state: FileState, *, valid: bool) -> None:
    expr = c.raw_expr
    if getattr(expr, "tag", "") == "NullTest" and expr.nulltesttype == "IS_NOT_NULL" \
            and getattr(expr.arg, "tag", "") == "ColumnRef":
        col = getattr(expr.arg.fields[-1], "sval", "")
        if valid:
            state.not_null_checks.add((table, col))
        elif c.conname:
            state.pending_checks[c.conname] = (table, col)


def _validate(cmd: Any, table: str, new: bool, a: Analysis, state: FileState, catalog: Any) -> None:
    a.scan(True)
    pending = state.pending_checks.pop(cmd.name, None)
    if pending:
        state.not_null_checks.add(pending)
    ref = state.foreign_keys.get(cmd.name) or catalog.referenced_table(table, cmd.name)
    if ref:
        a.lock(ref, ROW_SHARE)


def _drop_constraint(cmd: Any, table: str, new: bool, a: Analysis, state: FileState, catalog: Any) -> None:
    ref = state.foreign_keys.get(cmd.name) or catalog.referenced_table(table, cmd.name)
    a.lock(ref, AEL)  # a foreign key's triggers on the referenced table go too


def _drop_column(cmd: Any, table: str, new: bool, a: Analysis, state: FileState, catalog: Any) -> None:
    if not new:
        a.find("drop-column", f"DROP COLUMN {table}.{cmd.name}: clients still selecting it break")


def _rewriting(cmd: Any, table: str, new: bool, a: Analysis, state: FileState, catalog: Any) -> None:
    a.rewrite(True)
    if not new:
        a.find("table-rewrite", f"{_REWRITING[cmd.subtype]} rewrites {table} under AccessExclusiveLock")


_SUBCOMMANDS = {"AT_AddColumn": _add_column, "AT_AlterColumnType": _type, "AT_SetNotNull": _set_not_null,
                "AT_AddConstraint": _add_constraint, "AT_ValidateConstraint": _validate,
                "AT_DropColumn": _drop_column, "AT_DropConstraint": _drop_constraint, **{k: _rewriting for k in _REWRITING}}
