"""The SQL of a migration that has not run yet, from the migration tool itself (``migtui lint
--alembic DIR``, ``--django DIR``). Tool-generic: the tool decides what is pending, with its own
configuration and database connection.

Django: ``manage.py showmigrations --plan`` lists the unapplied migrations (``[ ]``), ``manage.py
sqlmigrate APP NAME`` prints each one's SQL, linted as ``django:APP.NAME``.

Alembic: ``alembic current`` (the project's env.py connects the way it always does) gives the applied
revision; ``alembic upgrade <current>:head --sql`` (offline mode: nothing runs) prints the SQL of the
revisions after it. That text is linted as one file (one session: a ``BEGIN`` or a ``SET lock_timeout``
carries over to the next revision, as when Alembic runs it), then each statement is named by the
revision it belongs to, ``alembic:B`` (Alembic's ``-- Running upgrade A -> B`` comments), with its line
counted from that comment. When ``current`` fails (no database), every revision is pending, with
a warning."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from migtui.errors import ConfigError

_RUNNING = re.compile(r"^-- Running upgrade (\S*) -> (\S+)", re.M)
_REVISION = re.compile(r"^([0-9A-Za-z_]+)\b", re.M)


def _project_file(path: Path, name: str, option: str) -> Path:
    """The tool's file in a project folder (or the file itself), or a clear error."""
    found = path / name if path.is_dir() else path
    if not found.is_file():
        raise ConfigError(f"{option} {path}: no {name} there")
    return found


def _run(argv: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The tool's command; one clear error when it cannot start or does not end."""
    try:
        return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise ConfigError(f"{argv[0]}: command not found (cannot ask it for the pending migration)") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"{' '.join(argv[:4])}: no answer after {timeout:g}s") from None


def _importable(prefix: tuple[str, ...], module: str) -> None:
    """``python -m MODULE`` with a Python that cannot import it: say so in one line."""
    if len(prefix) == 3 and prefix[1] == "-m" and prefix[0] == sys.executable:
        import importlib.util

        if importlib.util.find_spec(module) is None:
            raise ConfigError(f"{module} is not importable by migtui's Python ({sys.executable}): install it "
                              f"there, or set migration.command (the tool's own command) or migration.files")


def _alembic(ini: Path, *args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return _run([*(prefix or (sys.executable, "-m", "alembic")), "-c", str(ini), *args], ini.parent)


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip()[:300] if lines else "no output"


ALEMBIC = "alembic"


def alembic_pending(path: Path, prefix: tuple[str, ...] = (), option: str = "--alembic") -> tuple[str, list[str]]:
    """``(sql, warnings)``: the SQL of the pending revisions, as Alembic's offline mode prints it
    (``prefix``: the argv that runs alembic; default ``python -m alembic``)."""
    ini = _project_file(path, "alembic.ini", option)
    _importable(prefix or (sys.executable, "-m", "alembic"), "alembic")
    warnings = []
    current = _alembic(ini, "current", prefix=prefix)
    start = ""
    if current.returncode != 0:
        warnings.append(f"alembic current failed ({_last_line(current.stderr or current.stdout)}): "
                        f"every revision is linted as pending")
    else:
        revs = _REVISION.findall(current.stdout)
        start = revs[0] if revs else ""
    proc = _alembic(ini, "upgrade", f"{start}:head" if start else "head", "--sql", prefix=prefix)
    if proc.returncode != 0:
        raise ConfigError(f"alembic upgrade --sql (offline mode) failed in {ini.parent}: "
                          f"{_last_line(proc.stderr or proc.stdout)}")
    return proc.stdout, warnings


def name_revisions(items: list[dict[str, Any]], sql: str) -> None:
    """Rename each item (statement or error) of the file ``alembic`` to its revision and line in it."""
    marks = [(sql.count("\n", 0, m.start()) + 1, m.group(2)) for m in _RUNNING.finditer(sql)]
    for item in items:
        if item.get("file") != ALEMBIC:
            continue
        line = item["line"]
        before = [(start, rev) for start, rev in marks if start <= line]
        if before:
            start, rev = before[-1]
            item["file"], item["line"] = f"alembic:{rev}", line - start + 1


# -- Django

_PLAN = re.compile(r"^\[( |X)\]\s+([\w.]+)\.(\w+)", re.M)


def django_pending(project: Path, apps: tuple[str, ...] = (), prefix: tuple[str, ...] = (),
                   option: str = "--django") -> list[tuple[str, str]]:
    """``[(name, sql)]``: each unapplied migration (``showmigrations --plan``, the project's own settings
    and database) as ``sqlmigrate`` prints it, named ``django:APP.MIGRATION`` (``prefix``: the argv
    that runs manage.py; default ``python PROJECT/manage.py``)."""
    manage = _project_file(project, "manage.py", option)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return _run([*(prefix or (sys.executable, str(manage))), *args], manage.parent)

    plan = run("showmigrations", "--plan")
    if plan.returncode != 0:
        raise ConfigError(f"manage.py showmigrations failed in {manage.parent}: "
                          f"{_last_line(plan.stderr or plan.stdout)}")
    out = []
    for mark, app, name in _PLAN.findall(plan.stdout):
        if mark == "X" or (apps and app not in apps):
            continue
        sql = run("sqlmigrate", app, name)
        if sql.returncode != 0:
            raise ConfigError(f"manage.py sqlmigrate {app} {name} failed: {_last_line(sql.stderr or sql.stdout)}")
        out.append((f"django:{app}.{name}", sql.stdout))
    return out
