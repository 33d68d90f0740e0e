"""Where a migration tool keeps its migrations, and what it will run: from the tool's command line
(``migration.command``: ``alembic upgrade head``, ``python manage.py migrate``, ``flyway migrate``,
``migrate -path DIR up``, ``goose -dir DIR up``, ``sqitch deploy``, ``prisma migrate deploy``,
``rails db:migrate``) or from the conventional layout of a project folder. Tool-generic: the server
(which of these migrations it has applied) is the database plugin's business.

A :class:`ToolProject` names the tool, its project folder and, for the tools that must be asked
(Alembic, Django), the command prefix that runs them (the command's own executable when it came from
``migration.command``). :func:`sql_files` reads the SQL files of the file-based tools in the order the
tool applies them (Sqitch: its plan)."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

FILE_TOOLS = ("flyway", "golang-migrate", "goose", "sqitch", "prisma")
ASKED_TOOLS = ("alembic", "django")


@dataclass(frozen=True)
class ToolProject:
    tool: str
    """alembic | django | flyway | golang-migrate | goose | sqitch | prisma | rails"""
    path: Path
    """The project folder (Alembic: its ini file; Flyway, golang-migrate, goose, Prisma: the migrations folder)."""
    prefix: tuple[str, ...] = ()
    """Alembic and Django: the argv that runs the tool (``alembic``, ``python manage.py``)."""
    apps: tuple[str, ...] = field(default=())
    """Django: only these apps (``manage.py migrate APP``)."""
    how: str = ""
    """Where it came from, for messages: ``migration.command`` or ``layout``."""


def _opt(argv: list[str], *names: str) -> str | None:
    """The value of an option given as ``-x V``, ``--x V``, ``-x=V`` or ``--x=V``."""
    for i, a in enumerate(argv):
        for n in names:
            if a == n and i + 1 < len(argv):
                return argv[i + 1]
            if a.startswith(n + "="):
                return a[len(n) + 1:]
    return None


def _base(a: str) -> str:
    name = os.path.basename(a)
    return name[:-4] if name.lower().endswith(".exe") else name


def _index(argv: list[str], pred: object) -> int | None:
    for i, a in enumerate(argv):
        if pred(a):  # type: ignore[operator]
            return i
    return None


def from_command(argv: list[str], cwd: Path) -> ToolProject | None:
    """The tool a migration command runs, with its project, or None (a command migtui does not know)."""
    argv = [str(a) for a in argv]
    here = lambda p: (cwd / p) if not os.path.isabs(p) else Path(p)  # noqa: E731
    i = _index(argv, lambda a: _base(a) == "alembic")
    if i is not None and "upgrade" in argv[i + 1:]:
        ini = _opt(argv[i + 1:], "-c", "--config") or "alembic.ini"
        return ToolProject("alembic", here(ini), tuple(argv[:i + 1]), how="migration.command")
    i = _index(argv, lambda a: _base(a) == "manage.py")
    if i is not None and "migrate" in argv[i + 1:]:
        rest = argv[argv.index("migrate", i + 1) + 1:]
        apps = tuple(rest[:1]) if rest and not rest[0].startswith("-") else ()
        return ToolProject("django", here(argv[i]).parent, tuple(argv[:i + 1]), apps, how="migration.command")
    i = _index(argv, lambda a: _base(a) == "flyway")
    if i is not None and "migrate" in argv[i + 1:]:
        loc = _opt(argv[i + 1:], "-locations") or _flyway_conf(cwd) or "filesystem:sql"
        first = loc.split(",")[0]
        return ToolProject("flyway", here(first.split(":", 1)[1] if ":" in first else first), how="migration.command")
    i = _index(argv, lambda a: _base(a) == "migrate")
    if i is not None and "up" in argv[i + 1:]:
        src = _opt(argv[i + 1:], "-path", "--path") or (_opt(argv[i + 1:], "-source", "--source") or "")
        src = src[len("file://"):] if src.startswith("file://") else src
        if src:
            return ToolProject("golang-migrate", here(src), how="migration.command")
    i = _index(argv, lambda a: _base(a) == "goose")
    if i is not None and "up" in argv[i + 1:]:
        d = _opt(argv[i + 1:], "-dir", "--dir") or os.environ.get("GOOSE_MIGRATION_DIR") or "."
        return ToolProject("goose", here(d), how="migration.command")
    i = _index(argv, lambda a: _base(a) == "sqitch")
    if i is not None and "deploy" in argv[i + 1:]:
        return ToolProject("sqitch", here(_opt(argv[i + 1:], "-C", "--chdir", "--cd") or "."), how="migration.command")
    i = _index(argv, lambda a: _base(a) == "prisma")
    if i is not None and argv[i + 1:i + 3] == ["migrate", "deploy"]:
        schema = _opt(argv[i + 1:], "--schema")
        folder = here(schema).parent if schema else cwd / "prisma"
        return ToolProject("prisma", folder / "migrations", how="migration.command")
    i = _index(argv, lambda a: _base(a) in ("rails", "rake"))
    if i is not None and any(a.startswith("db:migrate") for a in argv[i + 1:]):
        return ToolProject("rails", cwd, how="migration.command")
    return None


def _flyway_conf(cwd: Path) -> str | None:
    for conf in (cwd / "flyway.conf", cwd / "conf" / "flyway.conf"):
        if conf.is_file():
            m = re.search(r"^\s*flyway\.locations\s*=\s*(\S+)", conf.read_text(errors="replace"), re.M)
            if m:
                return m.group(1)
    return None


# tool -> the folders (relative to the project folder) where it keeps its migrations by convention
LAYOUTS: dict[str, tuple[str, ...]] = {
    "alembic": ("alembic.ini",),
    "django": ("manage.py",),
    "flyway": ("sql", "db/migration", "src/main/resources/db/migration"),
    "golang-migrate": ("migrations", "db/migrations"),
    "goose": ("migrations", "db/migrations"),
    "sqitch": ("sqitch.plan",),
    "prisma": ("prisma/migrations",),
    "rails": ("db/migrate",),
}


def from_layout(tool: str, folder: Path) -> ToolProject | None:
    """The tool's project under ``folder`` by its conventional layout, or None."""
    for rel in LAYOUTS.get(tool, ()):
        p = folder / rel
        if not p.exists():
            continue
        if tool == "alembic":
            return ToolProject(tool, p, (sys.executable, "-m", "alembic"), how="layout")
        if tool == "django":
            return ToolProject(tool, folder, (sys.executable, str(p)), how="layout")
        if tool in ("sqitch", "rails"):
            return ToolProject(tool, folder, how="layout")
        return ToolProject(tool, p, how="layout")
    return None


def layouts_under(folder: Path) -> list[str]:
    """The tools whose conventional layout is under ``folder`` (a cheap look at the file system)."""
    return [tool for tool, rels in LAYOUTS.items() if any((folder / r).exists() for r in rels)]


# -- the SQL files of the file-based tools, in the order the tool applies them

_GOOSE_DOWN = re.compile(r"^--\s*\+goose\s+down\b", re.I | re.M)


def up_only(text: str) -> str:
    """A goose file's Up part: the Down part becomes blank lines (the lines keep their numbers)."""
    m = _GOOSE_DOWN.search(text)
    if m is None:
        return text
    return text[:m.start()] + "\n" * text.count("\n", m.start())


def _version_key(path: Path) -> tuple[object, ...]:
    parts = re.split(r"(\d+)", path.name)
    return tuple(int(p) if p.isdigit() else p for p in parts)


def _read(p: Path) -> str:
    return p.read_text(encoding="utf-8", errors="replace")


_PLAN_CHANGE = re.compile(r"^([^\s@#%:\[\]][^\s@#:\[\]]*)(?:\s|$)")


def sqitch_plan(plan: Path) -> tuple[str, list[str]]:
    """``(project, [change, ...])`` of a sqitch.plan: pragmas (``%project=``), changes in order (tags
    ``@``, comments ``#`` and blank lines skipped; a reworked change appears once, first place)."""
    project, changes = "", []
    for line in _read(plan).splitlines():
        s = line.strip()
        if s.startswith("%project="):
            project = s.split("=", 1)[1].strip()
        elif s and s[0] not in "%@#":
            m = _PLAN_CHANGE.match(s)
            if m and m.group(1) not in changes:
                changes.append(m.group(1))
    return project, changes


def sql_files(project: ToolProject) -> list[tuple[str, str]]:
    """``[(path, text)]`` of a file-based tool's migrations, in the order it applies them (Down parts
    and rollbacks left out). Raises OSError for a folder that is not there."""
    p = project.path
    if project.tool == "sqitch":
        _, changes = sqitch_plan(p / "sqitch.plan")
        return [(str(p / "deploy" / f"{c}.sql"), _read(p / "deploy" / f"{c}.sql"))
                for c in changes if (p / "deploy" / f"{c}.sql").is_file()]
    if not p.is_dir():
        raise FileNotFoundError(f"{p}: no such folder")
    if project.tool == "prisma":
        return [(str(q), _read(q)) for q in sorted(p.glob("*/migration.sql"))]
    if project.tool == "flyway":
        found = [q for q in p.rglob("*.sql") if re.match(r"^V\d", q.name, re.I)]
    elif project.tool == "golang-migrate":
        found = list(p.glob("*.up.sql"))
    elif project.tool == "goose":
        found = [q for q in p.glob("*.sql") if re.match(r"^\d+_", q.name)]
    else:
        return []
    return [(str(q), up_only(_read(q))) for q in sorted(found, key=_version_key)]
