"""``pg_cancel`` / ``pg_terminate``: the migration's backend by pid, application_name or query pattern
(migtui's own sessions never)."""

from __future__ import annotations

import re
import time
from typing import Any

from migtui.api import ActionResult, Field, redact
from migtui_postgres.actions.connection import ACTION_APP, OWN_APP_PREFIX, connect
from migtui_postgres.pgconn import describe_target, first_line

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
            conn.execute("SET /* migtui */ statement_timeout = '10s'")
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
            return ActionResult(False, f"{self.mode} failed: {redact(first_line(exc))}")
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
                lines.append(f"pid {pid}: permission denied ({redact(first_line(exc))}); "
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
