"""``GET /throttle``: the freno / gh-ost ``--throttle-http`` convention, so any batch script,
gh-ost or a pg-osc wrapper can obey migtui: 200 when the migration may go on, 429 with the reason
(JSON) when it is throttled or paused (:func:`migtui.throttle.http_answer`)."""

from __future__ import annotations

from migtui.http.routes import Response, View
from migtui.throttle import http_answer


def route(view: View) -> Response:
    status, body = http_answer(view.frame)
    return Response.json(body, status)
