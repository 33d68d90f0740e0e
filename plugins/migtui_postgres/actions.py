"""PostgreSQL actions: cooperative pause, cancel / terminate of the migration's backend, rollback SQL.

Every action opens its own connection (application_name ``migtui-action``, or ``migtui-pause`` for
the connection holding the pause lock), never the monitoring one. The DSN is the action's ``dsn``
option or the ``dsn`` of a postgres source (``source: NAME``; default the first postgres source).
Identifiers and values from the config reach SQL only as bound parameters or through
:mod:`psycopg.sql` quoting.

Types:

``pg_pause`` (verbs pause, resume)
    pause: the dedicated connection takes ``pg_advisory_lock(key)`` and keeps it; resume releases
    it and closes the connection. Both are idempotent. Migrations check between batches with
    :func:`migtui_postgres.pause.wait_if_paused` (or the SQL in :data:`migtui_postgres.pause.CHECK_SQL`).
``pg_cancel`` / ``pg_terminate`` (verbs pause, rollback, cancel, terminate)
    the migration's backend by ``pid`` (or the request's target pid), ``application_name`` or a
    ``query`` regular expression; cancel acts on active statements (an idle-in-transaction session
    ignores a cancel: use terminate, or ``terminate_idle_in_transaction: true``); terminate ends the
    session. migtui's own sessions (application_name ``migtui*``) are never touched.
``pg_rollback_sql`` (verb rollback)
    runs a .sql file from the configured folder in one transaction with ``lock_timeout`` and
    ``statement_timeout``; notices and each statement's status are the output.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from pathlib import Path
from typing import Any

from migtui.api import (ActionError, ActionResult, ConfigError, Field, Schema, common_fields, error_at, hookimpl,
                        redact, validate)
from migtui_postgres.pause import DEFAULT_KEY
from migtui_postgres.pgconn import close_quietly, describe_target

ACTION_APP = "migtui-action"
PAUSE_APP = "migtui-pause"
OWN_APP_PREFIX = "migtui"


def _conn_fields() -> dict[str, Field]:
    return {
        "source": Field("str", doc="The postgres source whose dsn to use (default: the first postgres source)."),
        "dsn": Field("str", dsn=True, doc="Connection string for this action (default: the source's dsn)."),
        "connect_timeout": Field("duration", default=5.0, minimum=1),
    }


# --------------------------------------------------------------------------- helpers


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def resolve_dsn(ctx: Any, opts: dict[str, Any]) -> str:
    """The action's ``dsn`` option, else the named (or first) postgres source's dsn."""
    if opts.get("dsn"):
        return str(opts["dsn"])
    sources = ctx.config.sources_of_type("postgres")
    name = opts.get("source")
    if name:
        item = next((s for s in sources if s.name == name), None)
        if item is None:
            names = ", ".join(s.name for s in sources) or "none"
            raise error_at(ctx.options, "source", f"{ctx.path}.source",
                           f"no postgres source named {name!r} (postgres sources: {names})")
    else:
        if not sources:
            raise error_at(ctx.options, None, ctx.path,
                           "needs a dsn: set 'dsn' or 'source', or add a postgres source")
        item = sources[0]
    collector = (ctx.sources or {}).get(item.name)
    if collector is not None and isinstance(getattr(collector, "dsn", None), str):
        return collector.dsn
    from migtui_postgres.collector import SCHEMA as SOURCE_SCHEMA

    return str(validate(SOURCE_SCHEMA, item.options, item.path)["dsn"] or "")


def connect(dsn: str, *, app: str, connect_timeout: float, autocommit: bool = True) -> Any:
    import psycopg

    try:
        return psycopg.connect(dsn, autocommit=autocommit, application_name=app,
                               connect_timeout=max(1, int(connect_timeout)))
    except psycopg.Error as exc:
        raise ActionError(f"cannot connect to PostgreSQL ({describe_target(dsn)}): {redact(_first_line(exc))}") from None


# --------------------------------------------------------------------------- pause


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
                h.conn.execute("SELECT set_config('lock_timeout', %s, false)", [f"{int(self.lock_timeout * 1000)}ms"])
                h.conn.execute("SELECT /* migtui */ pg_advisory_lock(%s)", [self.key])
            except psycopg.errors.LockNotAvailable:
                h.close()
                return ActionResult(False, f"advisory lock {self.key} is held exclusively by another session "
                                           f"(another migtui?) and was not free within {self.lock_timeout:g}s")
            except psycopg.Error as exc:
                h.close()
                return ActionResult(False, f"cannot take advisory lock {self.key}: {redact(_first_line(exc))}")
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


# --------------------------------------------------------------------------- cancel / terminate


TARGET_FIELDS = {
    "pid": Field("int", doc="The backend to act on (a request's target pid takes precedence)."),
    "application_name": Field("str", doc="Act on sessions with this application_name."),
    "query": Field("str", doc="Act on sessions whose query matches this regular expression (PostgreSQL ~)."),
    "terminate_idle_in_transaction": Field(
        "bool", default=False, doc="pg_cancel: terminate matching idle-in-transaction sessions (a cancel does not end them)."),
    "wait": Field("duration", default=5.0, doc="pg_terminate: how long to wait for the session to end."),
}

_FIND = """
SELECT /* migtui */ pid, state, coalesce(application_name, ''), left(coalesce(query, ''), 200)
FROM pg_stat_activity
WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
  AND coalesce(application_name, '') NOT LIKE 'migtui%%'
  AND {cond}
ORDER BY pid
"""


class PgSignal:
    """``pg_cancel`` / ``pg_terminate`` of the migration's backend(s)."""

    pause_scope = "instant"  # a signal: nothing stays in force to be resumed

    def __init__(self, name: str, verb: str, mode: str, opts: dict[str, Any], dsn: str,
                 default_app: str = "") -> None:
        self.name, self.verb, self.mode = name, verb, mode
        self.confirm, self.dry_run, self.timeout = opts["confirm"], opts["dry_run"], opts["timeout"]
        self.opts, self.dsn = opts, dsn
        self.default_app = default_app
        if opts.get("query"):
            try:
                re.compile(opts["query"])
            except re.error:
                pass  # PostgreSQL's regex dialect differs a little; the server is the judge

    def _selector(self, request: Any) -> tuple[str, Any] | None:
        pid = (request.target or {}).get("pid") if request is not None else None
        if pid is not None:
            return "pid", int(pid)
        if self.opts.get("pid"):
            return "pid", int(self.opts["pid"])
        if self.opts.get("application_name"):
            return "application_name", self.opts["application_name"]
        if self.opts.get("query"):
            return "query", self.opts["query"]
        if self.default_app:
            return "application_name", self.default_app
        return None

    def describe(self, request: Any) -> str:
        sel = self._selector(request)
        what = {"pid": "pid {}", "application_name": "sessions with application_name {!r}",
                "query": "sessions whose query matches {!r}"}[sel[0]].format(sel[1]) if sel else "(no target given)"
        where = describe_target(self.dsn)
        if self.mode == "cancel":
            extra = " and terminate them when idle in transaction" if self.opts["terminate_idle_in_transaction"] else ""
            return f"pg_cancel_backend on the active statement of {what} on {where}{extra}"
        return f"pg_terminate_backend {what} on {where} (rolls back its transaction, frees its locks)"

    def run(self, request: Any) -> ActionResult:
        import psycopg
        from psycopg import sql

        sel = self._selector(request)
        if sel is None:
            return ActionResult(False, f"{self.mode}: no target (give a pid, or configure pid, application_name "
                                       "or query)")
        kind, value = sel
        col = {"pid": "pid", "application_name": "application_name", "query": "query"}[kind]
        op = sql.SQL("~") if kind == "query" else sql.SQL("=")
        cond = sql.SQL("{} {} %s").format(sql.Identifier(col), op)
        conn = connect(self.dsn, app=ACTION_APP, connect_timeout=self.opts["connect_timeout"])
        try:
            conn.execute("SET statement_timeout = '10s'")
            if kind == "pid":
                own = conn.execute(
                    "SELECT /* migtui */ coalesce(application_name, ''), backend_type FROM pg_stat_activity "
                    "WHERE pid = %s", [value]).fetchone()
                if own is None:
                    return ActionResult(True, f"nothing to {self.mode}: no session with pid {value} (already gone)",
                                        data={"matched": 0, "pid": value})
                if value == conn.info.backend_pid or own[0].startswith(OWN_APP_PREFIX):
                    return ActionResult(False, f"refusing to {self.mode} pid {value}: it is one of migtui's own "
                                               f"sessions ({own[0]})", data={"pid": value})
                if own[1] != "client backend":
                    return ActionResult(False, f"refusing to {self.mode} pid {value}: it is a {own[1]}, not a "
                                               "client session", data={"pid": value})
            query = sql.SQL(_FIND).format(cond=cond)
            rows = conn.execute(query, [value]).fetchall()
            if kind != "pid" and kind == "application_name" and str(value).startswith(OWN_APP_PREFIX):
                rows = []
            return self._signal(conn, rows, kind, value)
        except psycopg.Error as exc:
            return ActionResult(False, f"{self.mode} failed: {redact(_first_line(exc))}")
        finally:
            conn.close()

    def _signal(self, conn: Any, rows: list[tuple[Any, ...]], kind: str, value: Any) -> ActionResult:
        import psycopg

        if not rows:
            return ActionResult(True, f"nothing to {self.mode}: no session matches {kind} {value!r}",
                                data={"matched": 0})
        lines, done, skipped, failed = [], [], [], []
        for pid, state, app, query in rows:
            op = self.mode
            if self.mode == "cancel" and state != "active":
                if state and state.startswith("idle in transaction") and self.opts["terminate_idle_in_transaction"]:
                    op = "terminate"
                else:
                    skipped.append(pid)
                    hint = " (use terminate for an idle-in-transaction session)" if state and "transaction" in state else ""
                    lines.append(f"pid {pid} [{state}] not cancelled: no active statement{hint}")
                    continue
            try:
                if op == "cancel":
                    ok = conn.execute("SELECT /* migtui */ pg_cancel_backend(%s)", [pid]).fetchone()[0]
                else:
                    ok = conn.execute("SELECT /* migtui */ pg_terminate_backend(%s)", [pid]).fetchone()[0]
                    if ok:
                        ok = self._wait_gone(conn, pid)
            except psycopg.errors.InsufficientPrivilege as exc:
                ok = False
                lines.append(f"pid {pid}: permission denied ({redact(_first_line(exc))}); "
                             "grant pg_signal_backend to the action role")
            (done if ok else failed).append(pid)
            lines.append(f"pid {pid} [{state}] {app or '-'}: {op} {'sent' if ok else 'FAILED'}; query: {query}")
        verb = "cancelled" if self.mode == "cancel" else "terminated"
        ok = bool(done) and not failed
        if not done and not failed:
            msg = f"nothing {verb}: {len(skipped)} matching session(s) had no active statement"
            ok = False
        else:
            msg = f"{verb} {len(done)} session(s)" + (f", {len(failed)} failed" if failed else "") + \
                  (f", {len(skipped)} skipped" if skipped else "")
        return ActionResult(ok, msg, output="\n".join(lines),
                            data={"matched": len(rows), "done": done, "failed": failed, "skipped": skipped})

    def _wait_gone(self, conn: Any, pid: int) -> bool:
        deadline = time.monotonic() + float(self.opts["wait"])
        while True:
            row = conn.execute("SELECT /* migtui */ count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
            if not row[0]:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)


# --------------------------------------------------------------------------- rollback SQL

_TXN_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|START\s+TRANSACTION|END|ABORT)\s*(;|$)", re.I | re.M)

ROLLBACK_FIELDS = {
    "file": Field("path", required=True, doc="The .sql file to run (relative to `dir`)."),
    "dir": Field("path", doc="The only folder rollback files may come from (default: the config file's folder)."),
    "lock_timeout": Field("duration", default=2.0, minimum=0.001, doc="lock_timeout inside the transaction."),
    "statement_timeout": Field("duration", default=300.0, minimum=0.001, doc="statement_timeout inside the transaction."),
}


class PgRollbackSql:
    """``pg_rollback_sql``: run a configured .sql file in one transaction with lock_timeout."""

    def __init__(self, name: str, verb: str, opts: dict[str, Any], dsn: str, folder: Path, file: Path) -> None:
        self.name, self.verb = name, verb
        self.confirm, self.dry_run = opts["confirm"], opts["dry_run"]
        # never give up on a rollback that PostgreSQL is still allowed to run
        self.timeout = max(float(opts["timeout"]), float(opts["statement_timeout"]) + float(opts["connect_timeout"]) + 5)
        self.opts, self.dsn, self.folder, self.file = opts, dsn, folder, file

    def _resolve(self, request: Any) -> Path:
        chosen = (request.target or {}).get("file") if request is not None else None
        if not chosen:
            return self.file
        path = (self.folder / str(chosen)).resolve()
        if not path.is_relative_to(self.folder) or path.suffix != ".sql":
            raise ActionError(f"rollback file {chosen!r} is not a .sql file inside {self.folder}")
        return path

    def describe(self, request: Any) -> str:
        try:
            path = self._resolve(request)
            text = path.read_text(encoding="utf-8")
            digest = hashlib.sha256(text.encode()).hexdigest()[:12]
            size = f"{len(text.splitlines())} lines, sha256 {digest}"
        except (OSError, ActionError) as exc:
            return f"run rollback SQL: {exc}"
        return (f"run {path} ({size}) in one transaction on {describe_target(self.dsn)} with lock_timeout "
                f"{self.opts['lock_timeout']:g}s, statement_timeout {self.opts['statement_timeout']:g}s")

    def run(self, request: Any) -> ActionResult:
        import psycopg

        try:
            path = self._resolve(request)
            text = path.read_text(encoding="utf-8")
        except ActionError as exc:
            return ActionResult(False, str(exc))
        except (OSError, UnicodeDecodeError) as exc:
            return ActionResult(False, f"cannot read {self.file}: {exc}")
        if _TXN_CONTROL.search(text):
            return ActionResult(False, f"{path.name} controls its own transaction (BEGIN/COMMIT); migtui runs the "
                                       "file in one transaction itself: remove those lines")
        notices: list[str] = []
        conn = connect(self.dsn, app=ACTION_APP, connect_timeout=self.opts["connect_timeout"], autocommit=False)
        conn.add_notice_handler(lambda d: notices.append(f"{d.severity}: {d.message_primary}"))
        statuses: list[str] = []
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true)",
                            [f"{int(self.opts['lock_timeout'] * 1000)}ms",
                             f"{int(self.opts['statement_timeout'] * 1000)}ms"])
                cur.execute(text.encode("utf-8"), prepare=False)
                while True:
                    if cur.statusmessage:
                        line = cur.statusmessage
                        if cur.description is not None:
                            rows = cur.fetchmany(20)
                            line += "".join(f"\n  {tuple(r)}" for r in rows)
                        statuses.append(line)
                    if not cur.nextset():
                        break
            conn.commit()
        except psycopg.Error as exc:
            try:
                conn.rollback()
            except Exception:  # noqa: BLE001
                pass
            output = "\n".join([*notices, *statuses, f"ERROR: {redact(_first_line(exc))}"])
            reason = _first_line(exc)
            if isinstance(exc, psycopg.errors.LockNotAvailable):
                reason = f"lock_timeout ({self.opts['lock_timeout']:g}s) hit: {reason}"
            return ActionResult(False, f"{path.name} failed and was rolled back: {redact(reason)}", output=output,
                                data={"file": str(path), "sha256": digest})
        finally:
            conn.close()
        return ActionResult(True, f"{path.name} ran and committed ({len(statuses)} statements)",
                            output="\n".join([*notices, *statuses]), data={"file": str(path), "sha256": digest})


# --------------------------------------------------------------------------- factories


def _schema(verb: str, *fields: dict[str, Field]) -> Schema:
    merged: dict[str, Field] = {**common_fields(verb)}
    for f in fields:
        merged.update(f)
    return Schema(merged)


def build_pause(ctx: Any, verb: str = "pause") -> PgPause:
    opts = validate(_schema(verb, _conn_fields(), PAUSE_SCHEMA_FIELDS), ctx.options, ctx.path)
    return PgPause(ctx.name, verb, opts, resolve_dsn(ctx, opts))


def _default_app(ctx: Any, opts: dict[str, Any]) -> str:
    sources = ctx.config.sources_of_type("postgres")
    name = opts.get("source")
    item = next((s for s in sources if s.name == name), None) if name else (sources[0] if sources else None)
    if item is None:
        return ""
    try:
        from migtui_postgres.collector import SCHEMA as SOURCE_SCHEMA

        return str(validate(SOURCE_SCHEMA, item.options, item.path).get("migration_application_name") or "")
    except ConfigError:
        return ""


def _build_signal(mode: str) -> Any:
    def build(ctx: Any, verb: str = mode) -> PgSignal:
        opts = validate(_schema(verb, _conn_fields(), TARGET_FIELDS), ctx.options, ctx.path)
        return PgSignal(ctx.name, verb, mode, opts, resolve_dsn(ctx, opts), default_app=_default_app(ctx, opts))

    return build


def build_rollback_sql(ctx: Any, verb: str = "rollback") -> PgRollbackSql:
    opts = validate(_schema(verb, _conn_fields(), ROLLBACK_FIELDS), ctx.options, ctx.path)
    folder = ctx.config.resolve_path(opts["dir"]) if opts.get("dir") else ctx.config.path.parent
    folder = folder.resolve()
    file = (folder / opts["file"]).resolve()
    if not file.is_relative_to(folder):
        raise error_at(ctx.options, "file", f"{ctx.path}.file",
                       f"{opts['file']} is outside the rollback folder {folder}; set 'dir' to allow another folder")
    if file.suffix != ".sql":
        raise error_at(ctx.options, "file", f"{ctx.path}.file", "expected a .sql file")
    if not file.is_file():
        raise error_at(ctx.options, "file", f"{ctx.path}.file", f"file not found: {file}")
    return PgRollbackSql(ctx.name, verb, opts, resolve_dsn(ctx, opts), folder, file)


def _options(*fields: dict[str, Field]) -> Any:
    """The schema of an action type's options for a verb (for the config reference)."""
    return lambda verb: _schema(verb, _conn_fields(), *fields)


@hookimpl
def migtui_action_types(register: Any) -> None:
    register("pg_pause", build_pause, verbs=("pause", "resume"), schema=_options(PAUSE_SCHEMA_FIELDS),
             doc="Cooperative pause: hold an advisory lock that batched migrations check between batches.")
    register("pg_cancel", _build_signal("cancel"), verbs=("pause", "rollback", "cancel"),
             schema=_options(TARGET_FIELDS), implicit_for="postgres",
             doc="Cancel the migration's active statement (pid, application_name or query pattern).")
    register("pg_terminate", _build_signal("terminate"), verbs=("pause", "rollback", "terminate"),
             schema=_options(TARGET_FIELDS), implicit_for="postgres",
             doc="Terminate the migration's session (e.g. an idle-in-transaction blocker).")
    register("pg_rollback_sql", build_rollback_sql, verbs=("rollback",), schema=_options(ROLLBACK_FIELDS),
             doc="Run a rollback .sql file in one transaction with lock_timeout.")
