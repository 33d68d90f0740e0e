"""The lint rules: id, severity, what it catches and the safe way to write it.

docs/lint.md lists the same table (a test checks that every rule here is documented)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str  # error | warn
    what: str
    fix: str


RULES = {r.id: r for r in (
    Rule("parse-error", "error", "the file does not parse as PostgreSQL SQL",
         "fix the syntax; the other files are still linted"),
    Rule("index-not-concurrent", "error",
         "CREATE INDEX without CONCURRENTLY holds a ShareLock (blocks every write) for the whole build",
         "CREATE INDEX CONCURRENTLY, outside a transaction block"),
    Rule("drop-index-not-concurrent", "warn",
         "DROP INDEX without CONCURRENTLY takes an AccessExclusiveLock on the index's table",
         "DROP INDEX CONCURRENTLY, outside a transaction block"),
    Rule("reindex-not-concurrent", "error",
         "REINDEX without CONCURRENTLY blocks writes to the table and every read through the index",
         "REINDEX ... CONCURRENTLY (PostgreSQL 12+), outside a transaction block"),
    Rule("concurrently-in-transaction", "error",
         "a CONCURRENTLY operation inside BEGIN ... COMMIT fails: it cannot run in a transaction block",
         "run it on its own, outside the transaction (most tools: a migration without a transaction)"),
    Rule("foreign-key-not-valid", "error",
         "ADD FOREIGN KEY without NOT VALID scans the table under ShareRowExclusiveLock on both tables",
         "ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT in a later statement "
         "(ShareUpdateExclusiveLock: reads and writes go on)"),
    Rule("check-not-valid", "error",
         "ADD CHECK without NOT VALID scans the table under AccessExclusiveLock",
         "ADD CONSTRAINT ... CHECK (...) NOT VALID, then VALIDATE CONSTRAINT in a later statement"),
    Rule("set-not-null", "error",
         "SET NOT NULL scans the whole table under AccessExclusiveLock",
         "ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT c; then SET NOT NULL "
         "skips the scan (PostgreSQL 12+); DROP CONSTRAINT c afterwards"),
    Rule("volatile-default", "error",
         "ADD COLUMN with a volatile default (random(), clock_timestamp(), gen_random_uuid(), a sequence) "
         "rewrites the table under AccessExclusiveLock",
         "add the column without a default (or with a constant one), SET DEFAULT for new rows, "
         "backfill old rows in batches"),
    Rule("add-column-default", "error",
         "before PostgreSQL 11, ADD COLUMN with any default rewrites the table",
         "add the column, SET DEFAULT, backfill in batches"),
    Rule("column-type-change", "error",
         "ALTER COLUMN TYPE rewrites the table (and its indexes) under AccessExclusiveLock unless the cast "
         "is binary-coercible (varchar(n) -> text or a longer varchar, numeric precision up)",
         "add a new column of the new type, backfill in batches, switch readers, drop the old one"),
    Rule("table-rewrite", "error",
         "the statement rewrites the whole table under AccessExclusiveLock "
         "(SET LOGGED/UNLOGGED, SET TABLESPACE, SET ACCESS METHOD, a STORED generated or identity column)",
         "build the new table alongside and switch, or accept a maintenance window"),
    Rule("unique-without-index", "error",
         "ADD UNIQUE / PRIMARY KEY builds its index under AccessExclusiveLock",
         "CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... UNIQUE USING INDEX "
         "(or PRIMARY KEY USING INDEX)"),
    Rule("rename-column", "warn", "renaming a column breaks every client still using the old name",
         "add the new column, write both, move readers, then drop the old one"),
    Rule("rename-table", "warn", "renaming a table breaks every client still using the old name",
         "create a view with the old name, or move clients first"),
    Rule("drop-column", "warn", "dropping a column breaks clients that still select it",
         "stop using the column in the application (ORMs: ignore it) and deploy that first"),
    Rule("drop-table", "warn", "dropping a table breaks clients that still use it and cannot be undone",
         "stop using the table first; rename it and drop it later"),
    Rule("vacuum-full", "error", "VACUUM FULL rewrites the table under AccessExclusiveLock",
         "plain VACUUM, or pg_repack / pg_squeeze to compact online"),
    Rule("cluster", "error", "CLUSTER rewrites the table under AccessExclusiveLock",
         "pg_repack --order-by, or accept a maintenance window"),
    Rule("truncate", "warn", "TRUNCATE takes an AccessExclusiveLock and empties the table",
         "DELETE in batches if the table is in use"),
    Rule("lock-table", "warn", "LOCK TABLE blocks other sessions for the rest of the transaction",
         "take the lock with a lock_timeout and keep the transaction short, or drop the explicit lock"),
    Rule("unbatched-dml", "warn",
         "UPDATE or DELETE without WHERE touches every row in one transaction (locks them all, bloats, "
         "long replication lag)",
         "update or delete in batches of a few thousand rows by key range, committing between batches"),
    Rule("missing-lock-timeout", "warn",
         "a statement takes a strong lock (ShareLock or stronger) with no lock_timeout or statement_timeout "
         "set earlier in the file: while it waits for its lock, every query on the table queues behind it",
         "SET lock_timeout = '2s' (and retry) before the statement"),
)}


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]
