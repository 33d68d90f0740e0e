"""What the report's statement text and index list cost the server: ``python -m bench.statements_cost``.

An embedded PostgreSQL with pg_stat_statements holding STATEMENTS distinct statements (each with a
long-ish text) and TABLES tables with two indexes each. Server-side time (``EXPLAIN ANALYZE``-free:
the wall time of the query on a local socket, median of RUNS) of ``statements_top`` (no text),
``statements_text`` asking for 20 statements, and ``index_inventory``; printed as one Markdown table
with the load average."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

STATEMENTS = 5000
TABLES = 1000
RUNS = 15


def main() -> int:
    import psycopg

    from migtui.embedded import EmbeddedPostgres
    from migtui.sqlcatalog import load_catalog
    from migtui.sqlparams import param_defaults

    load_before = os.getloadavg()
    pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="stmts-cost-")),
                          settings={"pg_stat_statements.max": str(STATEMENTS * 2)}).start()
    try:
        conn = psycopg.connect(pg.dsn, autocommit=True)
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute(f"""DO $$ BEGIN FOR i IN 1..{TABLES} LOOP
            EXECUTE format('CREATE TABLE IF NOT EXISTS t%s (id bigint PRIMARY KEY, v text)', i);
            EXECUTE format('CREATE INDEX IF NOT EXISTS t%s_v ON t%s (v)', i, i); END LOOP; END $$""")
        for i in range(STATEMENTS):  # distinct statements: different column lists, ~200 characters of text
            op = ("=", "<", ">", "<=", ">=")[i // TABLES % 5]  # 5 statements per table (queryid ignores aliases)
            conn.execute(f"SELECT id, v, length(v) AS l, upper(v) AS u, lower(v) AS w FROM t{i % TABLES + 1} "
                         f"WHERE id {op} %s AND v IS DISTINCT FROM %s /* padding {'x' * 60} */", [i, "x"])
        catalog = load_catalog()
        exts = {"pg_stat_statements": tuple(int(p) for p in conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements'").fetchone()[0].split("."))}
        ids = [r[0] for r in conn.execute("SELECT queryid FROM pg_stat_statements ORDER BY total_exec_time DESC "
                                          "LIMIT 20").fetchall()]
        rows = []
        for name, extra in (("statements_top", {}), ("statements_text", {"queryids": ids}), ("index_inventory", {})):
            q = catalog.get(name)
            sql = q.variant_for(conn.info.server_version, exts).sql
            params = {**param_defaults(q), **extra}
            times, n = [], 0
            for _ in range(RUNS):
                t0 = time.perf_counter()
                n = len(conn.execute(sql, params).fetchall())
                times.append((time.perf_counter() - t0) * 1000)
            rows.append((name, statistics.median(times), max(times), n))
        count = conn.execute("SELECT count(*) FROM pg_stat_statements").fetchone()[0]
        conn.close()
    finally:
        pg.stop()
    print(f"pg_stat_statements entries: {count:,}; {TABLES:,} tables with 2 indexes each; "
          f"load average before {[round(x, 2) for x in load_before]}, after {[round(x, 2) for x in os.getloadavg()]}\n")
    print("| Query | median | max | rows |\n|---|---|---|---|")
    for name, med, mx, n in rows:
        print(f"| {name} | {med:.1f} ms | {mx:.1f} ms | {n:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
