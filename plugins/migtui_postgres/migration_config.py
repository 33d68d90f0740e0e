"""The ``migration:`` section of the config: migration-tool awareness, automatic phases, backfill
progress, ``migtui run`` (command, baseline_for, post_for, stop_grace) and preflight thresholds.
Imported without the collector (:mod:`migtui_postgres.migration_tools`), so loading a config stays
light."""

from __future__ import annotations

from typing import Any

from migtui.api import Field, Schema, error_at, validate
from migtui.api import type_name as _type_name
from migtui_postgres.preflight import PREFLIGHT_SCHEMA
from migtui_postgres.progress import BACKFILL_SCHEMA

TOOLS = ("alembic", "flyway", "django", "rails", "prisma", "golang-migrate", "goose", "sqitch", "liquibase",
         "atlas", "pgroll")

MIGRATION_SCHEMA = Schema({
    "enabled": Field("bool", default=True, doc="Watch migration tools and progress (needs a postgres source)."),
    "source": Field("str", default="", doc="Which postgres source's server to watch (default: the first)."),
    "interval": Field("duration", default=5.0, minimum=0.5, doc="How often to look."),
    "statement_timeout": Field("duration", default=1.0, doc="Cap on every query."),
    "lock_timeout": Field("duration", default=0.2, doc="lock_timeout of every probe query: it never queues."),
    "tools": Field("list", items="str", default=list,
                   check=lambda v: _check_tools(v), doc=f"Only these tools (default: all of {', '.join(TOOLS)})."),
    "schemas": Field("list", items="str", default=list,
                     doc="Only look for history tables in these schemas (default: every schema)."),
    "auto_phase": Field("bool", default=False,
                        doc="Switch baseline -> migration when a migration starts and -> post when it finished."),
    "finish_after": Field("duration", default=10.0,
                          doc="Nothing running for this long means finished (covers gaps between steps)."),
    "application_name": Field("str", default="",
                              doc="Glob of the migration's application_name (e.g. 'alembic*'): such sessions "
                                  "count as a running migration (default: the postgres source's "
                                  "migration_application_name)."),
    "detect_ddl": Field("bool", default=True,
                        doc="DDL counts as a running migration: a session holding an AccessExclusiveLock in a "
                            "transaction, building an index or running DDL, and DDL that ran between polls."),
    "rate_window": Field("duration", default=60.0, minimum=1, doc="Window of the rate behind the ETAs."),
    "backfill": Field(BACKFILL_SCHEMA, doc="Backfill progress: table + predicate, or progress_table."),
    "preflight": Field(PREFLIGHT_SCHEMA, default=lambda: validate(PREFLIGHT_SCHEMA, {}), doc="Thresholds of `migtui check` (see migtui.preflight)."),
    "command": Field(lambda v, parent, key, path: _command(v, parent, key, path), default=list,
                     doc="The migration command `migtui run` starts when none is given after `--`: a list "
                         "(argv, no shell) or a string split like a shell would (no expansion)."),
    "files": Field("list", items="str", default=list,
                   doc="The pending migration's SQL files (globs, relative to the config file): `migtui check` "
                       "lints them with live evidence (item 'Pending migration'; see the lint page). Without "
                       "it, the pending migration comes from `command` (a tool migtui knows) or from a tool "
                       "detected on the server with its project in `project`."),
    "project": Field("str", default="",
                     doc="The migration tool's project folder (alembic.ini, manage.py, sqitch.plan, sql/, "
                         "migrations/, prisma/migrations, db/migrate), relative to the config file; default: "
                         "the config's folder. With the tool's history table on the server, its pending "
                         "migrations are linted (see the lint page)."),
    "lint_phases": Field("list", items="str", default=lambda: ["baseline"], check=lambda v: _check_phases(v),
                         doc="The cockpit's panel 'Pending migration' analyses `migration.files` again (live "
                             "evidence: blockers, traffic) while the run is in these phases; [] turns it off."),
    "lint_interval": Field("duration", default=3.0, minimum=1.0,
                           doc="How often the panel 'Pending migration' analyses the files again."),
    "lint_sample": Field("duration", default=1.0, minimum=0.0,
                         doc="The traffic sample of each analysis (reads and writes per second on the tables)."),
    "baseline_for": Field("duration", default=60.0, doc="`migtui run`: how long to watch the baseline first."),
    "post_for": Field("duration", default=60.0, doc="`migtui run`: how long to watch after the command exits."),
    "stop_grace": Field("duration", default=10.0, minimum=0.1,
                        doc="`migtui run`, Ctrl-C: how long the command gets after SIGINT before SIGTERM "
                            "(and as long again before SIGKILL)."),
}, doc="Migration-tool awareness, automatic phases, progress and ETA.")


def _command(value: Any, parent: Any, key: Any, path: str) -> list[str]:
    import shlex

    if isinstance(value, str):
        try:
            value = shlex.split(value)
        except ValueError as exc:
            raise error_at(parent, key, path, f"cannot split the command: {exc}") from None
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise error_at(parent, key, path, f"expected a command (a list of strings or a string), got "
                                          f"{_type_name(value)}")
    return [str(v) for v in value]


def _check_tools(value: list[str]) -> None:
    bad = [t for t in value if t not in TOOLS]
    if bad:
        raise ValueError(f"unknown tool {bad[0]!r}; known: {', '.join(TOOLS)}")


def _check_phases(value: list[str]) -> None:
    bad = [p for p in value if p not in ("baseline", "migration", "post")]
    if bad:
        raise ValueError(f"unknown phase {bad[0]!r}; known: baseline, migration, post")


def parse_migration_config(node: Any, path: str = "migration") -> dict[str, Any]:
    """Validate the ``migration:`` block (errors name file:line: key)."""
    out = validate(MIGRATION_SCHEMA, node if node is not None else {}, path)
    bf = out.get("backfill")
    if bf:
        raw = node.get("backfill") if isinstance(node, dict) else None
        if bf.get("progress_table"):
            if bf.get("table") or bf.get("predicate"):
                raise error_at(raw, "progress_table", f"{path}.backfill.progress_table",
                               "give either table+predicate or progress_table, not both")
        elif not (bf.get("table") and bf.get("predicate")):
            missing = "predicate" if bf.get("table") else "table"
            raise error_at(raw, None, f"{path}.backfill.{missing}", "is required (with table and predicate, or give "
                           "progress_table)")
    return out


def config_field(value: Any, parent: Any, key: Any, path: str) -> dict[str, Any]:
    """The converter of the ``migration`` config section (registered through ``migtui_config_sections``)."""
    if value is not None and not isinstance(value, dict):  # name the file and line of the key
        raise error_at(parent, key, path, f"expected a mapping, got {_type_name(value)}")
    return parse_migration_config(value, path)


config_field.schema = MIGRATION_SCHEMA  # type: ignore[attr-defined] # the config reference shows it
