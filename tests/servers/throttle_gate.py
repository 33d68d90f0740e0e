"""A freno-style throttle endpoint on 127.0.0.1: answers ``status`` (200 = go on, e.g. 429 = throttle)
to every request; flip it with ``gate.status = 429``."""

from __future__ import annotations

from tests.servers.httpbase import LoopbackServer, Request, Response


class ThrottleGate(LoopbackServer):
    def __init__(self) -> None:
        self.status = 200
        super().__init__(self._answer)

    def _answer(self, req: Request) -> Response:
        status = self.status
        return Response(status, "ok\n" if status == 200 else "throttled: replica lag\n")
