"""Shared test set-up. The fixtures (pg, embedded_pg, migtui_store, make_engine) come from
migtui.testing, the pytest plugin migtui ships for plugin authors."""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_stray_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run without the operator's own migtui environment."""
    for name in ("MIGTUI_DSN", "MIGTUI_DISABLE_PLUGINS"):
        monkeypatch.delenv(name, raising=False)


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
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
