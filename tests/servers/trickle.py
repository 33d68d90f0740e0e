"""An HTTP endpoint that trickles: while ``trickling`` is set it sends the headers at once and then one
line of a valid exposition per ``every`` seconds, never finishing (each line alone is in time for any
per-read timeout). Cleared, it answers the whole exposition at once."""

from __future__ import annotations

import socket
import threading

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BODY = b"# TYPE up gauge\nup 1\n"


class TrickleServer:
    def __init__(self, every: float = 1.0) -> None:
        self.every = every
        self.trickling = threading.Event()
        self.trickling.set()
        self.requests = 0
        self._closed = threading.Event()
        outer = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                outer.requests += 1
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if not outer.trickling.is_set():
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain; version=0.0.4")
                    self.send_header("Content-Length", str(len(BODY)))
                    self.end_headers()
                    self.wfile.write(BODY)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Connection", "close")  # no length: the body ends when the server says so
                self.end_headers()
                self.close_connection = True
                n = 0
                try:
                    while not outer._closed.is_set():
                        self.wfile.write(f"# still thinking {n}\n".encode())
                        self.wfile.flush()
                        n += 1
                        outer._closed.wait(outer.every)
                except OSError:
                    pass  # the client gave up

            def log_message(self, *args: Any) -> None:
                pass

        class _Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self.httpd = _Server(("127.0.0.1", 0), _H)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/metrics"

    def __enter__(self) -> "TrickleServer":
        threading.Thread(target=self.httpd.serve_forever, name="trickle", daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._closed.set()
        self.httpd.shutdown()
        self.httpd.server_close()



