"""Where runs' Parquet files live for a fleet: ``s3://BUCKET/PREFIX/`` (any S3-compatible store, through
``pyarrow.fs.S3FileSystem``) or a local folder (``pyarrow.fs.LocalFileSystem``), laid out
hive-style as ``PREFIX/database=<name>/run=<id>/<table>.parquet``.

The S3 endpoint, region and credentials come from the standard AWS environment variables
(``AWS_ENDPOINT_URL``, ``AWS_REGION`` or ``AWS_DEFAULT_REGION``, ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``); none of them is ever written or printed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from migtui.errors import MigtuiError
from migtui.redact import redact


class ObjectStoreError(MigtuiError):
    """The destination cannot be reached, does not exist or refused a write."""


@dataclass(frozen=True)
class Location:
    """A folder on a ``pyarrow.fs`` filesystem; ``url`` is how the user named it (for messages)."""

    fs: Any
    root: str
    url: str

    def join(self, *parts: str) -> str:
        return "/".join([self.root.rstrip("/"), *parts]) if self.root else "/".join(parts)


def is_url(target: str) -> bool:
    return str(target).startswith(("s3://", "file://"))


def s3_filesystem(**extra: Any) -> Any:
    """An S3FileSystem configured from the AWS environment variables (``extra``: more options)."""
    from pyarrow import fs

    env = os.environ
    kwargs: dict[str, Any] = {}
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    if endpoint:
        scheme, _, rest = endpoint.partition("://")
        kwargs["endpoint_override"] = rest.rstrip("/") if rest else endpoint
        kwargs["scheme"] = scheme if rest else "https"
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        kwargs["region"] = region
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        kwargs.update(access_key=env["AWS_ACCESS_KEY_ID"], secret_key=env["AWS_SECRET_ACCESS_KEY"],
                      session_token=env.get("AWS_SESSION_TOKEN"))
    kwargs.update(connect_timeout=5, request_timeout=30, retry_strategy=fs.AwsStandardS3RetryStrategy(max_attempts=2))
    return fs.S3FileSystem(**kwargs, **extra)


def open_location(target: str | os.PathLike[str]) -> Location:
    """``s3://BUCKET/PREFIX/``, ``file:///DIR`` or a local path as a :class:`Location`."""
    from pyarrow import fs

    text = os.fspath(target)
    if text.startswith("s3://"):
        path = text[len("s3://"):].strip("/")
        if not path:
            raise ObjectStoreError(f"{text}: no bucket named (s3://BUCKET/PREFIX/)")
        return Location(s3_filesystem(), path, text)
    if text.startswith("file://"):
        text = text[len("file://"):]
    return Location(fs.LocalFileSystem(), os.path.abspath(text), os.fspath(target))


def error_text(exc: BaseException) -> str:
    """An object store error as one redacted line (at most 300 characters)."""
    return redact(" ".join(str(exc).split()))[:300]


def check_reachable(loc: Location) -> None:
    """Fail with one line when the endpoint cannot be reached or the bucket does not exist (S3)."""
    from pyarrow import fs

    if not isinstance(loc.fs, fs.S3FileSystem):
        return
    bucket = loc.root.split("/", 1)[0]
    try:
        info = loc.fs.get_file_info(bucket)
    except OSError as exc:
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or "AWS S3"
        raise ObjectStoreError(f"{loc.url}: cannot reach the object store at {redact(endpoint)}: {error_text(exc)}") from None
    if info.type == fs.FileType.NotFound:
        raise ObjectStoreError(f"{loc.url}: bucket {bucket!r} does not exist") from None


def partition(database: str, run_id: str) -> str:
    """``database=<name>/run=<id>`` with anything unsafe in a key percent-encoded."""
    return f"database={quote(database, safe='')}/run={quote(run_id, safe='')}"


def write_tables(loc: Location, folder: str, tables: dict[str, Any]) -> list[str]:
    """Write each Arrow table as ``<folder>/<name>.parquet``; returns the paths written. Objects of
    other runs are never touched; a write that fails raises one line naming the object."""
    import pyarrow.parquet as pq

    check_reachable(loc)
    base = loc.join(folder)
    try:
        loc.fs.create_dir(base, recursive=True)
    except OSError as exc:
        raise ObjectStoreError(f"{loc.url}: cannot create {base}: {error_text(exc)}") from None
    written = []
    for name, table in tables.items():
        path = f"{base}/{name}.parquet"
        try:
            pq.write_table(table, path, filesystem=loc.fs, compression="zstd")
        except OSError as exc:
            raise ObjectStoreError(f"{_display(loc, path)}: cannot write: {error_text(exc)}") from None
        written.append(path)
    return written


def _display(loc: Location, path: str) -> str:
    return f"s3://{path}" if loc.url.startswith("s3://") else path
