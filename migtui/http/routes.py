"""The route table of the HTTP server: ``path -> route(view) -> Response``.

A route gets a :class:`View` (the latest frame, the query string) and returns a :class:`Response`.
It must be quick and must not block: it reads the frame it is given and nothing of the engine.
Add a route by writing a module with a ``route(view)`` function and one line in :func:`routes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from migtui.redact import redact_obj
from migtui.safetext import json_text


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, obj: Any, status: int = 200) -> "Response":
        """JSON through the redaction of every string (nothing served holds a secret)."""
        body = json_text(redact_obj(obj)).encode()
        return cls(status, body, "application/json")

    @classmethod
    def text(cls, text: str, status: int = 200) -> "Response":
        return cls(status, text.encode(), "text/plain; charset=utf-8")


@dataclass(frozen=True)
class View:
    """What a route may read: the engine's latest frame (None before the first) and the request."""

    frame: Any
    query: Mapping[str, list[str]]
    describe_actions: Callable[[str], list[str]] = lambda verb: []
    """What each action verb would run (from the config; no engine state)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    accept: str = ""


Route = Callable[[View], Response]


def index(view: View) -> Response:
    """``GET /``: the routes this server answers."""
    return Response.json({"routes": sorted(routes())})


def routes() -> dict[str, Route]:
    """Every path this server answers (GET and HEAD only)."""
    from migtui.http import metrics, status, throttle

    table: dict[str, Route] = {"/": index, "/metrics": metrics.route, "/status": status.route,
                               "/throttle": throttle.route}
    return table
