"""Shared test set-up. The fixtures (pg, embedded_pg, migtui_store, make_engine) come from
migtui.testing, the pytest plugin migtui ships for plugin authors."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent


PG_ENV_GROUP = "pg-env"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """What may run at the same time under ``pytest -n N --dist loadgroup`` (``make test``): every test
    of a file runs on one worker (module fixtures such as the demo run or a recorded run are set up
    once), except that every test on the ``MIGTUI_TEST_DSN`` server (``pg`` param ``env``) is in one
    group on one worker. That server is the one cluster workers share, and tests read cluster-wide
    state (pg_stat_activity, pg_locks, pg_stat_statements, replication slots, roles); each worker
    starts its own embedded server, so its cluster sees only that worker's tests, as in a serial run.
    Without xdist the marker does nothing."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_env_server = callspec is not None and callspec.params.get("pg") == "env"
        group = PG_ENV_GROUP if on_env_server else item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(autouse=True)
def _no_stray_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run without the operator's own migtui environment."""
    for name in ("MIGTUI_DSN", "MIGTUI_DISABLE_PLUGINS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def xdg_runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private, empty XDG_RUNTIME_DIR for this test (migtui's private folder, with control sockets
    named by a digest, goes in it). Short on purpose: a socket path has at most 107 bytes, which
    pytest's tmp_path under xdist (``/tmp/pytest-of-USER/pytest-N/popen-gw0/<test name>/``) can use up."""
    folder = Path(tempfile.mkdtemp(prefix="mt-xdg-"))  # mode 0700
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser", shutil.which("chromium") or "",
                           "/usr/bin/chromium-headless-shell") if p and os.path.exists(p)), None)
"""Headless Chromium for the report pictures and layout checks (.ci/run installs the Debian package)."""


def chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on ``page`` with ``args`` (a screenshot, a PDF, a DOM dump), its profile under
    ``tmp_path``; skips the test when Chromium is not installed."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium), so the page cannot be rendered")
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--no-first-run", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                           f"--user-data-dir={tmp_path / 'chromium-profile'}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


def migtui_cmd() -> list[str]:
    """The installed console script (a subprocess, as a user runs it)."""
    exe = Path(sys.executable).with_name("migtui")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "migtui"]


@pytest.fixture
def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MIGTUI_DSN", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def wait_until(probe: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Poll ``probe`` until it returns something truthy and return that; fail naming ``what`` after
    ``timeout`` seconds (a deadline that matters only when something is really broken)."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def ctl(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``migtui ctl ARGS`` in-process: (exit code, stdout, stderr)."""
    from migtui.cli import main

    code = 0
    try:
        main(["ctl", *args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@contextlib.contextmanager
def scratch_database(pg: Any) -> Iterator[str]:
    """A database created (and dropped) by this test only, on the ``pg`` fixture's server: for a test
    that creates extensions, tables, history tables or large data (the per-session database is shared
    by the whole suite). Yields its DSN; its sessions are terminated before it is dropped."""
    import psycopg
    from psycopg import sql

    name = f"migtui_scratch_{secrets.token_hex(4)}"
    with psycopg.connect(pg.admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield pg.dsn_for(name)
    finally:
        with psycopg.connect(pg.admin_dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                          "AND pid <> pg_backend_pid()", [name])
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def db(pg: Any) -> Iterator[Any]:
    """The ``pg`` server with a :func:`scratch_database` of this test's own in its place (``dsn``,
    ``dbname``, ``connect()``): for a test that creates tables, history tables or extensions."""
    import dataclasses

    from psycopg.conninfo import conninfo_to_dict

    with scratch_database(pg) as dsn:
        yield dataclasses.replace(pg, dsn=dsn, dbname=conninfo_to_dict(dsn)["dbname"])
