"""``migtui sql list|show|run``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from migtui.cli import echo_json
from migtui.commands.common import json_option
from migtui.commands.output import echo
from migtui.safetext import one_line


def _catalog(config_path: Path | None) -> Any:
    """The built-in catalog plus plugin folders and, with a config, its sql_dirs."""
    from migtui.plugins import PluginHost
    from migtui.sqlcatalog import load_catalog

    disabled: list[str] = []
    extra: list[tuple[str, Path]] = []
    if config_path is not None:
        from migtui.config import load_config

        config = load_config(config_path)
        disabled = config["plugins"]["disable"]
        extra = [(f"sql_dirs:{p}", config.resolve_path(p)) for p in config["sql_dirs"]]
    host = PluginHost(disabled=disabled)
    plugin_dirs = [(plugin, Path(p)) for plugin, p, target in host.sql_dirs if target == "postgres"]
    return load_catalog([*plugin_dirs, *extra])


@click.group()
def sql() -> None:
    """The monitoring SQL catalog (sql/postgres and the config's sql_dirs)."""


@sql.command("list")
@json_option()
@click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also list this config's sql_dirs.")
def list_(as_json: bool, config_path: Path | None) -> None:
    """List catalog entries: name, kind, min server version, interval, origin, description."""
    catalog = _catalog(config_path)
    rows = [{"name": q.name, "kind": q.kind, "min_version": q.min_version,
             "variants": [v.path.name for v in q.variants], "interval": q.interval, "timeout": q.timeout,
             "privileges": list(q.privileges), "extension": q.extension, "origin": q.origin, "cost": q.cost,
             "panel": q.display.panel if q.display else None, "description": q.description} for q in catalog]
    if as_json:
        echo_json(rows)
        return
    echo(f"{'NAME':<26} {'KIND':<8} {'MIN':>4} {'EVERY':>6}  {'FROM':<9} DESCRIPTION")
    for r in rows:
        origin = r["origin"] if len(r["origin"]) <= 9 else r["origin"][:8] + "…"
        echo(f"{r['name']:<26} {r['kind']:<8} {r['min_version']:>4} {r['interval']:>5g}s  {origin:<9} "
                   f"{r['description']}")


@sql.command()
@click.argument("name")
@click.option("--server-version", type=int, default=None, metavar="MAJOR",
              help="Show the variant for this server major version (default: the newest).")
@click.option("--extension-version", metavar="X.Y", help="Installed version of the query's extension.")
@click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Include this config's sql_dirs.")
def show(name: str, server_version: int | None, extension_version: str | None, config_path: Path | None) -> None:
    """Print the variant of a query that would run on a given server version."""
    from migtui.errors import CatalogError
    from migtui.sqlcatalog import parse_version

    catalog = _catalog(config_path)
    query = catalog.get(name)
    version = server_version or 99
    extensions = {}
    if query.extension:
        extensions[query.extension] = parse_version(extension_version) if extension_version else (99,)
    variant = query.variant_for(version, extensions)
    if variant is None:
        raise CatalogError(f"{name} does not run on PostgreSQL {version}: it needs "
                           f"{query.extension + ' ' if query.extension else 'PostgreSQL '}"
                           f"{'.'.join(map(str, query.ext_min)) if query.ext_min else query.min_version}+")
    echo(f"-- {variant.path} (for PostgreSQL {server_version or 'newest'}; from {query.origin})")
    echo(variant.path.read_text(encoding="utf-8").rstrip())


@sql.command()
@click.argument("name")
@click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Config naming the PostgreSQL server.")
@click.option("--source", help="Which postgres source of the config (default: the first).")
@json_option()
def run(name: str, config_path: Path, source: str | None, as_json: bool) -> None:
    """Run one catalog query once on the config's server and print its rows."""
    from migtui.api import BuildContext
    from migtui.commands.common import load
    from migtui.errors import ConfigError

    config, host = load(config_path)
    items = [s for s in config.sources_of_type("postgres") if source is None or s.name == source]
    if not items:
        raise ConfigError(f"no postgres source{' named ' + repr(source) if source else ''} in the config",
                          file=str(config_path))
    item = items[0]
    plugin_dirs = [(plugin, Path(p)) for plugin, p, target in host.sql_dirs if target == "postgres"]
    collector = host.build("source", item, BuildContext(
        config=config, item=item, sql_dirs=[config.resolve_path(p) for p in config["sql_dirs"]],
        plugin_sql_dirs=plugin_dirs))
    try:
        cols, rows = collector.run_query(name)
    finally:
        collector.close()
    if as_json:
        echo_json([dict(zip(cols, r)) for r in rows])
        return
    _print_table(cols, rows)


def _print_table(cols: list[str], rows: list[tuple[Any, ...]]) -> None:
    text = [[one_line("" if v is None else v, 60) for v in r] for r in rows]  # query text, names: outside text
    widths = [max([len(c)] + [len(r[i]) for r in text]) for i, c in enumerate(cols)]
    echo("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    echo("  ".join("-" * w for w in widths))
    for r in text:
        echo("  ".join(v.ljust(w) for v, w in zip(r, widths)))
    echo(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
