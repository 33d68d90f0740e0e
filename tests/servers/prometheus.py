"""A Prometheus HTTP API stand-in (``/api/v1/query``) answering real query-response JSON.

``srv.set("error_rate_query", vector([({"service": "checkout"}, "0.02")]))`` then point a
``prometheus`` source at ``srv.url``. Unknown queries get an empty vector. Every request is kept in
``srv.requests`` (headers included, to check auth).
"""

from __future__ import annotations

import json
import time
from typing import Any

from tests.servers.httpbase import LoopbackServer, Request, Response


def vector(series: list[tuple[dict[str, str], str]], ts: float | None = None) -> dict[str, Any]:
    t = round(ts if ts is not None else time.time(), 3)
    return {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": dict(labels), "value": [t, value]} for labels, value in series]}}


def scalar(value: str, ts: float | None = None) -> dict[str, Any]:
    t = round(ts if ts is not None else time.time(), 3)
    return {"status": "success", "data": {"resultType": "scalar", "result": [t, value]}}


def matrix(labels: dict[str, str], values: list[str]) -> dict[str, Any]:
    t = time.time()
    return {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": labels, "values": [[t - 15 * i, v] for i, v in enumerate(values)]}]}}


def error(error_type: str, message: str) -> dict[str, Any]:
    return {"status": "error", "errorType": error_type, "error": message}


class FakePrometheus(LoopbackServer):
    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, bytes, str]] = {}
        super().__init__(self._handle)

    def set(self, query: str, doc: Any, status: int = 200, content_type: str = "application/json") -> None:
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        self.answers[query] = (status, body, content_type)

    def queries(self) -> list[str]:
        return [r.param("query") or "" for r in self.requests if r.path == "/api/v1/query"]

    def _handle(self, req: Request) -> Response:
        if req.path != "/api/v1/query":
            return Response(404, "404 page not found\n")
        query = req.param("query")
        if query is None and req.method == "POST":
            from urllib.parse import parse_qs

            query = (parse_qs(req.body.decode()).get("query") or [None])[0]
        if not query:
            return Response(400, json.dumps(error("bad_data", 'invalid parameter "query": unknown position')),
                            "application/json")
        status, body, ctype = self.answers.get(query, (200, json.dumps(vector([])).encode(), "application/json"))
        return Response(status, body, ctype)
