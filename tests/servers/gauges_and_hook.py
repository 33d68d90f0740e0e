"""A service stand-in for trigger tests: ``/metrics`` serves gauges the test sets, ``/hook`` is an
Alertmanager-style webhook receiver that records every alert it gets."""

from __future__ import annotations

import json
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

from tests.servers.httpbase import LoopbackServer, Request, Response


class GaugesAndHook:
    def __init__(self) -> None:
        self.gauges = {"app_error_rate": 0.01, "app_p95_ms": 300.0}
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.server = LoopbackServer(self._handle).start()
        self.url = self.server.url

    def _handle(self, req: Request) -> Response:
        if req.path == "/metrics":
            body = "".join(f"# TYPE {k} gauge\n{k} {v}\n" for k, v in dict(self.gauges).items())
            return Response(body=body, content_type="text/plain; version=0.0.4; charset=utf-8")
        if req.path == "/hook":
            payload = json.loads(req.body)
            with self._lock:
                self.received.extend(payload["alerts"])
            return Response(body="ok")
        return Response(404, "not found")

    def firing_alerts(self, trigger: str) -> int:
        """How many firing alerts for ``trigger`` the hook received."""
        with self._lock:
            return sum(1 for a in self.received if a["status"] == "firing" and a["labels"].get("trigger") == trigger)

    def config(self, tmp_path: Path, name: str, triggers: str, extra: str = "") -> str:
        """A watch config over this service: an openmetrics source (300 ms), the webhook alerter
        (repeat every second), a shell pause action that appends 'pause' to ``tmp_path/acted``,
        and ``triggers`` (a ``triggers:`` YAML block)."""
        acted = tmp_path / "acted"
        return textwrap.dedent(f"""\
            name: {name}
            interval: 300ms
            sources:
              - type: openmetrics
                name: api
                url: {self.url}/metrics
                interval: 300ms
                auto: false
                gauges: {{error_rate: app_error_rate, response_time_p95: app_p95_ms}}
            alerting: {{group_wait: 0s, group_interval: 0s, repeat_interval: 1s, resolve_wait: 0s}}
            alerters:
              - {{type: webhook, name: oncall, url: "{self.url}/hook"}}
            actions:
              pause:
                - {{type: shell, name: pause-backfill, command: ["{sys.executable}", -c, "open(r'{acted}', 'a').write('pause\\\\n')"]}}
            """) + textwrap.dedent(triggers) + extra

    def close(self) -> None:
        self.server.stop()
