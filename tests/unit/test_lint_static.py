"""`migtui lint` without a server: each hazard of a migration file found with file and line, the locks
by pg_locks names, rewrites and scans; ignores keep their reason; a file that does not parse is one
clear error and the other files are still linted; JSON, SARIF and the exit code follow --fail-on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

MIGRATION = """\
CREATE TABLE fresh (id int PRIMARY KEY, c int REFERENCES customers (id));
CREATE INDEX fresh_c ON fresh (c);
CREATE INDEX orders_a ON orders (a);
BEGIN;
CREATE INDEX CONCURRENTLY orders_b ON orders (b);
COMMIT;
ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES customers (id);
ALTER TABLE orders ADD CONSTRAINT ck CHECK (a > 0);
ALTER TABLE orders ADD COLUMN x uuid DEFAULT gen_random_uuid();
ALTER TABLE orders ADD COLUMN y int DEFAULT 0;
ALTER TABLE orders ALTER COLUMN a TYPE bigint;
ALTER TABLE orders ALTER COLUMN a SET NOT NULL;
ALTER TABLE orders ADD CONSTRAINT u UNIQUE (b);
ALTER TABLE orders RENAME COLUMN b TO b2;
ALTER TABLE orders RENAME TO orders2;
ALTER TABLE orders DROP COLUMN d;
DROP TABLE legacy;
DROP INDEX orders_old;
REINDEX TABLE orders;
VACUUM FULL orders;
CLUSTER orders USING orders_pkey;
TRUNCATE audit;
LOCK TABLE orders IN SHARE MODE;
UPDATE orders SET a = 1;
DELETE FROM audit;
SET lock_timeout = '2s';
-- migtui:ignore set-not-null orders has 12 rows
ALTER TABLE orders ALTER COLUMN e SET NOT NULL;
ALTER TABLE orders ADD CONSTRAINT fk2 FOREIGN KEY (c) REFERENCES customers (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT fk2;
DO $$ BEGIN PERFORM 1; END $$;
"""

EXPECTED = {  # line -> rules found there
    1: {"missing-lock-timeout"},  # the new table's foreign key: ShareRowExclusiveLock on customers
    3: {"index-not-concurrent", "missing-lock-timeout"},
    5: {"concurrently-in-transaction"},
    7: {"foreign-key-not-valid", "missing-lock-timeout"},
    8: {"check-not-valid", "missing-lock-timeout"},
    9: {"volatile-default", "missing-lock-timeout"},
    10: {"missing-lock-timeout"},
    11: {"column-type-change", "missing-lock-timeout"},
    12: {"set-not-null", "missing-lock-timeout"},
    13: {"unique-without-index", "missing-lock-timeout"},
    14: {"rename-column", "missing-lock-timeout"},
    15: {"rename-table", "missing-lock-timeout"},
    16: {"drop-column", "missing-lock-timeout"},
    17: {"drop-table", "missing-lock-timeout"},
    18: {"drop-index-not-concurrent", "missing-lock-timeout"},
    19: {"reindex-not-concurrent", "missing-lock-timeout"},
    20: {"vacuum-full", "missing-lock-timeout"},
    21: {"cluster", "missing-lock-timeout"},
    22: {"truncate", "missing-lock-timeout"},
    23: {"lock-table", "missing-lock-timeout"},
    24: {"unbatched-dml"},
    25: {"unbatched-dml"},
    28: {"set-not-null"},
}


def _lint(*args: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "migtui", "lint", *map(str, args)], capture_output=True,
                          text=True, timeout=60)


def _statements(out: str) -> dict[int, dict[str, Any]]:
    return {s["line"]: s for s in map(json.loads, out.splitlines())}


def test_every_hazard_is_found_at_its_line_with_its_locks(tmp_path: Path) -> None:
    f = tmp_path / "V2__orders.sql"
    f.write_text(MIGRATION)
    proc = _lint(f, "--json")
    assert proc.returncode == 1, proc.stderr
    st = _statements(proc.stdout)
    assert {line: {x["rule"] for x in s["findings"]} for line, s in st.items() if s["findings"]} == EXPECTED
    assert st[1]["locks"] == [{"relation": "customers", "mode": "ShareRowExclusiveLock"}]
    assert st[2]["findings"] == []  # an index on a table created in the same file is harmless
    assert st[3]["locks"] == [{"relation": "orders", "mode": "ShareLock"}] and st[3]["scans"] is True
    assert {(x["relation"], x["mode"]) for x in st[7]["locks"]} == {("orders", "ShareRowExclusiveLock"),
                                                                  ("customers", "ShareRowExclusiveLock")}
    assert st[9]["rewrites"] is True and st[10]["rewrites"] is False
    assert st[11]["rewrites"] is None and "may rewrite" in st[11]["findings"][0]["message"]
    assert st[23]["locks"] == [{"relation": "orders", "mode": "ShareLock"}]
    assert st[29]["scans"] is False and st[30]["scans"] is True
    assert st[30]["locks"] == [{"relation": "orders", "mode": "ShareUpdateExclusiveLock"},
                               {"relation": "customers", "mode": "RowShareLock"}]
    ignored = st[28]["findings"][0]
    assert ignored["ignored"] is True and ignored["reason"] == "orders has 12 rows"
    assert set(st[31]) == {"file", "line", "sql", "locks", "rewrites", "scans", "findings", "live"}
    assert st[31]["sql"].startswith("DO $$") and st[31]["file"] == str(f)


def test_old_server_versions_change_the_answer(tmp_path: Path) -> None:
    f = tmp_path / "m.sql"
    f.write_text("SET lock_timeout = '1s';\nALTER TABLE t ADD COLUMN y int DEFAULT 0;\n"
                 "ALTER TABLE t ADD CONSTRAINT c CHECK (y IS NOT NULL) NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT c;\n"
                 "ALTER TABLE t ALTER COLUMN y SET NOT NULL;\n")
    new, old = _statements(_lint(f, "--json").stdout), _statements(_lint(f, "--json", "--server-version", "10").stdout)
    assert new[2]["rewrites"] is False and old[2]["rewrites"] is True
    assert [x["rule"] for x in old[2]["findings"]] == ["add-column-default"]
    assert new[5]["scans"] is False and new[5]["findings"] == []  # the validated CHECK proves it (12+)
    assert old[5]["scans"] is True


def test_a_file_that_does_not_parse_is_one_error_and_the_others_are_linted(tmp_path: Path) -> None:
    (tmp_path / "a_bad.sql").write_text("SELECT 1;\n\nALTER TABLE orders ADD COLUM x int;\n")
    (tmp_path / "b_good.sql").write_text("CREATE INDEX i ON orders (a);\n")
    proc = _lint(tmp_path)
    assert proc.returncode == 1
    assert f"{tmp_path / 'a_bad.sql'}:3  ERROR parse-error: syntax error at or near" in proc.stdout
    assert f"{tmp_path / 'b_good.sql'}:1  CREATE INDEX i ON orders (a)" in proc.stdout
    assert "index-not-concurrent" in proc.stdout


def test_fail_on_and_sarif(tmp_path: Path) -> None:
    f = tmp_path / "m.sql"
    f.write_text("SET lock_timeout = '1s';\n-- migtui:ignore drop-column done in release 41\n"
                 "ALTER TABLE t DROP COLUMN old;\nALTER TABLE t RENAME COLUMN a TO b;\n")
    assert _lint(f).returncode == 0  # a warning does not reach the default --fail-on error
    assert _lint(f, "--fail-on", "warn").returncode == 1
    proc = _lint(f, "--sarif", "--fail-on", "never")
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    assert doc["version"] == "2.1.0"
    results = doc["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results] == [
        ("drop-column", 3), ("rename-column", 4)]
    assert results[0]["suppressions"] == [{"kind": "inSource", "justification": "done in release 41"}]
    assert {r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]} == {"drop-column", "rename-column"}


def test_an_unreachable_server_still_prints_the_static_results_with_a_warning(tmp_path: Path) -> None:
    f = tmp_path / "m.sql"
    f.write_text("CREATE INDEX i ON orders (a);\n")
    proc = _lint(f, "--dsn", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", "--fail-on", "never")
    assert proc.returncode == 0
    assert "migtui: warning: no live evidence and no catalog: cannot connect" in proc.stderr
    assert "index-not-concurrent" in proc.stdout


def test_every_rule_is_documented() -> None:
    from migtui_postgres.lint.rules import RULES

    page = (ROOT / "docs" / "lint.md").read_text()
    for rule_id in RULES:
        assert f"`{rule_id}`" in page, f"rule {rule_id} is not on docs/lint.md"


def test_set_local_lock_timeout_lasts_until_the_end_of_its_transaction(tmp_path: Path) -> None:
    f = tmp_path / "m.sql"
    f.write_text("BEGIN;\nSET LOCAL lock_timeout = '1s';\nALTER TABLE t ADD COLUMN a int;\nCOMMIT;\n"
                 "ALTER TABLE t ADD COLUMN b int;\n")
    st = _statements(_lint(f, "--json").stdout)
    assert st[3]["findings"] == []
    assert [x["rule"] for x in st[5]["findings"]] == ["missing-lock-timeout"]
