"""Figure 7: ``migtui lint`` static throughput on a 10,000-statement migration file.

The file cycles through a mix of migration statements (index builds, ALTER TABLE forms, foreign keys,
renames, drops, DML, SET, DO blocks), each on its own table name. Measured: statements per second
of the analysis in process (parse + locks + findings, the plugin's ``lint_text``) and of the whole
command (``migtui lint FILE --json``, start-up included), against squawk (``squawk FILE``, the
static PostgreSQL migration linter) on the same file in the same run.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import Context, venv_bin

GOAL = 5_000
MIX = [
    "CREATE INDEX t{i}_a ON t{i} (a);",
    "CREATE INDEX CONCURRENTLY t{i}_b ON t{i} (b);",
    "ALTER TABLE t{i} ADD COLUMN c int DEFAULT 0;",
    "ALTER TABLE t{i} ADD COLUMN d uuid DEFAULT gen_random_uuid();",
    "ALTER TABLE t{i} ALTER COLUMN a TYPE bigint;",
    "ALTER TABLE t{i} ALTER COLUMN a SET NOT NULL;",
    "ALTER TABLE t{i} ADD CONSTRAINT t{i}_fk FOREIGN KEY (b) REFERENCES p{i} (id) NOT VALID;",
    "ALTER TABLE t{i} VALIDATE CONSTRAINT t{i}_fk;",
    "ALTER TABLE t{i} ADD CONSTRAINT t{i}_ck CHECK (a > 0);",
    "ALTER TABLE t{i} RENAME COLUMN e TO f;",
    "UPDATE t{i} SET a = a + 1 WHERE id BETWEEN 1 AND 5000;",
    "SET lock_timeout = '2s';",
    "DROP INDEX t{i}_old;",
    "INSERT INTO t{i} (a, b) VALUES (1, 2);",
    "DO $$ BEGIN PERFORM 1; END $$;",
    "-- migtui:ignore drop-column gone since 41\nALTER TABLE t{i} DROP COLUMN g;",
]


def make_file(path: Path, n: int) -> Path:
    path.write_text("\n".join(MIX[k % len(MIX)].format(i=k) for k in range(n)) + "\n")
    return path


def _best(fn: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run(ctx: Context) -> dict[str, Any]:
    from migtui_postgres.lint import lint_text

    n = 2_000 if ctx.quick else 10_000
    f = make_file(ctx.workdir / "lint-bench.sql", n)
    text = f.read_text()
    runs = 3 if ctx.quick else 5
    analysis_s = _best(lambda: lint_text(text, str(f)), runs)
    cli = [sys.executable, "-m", "migtui", "lint", str(f), "--json", "--fail-on", "never"]
    cli_s = _best(lambda: subprocess.run(cli, capture_output=True, check=True, timeout=300), runs)
    out: dict[str, Any] = {"statements": n, "runs": runs,
                           "analysis_s": round(analysis_s, 3), "statements_per_s": round(n / analysis_s),
                           "cli_s": round(cli_s, 3), "cli_statements_per_s": round(n / cli_s), "goal": GOAL,
                           "met": n / analysis_s >= GOAL}
    squawk = venv_bin("squawk") or shutil.which("squawk")
    if squawk:
        version = subprocess.run([squawk, "--version"], capture_output=True, text=True).stdout.strip()
        squawk_s = _best(lambda: subprocess.run([squawk, str(f)], capture_output=True, timeout=300), runs)
        out.update(squawk=version, squawk_s=round(squawk_s, 3), squawk_statements_per_s=round(n / squawk_s),
                   ratio_cli=round(cli_s / squawk_s, 2))
    else:
        out["squawk"] = "not measured: squawk not installed (pip install squawk-cli)"
    return out
