"""`migtui watch --http`: off by default, loopback, read-only, a bearer token for anything else."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from migtui.errors import ConfigError
from migtui.http.server import HttpServer, HttpSettings, http_settings, parse_bind
from tests.conftest import migtui_cmd
from tests.fleet.conftest import LiveWatch, start_watch, stop, watch_config
from tests.servers.metrics_endpoint import MetricsEndpoint


def test_a_watch_serves_read_only_routes_on_loopback(live_watch: LiveWatch) -> None:
    assert live_watch.url.startswith("http://127.0.0.1:")
    code, body, headers = live_watch.get("/")
    assert code == 200 and headers["Content-Type"] == "application/json"
    assert "/" in json.loads(body)["routes"]
    for method in ("POST", "PUT", "DELETE"):
        code, _, headers = live_watch.get("/", method=method)
        assert code == 405 and headers["Allow"] == "GET, HEAD"
    assert live_watch.get("/nothing-here")[0] == 404
    assert live_watch.proc.poll() is None  # still watching


def test_http_is_off_unless_asked(tmp_path: Path, cli_env: dict[str, str]) -> None:
    with MetricsEndpoint() as endpoint:
        out = subprocess.run([*migtui_cmd(), "watch", "--config", str(watch_config(tmp_path, endpoint.url)),
                              "--headless", "--duration", "0.5s"], capture_output=True, text=True, env=cli_env,
                             timeout=60)
    assert out.returncode == 0, out.stderr
    assert "serving" not in out.stderr


def test_a_host_that_is_not_loopback_needs_a_token(tmp_path: Path, cli_env: dict[str, str]) -> None:
    with MetricsEndpoint() as endpoint:
        cfg = watch_config(tmp_path, endpoint.url)
        out = subprocess.run([*migtui_cmd(), "watch", "--config", str(cfg), "--headless", "--duration", "5s",
                              "--http", "0.0.0.0:0"], capture_output=True, text=True, env=cli_env, timeout=60)
        assert out.returncode == 2
        assert "0.0.0.0 is not a loopback address" in out.stderr and "bearer token" in out.stderr
        assert not (tmp_path / "watch.duckdb").exists()  # nothing started

        token = "s3cret-token-0123456789"
        (tmp_path / "token").write_text(token + "\n")
        proc, url, err = start_watch(tmp_path, cfg, "--http", "0.0.0.0:0", "--http-token-file",
                                     str(tmp_path / "token"), env=cli_env)
        try:
            port = url.rsplit(":", 1)[1]
            watch = LiveWatch(f"http://127.0.0.1:{port}", proc, endpoint, err)
            assert watch.get("/")[0] == 401
            assert watch.get("/", token="wrong-token-0123456789")[0] == 401
            code, body, _ = watch.get("/", token=token)
            assert code == 200 and token not in body
        finally:
            stop(proc)
        assert token not in err.read_text()


def test_without_a_token_only_loopback_host_names_are_answered() -> None:
    """A web page that rebinds its own name to 127.0.0.1 cannot read the endpoints."""
    server = HttpServer(HttpSettings("127.0.0.1", 0, None), lambda: None)
    try:
        assert server.answer("GET", "/", {"host": "127.0.0.1:9187"}).status == 200
        assert server.answer("GET", "/", {"host": "localhost"}).status == 200
        assert server.answer("GET", "/", {"host": "[::1]:9187"}).status == 200
        assert server.answer("GET", "/", {"host": "evil.example:9187"}).status == 421
    finally:
        server.close()


@pytest.mark.parametrize("text, expected", [("127.0.0.1:9187", ("127.0.0.1", 9187)), (":9187", ("127.0.0.1", 9187)),
                                            ("9187", ("127.0.0.1", 9187)), ("[::1]:0", ("::1", 0))])
def test_bind_addresses(text: str, expected: tuple[str, int]) -> None:
    assert parse_bind(text) == expected


def test_bad_options_are_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected HOST:PORT"):
        parse_bind("localhost:http")
    with pytest.raises(ConfigError, match="too short"):
        http_settings("127.0.0.1:0", None, env={"MIGTUI_HTTP_TOKEN": "abc"})
    with pytest.raises(ConfigError, match="needs --http"):
        http_settings(None, tmp_path / "token")
    assert http_settings(None, None) is None
