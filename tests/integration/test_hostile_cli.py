"""The command line shows text from a database user as text (issue 14, item 2): `migtui sql run` on a
session whose query holds terminal escapes prints them visibly, never to the terminal raw."""

from __future__ import annotations

import subprocess
import textwrap
import threading
from pathlib import Path

import psycopg
import pytest

from tests.conftest import migtui_cmd, wait_until

pytestmark = pytest.mark.pg


def test_sql_run_prints_a_hostile_query_visibly(pg, tmp_path: Path, cli_env: dict[str, str]) -> None:
    conn = psycopg.connect(pg.dsn, application_name="[/]", autocommit=True)
    pid = conn.info.backend_pid

    def sleep() -> None:
        try:
            conn.execute("/*\x1b]2;PWNED\x07\x1b[2J\u202e*/ SELECT pg_sleep(600)")
        except psycopg.Error:
            pass

    t = threading.Thread(target=sleep, daemon=True)
    t.start()
    config = tmp_path / "c.yaml"
    config.write_text(textwrap.dedent(f"""\
        sources:
          - {{type: postgres, name: db, dsn: "{pg.dsn}", params: {{min_seconds: 0}}}}
        """))
    try:
        with pg.connect() as c:
            wait_until(lambda: c.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s AND wait_event = 'PgSleep'",
                                         [pid]).fetchone(), "the sleeping session")
        out = subprocess.run([*migtui_cmd(), "sql", "run", "long_running", "--config", str(config)], env=cli_env,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert str(pid) in out.stdout and "[/]" in out.stdout
        assert "\x1b" not in out.stdout and "\u202e" not in out.stdout, repr(out.stdout)
        assert "/*\\x1b]2;PWNED\\x07\\x1b[2J\\u202e*/" in out.stdout, out.stdout
    finally:
        with pg.connect() as c:
            c.execute("SELECT pg_cancel_backend(%s)", [pid])
        t.join(10)
        conn.close()
