"""Which tool a migration command runs and where its migrations are (`migration.command`), the
conventional layouts, and the order the file-based tools apply their files in."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from migtui.migration_files import from_command, from_layout, layouts_under, sql_files, sqitch_plan


@pytest.mark.parametrize("command, tool, path, prefix", [
    ("alembic upgrade head", "alembic", "alembic.ini", ("alembic",)),
    ("./venv/bin/alembic -c db/alembic.ini upgrade head", "alembic", "db/alembic.ini", ("./venv/bin/alembic",)),
    ("python -m alembic --config=x.ini upgrade +1", "alembic", "x.ini", ("python", "-m", "alembic")),
    ("python manage.py migrate", "django", ".", ("python", "manage.py")),
    ("python app/manage.py migrate shop", "django", "app", ("python", "app/manage.py")),
    ("flyway -locations=filesystem:db/sql migrate", "flyway", "db/sql", ()),
    ("flyway migrate", "flyway", "sql", ()),
    ("migrate -path db/migrations -database $DB up", "golang-migrate", "db/migrations", ()),
    ("migrate -source file://m -database x up 2", "golang-migrate", "m", ()),
    ("goose -dir db postgres x up", "goose", "db", ()),
    ("sqitch -C proj deploy", "sqitch", "proj", ()),
    ("sqitch deploy db:pg://x", "sqitch", ".", ()),
    ("npx prisma migrate deploy --schema db/schema.prisma", "prisma", "db/migrations", ()),
    ("npx prisma migrate deploy", "prisma", "prisma/migrations", ()),
    ("bin/rails db:migrate", "rails", ".", ()),
])
def test_the_tool_of_a_migration_command(tmp_path: Path, command: str, tool: str, path: str,
                                         prefix: tuple[str, ...]) -> None:
    project = from_command(shlex.split(command), tmp_path)
    assert project is not None and project.tool == tool
    assert project.path == (tmp_path / path if path != "." else tmp_path)
    assert project.prefix == prefix
    assert project.apps == (("shop",) if "shop" in command else ())


@pytest.mark.parametrize("command", ["./deploy.sh", "alembic downgrade -1", "python manage.py showmigrations",
                                     "migrate -path m down", "psql -f x.sql"])
def test_commands_that_apply_no_known_tools_migrations(tmp_path: Path, command: str) -> None:
    assert from_command(shlex.split(command), tmp_path) is None


def test_layouts_and_the_order_files_are_applied_in(tmp_path: Path) -> None:
    (tmp_path / "sql").mkdir()
    for name in ("V10__c.sql", "V2__b.sql", "V1_1__a.sql", "R__view.sql"):
        (tmp_path / "sql" / name).write_text("SELECT 1;\n")
    (tmp_path / "alembic.ini").write_text("")
    assert layouts_under(tmp_path) == ["alembic", "flyway"]
    alembic = from_layout("alembic", tmp_path)
    assert alembic is not None and alembic.prefix == (sys.executable, "-m", "alembic")
    flyway = from_layout("flyway", tmp_path)
    assert [Path(p).name for p, _ in sql_files(flyway)] == ["V1_1__a.sql", "V2__b.sql", "V10__c.sql"]
    assert from_layout("sqitch", tmp_path) is None

    (tmp_path / "goose").mkdir()
    (tmp_path / "goose" / "00002_b.sql").write_text("-- +goose Up\nCREATE INDEX i ON t (a);\n-- +goose Down\nDROP INDEX i;\n")
    (tmp_path / "goose" / "00001_a.sql").write_text("-- +goose Up\nSELECT 1;\n")
    [(first, _), (_, second)] = sql_files(from_command(["goose", "-dir", "goose", "up"], tmp_path))
    assert Path(first).name == "00001_a.sql"
    assert "DROP INDEX" not in second and second.count("\n") == 4  # the Down part is blank lines


def test_sqitch_plan_order_tags_comments_and_reworked_changes(tmp_path: Path) -> None:
    (tmp_path / "sqitch.plan").write_text(
        "%syntax-version=1.0.0\n%project=shop\n\n# a comment\nusers 2024-01-01T00:00:00Z A <a@x> # u\n"
        "orders [users] 2024-01-02T00:00:00Z A <a@x> # o\n@v1 2024-01-03T00:00:00Z A <a@x> # tag\n"
        "users [users@v1] 2024-01-04T00:00:00Z A <a@x> # reworked\n")
    assert sqitch_plan(tmp_path / "sqitch.plan") == ("shop", ["users", "orders"])
