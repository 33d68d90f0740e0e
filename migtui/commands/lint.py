"""``migtui lint``: the locks, rewrites, scans and hazards of migration SQL before it runs, with live
evidence when connected. The analysis is a plugin's (``migtui_sql_linters``; the postgres plugin's
for ``--type postgres``); this module reads the files, calls it and prints the result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from migtui.commands.common import duration_callback
from migtui.commands.output import echo
from migtui.safetext import json_text

SQL_SUFFIXES = (".sql",)


def _files(paths: tuple[Path, ...]) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """``[(name, text)]`` of the files and of the ``.sql`` files under the directories (sorted; a Sqitch
    project, with its ``sqitch.plan``: the plan's ``deploy/`` scripts in plan order), and an error per
    file that cannot be read."""
    from migtui.migration_files import ToolProject, sql_files, up_only

    found: list[Path] = []
    out, errors = [], []
    for p in paths:
        if p.is_dir() and (p / "sqitch.plan").is_file():
            out.extend(sql_files(ToolProject("sqitch", p)))
        elif p.is_dir():
            found.extend(sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in SQL_SUFFIXES
                                and not q.name.lower().endswith(".down.sql")))  # golang-migrate, dbmate: rollbacks
        else:
            found.append(p)
    for p in found:
        try:
            out.append((str(p), up_only(p.read_text(encoding="utf-8"))))
        except (OSError, UnicodeDecodeError) as exc:
            errors.append({"file": str(p), "line": 0, "message": f"cannot read: {exc}", "rule": "parse-error"})
    return out, errors


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--alembic", "alembic_dir", type=click.Path(exists=True, path_type=Path), metavar="DIR",
              help="Also lint the pending revisions of this Alembic project (offline mode: alembic upgrade --sql).")
@click.option("--django", "django_dir", type=click.Path(exists=True, path_type=Path), metavar="DIR",
              help="Also lint the unapplied migrations of this Django project (manage.py showmigrations, sqlmigrate).")
@click.option("--django-app", "django_apps", multiple=True, metavar="APP",
              help="With --django: only these apps (repeatable; default: every app).")
@click.option("--rails", "rails_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), metavar="DIR",
              help="Also a Rails app: its pending migrations (db/migrate versions not in schema_migrations) by "
                   "name, and what db/structure.sql creates that the server does not have yet (needs a server).")
@click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="A migtui config: its first postgres source gives the live evidence; without files, its pending "
                   "migration (migration.files, migration.command or a tool detected on the server) is linted.")
@click.option("--dsn", default="", help="Connect here (read-only, with timeouts) for the catalog and live evidence.")
@click.option("--server-version", type=int, default=None,
              help="Target major version (e.g. 15); default: the connected server's, else 18.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per statement (one per line).")
@click.option("--sarif", "as_sarif", is_flag=True, help="SARIF 2.1.0 for code scanning.")
@click.option("--fail-on", type=click.Choice(["warn", "error", "never"]), default="error", show_default=True,
              help="Exit 1 when a finding of this severity or worse is not ignored.")
@click.option("--sample", callback=duration_callback, default="5s", show_default=True, metavar="DURATION",
              help="How long to sample each table's reads and writes per second (connected only; 0s: no sample).")
@click.option("--type", "source_type", default="postgres", show_default=True,
              help="Which database's linter (a plugin registers it through migtui_sql_linters).")
def lint(paths: tuple[Path, ...], alembic_dir: Path | None, django_dir: Path | None,
         django_apps: tuple[str, ...], rails_dir: Path | None, config_path: Path | None, dsn: str,
         server_version: int | None, as_json: bool, as_sarif: bool, fail_on: str, sample: float,
         source_type: str) -> None:
    """Lint migration SQL files (or directories of .sql files): each statement's locks by pg_locks names,
    whether it rewrites or scans the table, and findings with the safe way to write it. With --dsn or
    --config, the catalog and live evidence (sizes, traffic, the sessions it would queue behind)."""
    from migtui.commands.common import implementation
    from migtui.lintout import fails, sarif, text_lines

    if as_json and as_sarif:
        raise click.UsageError("--json and --sarif are exclusive")
    if not paths and alembic_dir is None and django_dir is None and rails_dir is None and config_path is None:
        raise click.UsageError("nothing to lint: give SQL files or directories, --alembic DIR, --django DIR, "
                               "--rails DIR or --config FILE")
    config = None
    if config_path is not None:
        from migtui.commands.common import load

        config, host = load(config_path)
    else:
        from migtui.plugins import PluginHost

        host = PluginHost()
    linter = implementation(host, "sql_linter", source_type)
    files, read_errors = _files(paths)
    warnings: list[str] = []
    pending = ""
    if alembic_dir is not None:
        from migtui.pending import ALEMBIC, alembic_pending

        pending, warnings = alembic_pending(alembic_dir)
        files.append((ALEMBIC, pending))
    if django_dir is not None:
        from migtui.pending import django_pending

        files.extend(django_pending(django_dir, django_apps))
    extra: dict[str, Any] = {}
    if rails_dir is not None:
        from migtui.migration_files import ToolProject

        extra["projects"] = [ToolProject("rails", rails_dir, how="--rails")]
    result = linter(files, server_version=server_version, dsn=dsn, config=config, sample=sample, **extra)
    if pending:
        from migtui.pending import name_revisions

        name_revisions(result["statements"], pending)
        name_revisions(result["errors"], pending)
    result["errors"] = read_errors + list(result["errors"])
    result["warnings"] = warnings + list(result["warnings"])
    for w in result["warnings"]:
        echo(f"migtui: warning: {w}", err=True)
    for e in result["errors"]:
        if as_json or as_sarif:
            echo(f"migtui: error: {e['file']}:{e['line']}: {e['message']}", err=True)
    if as_sarif:
        click.echo(json_text(sarif(result, result.get("rules", {})), indent=2))
    elif as_json:
        for st in result["statements"]:
            click.echo(json_text(st))
    else:
        for line in text_lines(result):
            echo(line)
    if fails(result, fail_on):
        raise SystemExit(1)
