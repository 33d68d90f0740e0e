"""``pg_rollback_sql``: a .sql file from the configured folder in one transaction with timeouts."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from migtui.api import ActionError, ActionResult, Field, redact
from migtui_postgres.actions.connection import ACTION_APP, connect
from migtui_postgres.pgconn import describe_target, first_line

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
                cur.execute("SELECT /* migtui */ set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true)",
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
            output = "\n".join([*notices, *statuses, f"ERROR: {redact(first_line(exc))}"])
            reason = first_line(exc)
            if isinstance(exc, psycopg.errors.LockNotAvailable):
                reason = f"lock_timeout ({self.opts['lock_timeout']:g}s) hit: {reason}"
            return ActionResult(False, f"{path.name} failed and was rolled back: {redact(reason)}", output=output,
                                data={"file": str(path), "sha256": digest})
        finally:
            conn.close()
        return ActionResult(True, f"{path.name} ran and committed ({len(statuses)} statements)",
                            output="\n".join([*notices, *statuses]), data={"file": str(path), "sha256": digest})
