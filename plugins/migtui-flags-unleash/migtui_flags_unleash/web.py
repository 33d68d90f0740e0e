"""The few HTTP helpers this plugin needs: a timeout on every call, one-line errors, safe JSON."""

from __future__ import annotations

import json
import re
from typing import Any

from migtui.api import ActionError, SourceError, redact

MAX_BYTES = 8 * 1024 * 1024


def check_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value.rstrip("/")


def request(method: str, url: str, *, headers: dict[str, str], timeout: float, what: str,
            error: type[Exception] = SourceError, **kw: Any) -> tuple[int, bytes]:
    """Do one request; transport problems become ``error`` with one clear line."""
    import httpx

    try:
        with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False) as client:
            with client.stream(method, url, headers={"User-Agent": "migtui-flags-unleash", **headers}, **kw) as resp:
                body = b""
                for chunk in resp.iter_bytes():
                    body += chunk
                    if len(body) > MAX_BYTES:
                        raise error(f"{what}: response from {redact(url)} is larger than {MAX_BYTES} bytes")
                return resp.status_code, body
    except httpx.TimeoutException:
        raise error(f"{what}: {redact(url)} timed out after {timeout:g}s") from None
    except httpx.HTTPError as exc:
        raise error(f"{what}: cannot reach {redact(url)}: {type(exc).__name__}: {redact(exc)}") from None


def snippet(body: bytes) -> str:
    return redact(body[:200].decode("utf-8", "replace").replace("\n", " ").strip())


def decode_json(body: bytes, *, what: str, url: str, error: type[Exception] = SourceError) -> Any:
    """Parse JSON, or raise ``error`` naming the URL and showing the start of the body (never a traceback)."""
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        start = snippet(body)
        raise error(f"{what}: {redact(url)} did not return JSON" + (f" (starts with {start!r})" if start else
                                                                   " (empty body)")) from None


__all__ = ["ActionError", "SourceError", "check_url", "decode_json", "request", "snippet"]
