"""The control socket: drive a running watch from a second terminal or a script (``migtui ctl``).

A Unix socket, mode 0600, in a folder only this user can enter: next to the store
(``<store>.sock``) when the store's folder is private (owned by this user, mode 0700 or stricter),
else in migtui's private folder (``$XDG_RUNTIME_DIR/migtui`` or ``/tmp/migtui-<uid>``, created 0700;
one another user created is refused) under a name derived from the store's path. Another local user
therefore cannot squat the path; one that is already served anyway is an error naming it, never
something the watch works around. Both ends check the peer's credentials (SO_PEERCRED): the server
answers only the same user (or root), and the client refuses a server run by another user. The protocol is JSON lines: one request object per line, one answer object per line::

    {"cmd": "status"}
    {"cmd": "pause", "why": "replica lag"}
    {"cmd": "resume"}
    {"cmd": "rollback", "yes": true}          # without "yes": the plan, nothing runs
    {"cmd": "mark", "phase": "migration"}
    {"cmd": "note", "text": "starting step 2"}
    {"cmd": "ack", "trigger": "warn:error_rate"}              # alerts stop repeating
    {"cmd": "silence", "target": "pause", "seconds": 600}     # a trigger, warn|pause|rollback, or all
    {"cmd": "unsilence", "target": "pause"}
    {"cmd": "throttle", "seconds": 600}                       # force the throttle (no seconds: until lifted)
    {"cmd": "no-throttle"}                                    # lift a forced throttle
    {"cmd": "set", "trigger": "replay-lag", "values": {"threshold": "5", "clear": "2", "for": "30s"}}

    -> {"ok": true, ...} or {"ok": false, "error": "one line"}

Actions from the socket go through the same path as keys and triggers and are audited with
``who = "ctl:<uid>"``. Acknowledging and silencing triggers (:mod:`migtui.triggers.commands`, also
used by the cockpit's keys) run on the engine thread and are recorded as ``trigger`` events. It is
one of the run's parts (:class:`migtui.engine.parts.RunParts`): every engine with a store serves its
socket unless the config says ``control: {enabled: false}``.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import socket
import stat
import struct
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migtui.config import parse_duration
from migtui.errors import MigtuiError
from migtui.model import Event, Phase
from migtui.redact import redact, redact_obj
from migtui.runtime_dir import is_private, private_dir, runtime_dir
from migtui.throttle import CTL_COMMANDS, ctl_command
from migtui.triggers.commands import acknowledge_trigger, silence_triggers, unsilence_triggers

if TYPE_CHECKING:  # pragma: no cover
    from migtui.engine import Engine

MAX_SOCKET_PATH = 100
"""Unix socket paths are limited to 107 bytes on Linux (103 on macOS); keep a margin."""
MAX_LINE = 64 * 1024
ACTION_WAIT = 120.0
"""How long the server waits for an action's results before answering "still running"."""


class ControlError(MigtuiError):
    """No watch is reachable on that store, or it refused the command."""


def socket_path(store_path: str | os.PathLike[str]) -> Path:
    """Where the control socket of the watch writing ``store_path`` lives (see the module docstring)."""
    store = Path(store_path).expanduser().absolute()
    direct = Path(f"{store}.sock")
    if is_private(store.parent) and len(os.fsencode(str(direct))) <= MAX_SOCKET_PATH:
        return direct
    digest = hashlib.sha256(os.fsencode(str(store))).hexdigest()[:20]
    return runtime_dir() / f"{digest}.sock"


class ControlServer:
    """Serves one engine's control socket in a background thread (see the module docstring)."""

    def __init__(self, engine: Engine, path: Path) -> None:
        self.engine = engine
        self.path = path
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._inode: int | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> "ControlServer":
        path = self.path
        try:
            private_dir(path.parent)
        except MigtuiError as exc:
            raise ControlError(f"control socket {path}: {exc}") from None
        if path.exists() or path.is_symlink():
            st = path.lstat()
            if not stat.S_ISSOCK(st.st_mode):
                raise ControlError(f"control socket {path} exists and is not a socket; not replacing it")
            served_by = _served_by(path)
            if served_by is not None:
                raise ControlError(f"control socket {path} is already served by {served_by}; not starting a watch "
                                   "that `migtui ctl` could not reach (stop that process or remove the socket)")
            path.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)  # the socket is born 0600 (no window with wider permissions)
        try:
            sock.bind(str(path))
        finally:
            os.umask(old_umask)
        os.chmod(path, 0o600)
        sock.listen(8)
        sock.settimeout(0.25)
        self._sock = sock
        self._inode = path.stat().st_ino
        self._thread = threading.Thread(target=self._serve, name="migtui-control", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None
        try:
            if self._inode is not None and self.path.stat().st_ino == self._inode:
                self.path.unlink()
        except OSError:
            pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)

    # ------------------------------------------------------------------ serving

    def _serve(self) -> None:
        while not self._stop.is_set():
            sock = self._sock
            if sock is None:
                return
            try:
                conn, _ = sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), name="migtui-control-conn", daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            peer = _peer(conn)
            uid = peer[1] if peer is not None else None  # not Linux: the 0600 mode is the protection
            if uid is not None and uid not in (os.getuid(), 0):
                _send(conn, {"ok": False, "error": "permission denied: the control socket is owner-only"})
                return
            who = f"ctl:{uid if uid is not None else os.getuid()}"
            conn.settimeout(ACTION_WAIT + 30)
            buf = b""
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                buf += chunk
                if len(buf) > MAX_LINE and b"\n" not in buf:
                    _send(conn, {"ok": False, "error": f"request longer than {MAX_LINE} bytes"})
                    return
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if not line.strip():
                        continue
                    try:
                        answer = self.dispatch(json.loads(line), who=who)
                    except ValueError:
                        answer = {"ok": False, "error": "not a JSON object on one line"}
                    except MigtuiError as exc:
                        answer = {"ok": False, "error": redact(exc)}
                    except Exception as exc:  # noqa: BLE001 - a bug here must not stop the watch
                        answer = {"ok": False, "error": f"{type(exc).__name__}: {redact(exc)}"}
                    if not _send(conn, answer):
                        return

    def dispatch(self, req: Any, *, who: str) -> dict[str, Any]:
        """Answer one request (also usable in-process)."""
        if not isinstance(req, dict) or not isinstance(req.get("cmd"), str):
            return {"ok": False, "error": 'expected {"cmd": "status|pause|resume|rollback|mark|note|ack|silence|'
                                          'unsilence|throttle|no-throttle|set", ...}'}
        cmd = req["cmd"]
        why = str(req.get("why") or f"migtui ctl {cmd}")
        if cmd == "status":
            return {"ok": True, "status": self.status()}
        if cmd in ("pause", "resume"):
            return self._action(cmd, who=who, why=why, confirmed=True, dry_run=bool(req.get("dry_run")))
        if cmd == "rollback":
            if not req.get("yes") and not req.get("dry_run"):
                plan = self.engine.describe_actions("rollback")
                return {"ok": False, "needs_confirmation": True, "plan": plan,
                        "error": "rollback needs --yes (that is its confirmation); nothing was run"}
            return self._action("rollback", who=who, why=why, confirmed=True, dry_run=bool(req.get("dry_run")))
        if cmd == "mark":
            phase = str(req.get("phase") or "")
            try:
                Phase(phase)
            except ValueError:
                return {"ok": False, "error": f"unknown phase {phase!r}; use one of "
                                              f"{', '.join(p.value for p in Phase)}"}
            self.engine.set_phase(phase, who=who, why=why if req.get("why") else "migtui ctl mark")
            return {"ok": True, "phase": self.engine.phase.value}
        if cmd == "note":
            text = str(req.get("text") or "").strip()
            if not text:
                return {"ok": False, "error": "note needs some text"}
            self.engine.note(text, who=who)
            return {"ok": True}
        if cmd == "ack":
            name = str(req.get("trigger") or "").strip()
            if not name:
                return {"ok": False, "error": "ack needs a trigger name (see `migtui ctl status`)"}
            return _event_answer(acknowledge_trigger(self.engine, name, who))
        if cmd == "silence":
            target = str(req.get("target") or "").strip()
            if not target:
                return {"ok": False, "error": "silence needs a target: a trigger name, warn, pause, rollback or all"}
            raw = req.get("seconds", req.get("duration"))
            try:
                if raw is None or raw == "":
                    raise ValueError("expected a duration like 30s, 5m or 2h")
                seconds = parse_duration(raw)
            except ValueError as exc:
                return {"ok": False, "error": f"silence needs a duration: {exc}"}
            return _event_answer(silence_triggers(self.engine, target, seconds, who))
        if cmd == "unsilence":
            target = str(req.get("target") or "").strip()
            if not target:
                return {"ok": False, "error": "unsilence needs a target: a trigger name, warn, pause, rollback or all"}
            return _event_answer(unsilence_triggers(self.engine, target, who))
        if cmd in CTL_COMMANDS:
            return redact_obj(ctl_command(self.engine, req, who))
        return {"ok": False, "error": f"unknown command {cmd!r}; use status, pause, resume, rollback, mark, note, "
                                      "ack, silence, unsilence, throttle, no-throttle or set"}

    def _action(self, verb: str, **kw: Any) -> dict[str, Any]:
        fut = self.engine.request_action(verb, **kw)
        try:
            results = fut.result(timeout=ACTION_WAIT)
        except concurrent.futures.TimeoutError:
            return {"ok": True, "running": True, "results": [],
                    "message": f"{verb} is still running after {ACTION_WAIT:g}s; see `migtui ctl status`"}
        out = [{"ok": r.ok, "message": redact(r.message), "dry_run": r.dry_run,
                "output": redact(r.output or "")[-2000:]} for r in results]
        return {"ok": all(r.ok for r in results), "results": out,
                **({} if all(r.ok for r in results) else {"error": f"{verb} failed: " + "; ".join(
                    r["message"] for r in out if not r["ok"])})}

    def status(self) -> dict[str, Any]:
        """Rendered from a frame of the engine (immutable: read from this thread as it is); the same
        document as ``GET /status`` (:func:`migtui.status.status_document`)."""
        from migtui.status import status_document

        return status_document(self.engine.fresh_frame(), self.engine.describe_actions)


def _event_answer(ev: Event) -> dict[str, Any]:
    return {"ok": True, "message": redact(ev.message), "event": redact_obj(ev.as_json())}


def _send(conn: socket.socket, obj: dict[str, Any]) -> bool:
    try:
        conn.sendall((json.dumps(obj, default=str) + "\n").encode())
        return True
    except OSError:
        return False


def _peer(conn: socket.socket) -> tuple[int, int] | None:
    """(pid, uid) of the process at the other end of a connected Unix socket (None off Linux)."""
    opt = getattr(socket, "SO_PEERCRED", None)
    if opt is None:
        return None
    pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, opt, struct.calcsize("3i")))
    return pid, uid


def _user(uid: int) -> str:
    try:
        import pwd

        return f"uid {uid} ({pwd.getpwuid(uid).pw_name})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def _served_by(path: Path) -> str | None:
    """Who listens on ``path`` ("process 123 of uid 0 (root)"), or None when nobody answers."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1.0)
    try:
        s.connect(str(path))
        peer = _peer(s)
        return f"process {peer[0]} of {_user(peer[1])}" if peer else "another process"
    except OSError:
        return None
    finally:
        s.close()


# --------------------------------------------------------------------------- client


def request(store_path: str | os.PathLike[str], req: dict[str, Any], *, timeout: float = ACTION_WAIT + 10,
            sock_path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Send one request to the watch writing ``store_path``; ControlError when none is running."""
    path = Path(sock_path) if sock_path else socket_path(store_path)
    store = Path(store_path)
    if not path.exists():
        raise ControlError(f"no running watch on {store} (no control socket {path}); start one with "
                           f"`migtui watch --store {store} ...`")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        try:
            s.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            raise ControlError(f"no running watch on {store} (stale control socket {path}: nobody answers)") from None
        except PermissionError:
            raise ControlError(f"permission denied on {path}: the control socket belongs to another user") from None
        peer = _peer(s)
        if peer is not None and peer[1] != os.getuid():
            raise ControlError(f"refusing the control socket {path}: it is served by process {peer[0]} of "
                               f"{_user(peer[1])}, not by you ({_user(os.getuid())}); another user may have "
                               "squatted it")
        s.sendall((json.dumps(req) + "\n").encode())
        buf = b""
        while b"\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except socket.timeout:
        raise ControlError(f"the watch on {store} did not answer within {timeout:g}s") from None
    except OSError as exc:
        raise ControlError(f"talking to the watch on {store} failed: {exc.strerror or exc}") from None
    finally:
        s.close()
    if not buf.strip():
        raise ControlError(f"the watch on {store} closed the connection without an answer")
    try:
        answer = json.loads(buf.split(b"\n", 1)[0])
    except ValueError:
        raise ControlError(f"the watch on {store} sent something that is not JSON") from None
    if not isinstance(answer, dict):
        raise ControlError(f"the watch on {store} sent an unexpected answer")
    return answer


# --------------------------------------------------------------------------- engine extension


def start_control(engine: Engine) -> ControlServer | None:
    """Serve the run's control socket (built by the engine; None when disabled or without a store)."""
    opts = engine.config.get("control") or {}
    if engine.store is None or opts.get("enabled", True) is False:
        return None
    path = engine.config.resolve_path(opts["socket"]) if opts.get("socket") else socket_path(engine.store.path)
    try:
        return ControlServer(engine, path).start()
    except OSError as exc:
        raise ControlError(f"control socket {path} cannot be served: {exc.strerror or exc}") from None
