"""``migtui check`` (preflight), ``migtui prepare`` (PITR preparation), ``migtui role-sql``.

The database-specific parts come from plugins: ``migtui_preflight_checks``, ``migtui_prepare_steps``
and ``migtui_role_sql`` (the postgres plugin implements all three)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from migtui.cli import echo_json
from migtui.commands.common import (config_option, implementation, json_option, load, store_option,
                                    store_path_for)
from migtui.commands.output import echo

_MARK = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "skip": "SKIP", "ok": " OK ", "info": "INFO",
         "failed": "FAIL"}


@click.command()
@config_option()
@store_option(help="Store with the baseline (default: the config's store, else ./migtui.duckdb).")
@json_option()
@click.option("--no-alerts", is_flag=True, help="Do not test-fire the alerters.")
@click.option("--no-actions", is_flag=True, help="Do not dry-run the actions.")
def check(config_path: Path, store_path: Path | None, as_json: bool, no_alerts: bool, no_actions: bool) -> None:
    """Preflight checklist: each item pass / warn / fail with its evidence. Exits 1 on any fail."""
    from migtui.preflight import overall, run_preflight

    config, host = load(config_path)
    items = run_preflight(config, host, store_path=store_path_for(config, store_path),
                          alerts=False if no_alerts else None, actions=False if no_actions else None)
    result = overall(items)
    if as_json:
        echo_json({"result": result, "items": [i.as_dict() for i in items]})
    else:
        width = max(len(i.name) for i in items)
        for i in items:
            echo(f"[{_MARK[i.status]}] {i.name:<{width}}  {i.evidence}")
        n = {s: sum(1 for i in items if i.status == s) for s in ("pass", "warn", "fail")}
        echo(f"preflight {result.upper()}: {n['pass']} pass, {n['warn']} warn, {n['fail']} fail")
    if result == "fail":
        raise SystemExit(1)


@click.command()
@config_option()
@store_option(help="Store to record the steps in (default: the config's store, else ./migtui.duckdb).")
@click.option("--source", help="Which source (default: the first whose type a plugin can prepare).")
@click.option("--restore-point", "restore_point", metavar="NAME",
              help="Restore point name prefix (a UTC timestamp is appended: names must be unique).")
@click.option("--no-restore-point", is_flag=True, help="Do not create a restore point.")
@click.option("--slot", metavar="NAME", help="Also create this logical replication slot (temporary false).")
@click.option("--slot-plugin", default="pgoutput", show_default=True,
              help="Output plugin of the slot (PostgreSQL: pgoutput or test_decoding).")
@click.option("--no-record", is_flag=True, help="Do not record the steps in the store.")
@json_option()
def prepare(config_path: Path, store_path: Path | None, source: str | None, restore_point: str | None,
            no_restore_point: bool, slot: str | None, slot_plugin: str, no_record: bool, as_json: bool) -> None:
    """Point-in-time recovery preparation: a named restore point and, optionally, a logical slot.
    Each step is printed and recorded in the store as an action event. Exits 1 when a step failed."""
    from migtui.errors import StoreError
    from migtui.preflight import record_prepare
    from migtui.store import Store

    config, host = load(config_path)
    _type, do_prepare = _for_source(host, "prepare", config, source)
    steps = do_prepare(config, source=source, restore_point=restore_point, make_restore_point=not no_restore_point,
                       slot=slot, slot_plugin=slot_plugin)
    run_id = None
    note = ""
    if not no_record:
        path = store_path_for(config, store_path)
        try:
            store = Store.open(path)
            try:
                run_id = record_prepare(store, config, steps)
            finally:
                store.close()
        except StoreError as exc:
            note = f"steps not recorded: {exc}"
    if as_json:
        echo_json({"run_id": run_id, "steps": [s.as_dict() for s in steps], "note": note})
    else:
        for s in steps:
            echo(f"[{_MARK[s.status]}] {s.step}: {s.message}")
        if run_id:
            echo(f"recorded as run {run_id}", err=True)
        if note:
            echo(f"migtui: warning: {note}", err=True)
    if any(s.status == "failed" for s in steps):
        raise SystemExit(1)


@click.command("role-sql")
@click.option("--type", "source_type", default="postgres", show_default=True,
              help="Source type whose roles to print (a plugin implements migtui_role_sql for it).")
@click.option("--monitor-role", default="migtui_monitor", show_default=True, help="Name of the monitoring role.")
@click.option("--action-role", default=None, help="Also a separate action role with this name.")
@click.option("--server-version", type=int, default=None,
              help="Major version (e.g. 15) to pick the backup function names; default: print both.")
@click.option("--connection-limit", type=int, default=5, show_default=True)
def role_sql(source_type: str, monitor_role: str, action_role: str | None, server_version: int | None,
             connection_limit: int) -> None:
    """Print the SQL for a monitoring role (pg_monitor, CONNECTION LIMIT) and an optional action role
    (pg_signal_backend, EXECUTE on the restore-point and backup functions). Run it as a superuser."""
    from migtui.plugins import PluginHost

    impl = implementation(PluginHost(), "role_sql", source_type)
    click.echo(impl(monitor_role, action_role, server_version=server_version,  # our own SQL, as is
                    connection_limit=connection_limit), nl=False)


def _for_source(host: Any, kind: str, config: Any, source: str | None) -> tuple[str, Any]:
    """The source type ``--source`` names (else the first source whose type has ``kind``) and its implementation."""
    from migtui.errors import ConfigError

    items = [s for s in config["sources"] if source is None or s.name == source]
    if source is not None and not items:
        raise ConfigError(f"no source named {source!r} in the config", file=str(config.path))
    usable = [s for s in items if s.type in host.contributions[kind]] or items
    if not usable:
        raise ConfigError("the config has no source", file=str(config.path))
    return usable[0].type, implementation(host, kind, usable[0].type)
