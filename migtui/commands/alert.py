"""``migtui alert test``: send a test alert through every configured alerter and report each result."""

from __future__ import annotations

from pathlib import Path

import click

from migtui.cli import echo_json
from migtui.commands.common import config_option, json_option, load
from migtui.commands.output import echo


@click.group()
def alert() -> None:
    """Alerters: check delivery before the maintenance window."""


@alert.command("test")
@config_option()
@json_option()
@click.option("--only", "only", multiple=True, help="Only this alerter (by name); repeatable.")
def test(config_path: Path, as_json: bool, only: tuple[str, ...]) -> None:
    """Send one test alert (level warn) through every alerter of the config and print each result.

    PagerDuty and Alertmanager get the matching 'resolved' right after, so no incident stays open.
    Exits 1 when any alerter failed, 2 when the config has no alerters.
    """
    from migtui.alerting import build_alerters, send_test_alert
    from migtui.errors import ConfigError

    config, host = load(config_path)
    opts = config["alerting"]
    alerters = build_alerters(host, config)
    if only:
        unknown = sorted(set(only) - {a.name for a in alerters})
        if unknown:
            raise ConfigError(f"no alerter named {', '.join(unknown)}; alerters: "
                              f"{', '.join(a.name for a in alerters) or 'none'}", file=str(config_path))
        alerters = [a for a in alerters if a.name in only]
    if not alerters:
        raise ConfigError("no alerters configured (add an alerters: list)", file=str(config_path))
    results = send_test_alert(alerters, run="test", timeout=opts["timeout"],
                              key_prefix=opts.get("key_prefix") or config.name)
    if as_json:
        echo_json([{"alerter": name, "ok": r.ok, "message": r.message, "attempts": r.attempts,
                    "status": r.status} for name, r in results])
    else:
        width = max(len(name) for name, _ in results)
        for name, r in results:
            echo(f"{name:<{width}}  {'ok    ' if r.ok else 'FAILED'}  {r.message}")
    if not all(r.ok for _, r in results):
        raise SystemExit(1)
