"""A private tmux server (socket ``migtui-bench``) to run terminal programs in the same conditions."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
from typing import Sequence

from bench.common import NotMeasured, descendants

SOCKET = "migtui-bench"
COLS, ROWS = 200, 50


def available() -> bool:
    return shutil.which("tmux") is not None


def _tmux(*args: str, check: bool = True, timeout: float = 10) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=check, timeout=timeout)


def start(name: str, argv: Sequence[str], *, env: dict[str, str] | None = None) -> int:
    """Start ``argv`` in a new detached session of COLS x ROWS; returns the pane's pid."""
    if not available():
        raise NotMeasured("tmux is not installed")
    kill(name)
    cmd = " ".join(shlex.quote(a) for a in argv)
    env_args: list[str] = []
    for k, v in (env or {}).items():
        env_args += ["-e", f"{k}={v}"]
    _tmux("new-session", "-d", "-s", name, "-x", str(COLS), "-y", str(ROWS), *env_args, f"exec {cmd}")
    _tmux("set-option", "-t", name, "remain-on-exit", "on", check=False)
    out = _tmux("list-panes", "-t", name, "-F", "#{pane_pid}").stdout.split()
    if not out:
        raise NotMeasured(f"tmux session {name} did not start")
    return int(out[0])


def capture(name: str) -> str:
    r = _tmux("capture-pane", "-p", "-t", name, check=False)
    return r.stdout if r.returncode == 0 else ""


def send_keys(name: str, *keys: str) -> None:
    _tmux("send-keys", "-t", name, *keys, check=False)


def pane_dead(name: str) -> bool:
    r = _tmux("list-panes", "-t", name, "-F", "#{pane_dead}", check=False)
    return r.returncode != 0 or r.stdout.strip() in ("1", "")


def kill(name: str) -> None:
    _tmux("kill-session", "-t", name, check=False)


def kill_server() -> None:
    _tmux("kill-server", check=False)


def tree(pid: int) -> list[int]:
    return [pid, *descendants(pid)]


def wait_dead(name: str, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pane_dead(name):
            return True
        time.sleep(0.1)
    return False
