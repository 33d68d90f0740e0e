"""`migtui lint` against what PostgreSQL really does. Each statement of the corpus runs in its own
transaction on a schema with data (then rolls back); the test reads pg_locks for its own backend, the
tables' relfilenode before and after (a rewrite gives a new one) and the transaction's own scan
counters (pg_stat_xact_user_tables, sequential scans), and checks lint's locks, rewrites and scans
against them (lint's "may scan", an UPDATE or DELETE with a WHERE whose plan decides, matches either).
Lint reads the column types and constraints from the catalog, as `migtui lint --dsn` does."""

from __future__ import annotations

from typing import Any

import pytest

SCHEMA = """
CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TABLE customers (id int PRIMARY KEY, name text, email varchar(80));
CREATE UNIQUE INDEX customers_email_idx ON customers (email);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int, amount numeric(10,2), note varchar(50), status text,
                     qty integer, code char(4), created timestamptz DEFAULT now(), flag boolean);
CREATE INDEX orders_customer ON orders (customer_id);
ALTER TABLE orders ADD CONSTRAINT orders_qty_nv CHECK (qty > -1) NOT VALID;
CREATE TABLE items (id int PRIMARY KEY, order_id int, sku text);
ALTER TABLE items ADD CONSTRAINT items_order_nv FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID;
CREATE TABLE audit (id bigint, msg text);
CREATE TABLE legacy (id int);
INSERT INTO customers SELECT g, 'c' || g, 'c' || g || '@example.com' FROM generate_series(1, 500) g;
INSERT INTO orders SELECT g, 1 + g % 500, g * 1.5, 'n' || g, 'new', g % 7, 'ab', now(), true
  FROM generate_series(1, 3000) g;
INSERT INTO items SELECT g, 1 + g % 3000, 's' || g FROM generate_series(1, 2000) g;
INSERT INTO audit SELECT g, 'm' || g FROM generate_series(1, 1000) g;
INSERT INTO legacy SELECT generate_series(1, 100);
ANALYZE;
"""
TABLES = ("customers", "orders", "items", "audit", "legacy")

CORPUS = [
    "CREATE INDEX orders_status ON orders (status)",
    "CREATE UNIQUE INDEX orders_id2 ON orders (id)",
    "DROP INDEX orders_customer",
    "REINDEX TABLE orders",
    "REINDEX INDEX orders_customer",
    "ALTER TABLE orders ADD COLUMN c1 int",
    "ALTER TABLE orders ADD COLUMN c2 int DEFAULT 0",
    "ALTER TABLE orders ADD COLUMN c3 timestamptz DEFAULT now()",
    "ALTER TABLE orders ADD COLUMN c4 float8 DEFAULT random()",
    "ALTER TABLE orders ADD COLUMN c5 serial",
    "ALTER TABLE orders ADD COLUMN c6 int GENERATED ALWAYS AS (qty * 2) STORED",
    "ALTER TABLE orders ADD COLUMN c7 text NOT NULL DEFAULT 'x'",
    "ALTER TABLE orders ADD COLUMN c8 uuid DEFAULT gen_random_uuid()",
    "ALTER TABLE orders DROP COLUMN flag",
    "ALTER TABLE orders ALTER COLUMN note TYPE text",
    "ALTER TABLE orders ALTER COLUMN note TYPE varchar(100)",
    "ALTER TABLE orders ALTER COLUMN note TYPE varchar(20)",
    "ALTER TABLE orders ALTER COLUMN qty TYPE bigint",
    "ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12,2)",
    "ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12,4)",
    "ALTER TABLE orders ALTER COLUMN status TYPE varchar(200)",
    "ALTER TABLE orders ALTER COLUMN code TYPE text",
    "ALTER TABLE orders ALTER COLUMN qty SET NOT NULL",
    "ALTER TABLE orders ALTER COLUMN qty DROP NOT NULL",
    "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new'",
    "ALTER TABLE orders ALTER COLUMN status SET STATISTICS 500",
    "ALTER TABLE orders ADD CONSTRAINT ck CHECK (qty >= 0)",
    "ALTER TABLE orders ADD CONSTRAINT ck2 CHECK (qty >= 0) NOT VALID",
    "ALTER TABLE orders VALIDATE CONSTRAINT orders_qty_nv",
    "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id)",
    "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID",
    "ALTER TABLE items VALIDATE CONSTRAINT items_order_nv",
    "ALTER TABLE orders ADD CONSTRAINT u UNIQUE (id)",
    "ALTER TABLE customers ADD CONSTRAINT cu UNIQUE USING INDEX customers_email_idx",
    "ALTER TABLE orders RENAME COLUMN status TO state",
    "ALTER TABLE legacy RENAME TO legacy_old",
    "ALTER INDEX orders_customer RENAME TO oc",
    "DROP TABLE legacy",
    "DROP TABLE items",
    "TRUNCATE audit",
    "LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE",
    "LOCK TABLE customers",
    "CLUSTER orders USING orders_pkey",
    "UPDATE orders SET status = 'x'",
    "DELETE FROM audit",
    "INSERT INTO audit SELECT id, status FROM orders",
    "SELECT * FROM orders FOR UPDATE",
    "ALTER TABLE orders SET (fillfactor = 70)",
    "ALTER TABLE audit SET UNLOGGED",
    "ALTER TABLE orders DISABLE TRIGGER USER",
    "CREATE TRIGGER t BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION noop()",
    "CREATE TABLE ship (id int, order_id int REFERENCES orders (id))",
    "ANALYZE orders",
    "ALTER TABLE orders ALTER COLUMN amount TYPE numeric",
    "ALTER TABLE orders ALTER COLUMN created TYPE timestamptz",
    "ALTER TABLE orders ADD COLUMN c9 int REFERENCES customers (id)",
    "ALTER TABLE orders ADD COLUMN c10 int CHECK (c10 > 0)",
    "ALTER TABLE orders ADD COLUMN c11 bigint GENERATED ALWAYS AS IDENTITY",
    "ALTER TABLE orders REPLICA IDENTITY FULL",
    "ALTER TABLE orders ALTER COLUMN note SET STORAGE EXTERNAL",
    "ALTER TABLE orders ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE orders CLUSTER ON orders_pkey",
    "ALTER TABLE orders ALTER COLUMN qty SET (n_distinct = 100)",
    "ALTER TABLE orders SET (autovacuum_enabled = false)",
    "ALTER TABLE orders SET (parallel_workers = 2, fillfactor = 80)",
    "ALTER TABLE items DROP CONSTRAINT items_order_nv",
    "ALTER TABLE orders DROP CONSTRAINT orders_qty_nv",
    "TRUNCATE items",
    "DELETE FROM audit WHERE id < 10",
    "UPDATE customers SET name = 'x' WHERE id = 1",
    "CREATE INDEX ON orders (lower(status))",
    "ALTER TABLE orders ALTER COLUMN code TYPE char(8)",
    "ALTER TABLE orders ALTER COLUMN note TYPE varchar(50)",
]

# statements whose scan counter says nothing about a scan under the lock
SCAN_NOT_OBSERVABLE = {"TRUNCATE items"}  # rebuilding its primary key reads the new, empty storage

_OBSERVE = """
SELECT c.relname, c.oid, c.relfilenode, coalesce(s.seq_scan, 0)
FROM pg_class c LEFT JOIN pg_stat_xact_user_tables s ON s.relid = c.oid
WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY(%s)
"""
_LOCKS = """
SELECT l.relation, l.mode FROM pg_locks l
WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted AND l.relation = ANY(%s)
"""


def _observe(cur: Any) -> dict[str, tuple[int, int, int]]:
    """``{table: (oid, relfilenode, scans)}`` (a renamed or dropped table is missing afterwards)."""
    cur.execute(_OBSERVE, (list(TABLES),))
    return {name: (oid, node, scans) for name, oid, node, scans in cur.fetchall()}


def _server(conn: Any, sql: str) -> dict[str, Any]:
    """What the server did: the strongest lock per table, the tables rewritten and scanned."""
    from migtui_postgres.lint.locks import STRENGTH

    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        before = _observe(cur)
        cur.execute(sql)
        names = {oid: name for name, (oid, _, _) in before.items()}
        cur.execute(_LOCKS, (list(names),))
        locks: dict[str, str] = {}
        for oid, mode in cur.fetchall():
            rel = names[oid]
            if rel not in locks or STRENGTH[mode] > STRENGTH[locks[rel]]:
                locks[rel] = mode
        after = _observe(cur)
    rewritten = {t for t in before if t in after and after[t][1] != before[t][1]}
    scanned = {t for t in before if t in after and after[t][2] > before[t][2]}
    return {"locks": locks, "rewrites": bool(rewritten), "scans": bool(scanned)}


@pytest.fixture
def schema(pg: Any) -> Any:
    with pg.connect() as conn:
        conn.execute("DROP TABLE IF EXISTS ship, items, orders, customers, audit, legacy, legacy_old CASCADE; "
                     "DROP FUNCTION IF EXISTS noop()")
        conn.execute(SCHEMA)
    yield pg


def test_the_corpus_has_forty_statements() -> None:
    assert len(CORPUS) >= 40


def test_lint_says_what_the_server_does(schema: Any) -> None:
    from migtui_postgres.lint import lint_text
    from migtui_postgres.lint.catalog import ServerCatalog
    from migtui_postgres.pgconn import connect_monitor

    monitor = connect_monitor(schema.dsn)
    catalog = ServerCatalog(monitor)
    wrong = []
    try:
        with schema.connect() as conn:
            for sql in CORPUS:
                [st] = lint_text(sql + ";", "corpus.sql", server_version=schema.version, catalog=catalog)
                said = {"locks": {lk["relation"]: lk["mode"] for lk in st["locks"] if lk["relation"] in TABLES},
                        "rewrites": st["rewrites"], "scans": st["scans"]}
                did = _server(conn, sql)
                if said["scans"] is None or sql in SCAN_NOT_OBSERVABLE:  # "may scan": the plan decides
                    did["scans"] = said["scans"]
                if said != did:
                    wrong.append(f"{sql}\n   lint:   {said}\n   server: {did}")
    finally:
        monitor.close()
    assert not wrong, f"PostgreSQL {schema.version}:\n" + "\n".join(wrong)
