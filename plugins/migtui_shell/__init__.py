"""Bundled plugin: the ``shell`` action type (pause, resume or rollback by running a program) and the
``flag_file`` source (whether files exist, see ``migtui_shell.flagfile``).

It runs an argument list, never a shell string::

    actions:
      rollback:
        - type: shell
          name: alembic-downgrade
          command: [alembic, downgrade, "-1"]
          cwd: ../app                 # relative to the config file
          env: {DATABASE_URL: "${DATABASE_URL}"}
          timeout: 5m

The program's stdout and stderr (merged) are captured, redacted and truncated into the action's
event; exit code 0 means ok. The program also gets ``MIGTUI_VERB``, ``MIGTUI_WHO``, ``MIGTUI_WHY``,
``MIGTUI_RUN`` and ``MIGTUI_PHASE`` in its environment. On timeout the whole process group is killed.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time
from typing import Any

from migtui.api import hookimpl

__version__ = "0.1.0"

MAX_OUTPUT = 64 * 1024
_SECRET_NAME = re.compile(r"(password|passwd|secret|token|key|dsn|url|auth)", re.I)


def _command(value: Any, parent: Any, key: Any, path: str) -> list[str]:
    from migtui.api import error_at, interpolate

    if isinstance(value, str):
        raise error_at(parent, key, path, f"expected an argument list like {shlex.split(value)!r}, not a shell "
                                          "string (migtui never runs a shell)")
    if not isinstance(value, list) or not value:
        raise error_at(parent, key, path, "expected a non-empty list of arguments, e.g. [alembic, downgrade, '-1']")
    out = []
    for i, arg in enumerate(value):
        if isinstance(arg, (dict, list)) or arg is None:
            raise error_at(value, i, f"{path}[{i}]", "expected text")
        file, line = getattr(value, "file", None), (value.line_of(i) if hasattr(value, "line_of") else None)
        out.append(interpolate(str(arg), file=file, line=line, path=f"{path}[{i}]"))
    return out


def _schema(verb: str) -> Any:
    from migtui.api import Field, Schema, common_fields

    return Schema({
        **common_fields(verb, timeout=300.0),
        "command": Field(_command, required=True, doc="The program and its arguments, as a list."),
        "cwd": Field("path", doc="Working directory (relative to the config file; default its folder)."),
        "env": Field("dict", items="str", default=dict, doc="Environment additions; values may use ${ENV}."),
        "max_output": Field("int", default=MAX_OUTPUT, minimum=256, doc="Bytes of output kept."),
    })


class ShellAction:
    def __init__(self, name: str, verb: str, opts: dict[str, Any], cwd: str) -> None:
        from migtui.api import register_secret

        self.name, self.verb = name, verb
        self.confirm, self.dry_run, self.timeout = opts["confirm"], opts["dry_run"], float(opts["timeout"])
        self.command: list[str] = opts["command"]
        self.cwd = cwd
        self.env: dict[str, str] = opts["env"]
        self.max_output = int(opts["max_output"])
        for k, v in self.env.items():
            if _SECRET_NAME.search(k):
                register_secret(v)

    def describe(self, request: Any) -> str:
        from migtui.api import redact

        env = f" with {', '.join(sorted(self.env))} set" if self.env else ""
        return redact(f"run {shlex.join(self.command)} in {self.cwd}{env} (timeout {self.timeout:g}s)")

    def run(self, request: Any) -> Any:
        from migtui.api import ActionResult, redact

        env = {**os.environ, **self.env, "MIGTUI_VERB": request.verb, "MIGTUI_WHO": request.who,
               "MIGTUI_WHY": request.why, "MIGTUI_RUN": request.run, "MIGTUI_PHASE": str(getattr(request.phase, "value", request.phase))}
        started = time.monotonic()
        try:
            proc = subprocess.Popen(self.command, cwd=self.cwd, env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        except FileNotFoundError:
            return ActionResult(False, f"program not found: {self.command[0]!r} (PATH or cwd {self.cwd})")
        except OSError as exc:
            return ActionResult(False, f"cannot run {self.command[0]!r}: {exc.strerror or exc}")
        timed_out = False
        try:
            out, _ = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                proc.kill()
            out, _ = proc.communicate()
        seconds = round(time.monotonic() - started, 3)
        text = _clip(out or b"", self.max_output).decode("utf-8", "replace")
        text = redact(text)
        data = {"exit_code": proc.returncode, "seconds": seconds, "command": [redact(a) for a in self.command]}
        if timed_out:
            return ActionResult(False, f"{self.command[0]} timed out after {self.timeout:g}s and was killed",
                                output=text, data=data)
        if proc.returncode != 0:
            return ActionResult(False, f"{self.command[0]} exited with code {proc.returncode}", output=text, data=data)
        return ActionResult(True, f"{self.command[0]} exited with code 0", output=text, data=data)


def _clip(out: bytes, limit: int) -> bytes:
    if len(out) <= limit:
        return out
    head = limit // 2
    return out[:head] + f"\n... [{len(out) - limit} bytes cut] ...\n".encode() + out[-(limit - head):]


def build(ctx: Any, verb: str = "rollback") -> ShellAction:
    from migtui.api import validate

    opts = validate(_schema(verb), ctx.options, ctx.path)
    cwd = ctx.config.resolve_path(opts["cwd"]) if opts.get("cwd") else ctx.config.path.parent
    if not cwd.is_dir():
        from migtui.api import error_at

        raise error_at(ctx.options, "cwd", f"{ctx.path}.cwd", f"not a folder: {cwd}")
    return ShellAction(ctx.name, verb, opts, str(cwd.resolve()))


@hookimpl
def migtui_action_types(register: Any) -> None:
    register("shell", build, verbs=("pause", "resume", "rollback"), schema=_schema,
             doc="Run a program (an argument list, never a shell string) with timeout and captured output.")


@hookimpl
def migtui_source_types(register: Any) -> None:
    from migtui_shell import flagfile

    register("flag_file", flagfile.build, schema=flagfile.SCHEMA,
             doc="Flag files: 1 while a file exists (gh-ost's throttle flag file).")
