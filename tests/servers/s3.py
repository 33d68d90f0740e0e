"""A real S3-compatible server on 127.0.0.1 (moto's server mode) for the object-storage tests."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def s3_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's ThreadedMotoServer on a free loopback port, with the standard AWS variables pointing
    at it (test credentials); yields the endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for key, value in {"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing-secret-key"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    try:
        yield endpoint
    finally:
        server.stop()


def make_bucket(name: str) -> Any:
    """Create ``name`` through pyarrow.fs (the variables above); returns the filesystem."""
    from migtui.fleet.objectstore import s3_filesystem

    s3_filesystem(allow_bucket_creation=True).create_dir(name)
    return s3_filesystem()
