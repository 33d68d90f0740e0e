"""One statement's locks, rewrite, scan and findings, for a target server version.

The lock levels follow PostgreSQL's ``AlterTableGetLockLevel`` and the "Explicit Locking" chapter;
``rewrites``/``scans`` are True, False or None ("may": the catalog would tell, e.g. the column's
current type)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from migtui_postgres.lint.locks import BY_NUMBER, strong, stronger
from migtui_postgres.lint.node import const, walk
from migtui_postgres.lint.rules import RULES

AEL, SUE, SRE, SHARE = "AccessExclusiveLock", "ShareUpdateExclusiveLock", "ShareRowExclusiveLock", "ShareLock"
ROW_EXCL, ROW_SHARE, ACCESS_SHARE = "RowExclusiveLock", "RowShareLock", "AccessShareLock"

VOLATILE = {"random", "random_normal", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc",
            "uuid_generate_v4", "uuidv4", "uuidv7", "clock_timestamp", "timeofday", "nextval", "setseed"}
NOT_VOLATILE = {"now", "transaction_timestamp", "statement_timestamp", "lower", "upper", "coalesce", "to_jsonb",
                "jsonb_build_object", "json_build_object", "length", "abs", "concat", "md5"}
SERIALS = {"serial", "serial4", "serial8", "bigserial", "smallserial", "serial2"}
# reloptions whose change takes only ShareUpdateExclusiveLock (the rest: AccessExclusiveLock)
_SUE_RELOPTIONS = ("autovacuum_", "toast.autovacuum_", "fillfactor", "toast_tuple_target", "parallel_workers",
                   "log_autovacuum_min_duration", "vacuum_", "toast.vacuum_", "user_catalog_table")


@dataclass
class FileState:
    """What earlier statements of the same file changed: timeouts, an open transaction, new tables."""

    server_version: int
    timeout: bool = False
    timeout_local: bool = False  # set by SET LOCAL: ends with the transaction
    in_transaction: bool = False
    created: set[str] = field(default_factory=set)
    not_null_checks: set[tuple[str, str]] = field(default_factory=set)  # valid CHECK (col IS NOT NULL)
    pending_checks: dict[str, tuple[str, str]] = field(default_factory=dict)  # NOT VALID ones, by name
    foreign_keys: dict[str, str] = field(default_factory=dict)  # constraint name -> referenced table


@dataclass
class Analysis:
    locks: dict[str, str] = field(default_factory=dict)
    rewrites: bool | None = False
    scans: bool | None = False
    findings: list[dict[str, Any]] = field(default_factory=list)

    def lock(self, relation: str | None, mode: str) -> None:
        if relation:
            self.locks[relation] = stronger(self.locks.get(relation), mode)

    def find(self, rule_id: str, message: str = "") -> None:
        r = RULES[rule_id]
        self.findings.append({"rule": r.id, "severity": r.severity, "message": message or r.what, "fix": r.fix})

    def rewrite(self, value: bool | None) -> None:
        self.rewrites = _or(self.rewrites, value)
        self.scans = _or(self.scans, value)

    def scan(self, value: bool | None) -> None:
        self.scans = _or(self.scans, value)


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def relname(rv: Any) -> str:
    return f"{rv.schemaname}.{rv.relname}" if getattr(rv, "schemaname", None) else rv.relname


def _names(node: Any) -> list[str]:
    return [getattr(n, "sval", "") for n in (node or ())]


def volatility(expr: Any, catalog: Any) -> str | None:
    """'v' volatile, 'i' not volatile (immutable or stable), None unknown without the catalog."""
    result = "i"
    for n in walk(expr):
        name = n.tag
        if name == "FuncCall":
            fn = _names(n.funcname)[-1].lower()
            v = "v" if fn in VOLATILE else ("i" if fn in NOT_VOLATILE else catalog.volatility(fn))
            if v == "v":
                return "v"
            if v is None:
                result = None
        elif name in ("SubLink",):
            result = None
    return result


def analyze(node: Any, state: FileState, catalog: Any) -> Analysis:
    a = Analysis()
    handler = _HANDLERS.get(node.tag)
    if handler is not None:
        handler(node, a, state, catalog)
    held = [(r, m) for r, m in a.locks.items() if strong(m) and r not in state.created]
    if held and not state.timeout:
        rel, mode = held[0]
        a.find("missing-lock-timeout", f"{mode} on {rel} with no lock_timeout set earlier in the file: while it "
                                       f"waits for the lock, every query on {rel} queues behind it")
    return a


# -- statement kinds

def _set(node: Any, a: Analysis, state: FileState, catalog: Any) -> None:
    if (node.name or "").lower() in ("lock_timeout", "statement_timeout"):
        values = [const(v) for v in (node.args or ())]
        state.timeout = bool(values) and str(values[0]).strip() not in ("0", "", "None")
        state.timeout_local = state.timeout and bool(node.is_local)


def _transaction(node: Any, a: Analysis, state: FileState, catalog: Any) -> None:
    kind = node.kind
    if kind in ("TRANS_STMT_BEGIN", "TRANS_STMT_START"):
        state.in_transaction = True
    elif kind in ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK"):
        state.in_transaction = False
        if state.timeout_local:
            state.timeout = state.timeout_local = False


def _concurrently(a: Analysis, state: FileState, what: str) -> None:
    if state.in_transaction:
        a.find("concurrently-in-transaction", f"{what} CONCURRENTLY inside BEGIN ... COMMIT fails")


def _create_index(node: Any, a: Analysis, state: FileState, catalog: Any) -> None:
    table = relname(node.relation)
    if node.concurrent:
        a.lock(table, SUE)
        _concurrently(a, state, "CREATE INDEX")
    else:
        a.lock(table, SHARE)
        if table not in state.created:
            a.find("index-not-concurrent", f"CREATE INDEX on {table} blocks its writes for the whole build "
                                           f"(ShareLock)")
    a.scan(True)


def _drop(node: Any, a: Analysis, state: FileState, catalog: Any) -> None:
    kind = node.removeType
    names = [".".join(_names(o)) for o in node.objects or ()]
    if kind == "OBJECT_INDEX":
        for index in names:
            table = catalog.index_table(index)
            mode = SUE if node.concurrent else AEL
            a.lock(index, mode)
            a.lock(table, mode)
            if node.concurrent:
                _concurrently(a, state, "DROP INDEX")
            elif table not in state.created:
                a.find("drop-index-not-concurrent", f"DROP INDEX {index} takes an AccessExclusiveLock on "
                                                    f"{table or 'its table'}")
    elif kind in ("OBJECT_TABLE", "OBJECT_MATVIEW"):
        for table in names:
            a.lock(table, AEL)
            for other in catalog.fk_neighbours(table):
                a.lock(other, AEL)
            if table not in state.created:
                a.find("drop-table", f"DROP TABLE {table}: clients still using it break")
    elif kind == "OBJECT_TRIGGER":
        for obj in node.objects or ():
            parts = _names(obj)
            a.lock(".".join(parts[:-1]), AEL)


def _truncate(node: Any, a: Analysis, state: FileState, catalog: Any) -> None:
    for rv in node.relations or ():
        a.lock(relname(rv), AEL)
        a.find("truncate", f"TRUNCATE {relname(rv)} takes an AccessExclusiveLock and empties it")
    a.rewrites = True  # new, empty storage (a new relfilenode)


def _lock(node: Any, a: Analysis, state: FileState, catalog: Any) -> None:
    mode = BY_NUMBER.get(node.mode, AEL)
    for rv in node.relations or ():
        a.lock(relname(rv), mode)
    a.find("lock-table", f"LOCK TABLE ... {mode} holds it until the transaction ends")


def _vacuum(node: Any, a: Analysis, state: FileState, catalog: Any) -> None:
    full = any(d.defname == "full" for d in node.options or ())
    rels = [relname(r.relation) for r in node.rels or () if r.relation is not None]
    if not node.is_vacuumcmd:  # ANALYZE
        for r in rels:
            a.lock(r, SUE)
        return
    for r in rels:
        a.lock(r, AEL if full else SUE)
    a.scan(True)
    if full:
        a.rewrite(True)
        a.find("vacuum-full", f"VACUUM FULL {', '.join(rels) or '(every table)'} rewrites under AccessExclusiveLock")


def _cluster(node: Any, a: Analysis, state: FileState, catalog: Any) -> None:
    if node.relation is not None:
        a.lock(relname(node.relation), AEL)
    a.rewrite(True)
    a.find("cluster")


def _reindex(node: Any, a: Analysis, state: FileState, catalog: Any) -> None:
    concurrent = any(d.defname == "concurrently" for d in node.params or ())
    kind = node.kind
    if node.relation is None:
        return
    target = relname(node.relation)
    table = catalog.index_table(target) if kind == "REINDEX_OBJECT_INDEX" else target
    if concurrent:
        a.lock(table, SUE)
        _concurrently(a, state, "REINDEX")
    else:
        a.lock(table, SHARE)
        if kind == "REINDEX_OBJECT_INDEX":
            a.lock(target, AEL)
        a.find("reindex-not-concurrent")
    a.scan(True)


def _rename(node: Any, a: Analysis, state: FileState, catalog: Any) -> None:
    kind = node.renameType
    if node.relation is None:
        return
    rel = relname(node.relation)
    if kind == "OBJECT_INDEX":
        a.lock(rel, SUE if state.server_version >= 12 else AEL)
        return
    a.lock(rel, AEL)
    if rel in state.created:
        return
    if kind == "OBJECT_COLUMN":
        a.find("rename-column", f"renaming {rel}.{node.subname} to {node.newname} breaks clients using the old name")
    elif kind in ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW"):
        a.find("rename-table", f"renaming {rel} to {node.newname} breaks clients using the old name")


def _dml(node: Any, a: Analysis, state: FileState, catalog: Any) -> None:
    table = relname(node.relation)
    a.lock(table, ROW_EXCL)
    for n in walk([getattr(node, "fromClause", None), getattr(node, "usingClause", None),
                    getattr(node, "selectStmt", None), getattr(node, "whereClause", None)]):
        if n.tag == "RangeVar":
            a.lock(relname(n), ACCESS_SHARE)
    kind = node.tag
    source = getattr(node, "selectStmt", None)
    if source is not None and source.fromClause and source.whereClause is None:
        a.scan(True)  # INSERT ... SELECT of a whole table
    if kind in ("UpdateStmt", "DeleteStmt") and node.whereClause is not None:
        a.scan(None)  # the plan decides: an index, or a scan of the whole table
    if kind in ("UpdateStmt", "DeleteStmt") and node.whereClause is None:
        a.scan(True)
        if table not in state.created:
            verb = "UPDATE" if kind == "UpdateStmt" else "DELETE"
            a.find("unbatched-dml", f"{verb} of every row of {table} in one transaction")


def _select(node: Any, a: Analysis, state: FileState, catalog: Any) -> None:
    mode = ROW_SHARE if node.lockingClause else ACCESS_SHARE
    for n in walk(node.fromClause):
        if n.tag == "RangeVar":
            a.lock(relname(n), mode)
    if node.fromClause and node.whereClause is None and node.limitCount is None:
        a.scan(True)


def _create_table(node: Any, a: Analysis, state: FileState, catalog: Any) -> None:
    table = relname(node.relation)
    state.created.add(table)
    for n in walk(node.tableElts):
        if n.tag == "Constraint" and n.contype == "CONSTR_FOREIGN":
            a.lock(relname(n.pktable), SRE)
    for parent in node.inhRelations or ():
        a.lock(relname(parent), AEL if node.partbound is not None else SUE)


def _create_trigger(node: Any, a: Analysis, state: FileState, catalog: Any) -> None:
    a.lock(relname(node.relation), SRE)


from migtui_postgres.lint.alter import alter_table  # noqa: E402 - alter.py uses the helpers above

_HANDLERS = {
    "VariableSetStmt": _set, "TransactionStmt": _transaction, "IndexStmt": _create_index, "DropStmt": _drop,
    "TruncateStmt": _truncate, "LockStmt": _lock, "VacuumStmt": _vacuum, "ClusterStmt": _cluster,
    "ReindexStmt": _reindex, "RenameStmt": _rename, "UpdateStmt": _dml, "DeleteStmt": _dml,
    "InsertStmt": _dml, "SelectStmt": _select, "CreateStmt": _create_table, "CreateTrigStmt": _create_trigger,
    "AlterTableStmt": alter_table,
}
