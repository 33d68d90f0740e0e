"""The watch's read-only HTTP endpoints (``migtui watch|run --http HOST:PORT``).

Off unless ``--http`` is given; loopback unless a host is named; a bearer token is required to bind
anything else. Every route renders the engine's latest published :class:`~migtui.engine.frame.Frame`
(one reference read, never a call into the engine thread), so a scrape never blocks the engine and
the engine never waits for a client. Modules: :mod:`~migtui.http.server` (binding, auth, the
request loop in daemon threads), :mod:`~migtui.http.routes` (the route table and its types).
"""

from migtui.http.routes import Response, View, routes
from migtui.http.server import HttpServer, HttpSettings, http_settings

__all__ = ["HttpServer", "HttpSettings", "Response", "View", "http_settings", "routes"]
