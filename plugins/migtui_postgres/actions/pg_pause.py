"""``pg_pause``: a dedicated connection holds ``pg_advisory_lock(key)`` while paused (one holder per DSN and key)."""

from __future__ import annotations

import threading
import time
from typing import Any

from migtui.api import ActionResult, Field, redact
from migtui_postgres.actions.connection import PAUSE_APP, connect
from migtui_postgres.pause import DEFAULT_KEY
from migtui_postgres.pgconn import close_quietly, describe_target, first_line


class _PauseHolder:
    """The one connection holding the pause lock for (dsn, key); shared by the pause and resume actions."""

    def __init__(self, dsn: str, key: int) -> None:
        self.dsn, self.key = dsn, key
        self.conn: Any = None
        self.lock = threading.Lock()
        self.since: float | None = None
        self.users = 0

    def alive(self) -> bool:
        if self.conn is None or self.conn.closed:
            return False
        try:
            self.conn.execute("SELECT /* migtui */ 1")
            return True
        except Exception:  # noqa: BLE001
            return False

    def backend_pid(self) -> int | None:
        return self.conn.info.backend_pid if self.conn is not None and not self.conn.closed else None

    def close(self) -> None:
        close_quietly(self.conn)
        self.conn = None
        self.since = None


_HOLDERS: dict[tuple[str, int], _PauseHolder] = {}
_HOLDERS_LOCK = threading.Lock()


def _holder(dsn: str, key: int) -> _PauseHolder:
    with _HOLDERS_LOCK:
        h = _HOLDERS.get((dsn, key))
        if h is None:
            h = _HOLDERS[(dsn, key)] = _PauseHolder(dsn, key)
        h.users += 1
        return h


def _release_holder(h: _PauseHolder) -> None:
    with _HOLDERS_LOCK:
        h.users -= 1
        if h.users <= 0:
            h.close()
            _HOLDERS.pop((h.dsn, h.key), None)


PAUSE_SCHEMA_FIELDS = {
    "key": Field("int", default=DEFAULT_KEY,
                 doc=f"Advisory lock key the migration checks (default {DEFAULT_KEY}, see migtui_postgres.pause)."),
    "lock_timeout": Field("duration", default=5.0, minimum=0.01,
                          doc="How long taking the pause lock may wait (a migration holds it only for an instant)."),
}


class PgPause:
    """``pg_pause``: hold (pause) or release (resume) the advisory lock on a dedicated connection."""

    undoes_pause = True  # configured under pause only, it also serves resume
    pause_scope = "session"  # the lock lives on migtui's connection: it ends when migtui exits

    def __init__(self, name: str, verb: str, opts: dict[str, Any], dsn: str) -> None:
        self.name, self.verb = name, verb
        self.confirm, self.dry_run = opts["confirm"], opts["dry_run"]
        self.timeout = max(float(opts["timeout"]), float(opts["lock_timeout"]) + float(opts["connect_timeout"]) + 2)
        self.key = int(opts["key"])
        self.lock_timeout = float(opts["lock_timeout"])
        self.connect_timeout = float(opts["connect_timeout"])
        self.dsn = dsn
        self.holder = _holder(dsn, self.key)

    def describe(self, request: Any) -> str:
        where = describe_target(self.dsn)
        if self.verb == "resume":
            return f"release advisory lock {self.key} on {where} (batched migrations go on)"
        return (f"hold advisory lock {self.key} on {where} on a dedicated connection (batched migrations "
                f"calling wait_if_paused stop before their next batch)")

    def run(self, request: Any) -> ActionResult:
        return self._resume() if self.verb == "resume" else self._pause()

    def _pause(self) -> ActionResult:
        import psycopg

        h = self.holder
        with h.lock:
            if h.since is not None and h.alive():
                return ActionResult(True, f"already paused (advisory lock {self.key} held since "
                                          f"{time.strftime('%H:%M:%S', time.localtime(h.since))})",
                                    data={"key": self.key, "pid": h.backend_pid(), "already": True})
            h.close()
            h.conn = connect(self.dsn, app=PAUSE_APP, connect_timeout=self.connect_timeout)
            try:
                h.conn.execute("SELECT /* migtui */ set_config('lock_timeout', %s, false)", [f"{int(self.lock_timeout * 1000)}ms"])
                h.conn.execute("SELECT /* migtui */ pg_advisory_lock(%s)", [self.key])
            except psycopg.errors.LockNotAvailable:
                h.close()
                return ActionResult(False, f"advisory lock {self.key} is held exclusively by another session "
                                           f"(another migtui?) and was not free within {self.lock_timeout:g}s")
            except psycopg.Error as exc:
                h.close()
                return ActionResult(False, f"cannot take advisory lock {self.key}: {redact(first_line(exc))}")
            h.since = time.time()
            return ActionResult(True, f"paused: holding advisory lock {self.key} on {describe_target(self.dsn)} "
                                      f"(backend pid {h.backend_pid()})",
                                data={"key": self.key, "pid": h.backend_pid()})

    def _resume(self) -> ActionResult:
        h = self.holder
        with h.lock:
            if h.since is None or h.conn is None:
                h.close()
                return ActionResult(True, f"not paused (advisory lock {self.key} is not held by migtui)",
                                    data={"key": self.key, "already": True})
            pid = h.backend_pid()
            released = False
            try:
                row = h.conn.execute("SELECT /* migtui */ pg_advisory_unlock(%s)", [self.key]).fetchone()
                released = bool(row and row[0])
            except Exception:  # noqa: BLE001 - closing the session releases it anyway
                pass
            h.close()
            how = "released" if released else "connection closed"
            return ActionResult(True, f"resumed: advisory lock {self.key} {how}", data={"key": self.key, "pid": pid})

    def check(self) -> bool | None:
        """While paused: True if the lock is still held, False if its session is gone; None if not paused."""
        h = self.holder
        with h.lock:
            if h.since is None:
                return None
            if h.alive():
                return True
            h.close()
            return False

    def close(self) -> None:
        _release_holder(self.holder)
