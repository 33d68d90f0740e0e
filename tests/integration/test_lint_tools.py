"""`migtui lint --alembic DIR` and `--django DIR`: only the revisions the database has not applied yet are linted, each
named by its revision, from the tool itself (Alembic offline mode, Django sqlmigrate; nothing runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


ENV = '''
import os
from alembic import context

if context.is_offline_mode():
    context.configure(url="postgresql://", literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    import psycopg
    from sqlalchemy import create_engine

    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(os.environ["LINT_TARGET"]))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()
'''
REV1 = '''
from alembic import op
revision = "a1"
down_revision = None

def upgrade():
    op.execute("CREATE TABLE al_orders (id int PRIMARY KEY, note text)")
'''
REV2 = '''
from alembic import op
revision = "b2"
down_revision = "a1"

def upgrade():
    op.create_index("al_orders_note", "al_orders", ["note"])
    op.execute("ALTER TABLE al_orders ALTER COLUMN note SET NOT NULL")
'''


def _project(tmp: Path) -> Path:
    (tmp / "versions").mkdir(parents=True)
    (tmp / "alembic.ini").write_text(f"[alembic]\nscript_location = {tmp}\n")
    (tmp / "env.py").write_text(ENV)
    (tmp / "script.py.mako").write_text("")
    (tmp / "versions" / "a1.py").write_text(REV1)
    (tmp / "versions" / "b2.py").write_text(REV2)
    return tmp


def test_only_the_pending_revision_is_linted(db: Any, tmp_path: Path) -> None:
    with db.connect() as conn:
        conn.execute("DROP TABLE IF EXISTS al_orders, alembic_version")
    project = _project(tmp_path / "alembic")
    env = {**os.environ, "LINT_TARGET": db.dsn}
    subprocess.run([sys.executable, "-m", "alembic", "-c", str(project / "alembic.ini"), "upgrade", "a1"],
                   env=env, check=True, capture_output=True, timeout=120)
    proc = subprocess.run([sys.executable, "-m", "migtui", "lint", "--alembic", str(project), "--json",
                           "--dsn", db.dsn, "--sample", "0s"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    st = [json.loads(line) for line in proc.stdout.splitlines()]
    assert {s["file"] for s in st if s["locks"] or s["findings"]} == {"alembic:b2"}
    assert [s["sql"] for s in st if s["file"] == "alembic"] == ["BEGIN"]  # before the first revision
    rules = {f["rule"] for s in st for f in s["findings"]}
    assert {"index-not-concurrent", "set-not-null"} <= rules
    assert not any("CREATE TABLE al_orders" in s["sql"] for s in st)
    [index] = [s for s in st if s["sql"].startswith("CREATE INDEX")]
    assert index["line"] == 3  # counted from Alembic's "-- Running upgrade a1 -> b2"
    assert index["live"]["relations"][0]["relation"] == "al_orders"

    # no database for alembic: every revision is pending, with a warning
    proc = subprocess.run([sys.executable, "-m", "migtui", "lint", "--alembic", str(project), "--json"],
                          env={**env, "LINT_TARGET": "postgresql://nobody@127.0.0.1:1/none"},
                          capture_output=True, text=True, timeout=120)
    assert "alembic current failed" in proc.stderr
    assert {json.loads(line)["file"] for line in proc.stdout.splitlines()} >= {"alembic:a1", "alembic:b2"}


MANAGE = '''
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
'''
SETTINGS = '''
import os
from psycopg.conninfo import conninfo_to_dict
_d = conninfo_to_dict(os.environ["LINT_TARGET"])
SECRET_KEY = "test"
INSTALLED_APPS = ["shop"]
USE_TZ = True
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": _d.get("dbname", ""),
                         "USER": _d.get("user", ""), "HOST": _d.get("host", ""), "PORT": _d.get("port", "")}}
'''
DJ1 = '''
from django.db import migrations, models

class Migration(migrations.Migration):
    initial = True
    operations = [migrations.CreateModel("Order", [("id", models.AutoField(primary_key=True)),
                                                   ("note", models.TextField(null=True))])]
'''
DJ2 = '''
from django.db import migrations, models

class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [migrations.AlterField("order", "note", models.TextField(null=False, default="")),
                  migrations.AddIndex("order", models.Index(fields=["note"], name="shop_order_note"))]
'''


def django_project(project: Path) -> Path:
    """A Django project at ``project``: manage.py, settings (the database from $LINT_TARGET) and the app
    ``shop`` with migrations 0001 (a table) and 0002 (a column)."""
    (project / "shop" / "migrations").mkdir(parents=True)
    (project / "manage.py").write_text(MANAGE)
    (project / "settings.py").write_text(SETTINGS)
    (project / "shop" / "__init__.py").write_text("")
    (project / "shop" / "migrations" / "__init__.py").write_text("")
    (project / "shop" / "migrations" / "0001_initial.py").write_text(DJ1)
    (project / "shop" / "migrations" / "0002_note.py").write_text(DJ2)
    return project


def test_only_the_unapplied_django_migrations_are_linted(db: Any, tmp_path: Path) -> None:
    with db.connect() as conn:
        conn.execute("DROP TABLE IF EXISTS shop_order, django_migrations")
    project = django_project(tmp_path / "dj")
    env = {**os.environ, "LINT_TARGET": db.dsn}
    subprocess.run([sys.executable, "manage.py", "migrate", "shop", "0001"], cwd=project, env=env, check=True,
                   capture_output=True, timeout=120)
    proc = subprocess.run([sys.executable, "-m", "migtui", "lint", "--django", str(project), "--json",
                           "--dsn", db.dsn, "--sample", "0s"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    st = [json.loads(line) for line in proc.stdout.splitlines()]
    assert {s["file"] for s in st} == {"django:shop.0002_note"}
    rules = {f["rule"] for s in st for f in s["findings"]}
    assert {"index-not-concurrent", "set-not-null"} <= rules
    assert any(lk == {"relation": "shop_order", "mode": "ShareLock"} for s in st for lk in s["locks"])
    with db.connect() as conn:
        conn.execute("DROP TABLE IF EXISTS shop_order, django_migrations")


def test_plain_sql_files_already_in_the_tools_history_are_not_linted(db: Any, tmp_path: Path) -> None:
    with db.connect() as conn:
        conn.execute("DROP TABLE IF EXISTS flyway_schema_history, schema_migrations, goose_db_version;"
                     "CREATE TABLE flyway_schema_history (version text, success bool);"
                     "INSERT INTO flyway_schema_history VALUES ('1.1', true);"
                     "CREATE TABLE schema_migrations (version bigint, dirty bool); INSERT INTO schema_migrations VALUES (1, false);"
                     "CREATE TABLE goose_db_version (id serial, version_id bigint, is_applied bool);"
                     "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true)")
    files = {
        "flyway/V1_1__first.sql": "CREATE INDEX f1 ON t (a);\n",
        "flyway/V2__second.sql": "CREATE INDEX f2 ON t (a);\n",
        "golang/000001_first.up.sql": "CREATE INDEX g1 ON t (a);\n",
        "golang/000001_first.down.sql": "DROP TABLE t;\n",
        "golang/000002_second.up.sql": "CREATE INDEX g2 ON t (a);\n",
        "golang/000002_second.down.sql": "DROP INDEX g2;\n",
        "goose/00001_first.sql": "-- +goose Up\nCREATE INDEX o1 ON t (a);\n",
        "goose/00002_second.sql": "-- +goose Up\nCREATE INDEX o2 ON t (a);\n-- +goose Down\nDROP TABLE t;\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    proc = subprocess.run([sys.executable, "-m", "migtui", "lint", str(tmp_path), "--json", "--dsn", db.dsn,
                           "--sample", "0s"], capture_output=True, text=True, timeout=120)
    linted = sorted(json.loads(line)["sql"] for line in proc.stdout.splitlines())
    assert linted == ["CREATE INDEX f2 ON t (a)", "CREATE INDEX g2 ON t (a)", "CREATE INDEX o2 ON t (a)"]
    assert "1 file(s) already applied (flyway_schema_history), not linted: V1_1__first.sql" in proc.stderr
    assert "(schema_migrations), not linted: 000001_first.up.sql" in proc.stderr
    assert "(goose_db_version), not linted: 00001_first.sql" in proc.stderr
    with db.connect() as conn:
        conn.execute("DROP TABLE flyway_schema_history, schema_migrations, goose_db_version")
