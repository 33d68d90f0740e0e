"""``GET /status``: the run's status document as JSON, the same as ``migtui ctl status --json``
prints (:func:`migtui.status.status_document`); 503 with ``verdict: inconclusive`` before the
engine published its first frame."""

from __future__ import annotations

from migtui.http.routes import Response, View
from migtui.status import status_document


def route(view: View) -> Response:
    if view.frame is None:
        return Response.json({"verdict": "inconclusive", "error": "the watch has not published a frame yet"}, 503)
    return Response.json(status_document(view.frame, view.describe_actions))
