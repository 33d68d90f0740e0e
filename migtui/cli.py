"""The ``migtui`` command. Subcommands live in ``migtui/commands/`` and are imported only when used,
so ``migtui --help`` stays fast."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from migtui import __version__

# name -> "module:attribute" of a click command
COMMANDS: dict[str, tuple[str, str]] = {
    "watch": ("migtui.commands.watch:watch", "Watch a migration: live panels, or --headless lines."),
    "run": ("migtui.commands.run:run", "Run a migration command under watch: baseline, command, post, report."),
    "baseline": ("migtui.commands.watch:baseline", "Record a baseline run for a while, then compute its statistics."),
    "sql": ("migtui.commands.sql:sql", "The monitoring SQL catalog: list, show, run."),
    "runs": ("migtui.commands.runs:runs", "List the runs in a store."),
    "plugins": ("migtui.commands.plugins:plugins", "List installed plugins with version, hooks and status."),
    "alert": ("migtui.commands.alert:alert", "Alerters: send a test alert through each."),
    "ctl": ("migtui.commands.ctl:ctl", "Drive a running watch from another terminal."),
    "report": ("migtui.commands.report:report", "Export a run as HTML, Markdown, JSON or Parquet."),
    "check": ("migtui.commands.check:check", "Preflight checklist before a migration."),
    "prepare": ("migtui.commands.check:prepare", "Point-in-time recovery preparation: restore point, slot."),
    "lint": ("migtui.commands.lint:lint", "Lint migration SQL: locks, rewrites, scans, findings, live blockers."),
    "role-sql": ("migtui.commands.check:role_sql", "Print the GRANTs for monitoring and action roles."),
    "fleet": ("migtui.commands.fleet:fleet", "A fleet of watches: fleet watch (one row per database), fleet report (a campaign over Parquet runs)."),
    "demo": ("migtui.commands.demo:demo", "Watch a realistic migration on an embedded PostgreSQL."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n, (target, _) in COMMANDS.items() if _available(target))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        entry = COMMANDS.get(name)
        if entry is None or not _available(entry[0]):
            return None
        module, _, attr = entry[0].partition(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, COMMANDS[n][1]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _available(target: str) -> bool:
    module = target.partition(":")[0]
    path = os.path.join(os.path.dirname(__file__), *module.split(".")[1:]) + ".py"
    return os.path.exists(path)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="migtui")
def cli() -> None:
    """migtui: a terminal cockpit for migration maintenance windows.

    Capture a baseline, watch PostgreSQL locks, progress, replication and the service's errors and
    latency while a migration runs, and pause or roll back by key or by trigger. Everything goes
    into a local DuckDB store that exports as a report.
    """


def main(argv: list[str] | None = None) -> None:
    """Entry point: MigtuiError becomes one line on stderr and its exit code, never a traceback."""
    from migtui.errors import MigtuiError

    try:
        cli.main(args=argv, prog_name="migtui", standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except MigtuiError as exc:
        from migtui.safetext import visible

        click.echo(visible(f"migtui: error: {exc}", keep_newlines=True), err=True)  # may quote outside text
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)


def echo_json(obj: Any) -> None:
    from migtui.safetext import json_text

    click.echo(json_text(obj))
