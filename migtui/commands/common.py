"""Options and set-up shared by the subcommands."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

from migtui.config import Config, load_config, parse_duration
from migtui.plugins import PluginHost


def config_option(required: bool = True) -> Callable[[Any], Any]:
    return click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                        required=required, help="The migtui YAML config file.")


def store_option(required: bool = False, help: str = "DuckDB store file (default: the config's store, "
                 "else ./migtui.duckdb).") -> Callable[[Any], Any]:
    return click.option("--store", "-s", "store_path", type=click.Path(dir_okay=False, path_type=Path),
                        required=required, help=help)


def json_option(help: str = "Print JSON instead of text.") -> Callable[[Any], Any]:
    return click.option("--json", "as_json", is_flag=True, help=help)


def http_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--http HOST:PORT`` and ``--http-token-file FILE`` (the watch's read-only endpoints)."""
    fn = click.option("--http-token-file", type=click.Path(dir_okay=False, path_type=Path),
                      help="File holding the bearer token the endpoints require (else $MIGTUI_HTTP_TOKEN); "
                           "needed to bind an address that is not loopback.")(fn)
    fn = click.option("--http", "http_bind", metavar="HOST:PORT",
                      help="Serve read-only endpoints (/metrics, /status) here; :PORT binds 127.0.0.1. "
                           "Off by default.")(fn)
    return fn


def load(config_path: Path) -> tuple[Config, PluginHost]:
    """Load the config, then the plugins it does not disable; validate plugin-owned sections."""
    config = load_config(config_path)
    host = config.host or PluginHost(disabled=config["plugins"]["disable"])
    return config, host


def store_path_for(config: Config | None, store_path: Path | None) -> Path:
    if store_path is not None:
        return store_path
    if config is not None and config.get("store"):
        return config.resolve_path(config["store"])
    return Path("migtui.duckdb")


def duration_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """``--duration 30s`` / ``5m`` / ``2h`` -> seconds (click callback)."""
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def implementation(host: Any, kind: str, source_type: str) -> Any:
    """The plugin's implementation of ``kind`` for a source type, or a clear error naming the hook."""
    from migtui.errors import ConfigError
    from migtui.plugins import CONTRIBUTION_HOOKS

    found = host.contributions[kind].get(source_type)
    if found is None:
        have = ", ".join(sorted(host.contributions[kind])) or "none"
        raise ConfigError(f"no installed plugin implements {CONTRIBUTION_HOOKS[kind]} for source type "
                          f"{source_type!r} (available: {have})")
    return found.obj
