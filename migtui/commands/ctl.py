"""``migtui ctl``: drive a running watch over its control socket (see migtui/control.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import click

from migtui.commands.output import echo
from migtui.model import Phase
from migtui.safetext import json_text


def _common(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--store / --config / --socket / --json, accepted before or after the subcommand."""
    fn = click.option("--json", "as_json", is_flag=True, default=None, help="Print the answer as JSON.")(fn)
    fn = click.option("--socket", "sock_path", type=click.Path(path_type=Path),
                      help="The control socket (default: next to the store).")(fn)
    fn = click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                      help="Find the store through this config's `store:` key.")(fn)
    fn = click.option("--store", "-s", "store_path", type=click.Path(dir_okay=False, path_type=Path),
                      help="The store of the running watch (default: the config's store, else ./migtui.duckdb).")(fn)
    return fn


def _opts(ctx: click.Context, **kw: Any) -> dict[str, Any]:
    merged = dict(ctx.obj or {})
    for k, v in kw.items():
        if v is not None and v is not False:
            merged[k] = v
    return merged


def _target(o: dict[str, Any]) -> tuple[Path, Path | None]:
    """(store, socket or None for the one next to the store)."""
    sock = Path(o["sock_path"]) if o.get("sock_path") is not None else None
    if o.get("config_path") is not None:
        from migtui.commands.common import store_path_for
        from migtui.config import load_config

        config = load_config(o["config_path"])
        control = config.get("control") or {}
        if sock is None and control.get("socket"):
            sock = config.resolve_path(control["socket"])
        return store_path_for(config, o.get("store_path")), sock
    return Path(o.get("store_path") or "migtui.duckdb"), sock


def _send(ctx: click.Context, req: dict[str, Any], **kw: Any) -> dict[str, Any]:
    from migtui.control import ControlError, request

    o = _opts(ctx, **kw)
    store, sock = _target(o)
    answer = request(store, req, sock_path=sock)
    if o.get("as_json"):
        click.echo(json_text(answer))
        if not answer.get("ok"):
            sys.exit(1)
        return answer
    if not answer.get("ok"):
        plan = answer.get("plan")
        if plan:
            echo("rollback would run:", err=True)
            for line in plan:
                echo(f"  - {line}", err=True)
        for r in answer.get("results") or []:
            _print_result(r, err=True)
        raise ControlError(answer.get("error") or "the watch refused the command")
    return answer


def _print_result(r: dict[str, Any], err: bool = False) -> None:
    mark = "dry run" if r.get("dry_run") else ("ok" if r.get("ok") else "FAILED")
    echo(f"{mark}: {r.get('message', '')}", err=err)
    out = (r.get("output") or "").rstrip()
    if out:
        for line in out.splitlines()[-20:]:
            echo(f"    {line}", err=err)


@click.group()
@_common
@click.pass_context
def ctl(ctx: click.Context, store_path: Path | None, config_path: Path | None, sock_path: Path | None,
        as_json: bool | None) -> None:
    """Drive a running watch from another terminal or a script: status, pause, resume, rollback,
    mark PHASE, note TEXT, ack TRIGGER, silence TARGET DURATION, unsilence TARGET, throttle [--for],
    no-throttle, set TRIGGER threshold=V clear=V for=D. Actions are
    audited with who = ctl:<uid>."""
    ctx.obj = {k: v for k, v in dict(store_path=store_path, config_path=config_path, sock_path=sock_path,
                                     as_json=as_json).items() if v is not None and v is not False}


@ctl.command()
@_common
@click.pass_context
def status(ctx: click.Context, **kw: Any) -> None:
    """Run, phase, sources, pause state and the configured actions."""
    answer = _send(ctx, {"cmd": "status"}, **kw)
    if _opts(ctx, **kw).get("as_json"):
        return
    s = answer["status"]
    echo(f"run {s['run']} ({s['name']}) phase {s['phase']} tick {s['tick']} store {s['store']}")
    echo(f"paused: {'yes' if s.get('paused') else 'no'}")
    for src in s.get("sources") or []:
        err = f" ({src['last_error']})" if src.get("last_error") and src["state"] != "ok" else ""
        echo(f"source {src['name']} [{src['type']}]: {src['state']}{err}")
    t = s.get("throttle") or {}
    if t.get("throttled"):
        echo(f"THROTTLED for {_ago(t.get('since'), s)}: {t.get('reason')}")
    for name, row in (t.get("triggers") or {}).items():
        util = row.get("utilization")
        echo(f"throttle {name}: {'holds' if row.get('throttled') else 'clear'}"
             + (f", utilization {util:.2f}" if isinstance(util, (int, float)) else ""))
    if s.get("triggers"):
        echo(f"triggers: {s['triggers']}")
    for row in s.get("trigger_states") or []:
        if row.get("acked_by"):
            echo(f"acknowledged: {row['name']} ({row['state']}) by {row['acked_by']}")
    for sil in s.get("silences") or []:
        echo(f"silenced: {sil['target']} until {_utc(sil['until'])} by {sil['who']}"
                   + (f" ({', '.join(sil['triggers'])})" if sil.get("triggers") and sil["triggers"] != [sil["target"]]
                      else ""))
    for verb, lines in (s.get("actions") or {}).items():
        for line in lines:
            echo(f"{verb}: {line}")


def _run_verb(ctx: click.Context, req: dict[str, Any], why: str | None, **kw: Any) -> None:
    """Send an action request to the running watch and print each action's result."""
    if why:
        req["why"] = why
    answer = _send(ctx, req, **kw)
    if not _opts(ctx, **kw).get("as_json"):
        for r in answer.get("results") or []:
            _print_result(r)
        if answer.get("message"):
            echo(answer["message"])


def _action_command(verb: str, doc: str) -> click.Command:
    @_common
    @click.option("--why", default=None, help="Why (recorded in the audit event).")
    @click.option("--dry-run", is_flag=True, help="Only describe and record; nothing is done.")
    @click.pass_context
    def cmd(ctx: click.Context, why: str | None, dry_run: bool, **kw: Any) -> None:
        _run_verb(ctx, {"cmd": verb, "dry_run": dry_run}, why, **kw)

    cmd.__doc__ = doc
    return click.command(name=verb)(cmd)


ctl.add_command(_action_command("pause", "Run the configured pause actions (e.g. take the advisory pause lock)."))
ctl.add_command(_action_command("resume", "Run the resume actions (release the pause)."))


@ctl.command()
@_common
@click.option("--yes", is_flag=True, help="Confirm: without it the plan is printed and nothing runs.")
@click.option("--why", default=None, help="Why (recorded in the audit event).")
@click.option("--dry-run", is_flag=True, help="Only describe and record; nothing is done.")
@click.pass_context
def rollback(ctx: click.Context, yes: bool, why: str | None, dry_run: bool, **kw: Any) -> None:
    """Run the configured rollback actions. Needs --yes (that is its confirmation)."""
    _run_verb(ctx, {"cmd": "rollback", "yes": yes, "dry_run": dry_run}, why, **kw)


@ctl.command()
@click.argument("phase", type=click.Choice([p.value for p in Phase]))
@_common
@click.option("--why", default=None, help="Why (recorded in the phase event).")
@click.pass_context
def mark(ctx: click.Context, phase: str, why: str | None, **kw: Any) -> None:
    """Switch the run's phase (baseline, migration, post)."""
    req: dict[str, Any] = {"cmd": "mark", "phase": phase}
    if why:
        req["why"] = why
    answer = _send(ctx, req, **kw)
    if not _opts(ctx, **kw).get("as_json"):
        echo(f"phase: {answer.get('phase')}")


@ctl.command()
@click.argument("text", nargs=-1, required=True)
@_common
@click.pass_context
def note(ctx: click.Context, text: tuple[str, ...], **kw: Any) -> None:
    """Add a note to the run's audit log."""
    answer = _send(ctx, {"cmd": "note", "text": " ".join(text)}, **kw)
    if not _opts(ctx, **kw).get("as_json"):
        echo("noted" if answer.get("ok") else "")


def _ago(ts: Any, status: dict[str, Any]) -> str:
    try:
        return f"{max(0.0, float(status.get('now') or 0) - float(ts)):.0f}s"
    except (TypeError, ValueError):
        return "?"


def _utc(ts: Any) -> str:
    from datetime import datetime, timezone

    try:
        return datetime.fromtimestamp(float(ts), timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    except (TypeError, ValueError, OverflowError):
        return str(ts)


def _duration(ctx: click.Context, param: click.Parameter, value: str) -> float:
    from migtui.config import parse_duration

    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if seconds <= 0:
        raise click.BadParameter("a silence needs a positive duration")
    return seconds


def _print_event(ctx: click.Context, answer: dict[str, Any], **kw: Any) -> None:
    if not _opts(ctx, **kw).get("as_json"):
        echo(answer.get("message") or "done")


@ctl.command()
@click.argument("trigger")
@_common
@click.pass_context
def ack(ctx: click.Context, trigger: str, **kw: Any) -> None:
    """Acknowledge a firing trigger: its alerts stop repeating (its state and actions are unchanged)."""
    _print_event(ctx, _send(ctx, {"cmd": "ack", "trigger": trigger}, **kw), **kw)


@ctl.command()
@click.argument("target")
@click.argument("duration", callback=_duration)
@_common
@click.pass_context
def silence(ctx: click.Context, target: str, duration: float, **kw: Any) -> None:
    """Silence TARGET (a trigger name, warn, pause, rollback or all) for DURATION (30s, 15m, 2h):
    its triggers keep their state but neither act nor alert until then."""
    _print_event(ctx, _send(ctx, {"cmd": "silence", "target": target, "seconds": duration}, **kw), **kw)


@ctl.command()
@click.argument("target")
@_common
@click.pass_context
def unsilence(ctx: click.Context, target: str, **kw: Any) -> None:
    """Lift the silence of TARGET (as it was silenced: a trigger name, a level or all)."""
    _print_event(ctx, _send(ctx, {"cmd": "unsilence", "target": target}, **kw), **kw)


def _print_throttle(ctx: click.Context, answer: dict[str, Any], **kw: Any) -> None:
    if _opts(ctx, **kw).get("as_json"):
        return
    t = answer.get("throttle") or {}
    echo(f"throttled: {t.get('reason')}" if t.get("throttled") else "not throttled")


@ctl.command(name="throttle")
@click.option("--for", "seconds", default=None, help="Only for this long (30s, 10m); default until no-throttle.")
@_common
@click.pass_context
def throttle_cmd(ctx: click.Context, seconds: str | None, **kw: Any) -> None:
    """Force the throttle: the migration is paused through the pause actions until `ctl no-throttle`
    (or for --for); the throttle triggers' own holds are unchanged."""
    req: dict[str, Any] = {"cmd": "throttle"}
    if seconds is not None:
        req["seconds"] = seconds
    _print_throttle(ctx, _send(ctx, req, **kw), **kw)


@ctl.command(name="no-throttle")
@_common
@click.pass_context
def no_throttle(ctx: click.Context, **kw: Any) -> None:
    """Lift a forced throttle (a throttle trigger that still holds keeps the throttle)."""
    _print_throttle(ctx, _send(ctx, {"cmd": "no-throttle"}, **kw), **kw)


@ctl.command(name="set")
@click.argument("trigger")
@click.argument("assignments", nargs=-1, required=True)
@_common
@click.pass_context
def set_cmd(ctx: click.Context, trigger: str, assignments: tuple[str, ...], **kw: Any) -> None:
    """Change a running trigger: threshold=VALUE, clear=VALUE, for=DURATION (recorded with who)."""
    values: dict[str, str] = {}
    for item in assignments:
        key, eq, value = item.partition("=")
        if not eq or not key or not value:
            raise click.BadParameter(f"expected KEY=VALUE (threshold=, clear=, for=), got {item!r}")
        values[key] = value
    _print_event(ctx, _send(ctx, {"cmd": "set", "trigger": trigger, "values": values}, **kw), **kw)
