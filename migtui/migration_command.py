"""The migration command of ``migtui run``: a child process whose life sets the run's phases.

:class:`MigrationCommand` starts the command (no shell) in its own session with the environment
plugins ask for (``PGAPPNAME`` from the PostgreSQL plugin), switches the engine to the migration
phase as soon as the process exists, streams its stdout and stderr into the event log line by line
(``output`` events; each line redacted, control characters shown as escapes, cut at
:data:`MAX_LINE` characters; after :data:`MAX_LINES` lines only a count is kept), records its exit
(code or signal, with the duration) and switches to post. :meth:`MigrationCommand.stop` stops it
politely: SIGINT to its process group, then SIGTERM after the grace period, then SIGKILL after as
long again.

It uses the engine's public methods only (``emit``, ``set_phase``).
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import threading
import time
from typing import IO, Any

from migtui.errors import MigtuiError
from migtui.model import Event, Level, Phase
from migtui.redact import redact
from migtui.safetext import one_line

MAX_LINE = 2000
"""Characters of one output line kept in its event (a longer line is cut with an ellipsis)."""
MAX_LINES = 20_000
"""Output lines stored per run; later lines are counted, not stored (a runaway log must not fill the store)."""
READ_CHUNK = 64 * 1024
"""A line longer than this is read (and stored) in pieces."""
WHO = "migtui run"


def describe_command(argv: list[str]) -> str:
    """The command as one redacted line for messages."""
    return one_line(redact(shlex.join(argv)), 300)


class MigrationCommand:
    """One run of the migration command under an engine (see the module docstring)."""

    def __init__(self, engine: Any, argv: list[str], *, env: dict[str, str] | None = None,
                 cwd: str | None = None) -> None:
        if not argv:
            raise MigtuiError("no migration command: give one after `--` or set migration.command in the config")
        self.engine = engine
        self.argv = list(argv)
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self.returncode: int | None = None
        self.stopped_by: str = ""
        self.lines = 0
        self.dropped = 0
        self._count_lock = threading.Lock()
        self._readers: list[threading.Thread] = []

    # -- start

    def start(self) -> None:
        """Start the command; the run is in the migration phase once it exists."""
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, env=self.env, cwd=self.cwd,
                                         start_new_session=True)  # Ctrl-C reaches it through stop(), in order
        except OSError as exc:
            self.engine.emit(Event("note", "migration", f"the migration command could not start: "
                                   f"{describe_command(self.argv)}: {exc.strerror or exc}", Level.ERROR,
                                   {"type": "migration_command", "change": "failed_to_start"}))
            raise MigtuiError(f"cannot start the migration command {self.argv[0]!r}: {exc.strerror or exc}") from None
        self.started = time.monotonic()
        app = self.env.get("PGAPPNAME", "")
        self.engine.set_phase(Phase.MIGRATION, who=WHO, why=f"the migration command started (pid {self.proc.pid})")
        self.engine.emit(Event("note", "migration", f"migration command started (pid {self.proc.pid}"
                               + (f", application_name {app}" if app else "") + f"): {describe_command(self.argv)}",
                               Level.INFO, {"type": "migration_command", "change": "started", "pid": self.proc.pid,
                                            "command": describe_command(self.argv), "application_name": app}))
        for name, pipe in (("stdout", self.proc.stdout), ("stderr", self.proc.stderr)):
            t = threading.Thread(target=self._pump, args=(name, pipe), name=f"migtui-run-{name}", daemon=True)
            t.start()
            self._readers.append(t)

    def _pump(self, stream: str, pipe: IO[bytes] | None) -> None:
        if pipe is None:
            return
        level = Level.INFO
        with pipe:
            while True:
                raw = pipe.readline(READ_CHUNK)
                if not raw:
                    return
                with self._count_lock:
                    if self.lines >= MAX_LINES:
                        self.dropped += 1
                        continue
                    self.lines += 1
                    n = self.lines
                text = raw.decode("utf-8", "backslashreplace").rstrip("\r\n")
                self.engine.emit(Event("output", stream, one_line(redact(text), MAX_LINE), level,
                                       {"stream": stream, "line": n}))

    # -- wait and stop

    def poll(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def wait(self, timeout: float) -> int | None:
        """The exit code once it exited within ``timeout`` seconds, else None."""
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout=max(0.0, timeout))
        except subprocess.TimeoutExpired:
            return None

    def signal(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the command's process group (it runs in its own session)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            return
        self.stopped_by = sig.name
        self.engine.emit(Event("note", "migration", f"sent {sig.name} to the migration command (pid {self.proc.pid})",
                               Level.WARN, {"type": "migration_command", "change": "signal", "signal": sig.name,
                                            "pid": self.proc.pid}))

    def stop(self, grace: float, escalate: threading.Event | None = None) -> int | None:
        """SIGINT, then SIGTERM after ``grace`` seconds (or at once when ``escalate`` is set, a second
        Ctrl-C), then SIGKILL after as long again. Returns the exit code."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            if self.poll() is not None:
                break
            self.signal(sig)
            deadline = time.monotonic() + grace
            while self.poll() is None and time.monotonic() < deadline:
                if escalate is not None and escalate.is_set() and sig != signal.SIGKILL:
                    escalate.clear()
                    break
                self.wait(0.05)
        return self.wait(grace)

    def finish(self) -> int | None:
        """Record the exit (an event; an ERROR when it failed) and switch to post. Returns the code."""
        if self.proc is None:
            return None
        code = self.proc.wait()
        for t in self._readers:
            t.join(timeout=5)  # the rest of its output first
        self.returncode = code
        seconds = round(time.monotonic() - self.started, 3)
        if self.dropped:
            self.engine.emit(Event("note", "migration", f"{self.dropped} more output lines of the migration command "
                                   f"were not stored (only the first {MAX_LINES} are)", Level.WARN,
                                   {"type": "migration_command", "change": "output_dropped", "lines": self.dropped}))
        if code < 0:
            try:
                how = f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        ok = code == 0
        self.engine.emit(Event("note", "migration", f"migration command {how} after {seconds:g}s"
                               + ("" if ok else "; the run's checklist fails"), Level.INFO if ok else Level.ERROR,
                               {"type": "migration_command", "change": "exited", "exit_code": code, "ok": ok,
                                "seconds": seconds, "stopped_by": self.stopped_by or None,
                                "command": describe_command(self.argv)}))
        self.engine.set_phase(Phase.POST, who=WHO, why=f"the migration command {how}")
        return code
