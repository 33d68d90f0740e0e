"""``migtui lint`` for PostgreSQL: each statement of a migration file with the locks it takes (by
pg_locks names), whether it rewrites or scans the table for the target server version, and findings
with the safe way to write it; with a connection, live evidence (:mod:`.live`).

The command reaches it through the ``migtui_sql_linters`` hook; :func:`lint` is what the plugin
registers. Results are plain dicts (the JSON shape of docs/lint.md)."""

from __future__ import annotations

from typing import Any, Sequence

from migtui_postgres.lint.analyze import FileState, analyze
from migtui_postgres.lint.catalog import NoCatalog, ServerCatalog
from migtui_postgres.lint.parse import ParseFailure, split
from migtui_postgres.lint.rules import RULES

DEFAULT_SERVER_VERSION = 18


def lint_text(text: str, file: str, *, server_version: int = DEFAULT_SERVER_VERSION,
              catalog: Any = None) -> list[dict[str, Any]]:
    """One file's statements as result dicts. Raises :class:`ParseFailure`."""
    catalog = catalog or NoCatalog()
    state = FileState(server_version)
    out = []
    for st in split(text, file):
        a = analyze(st.node, state, catalog)
        findings = []
        for f in a.findings:
            if f["rule"] in st.ignores:
                f = {**f, "ignored": True, "reason": st.ignores[f["rule"]]}
            findings.append(f)
        out.append({"file": file, "line": st.line, "sql": st.sql,
                    "locks": [{"relation": r, "mode": m} for r, m in a.locks.items()],
                    "rewrites": a.rewrites, "scans": a.scans, "findings": findings, "live": None})
    return out


def lint(files: list[tuple[str, str]], *, server_version: int | None = None, dsn: str = "",
         sample: float = 5.0, conn: Any = None, own_sessions: Sequence[str] = ()) -> dict[str, Any]:
    """Lint ``[(file name, text)]``: ``{"statements": [...], "errors": [{file, line, message}],
    "warnings": [str], "server_version": N, "rules": {id: {severity, what, fix}}}``. With ``dsn`` (or an
    open read-only ``conn`` of :func:`.live.connect`, left open), files the server has applied already
    (the tools' history tables, :mod:`.applied`) are left out, the catalog decides what the text alone
    cannot (a column's current type) and each statement gets its ``live`` evidence (sessions whose
    application_name matches a glob of ``own_sessions`` are the migration's own and block nothing); a
    server that cannot be reached leaves the static results and a warning."""
    from migtui_postgres.lint import live

    warnings: list[str] = []
    own = conn is None and bool(dsn)
    if own:
        conn, _, warning = live.connect(dsn)
        if warning:
            warnings.append(warning)
    catalog: Any = NoCatalog()
    if conn is not None:
        from migtui_postgres.lint.applied import pending_only

        catalog = ServerCatalog(conn)
        server_version = server_version or conn.info.server_version // 10000
        try:
            files, notes = pending_only(conn, files)
            warnings.extend(notes)
        except Exception as exc:  # noqa: BLE001 - a history that cannot be read: lint every file
            warnings.append(f"cannot read the migration history, every file is linted: {exc}")
    version = server_version or DEFAULT_SERVER_VERSION
    statements: list[dict[str, Any]] = []
    errors = []
    try:
        for name, text in files:
            try:
                statements.extend(lint_text(text, name, server_version=version, catalog=catalog))
            except ParseFailure as exc:
                errors.append({"file": exc.file, "line": exc.line, "message": exc.message, "rule": "parse-error"})
        if conn is not None:
            warnings.extend(live.attach(conn, statements, sample=sample, own_sessions=own_sessions))
    finally:
        if own and conn is not None:
            conn.close()
    return {"statements": statements, "errors": errors, "warnings": warnings, "server_version": version,
            "rules": {r.id: {"severity": r.severity, "what": r.what, "fix": r.fix} for r in RULES.values()}}


__all__ = ["RULES", "lint", "lint_text"]
