"""Cooperative pause for batched migrations: call :func:`wait_if_paused` between batches.

migtui pauses a migration by holding ``pg_advisory_lock(key)`` on a dedicated connection of its
own (action ``pg_pause``). A batched migration asks, before each batch, with the *non-blocking*
``pg_try_advisory_lock_shared(key)`` and releases the shared lock at once; while the answer is
false it sleeps client-side and asks again. A blocking ``pg_advisory_lock_shared`` would also
wait, but it keeps a snapshot (``backend_xmin``) for the whole pause and holds back vacuum.

Python (psycopg 3, or psycopg2)::

    from migtui_postgres.pause import wait_if_paused

    while rows_left():
        wait_if_paused(conn)           # returns at once unless migtui paused the migration
        run_one_batch(conn)
        conn.commit()

SQL (any client): before each batch run :data:`CHECK_SQL`; ``t`` means go on, ``f`` means paused
(sleep a second in the client and ask again)::

    SELECT CASE WHEN pg_try_advisory_lock_shared(120299474679145) THEN pg_advisory_unlock_shared(120299474679145)
                ELSE false END AS go;

If migtui's session ends (it exits, the network drops), the lock is gone and the migration goes on:
the pause fails open.
"""

from __future__ import annotations

import time
from typing import Any, Callable

DEFAULT_KEY = 0x6D6967747569  # 120299474679145: "migtui" in ASCII
"""The advisory lock key migtui uses unless configured otherwise (``key:`` of the ``pg_pause`` action)."""

CHECK_SQL = ("SELECT CASE WHEN pg_try_advisory_lock_shared({key}) THEN pg_advisory_unlock_shared({key}) "
             "ELSE false END AS go")
"""The one statement a migration in any language runs before a batch (format with ``key=``)."""


def check_sql(key: int = DEFAULT_KEY) -> str:
    """:data:`CHECK_SQL` for ``key`` (an integer, so it is safe to inline)."""
    return CHECK_SQL.format(key=int(key))


def _in_transaction(conn: Any) -> bool:
    info = getattr(conn, "info", None)
    status = getattr(info, "transaction_status", None)
    if status is not None:  # psycopg 3: IDLE=0, ACTIVE=1, INTRANS=2, INERROR=3
        return int(status) in (1, 2, 3)
    get = getattr(conn, "get_transaction_status", None)  # psycopg2: IDLE=0, ACTIVE=1, INTRANS=2, INERROR=3
    return bool(get is not None and get() != 0)


def is_paused(conn: Any, key: int = DEFAULT_KEY) -> bool:
    """Ask once, without waiting: True when migtui holds the pause lock.

    Outside a transaction (autocommit, or between transactions) the question leaves no transaction
    open behind it; inside the caller's transaction it simply runs there."""
    opened = not getattr(conn, "autocommit", True) and not _in_transaction(conn)
    cur = conn.cursor()
    try:
        cur.execute(check_sql(key))
        row = cur.fetchone()
    finally:
        cur.close()
    if opened:
        conn.commit()
    return not bool(row and row[0])


def wait_if_paused(conn: Any, key: int = DEFAULT_KEY, poll: float = 1.0,
                   on_wait: Callable[[float], Any] | None = None, timeout: float | None = None) -> float:
    """Return at once when the migration is not paused; otherwise sleep (client-side, ``poll``
    seconds at a time) until migtui resumes it. ``on_wait(seconds_waited)`` is called before each
    sleep (log "paused by migtui", update a progress bar). Returns the seconds waited.

    ``timeout`` (seconds, default none) raises TimeoutError when the pause lasts longer.
    Call it between batches, after the batch's commit: sleeping inside an open transaction would
    keep that transaction's locks for the whole pause."""
    started = time.monotonic()
    while is_paused(conn, key):
        waited = time.monotonic() - started
        if timeout is not None and waited >= timeout:
            raise TimeoutError(f"the migration has been paused by migtui for {waited:.0f}s (lock key {key})")
        if on_wait is not None:
            on_wait(waited)
        time.sleep(poll)
    return time.monotonic() - started
