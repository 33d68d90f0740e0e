"""A real headless watch serving --http, over an OpenMetrics endpoint on 127.0.0.1."""

from __future__ import annotations

import contextlib
import re
import subprocess
import textwrap
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.conftest import migtui_cmd, wait_until
from tests.servers.metrics_endpoint import MetricsEndpoint


@dataclass
class LiveWatch:
    url: str
    proc: subprocess.Popen[str]
    endpoint: MetricsEndpoint
    stderr: Path

    def get(self, path: str, token: str | None = None, method: str = "GET") -> tuple[int, str, dict[str, str]]:
        req = urllib.request.Request(self.url + path, method=method)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read().decode(), dict(resp.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), dict(exc.headers)


TRIGGERS = """\
triggers:
  - {name: slow-api, metric: response_time_p95, threshold: 5000, action: warn}
  - {name: busy, metric: throughput, threshold: 1, action: pause}
"""


def watch_config(tmp_path: Path, endpoint_url: str, extra: str = "") -> Path:
    cfg = tmp_path / "migtui.yaml"
    cfg.write_text(textwrap.dedent(f"""\
        name: orders-db
        interval: 0.2s
        store: {tmp_path / 'watch.duckdb'}
        sources:
          - {{type: openmetrics, name: api, url: '{endpoint_url}/metrics', interval: 0.2s}}
        """) + textwrap.dedent(extra))
    return cfg


def start_watch(tmp_path: Path, cfg: Path, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str, Path]:
    err = tmp_path / "watch.err"
    proc = subprocess.Popen([*migtui_cmd(), "watch", "--config", str(cfg), "--headless", "--duration", "120s", *args],
                            stdout=subprocess.DEVNULL, stderr=err.open("w"), text=True, env=env)

    def served() -> Any:
        if proc.poll() is not None:
            pytest.fail(f"the watch exited: {err.read_text()}")
        m = re.search(r"serving (http://\S+?)/ ", err.read_text())
        return m.group(1) if m else None

    return proc, wait_until(served, "the watch to serve HTTP"), err


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def running_watch(tmp_path: Path, env: dict[str, str], triggers: str = TRIGGERS, *args: str) -> Iterator[LiveWatch]:
    """A headless watch with ``--http 127.0.0.1:0`` (and ``args``) over a live metrics endpoint."""
    with MetricsEndpoint() as endpoint:
        endpoint.metrics.observe(0.08, n=100)
        cfg = watch_config(tmp_path, endpoint.url, triggers)
        proc, url, err = start_watch(tmp_path, cfg, "--http", "127.0.0.1:0", *args, env=env)
        try:
            yield LiveWatch(url, proc, endpoint, err)
        finally:
            stop(proc)


@pytest.fixture
def live_watch(tmp_path: Path, cli_env: dict[str, str]) -> Iterator[LiveWatch]:
    with running_watch(tmp_path, cli_env) as watch:
        yield watch
