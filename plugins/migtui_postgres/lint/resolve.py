"""The pending migration of a config, linted: one function, :func:`analyse`, for the three places
that show it (the ``migtui check`` item, the cockpit's panel, and through the panel's ``lint`` events
the report).

Where its SQL comes from, first that applies:

1. ``migration.files`` (globs, relative to the config file);
2. ``migration.command`` when it runs a tool migtui knows (:func:`migtui.api.from_command`): Alembic
   (offline mode, the revisions after ``alembic current``), Django (``sqlmigrate`` of what
   ``showmigrations`` has not applied), Flyway, golang-migrate, goose, Sqitch, Prisma (their SQL files),
   Rails (:mod:`.rails`);
3. a tool detected on the server by its history table, with its project in ``migration.project`` (the
   config's folder by default) laid out the tool's conventional way (:func:`migtui.api.from_layout`).

For the file-based tools the server's history table decides what is pending (:mod:`.applied`). Alembic
and Django are asked at most every :data:`ASK_EVERY` seconds (each asks the server itself, and starts
a Python). What cannot be had (alembic not importable, sqlmigrate failing, no project where the config
says) is one line, ``error``, never an exception."""

from __future__ import annotations

import glob
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migtui.api import (ConfigError, alembic_pending, django_pending, from_command, from_layout, name_revisions, redact,
                        sql_files)
from migtui_postgres.lint.applied import has_history

ASK_EVERY = 30.0
ALEMBIC_FILE = "alembic"

# detection order: the tools whose history table names only them first
DETECT = (("alembic", "alembic_version"), ("django", "django_migrations"), ("flyway", "flyway_schema_history"),
          ("sqitch", "sqitch.changes"), ("prisma", "_prisma_migrations"), ("goose", "goose_db_version"),
          ("golang-migrate", "schema_migrations"), ("rails", "schema_migrations"))


@dataclass
class Pending:
    origin: str
    """Where the SQL came from, for messages: ``migration.files``, ``migration.command (alembic)``,
    ``alembic detected on the server``."""
    files: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    alembic_sql: str = ""
    notes: list[str] = field(default_factory=list)
    """Rails: pending versions whose SQL cannot be had without Ruby (reported, not linted)."""


def glob_files(config: Any, patterns: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """``migration.files``: ``([(path, text)], [patterns that match nothing])``."""
    found, missing = [], []
    for pattern in patterns:
        paths = sorted(glob.glob(str(config.resolve_path(pattern)), recursive=True))
        if not paths:
            missing.append(pattern)
        for p in paths:
            with open(p, encoding="utf-8", errors="replace") as fh:
                found.append((p, fh.read()))
    return found, missing


def shown_path(name: str, base: str) -> str:
    """A file under the config's folder relative to it; any other as given."""
    if base and os.path.isabs(name) and not os.path.relpath(name, base).startswith(".."):
        return os.path.relpath(name, base)
    return name


def _opts(config: Any) -> dict[str, Any]:
    return config.get("migration") or {}


def project_folder(config: Any) -> Path:
    return config.resolve_path(_opts(config).get("project") or ".")


def detected_tools(conn: Any) -> list[str]:
    """The tools whose history table is on the server (catalog lookups only, no table is opened)."""
    with conn.cursor() as cur:
        return [tool for tool, table in DETECT if has_history(cur, tool, table)]


def _project(config: Any, conn: Any) -> tuple[Any, str, str]:
    """``(ToolProject or None, origin, error)``."""
    opts = _opts(config)
    command = list(opts.get("command") or [])
    if command:
        project = from_command(command, config.path.parent)
        if project is not None:
            return project, f"migration.command ({project.tool})", ""
    if conn is None:
        return None, "", ""
    tools = detected_tools(conn)
    folder = project_folder(config)
    for tool in tools:
        project = from_layout(tool, folder)
        if project is not None:
            return project, f"{tool} detected on the server", ""
    if tools:
        return None, f"{tools[0]} detected on the server", (
            f"{', '.join(tools)} detected on the server, but no project of it under {folder}: set "
            f"migration.project (the folder with alembic.ini, manage.py, sqitch.plan, sql/, migrations/, "
            f"prisma/migrations or db/migrate) or migration.files")
    return None, "", ""


def _ask(project: Any, cache: dict[Any, Any] | None) -> Pending:
    """Alembic and Django: the tool's own answer (cached for :data:`ASK_EVERY` seconds)."""
    key = (project.tool, str(project.path), project.prefix, project.apps)
    now = time.monotonic()
    if cache is not None and key in cache and now - cache[key][0] < ASK_EVERY:
        return cache[key][1]
    option = "migration.command" if project.how == "migration.command" else "migration.project"
    pending = Pending("")
    try:
        if project.tool == "alembic":
            sql, warnings = alembic_pending(project.path, project.prefix, option=option)
            pending.warnings = [redact(w) for w in warnings]  # the tool's own error lines may name its DSN
            pending.files, pending.alembic_sql = [(ALEMBIC_FILE, sql)], sql
        else:
            pending.files = django_pending(project.path, project.apps, project.prefix, option=option)
    except ConfigError as exc:
        pending.error = redact(exc)
    if cache is not None:
        cache[key] = (now, pending)
    return pending


def resolve(config: Any, conn: Any = None, cache: dict[Any, Any] | None = None) -> Pending | None:
    """The config's pending migration, or None when the config names none (and no tool is detected)."""
    opts = _opts(config)
    if opts.get("files"):
        files, missing = glob_files(config, list(opts["files"]))
        return Pending("migration.files", files, [], f"no file matches migration.files "
                                                     f"{', '.join(repr(m) for m in missing)}" if missing else "")
    try:
        project, origin, error = _project(config, conn)
    except Exception as exc:  # noqa: BLE001 - a catalog read that fails: say so, in one line
        from migtui_postgres.pgconn import first_line

        return Pending("the server's migration history", error=f"cannot look for migration tools: {first_line(exc)}")
    if project is None:
        return Pending(origin, error=error) if error else None
    return of_project(project, conn, origin, cache)


def of_project(project: Any, conn: Any, origin: str, cache: dict[Any, Any] | None = None) -> Pending:
    """The pending migration of one tool project (:class:`migtui.api.ToolProject`)."""
    if project.tool in ("alembic", "django"):
        asked = _ask(project, cache)
        return Pending(origin, list(asked.files), list(asked.warnings), asked.error, asked.alembic_sql)
    if project.tool == "rails":
        from migtui_postgres.lint.rails import rails_pending

        return rails_pending(project.path, conn, origin)
    try:
        files = sql_files(project)
    except OSError as exc:
        return Pending(origin, error=f"{project.tool}: cannot read its migrations: {exc}")
    if not files:
        return Pending(origin, error=f"{project.tool}: no migration files in {project.path}")
    return Pending(origin, files)


def migration_sessions(config: Any) -> list[str]:
    """Globs of the application_name the migration's own sessions carry: ``migration.application_name``,
    the postgres source's ``migration_application_name``, and the name `migtui run` gives the command."""
    if config is None:
        return []
    from migtui_postgres import DEFAULT_MIGRATION_APP, migration_application_name

    mig = config.get("migration") or {}
    source_app = migration_application_name(config)
    globs = [str(mig.get("application_name") or ""), source_app]
    if mig.get("command") and not source_app:
        globs.append(DEFAULT_MIGRATION_APP)
    return [g for g in dict.fromkeys(globs) if g]


def analyse(config: Any, conn: Any = None, *, sample: float = 1.0, dsn: str = "",
            cache: dict[Any, Any] | None = None, server_version: int | None = None,
            projects: list[Any] | None = None, files: list[tuple[str, str]] | None = None) -> dict[str, Any] | None:
    """The lint result of the config's pending migration (see :func:`migtui_postgres.lint.lint`) plus
    ``origin``, ``error`` (one line, or "") and ``notes``; None when the config names no migration.
    ``conn``: an open read-only connection (kept open); else ``dsn`` is connected for this call.
    ``projects`` (tool projects, e.g. ``migtui lint --rails DIR``) and ``files`` are linted instead of
    the config's migration."""
    from migtui_postgres.lint import lint, live

    own = conn is None and bool(dsn)
    warnings: list[str] = []
    if own:
        conn, _, warning = live.connect(dsn)
        if warning:
            warnings.append(warning)
    try:
        if projects is None and files is None:
            found = resolve(config, conn, cache)
            if found is None:
                return None
            pendings = [found]
        else:
            pendings = [Pending("files" if files else "", list(files or []))] + [of_project(p, conn, p.how or p.tool, cache)
                                                                for p in projects or ()]
        all_files = [f for p in pendings for f in p.files]
        error = "; ".join(p.error for p in pendings if p.error)
        if error and not all_files:
            from migtui_postgres.lint import DEFAULT_SERVER_VERSION

            result: dict[str, Any] = {"statements": [], "errors": [], "warnings": [],
                                      "server_version": server_version or DEFAULT_SERVER_VERSION}
        else:
            result = lint(all_files, conn=conn, sample=sample, server_version=server_version,
                          own_sessions=migration_sessions(config))
        for p in pendings:
            if p.alembic_sql:
                name_revisions(result["statements"], p.alembic_sql)
                name_revisions(result["errors"], p.alembic_sql)
        result.update(origin=", ".join(p.origin for p in pendings if p.origin), error=error,
                      notes=[n for p in pendings for n in p.notes], files=len(all_files),
                      warnings=warnings + [w for p in pendings for w in p.warnings] + list(result["warnings"]))
        return result
    finally:
        if own and conn is not None:
            conn.close()


def as_lint_result(result: dict[str, Any] | None, config: Any) -> dict[str, Any]:
    """``migtui lint --config FILE`` (no files) or ``--rails DIR``: what cannot be had is an error of
    rule ``pending-migration`` (it fails the command), the notes are warnings."""
    if result is None:
        raise ConfigError(f"{config.path}: names no pending migration: set migration.files, migration.command "
                          f"(a tool migtui knows) or migration.project, or give files")
    if result["error"]:
        result["errors"].append({"file": result["origin"] or "migration", "line": 0, "message": result["error"],
                                 "rule": "pending-migration"})
    result["warnings"] = [f"pending migration from {result['origin']}"] * bool(result["origin"]) \
        + list(result["notes"]) + list(result["warnings"])
    result.setdefault("rules", {})
    return result
