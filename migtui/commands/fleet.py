"""``migtui fleet``: read what a fleet of watches publishes (``fleet watch``: their /status and /metrics)."""

from __future__ import annotations

from pathlib import Path

import click

from migtui.commands.common import duration_callback
from migtui.commands.output import echo


@click.group()
def fleet() -> None:
    """A fleet of watches: one row per database from each watch's /status (watch), one campaign report over the runs' Parquet files (report)."""


@fleet.command("watch")
@click.option("--targets", "targets_path", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML or text list of the watches' /status URLs (names and token_env optional), and finders "
                   "such as '- kubernetes: {selector: ...}'.")
@click.option("--selector", metavar="SELECTOR",
              help="Kubernetes label selector of the watch pods (e.g. app.kubernetes.io/name=migtui); "
                   "listed again every --relist.")
@click.option("--namespace", metavar="NS", help="With --selector: the namespace (default: the context's).")
@click.option("--port", metavar="PORT", default="http", show_default=True,
              help="With --selector: the container port of the watch's --http, by name or number.")
@click.option("--kubeconfig", type=click.Path(dir_okay=False), metavar="PATH",
              help="With --selector: kubeconfig file (default: $KUBECONFIG or ~/.kube/config).")
@click.option("--context", metavar="NAME", help="With --selector: kubeconfig context (default: the current one).")
@click.option("--in-cluster", is_flag=True, help="With --selector: the pod's service account instead of a kubeconfig.")
@click.option("--token-env", metavar="VAR",
              help="With --selector: environment variable holding the watches' bearer token.")
@click.option("--relist", callback=duration_callback, default="10s", show_default=True, metavar="DURATION",
              help="With --selector: how often the pods are listed again.")
@click.option("--interval", callback=duration_callback, default="2s", show_default=True, metavar="DURATION",
              help="How often every target is read.")
@click.option("--timeout", callback=duration_callback, default="1.5s", show_default=True, metavar="DURATION",
              help="Total deadline of one request (connect, headers and body); at most the interval.")
@click.option("--concurrency", type=click.IntRange(1, 512), default=32, show_default=True,
              help="Requests in flight at once.")
@click.option("--headless", is_flag=True, help="No cockpit: print one line per refresh and per change.")
@click.option("--rounds", type=click.IntRange(1), default=None, help="Headless: stop after N refresh rounds.")
def watch(targets_path: Path | None, selector: str | None, namespace: str | None, port: str,
          kubeconfig: str | None, context: str | None, in_cluster: bool, token_env: str | None, relist: float,
          interval: float, timeout: float, concurrency: int, headless: bool, rounds: int | None) -> None:
    """Watch many migtui watches: phase, progress and ETA, throttle, worst trigger, lock waits, lag,
    verdict and the age of the data, one row per database. Enter opens a database's /metrics.

    The watches are the URLs of --targets and what finders find: --selector lists the watch pods of a
    Kubernetes label selector (again every --relist, so pods that come and go in a rollout appear and
    leave; a failing list is a line of the view and keeps the last pods)."""
    from migtui.fleet.discovery import FleetDiscovery, build_finders
    from migtui.fleet.poller import FleetPoller
    from migtui.fleet.targets import Finder, TargetsFile, load_targets_file

    if targets_path is None and selector is None:
        raise click.UsageError("give --targets FILE, --selector SELECTOR or both")
    if interval < 0.1 or timeout < 0.1:
        raise click.BadParameter("--interval and --timeout must be at least 100ms")
    if relist < 1:
        raise click.BadParameter("--relist must be at least 1s")
    found = load_targets_file(targets_path) if targets_path is not None else TargetsFile([], [])
    finders = list(found.finders)
    if selector is not None:
        options = {"selector": selector, "port": port, "in_cluster": in_cluster}
        options.update({k: v for k, v in (("namespace", namespace), ("kubeconfig", kubeconfig),
                                          ("context", context)) if v})
        finders.append(Finder("kubernetes", options, "--selector", token_env, relist))
    built = build_finders(finders)
    poller = FleetPoller(found.targets, interval=interval, timeout=timeout, concurrency=concurrency)
    discovery = FleetDiscovery(poller, found.targets, built) if built else None
    if headless:
        from migtui.fleet.headless import run_headless

        run_headless(poller, rounds, echo, discovery)
        return
    from migtui.tui.fleet import run_fleet

    run_fleet(poller, discovery)


@fleet.command("report")
@click.option("--from", "source", required=True, metavar="s3://BUCKET/PREFIX/|DIR",
              help="Where the runs' Parquet files are (database=<name>/run=<id>/, as report -o / watch --export write).")
@click.option("--campaign", metavar="NAME", help="Read FROM/NAME/ only (one campaign's prefix).")
@click.option("--format", "fmt", type=click.Choice(["html", "md", "json"]), default="md", show_default=True)
@click.option("-o", "--output", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here instead of standard output.")
def report(source: str, campaign: str | None, fmt: str, out_path: Path | None) -> None:
    """One campaign report over every run's Parquet files: per database the duration, phases, worst lock
    wait, p95 and error-rate changes against its baseline, triggers fired, actions, throttled time and
    integrity checks, worst first, with a fleet-wide summary and the outliers flagged."""
    from migtui.fleet.report import build_fleet_report
    from migtui.fleet.report_render import RENDERERS

    text = RENDERERS[fmt](build_fleet_report(source, campaign))
    if out_path is None:
        click.echo(text, nl=False)
        return
    try:
        out_path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"{out_path}: cannot write the report: {exc.strerror}") from None
    echo(f"fleet report written to {out_path}", err=True)
