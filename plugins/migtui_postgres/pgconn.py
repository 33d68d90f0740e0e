"""PostgreSQL connections for the migration workflow (preflight, prepare, migration-tool awareness,
integrity checks), kept apart from the collector's.

Two kinds, never mixed (see DESIGN.md "SQL catalog"):

- :func:`connect_monitor`: harmless by construction: application_name ``migtui``, autocommit,
  ``default_transaction_read_only``, ``statement_timeout``, ``lock_timeout`` and
  ``idle_in_transaction_session_timeout``;
- :func:`connect_action`: a separate read-write connection for the few things that change the
  server (restore points, slots), also with timeouts.

Errors become :class:`~migtui.errors.SourceError` with the password redacted.
"""

from __future__ import annotations

import os
import re
from typing import Any

from migtui.api import Config, ConfigError, Field, Schema, SourceError, redact, validate

APPLICATION_NAME = "migtui"

_SQL_PASSWORD = re.compile(r"(?i)(\bpassword\s+)('(?:[^']|'')*'|\S+)")


def scrub_query(text: Any, limit: int = 120) -> str:
    """A query text as shown to people: ``PASSWORD '...'`` masked, known secrets redacted, cut."""
    return redact(_SQL_PASSWORD.sub(lambda m: m.group(1) + "'***'", str(text or "")))[:limit]


_LITERAL = re.compile(
    r"""(?P<keep>"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/)"""  # quoted identifiers and comments stay
    r"""|(?P<dollar>\$(?P<tag>[A-Za-z_][A-Za-z0-9_]*|)\$.*?(?:\$(?P=tag)\$|\Z))"""  # $$...$$, $x$...$x$
    r"""|(?P<estring>(?<![\w$])[eE]'(?:[^'\\]|\\.|'')*(?:'|\Z))"""  # E'...\'...'
    r"""|(?P<plain>'(?:[^']|'')*(?:'|\Z))""",  # '...''...' (an unterminated one: cut text)
    re.S)


def mask_literals(sql: str) -> str:
    """``sql`` with every string literal (plain, ``E''`` and dollar-quoted, also one cut off by the
    text limit) replaced by ``'***'``; identifiers, comments and ``$1`` placeholders stay."""
    return _LITERAL.sub(lambda m: m.group("keep") or "'***'", sql)


_DSN_ONLY = Schema({"dsn": Field("str", default="", dsn=True)}, open=True)


def close_quietly(conn: Any) -> None:
    """Close a connection that may already be broken (its close() may raise then)."""
    if conn is not None:
        try:
            conn.close()
        except Exception:  # noqa: BLE001
            pass


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def describe_target(dsn: str) -> str:
    """``host:port/dbname`` of a DSN (no user, no password), for messages."""
    import os

    try:
        from psycopg.conninfo import conninfo_to_dict

        d = conninfo_to_dict(dsn) if dsn else {}
    except Exception:  # noqa: BLE001
        return "the configured server"
    host = d.get("host") or os.environ.get("PGHOST") or "local socket"
    port = d.get("port") or os.environ.get("PGPORT") or "5432"
    db = d.get("dbname") or os.environ.get("PGDATABASE") or d.get("user") or os.environ.get("PGUSER") or ""
    return f"{host}:{port}/{db}"


def postgres_sources(config: Config) -> list[tuple[str, str]]:
    """``(name, dsn)`` of every ``type: postgres`` source of a config (``${ENV}`` resolved)."""
    out = []
    for item in config.sources_of_type("postgres"):
        opts = validate(_DSN_ONLY, item.options, item.path)
        out.append((item.name, opts["dsn"] or ""))
    return out


def source_dsn(config: Config, name: str | None = None, *, node: Any = None, path: str = "") -> tuple[str, str]:
    """The ``(name, dsn)`` of the postgres source called ``name`` (default: the first one)."""
    sources = postgres_sources(config)
    if name:
        for n, dsn in sources:
            if n == name:
                return n, dsn
        known = ", ".join(n for n, _ in sources) or "none"
        if node is not None:
            from migtui.api import error_at

            raise error_at(node, "source", path, f"no postgres source named {name!r} (postgres sources: {known})")
        raise ConfigError(f"no postgres source named {name!r} (postgres sources: {known})", file=str(config.path))
    if not sources:
        raise ConfigError("the config has no `type: postgres` source", file=str(config.path))
    return sources[0]


def _ms(seconds: float) -> str:
    return f"{max(1, int(seconds * 1000))}ms"


def connect_monitor(dsn: str, *, statement_timeout: float = 2.0, lock_timeout: float = 0.2,
                    connect_timeout: float = 5.0, application_name: str = APPLICATION_NAME) -> Any:
    """A read-only, autocommit monitoring connection with timeouts on every statement."""
    import psycopg

    options = (f"-c statement_timeout={_ms(statement_timeout)} -c lock_timeout={_ms(lock_timeout)} "
               f"-c default_transaction_read_only=on -c idle_in_transaction_session_timeout=10s")
    try:
        return psycopg.connect(dsn, autocommit=True, application_name=application_name,
                               connect_timeout=max(1, int(connect_timeout)), options=options)
    except psycopg.Error as exc:
        raise SourceError(f"cannot connect to PostgreSQL ({describe_target(dsn)}): {redact(first_line(exc))}") from None


def connect_action(dsn: str, *, statement_timeout: float = 30.0, lock_timeout: float = 2.0,
                   connect_timeout: float = 5.0, application_name: str = APPLICATION_NAME + " action") -> Any:
    """A separate read-write autocommit connection for actions (restore point, slots)."""
    import psycopg

    options = f"-c statement_timeout={_ms(statement_timeout)} -c lock_timeout={_ms(lock_timeout)}"
    try:
        return psycopg.connect(dsn, autocommit=True, application_name=application_name,
                               connect_timeout=max(1, int(connect_timeout)), options=options)
    except psycopg.Error as exc:
        raise SourceError(f"cannot connect to PostgreSQL ({describe_target(dsn)}): {redact(first_line(exc))}") from None


def is_local(dsn: str) -> bool:
    """Does ``dsn`` reach a server on this machine (a Unix socket or a loopback address)?"""
    from psycopg.conninfo import conninfo_to_dict

    try:
        hosts = str(conninfo_to_dict(dsn).get("host") or os.environ.get("PGHOST") or "").split(",")
    except Exception:  # noqa: BLE001 - a DSN psycopg cannot read is not a local one
        return False
    return all(h == "" or h.startswith("/") or h in ("localhost", "127.0.0.1", "::1") for h in hosts)
