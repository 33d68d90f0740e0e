"""The store's DuckDB file: opening it (one writer or many readers, a clear error naming the process
that holds it, memory capped) and its schema, changed only through the numbered files in
``sql/store/`` and recorded in ``_migtui_schema``. :class:`migtui.store.Store` opens through here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from migtui.errors import StoreError, StoreLockedError

DEFAULT_MEMORY_LIMIT = "512MB"


def store_sql_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "_sql" / "store", here.parent / "sql" / "store"):
        if candidate.is_dir():
            return candidate
    raise StoreError("the store schema files sql/store are missing from this installation")


def connect(p: Path, *, read_only: bool, memory_limit: str | None) -> Any:
    """A DuckDB connection to ``p`` in UTC with its memory capped (``memory_limit``, else
    ``MIGTUI_STORE_MEMORY``, else :data:`DEFAULT_MEMORY_LIMIT`); StoreError (StoreLockedError when
    another process holds the file) in one line otherwise."""
    import duckdb

    if read_only and not p.exists():
        raise StoreError(f"{p}: store not found")
    if not read_only:
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{p}: cannot create the store's folder: {exc.strerror}") from None
    try:
        con = duckdb.connect(str(p), read_only=read_only)
    except duckdb.IOException as exc:
        msg = str(exc)
        if "lock" in msg.lower():
            pid = re.search(r"PID (\d+)", msg)
            holder = f" (process {pid.group(1)})" if pid else ""
            raise StoreLockedError(
                f"{p}: the store is in use by another running migtui{holder} and DuckDB lets only one "
                f"process open it; use another --store file, or run this again when that watch has ended "
                f"(`migtui ctl status` talks to the running watch)") from None
        raise StoreError(f"{p}: cannot open the store: {msg.splitlines()[0]}") from None
    except duckdb.Error as exc:
        raise StoreError(f"{p}: not a migtui store or damaged: {str(exc).splitlines()[0]}") from None
    con.execute("SET TimeZone = 'UTC'")
    limit = memory_limit or os.environ.get("MIGTUI_STORE_MEMORY") or DEFAULT_MEMORY_LIMIT
    if not re.fullmatch(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", limit.strip(), re.I):
        con.close()
        raise StoreError(f"memory limit {limit!r} for the store is not valid: write it like 512MB or 2GB")
    con.execute(f"SET memory_limit = '{limit.strip()}'")
    return con


def check_schema(con: Any, path: Path) -> None:
    """StoreError unless ``con`` is a migtui store (read-only opens do not migrate)."""
    try:
        con.execute("SELECT max(version) FROM _migtui_schema").fetchone()
    except Exception:  # noqa: BLE001
        raise StoreError(f"{path}: not a migtui store (no _migtui_schema table)") from None


def migrate(con: Any, path: Path) -> list[str]:
    """Apply the numbered schema files not applied yet, each in its own transaction; returns their names."""
    applied: list[str] = []
    con.execute("CREATE TABLE IF NOT EXISTS _migtui_schema (version INTEGER, name VARCHAR, applied_at TIMESTAMPTZ)")
    done = {row[0] for row in con.execute("SELECT version FROM _migtui_schema").fetchall()}
    for f in sorted(store_sql_dir().glob("*.sql")):
        m = re.match(r"^(\d{4})_.+\.sql$", f.name)
        if not m:
            raise StoreError(f"{f}: store migrations must be named NNNN_<what>.sql")
        version = int(m.group(1))
        if version in done:
            continue
        con.execute("BEGIN")
        try:
            con.execute(f.read_text(encoding="utf-8"))
            con.execute("INSERT INTO _migtui_schema VALUES (?, ?, now())", [version, f.name])
            con.execute("COMMIT")
        except Exception as exc:
            con.execute("ROLLBACK")
            raise StoreError(f"{path}: applying {f.name} failed: {exc}") from None
        applied.append(f.name)
    return applied
