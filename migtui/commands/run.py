"""``migtui run``: baseline, the migration command as a child process, post, report (headless)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import click

from migtui.commands.common import config_option, duration_callback, http_options, json_option, store_option
from migtui.commands.watch import EXPORT_HELP
from migtui.model import Event, Level


class _Interrupts:
    """Ctrl-C / SIGTERM while ``migtui run`` runs: the first asks for a clean stop (the command first),
    a second one escalates the command's stop (SIGTERM at once instead of after the grace period)."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.escalate = threading.Event()
        self.signal = ""

    def install(self) -> None:
        def handler(signum: int, frame: Any) -> None:
            if self.stop.is_set():
                self.escalate.set()
            self.signal = self.signal or signal.Signals(signum).name
            self.stop.set()

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)


def _prepare(command: tuple[str, ...]) -> Any:
    """Before the store and the engine: a run needs a command (no run is recorded without one). Under
    ``migtui run`` the command's start and exit set the phases: the migration watch's automatic phases
    would end the migration phase while the command still runs a step that does not touch the database."""
    from migtui.errors import ConfigError

    def prepare(config: Any) -> None:
        if not command and not (config.get("migration") or {}).get("command"):
            raise ConfigError("no migration command: give one after `--` (migtui run --config FILE -- COMMAND...) "
                              "or set migration.command", file=str(config.path))
        node = config.raw.get("migration")
        if isinstance(node, dict) and node.get("auto_phase"):
            node["auto_phase"] = False

    return prepare


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@config_option()
@store_option()
@click.option("--baseline-for", callback=duration_callback, metavar="DURATION",
              help="Watch the baseline this long before starting the command (default: migration.baseline_for, 1m).")
@click.option("--post-for", callback=duration_callback, metavar="DURATION",
              help="Watch this long after the command exits (default: migration.post_for, 1m).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the HTML report (default: migtui-report-<run>.html).")
@json_option("Print one JSON object per event instead of the status lines.")
@click.option("--name", help="Run name (default: the config's name).")
@http_options
@click.option("--export", "export_to", metavar="s3://BUCKET/PREFIX/|DIR", help=EXPORT_HELP)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def run(config_path: Path, store_path: Path | None, baseline_for: float | None, post_for: float | None,
        report_path: Path | None, as_json: bool, name: str | None, http_bind: str | None,
        http_token_file: Path | None, export_to: str | None, command: tuple[str, ...]) -> None:
    """Run a migration under watch: baseline, then COMMAND (after `--`, or migration.command) as a child
    process in the migration phase with its output in the event log, then post, then the report.

    Headless: a status line per tick and a line per event. Ctrl-C stops the command first (SIGINT, then
    SIGTERM after migration.stop_grace) and closes the run. The exit code is the command's (130 after
    Ctrl-C)."""
    from migtui.commands.watch import build_engine, check_export_target, export_run, report_exit, serve_http
    from migtui.headless import HeadlessPrinter
    from migtui.http.server import http_settings
    from migtui.migration_command import MigrationCommand, describe_command
    from migtui.report import export_report

    settings = http_settings(http_bind, http_token_file)
    check_export_target(export_to)
    interrupts = _Interrupts()
    interrupts.install()
    engine = build_engine(config_path, store_path, phase="baseline", baseline=None, headless=True, name=name,
                          prepare=_prepare(command))
    server = serve_http(settings, engine)
    code: int | None = None
    try:
        opts = engine.config.get("migration") or {}
        argv = list(command) or list(opts.get("command") or [])
        child = MigrationCommand(engine, argv, env=engine.host.command_env(engine.config),
                                 cwd=str(engine.config.path.parent) if not command else None)
        baseline_for = float(opts.get("baseline_for", 60.0)) if baseline_for is None else baseline_for
        post_for = float(opts.get("post_for", 60.0)) if post_for is None else post_for
        grace = float(opts.get("stop_grace", 10.0))
        HeadlessPrinter(engine, as_json=as_json)
        engine.emit(Event("note", "migration", f"migtui run: baseline {baseline_for:g}s, then "
                          f"{describe_command(argv)}, then post {post_for:g}s", Level.INFO,
                          {"type": "migration_command", "change": "planned", "baseline_for": baseline_for,
                           "post_for": post_for}))
        engine.start()
        if not interrupts.stop.wait(baseline_for):
            child.start()
            while child.poll() is None and not interrupts.stop.is_set():
                child.wait(0.2)
            if child.poll() is None:
                engine.emit(Event("note", "migration", f"{interrupts.signal or 'stop'} received: stopping the "
                                  "migration command first", Level.WARN, {"type": "migration_command",
                                                                          "change": "stopping"}))
                child.stop(grace, interrupts.escalate)
            code = child.finish()
            if not interrupts.stop.is_set():
                interrupts.stop.wait(post_for)
        if interrupts.stop.is_set():
            engine.emit(Event("note", "migration", f"{interrupts.signal or 'stop'} received: closing the run",
                              Level.WARN, {"type": "migration_command", "change": "interrupted"}))
    finally:
        engine.close()
        if server is not None:
            server.close()
    out = export_report(engine.store.path, engine.run_id, "html", report_path)
    click.echo(f"run {engine.run_id} stored in {engine.store.path}; report written to {out}", err=True)
    exported = export_run(engine.store.path, engine.run_id, export_to) if export_to else True
    report_exit(engine)
    if interrupts.stop.is_set():
        raise SystemExit(130)
    if code:
        raise SystemExit(code if 0 < code < 256 else 1)
    if not exported:
        raise SystemExit(1)
