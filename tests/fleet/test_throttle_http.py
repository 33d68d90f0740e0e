"""`GET /throttle` on the watch's HTTP server (the freno convention other tools obey): 200 while the
migration may go on, 429 with the reason while an HTTP signal throttles it or an operator paused it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from migtui.http.server import http_settings, serve_engine
from tests.conftest import wait_until
from tests.integration.test_throttle_ctl import _config
from tests.servers.throttle_gate import ThrottleGate


@pytest.fixture
def gate() -> Iterator[ThrottleGate]:
    with ThrottleGate() as g:
        yield g


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_get_throttle_answers_200_or_429_with_the_reason(make_engine: Any, gate: ThrottleGate, tmp_path: Path) -> None:
    paused = tmp_path / "paused"
    engine = make_engine(_config(gate, paused))
    engine.start()
    server = serve_engine(http_settings("127.0.0.1:0", None), engine)
    assert server is not None
    url = server.url + "/throttle"
    try:
        wait_until(lambda: _get(url)[0] == 200, "200: the migration may go on")
        gate.status = 429
        code, body = wait_until(lambda: (lambda r: r if r[0] == 429 else None)(_get(url)), "429 while throttled")
        assert body["throttled"] is True and body["reason"].startswith("gate: probe.up = 0")
        gate.status = 200
        wait_until(lambda: _get(url)[0] == 200, "200 after the release")
        [result] = engine.pause(who="dba", why="looking").result(timeout=20)
        assert result.ok
        code, body = wait_until(lambda: (lambda r: r if r[0] == 429 else None)(_get(url)), "429 while paused")
        assert body == {"ok": False, "throttled": False, "paused": True, "reason": "paused by dba"}
    finally:
        server.close()
