"""Binding, authentication and the request loop of the watch's HTTP server.

A :class:`ThreadingHTTPServer` in a daemon thread: each request runs in its own daemon thread with
a socket timeout, so a slow or stuck client holds only itself, and exit never waits for a client.
Read-only: GET and HEAD; anything else is 405. With a token every request needs
``Authorization: Bearer TOKEN``; without one the server binds loopback only, and answers only
requests whose Host is a loopback name (a web page cannot reach it through DNS rebinding).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from migtui.errors import ConfigError
from migtui.http.routes import Response, View, routes
from migtui.redact import register_secret

TOKEN_ENV = "MIGTUI_HTTP_TOKEN"
"""Environment variable holding the bearer token (``--http-token-file`` wins)."""
CLIENT_TIMEOUT = 10.0
"""Seconds a client may take to send its request."""
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class HttpSettings:
    host: str
    port: int
    token: str | None

    @property
    def loopback(self) -> bool:
        return _is_loopback(self.host)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_bind(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[::1]:PORT``, ``:PORT`` or ``PORT`` (loopback) -> (host, port)."""
    text = text.strip()
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "", text
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        num = int(port)
    except ValueError:
        raise ConfigError(f"--http {text!r}: expected HOST:PORT (e.g. 127.0.0.1:9187)") from None
    if not 0 <= num <= 65535:
        raise ConfigError(f"--http {text!r}: port {num} is out of range (0-65535)")
    return host or "127.0.0.1", num


def http_settings(bind: str | None, token_file: Path | None, env: Any = None) -> HttpSettings | None:
    """The ``--http`` / ``--http-token-file`` options checked before anything starts; None when off.
    A host that is not loopback needs a token; the token is registered as a secret (masked in every
    output)."""
    if bind is None:
        if token_file is not None:
            raise ConfigError("--http-token-file needs --http HOST:PORT")
        return None
    host, port = parse_bind(bind)
    env = os.environ if env is None else env
    token = None
    if token_file is not None:
        try:
            token = Path(token_file).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"--http-token-file {token_file}: {exc.strerror or exc}") from None
        if not token:
            raise ConfigError(f"--http-token-file {token_file}: the file is empty")
    elif env.get(TOKEN_ENV):
        token = env[TOKEN_ENV].strip()
    if token is not None and len(token) < 16:
        raise ConfigError("the HTTP bearer token is too short (16 characters at least)")
    settings = HttpSettings(host, port, token)
    if not settings.loopback and token is None:
        raise ConfigError(f"--http {bind}: {host} is not a loopback address; serving it needs a bearer token "
                          f"(--http-token-file FILE or ${TOKEN_ENV})")
    register_secret(token)
    return settings


class HttpServer:
    """Serves :func:`~migtui.http.routes.routes` over the frames of ``frame_source()``."""

    def __init__(self, settings: HttpSettings, frame_source: Callable[[], Any],
                 describe_actions: Callable[[str], list[str]] | None = None) -> None:
        self.settings = settings
        self._frame = frame_source
        self._describe = describe_actions or (lambda verb: [])
        self._routes = routes()
        self.requests = 0
        family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET

        class _Server(ThreadingHTTPServer):
            address_family = family
            daemon_threads = True
            block_on_close = False

        try:
            self._server = _Server((settings.host, settings.port), _handler_class(self))
        except OSError as exc:
            raise ConfigError(f"--http {settings.host}:{settings.port}: cannot listen: {exc.strerror or exc}") from None
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="migtui-http", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> "HttpServer":
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop listening (at most one poll interval); requests in flight end with the process."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def answer(self, method: str, target: str, headers: dict[str, str]) -> Response:
        """The response to one request (no socket: the handler and the tests call it)."""
        if self.settings.token is not None:
            auth = headers.get("authorization", "")
            scheme, _, given = auth.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                                     self.settings.token.encode()):
                return Response(401, b"a bearer token is required\n", headers={"WWW-Authenticate": "Bearer"})
        elif not _loopback_host_header(headers.get("host", "")):
            return Response(421, b"this server answers loopback host names only\n")
        if method not in ("GET", "HEAD"):
            return Response(405, b"read-only: GET and HEAD only\n", headers={"Allow": "GET, HEAD"})
        parts = urlsplit(target)
        route = self._routes.get(parts.path.rstrip("/") or "/")
        if route is None:
            return Response(404, b"no such route; GET / lists them\n")
        view = View(frame=self._frame(), query=parse_qs(parts.query), describe_actions=self._describe,
                    headers=headers, accept=headers.get("accept", ""))
        try:
            return route(view)
        except Exception:  # noqa: BLE001 - a route's bug is a 500, never a traceback to the client or the exit
            return Response(500, b"internal error\n")


def serve_engine(settings: HttpSettings | None, engine: Any) -> HttpServer | None:
    """Start serving ``engine``'s frames (None when ``--http`` was not given)."""
    if settings is None:
        return None
    return HttpServer(settings, lambda: engine.frame, engine.describe_actions).start()


def _loopback_host_header(host: str) -> bool:
    name = host.strip()
    if name.startswith("["):
        name = name[1:].partition("]")[0]
    else:
        name = name.rpartition(":")[0] if name.count(":") == 1 else name
    return name.lower() in _LOOPBACK_NAMES or _is_loopback(name)


def _handler_class(server: HttpServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = CLIENT_TIMEOUT
        server_version = "migtui"
        sys_version = ""

        def _serve(self) -> None:
            server.requests += 1
            headers = {k.lower(): v for k, v in self.headers.items()}
            resp = server.answer(self.command, self.path, headers)
            if self.command not in ("GET", "HEAD"):
                self.close_connection = True  # its body is never read
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(resp.body)))
            self.send_header("Cache-Control", "no-store")
            for k, v in resp.headers.items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(resp.body)

        do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
            return  # no access log on the terminal the watch prints to

    return _Handler
