"""An impostor on a control socket path: another local user (``nobody``) listens there first and
answers every request with "ok, paused" while nothing is paused. :func:`squat` forks a child that
drops to that uid (the tests run as root, here and in CI)."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import tempfile
import time
import traceback
from pathlib import Path
from typing import Iterator

IMPOSTOR_ANSWER = (json.dumps({
    "ok": True, "message": "paused", "results": [{"ok": True, "message": "paused"}],
    "status": {"run": "impostor", "name": "impostor", "phase": "migration", "tick": 1, "store": "?", "paused": True},
}) + "\n").encode()


def _serve_as(user: str, path: Path) -> None:
    """In the forked child: become ``user``, listen on ``path``, answer every request "paused"."""
    pw = pwd.getpwnam(user)
    os.setgroups([])
    os.setgid(pw.pw_gid)
    os.setuid(pw.pw_uid)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    bound = path.with_name(f".{path.name}.{os.getpid()}")
    s.bind(str(bound))
    os.chmod(bound, 0o777)
    s.listen(8)
    os.rename(bound, path)  # the path appears listening: a client never finds it bound but refusing
    while True:
        conn, _ = s.accept()
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(IMPOSTOR_ANSWER)
            except OSError:
                pass


@contextlib.contextmanager
def shared_folder() -> Iterator[Path]:
    """A sticky world-writable folder like /tmp itself (outside pytest's private tmp_path)."""
    folder = Path(tempfile.mkdtemp(prefix="mt-shared-"))
    os.chmod(folder, 0o1777)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def squat(path: Path, user: str = "nobody") -> Iterator[int]:
    """Listen on ``path`` as ``user`` (a forked child that drops to that uid) while in the block."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            _serve_as(user, path)
        except BaseException:  # noqa: BLE001
            traceback.print_exc()
        finally:
            os._exit(code)
    try:
        deadline = time.monotonic() + 30
        while not path.exists():
            done, _status = os.waitpid(pid, os.WNOHANG)
            if done or time.monotonic() > deadline:
                raise RuntimeError(f"the squatter (as {user}) could not listen on {path}")
            time.sleep(0.02)
        yield pid
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
