"""Stand-ins for migtui watches as the fleet view reads them: ``/status`` JSON and ``/metrics`` text
on 127.0.0.1 (real HTTP through :mod:`tests.servers.httpbase`), plus one that hangs and one port
that nothing listens on."""

from __future__ import annotations

import json
import socket
import threading
from typing import Any

from tests.servers.httpbase import LoopbackServer, Request, Response

METRICS = """\
# HELP migtui_lock_waits Sessions waiting on a lock.
# TYPE migtui_lock_waits gauge
migtui_lock_waits{run="r1",source="db",database="app"} 3
# HELP migtui_trigger_state Trigger state (0 ok, 1 pending, 2 firing, 3 inconclusive).
# TYPE migtui_trigger_state gauge
migtui_trigger_state{run="r1",trigger="lock-waits",action="pause",database="app"} 2
# HELP migtui_migration_percent Migration progress.
# TYPE migtui_migration_percent gauge
migtui_migration_percent{run="r1",database="app"} 42.5
"""


def status_doc(ident: str, **over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "run": f"run-{ident}", "name": ident, "phase": "migration",
        "progress": {"percent": 42.5, "eta_seconds": 330},
        "throttle": {"throttled": False, "reason": ""},
        "triggers": [{"name": "lock-waits", "state": "ok", "value": 0, "threshold": 5, "action": "pause"}],
        "sources": [{"name": "db", "type": "postgres", "state": "ok", "last_error": None}],
        "verdict": "ok", "lock_waits": 0, "lag_seconds": 1.5,
    }
    doc.update(over)
    return doc


class StandInWatch:
    """A watch's HTTP endpoint whose ``status`` (a dict) and ``metrics`` (text) a test changes live."""

    def __init__(self, ident: str, **status: Any) -> None:
        self.status = status_doc(ident, **status)
        self.code = 200
        self.metrics = METRICS
        self.server = LoopbackServer(self._handle)

    def _handle(self, req: Request) -> Response:
        if req.path == "/status":
            return Response(self.code, json.dumps(self.status), "application/json")
        if req.path == "/metrics":
            return Response(200, self.metrics, "text/plain; version=0.0.4; charset=utf-8")
        return Response(404, "no such route")

    @property
    def url(self) -> str:
        return self.server.url + "/status"

    def __enter__(self) -> "StandInWatch":
        self.server.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.stop()


class HangingWatch(StandInWatch):
    """Accepts the connection, reads the request and never answers (until the test ends)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        super().__init__("hang")

    def _handle(self, req: Request) -> Response:
        self.release.wait(60)
        return Response(503, "released")

    def __exit__(self, *exc: Any) -> None:
        self.release.set()
        super().__exit__(*exc)


def closed_port_url() -> str:
    """A /status URL on a 127.0.0.1 port nothing listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/status"
