"""``migtui plugins``."""

from __future__ import annotations

from pathlib import Path

import click

from migtui.cli import echo_json
from migtui.commands.common import json_option
from migtui.commands.output import echo


@click.command()
@json_option()
@click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Apply this config's plugins.disable list.")
def plugins(as_json: bool, config_path: Path | None) -> None:
    """List installed plugins (entry-point group "migtui") with version, hooks, types and status."""
    from migtui.plugins import PluginHost

    disabled: list[str] = []
    if config_path is not None:
        from migtui.config import load_config

        disabled = load_config(config_path)["plugins"]["disable"]
    host = PluginHost(disabled=disabled)
    infos = host.list()
    if as_json:
        echo_json([i.as_json() for i in infos])
        return
    for i in infos:
        line = f"{i.name:<14} {i.version or '-':<9} {i.status:<9} {i.dist or i.module}"
        echo(line)
        if i.types:
            echo(f"{'':<14} types: {', '.join(i.types)}")
        if i.hooks:
            echo(f"{'':<14} hooks: {', '.join(i.hooks)}")
        if i.error:
            echo(f"{'':<14} error: {i.error}")
