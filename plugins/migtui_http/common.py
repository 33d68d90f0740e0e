"""Options and HTTP plumbing shared by the prometheus, openmetrics and http_probe sources."""

from __future__ import annotations

import base64
import re
import time
from typing import Any

from migtui.api import Field, SourceError, redact, register_secret

DEFAULT_INTERVAL = 5.0
DEFAULT_TIMEOUT = 5.0
MAX_BYTES = 16 * 1024 * 1024

_SECRET_HEADER = re.compile(r"(authorization|token|key|secret|cookie|password)", re.I)


def _check_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    return value


def common_fields() -> dict[str, Field]:
    """``type``/``name``/``interval``/``timeout`` and the auth/TLS options of every HTTP source."""
    return {
        "type": Field("str", required=True),
        "name": Field("str", doc="Source name (default: the type)."),
        "interval": Field("duration", default=DEFAULT_INTERVAL, minimum=0.1, doc="How often to collect."),
        "timeout": Field("duration", default=DEFAULT_TIMEOUT, minimum=0.1,
                         doc="Deadline of each HTTP request: connect, headers and the whole body together "
                             "(an endpoint that trickles its answer is cut off at it)."),
        "title": Field("str", doc="Panel title."),
        **auth_fields(),
    }


def auth_fields() -> dict[str, Field]:
    return {
        "bearer_token": Field("str", secret=True,
                              doc="Bearer token, e.g. ${PROM_TOKEN} (kept out of logs, store and reports)."),
        "username": Field("str", doc="Basic-auth user."),
        "password": Field("str", secret=True, doc="Basic-auth password, e.g. ${PROM_PASSWORD}."),
        "headers": Field("dict", items="str", default=dict, doc="Extra request headers."),
        "verify": Field("bool", default=True, doc="Verify TLS certificates."),
        "ca_file": Field("path", doc="CA bundle for TLS verification."),
    }


def check_auth(opts: dict[str, Any], node: Any, path: str) -> None:
    """Bearer token or basic auth, not both; a password needs a username."""
    from migtui.api import error_at

    if opts.get("bearer_token") and opts.get("username") is not None:
        raise error_at(node, "username", f"{path}.username", "use bearer_token or username/password, not both")
    if opts.get("password") and opts.get("username") is None:
        raise error_at(node, "password", f"{path}.password", "a password needs a username")


def make_client(opts: dict[str, Any], *, follow_redirects: bool = False) -> Any:
    """An httpx.Client with the source's auth, TLS options and timeout (httpx imported lazily)."""
    import httpx

    headers = {"User-Agent": "migtui"}
    for k, v in (opts.get("headers") or {}).items():
        if _SECRET_HEADER.search(k):
            register_secret(v)
        headers[k] = v
    auth = None
    if opts.get("bearer_token"):
        headers["Authorization"] = f"Bearer {opts['bearer_token']}"
    elif opts.get("username") is not None:
        auth = httpx.BasicAuth(opts["username"], opts.get("password") or "")
        # what goes on the wire is base64(user:password): an endpoint that echoes it must not leak it
        register_secret(base64.b64encode(f"{opts['username']}:{opts.get('password') or ''}".encode()).decode())
    verify: Any = opts.get("verify", True)
    if verify and opts.get("ca_file"):
        import ssl

        verify = ssl.create_default_context(cafile=opts["ca_file"])
    timeout = float(opts.get("timeout") or DEFAULT_TIMEOUT)
    # a source polls one request at a time: a few connections are plenty, and a leak cannot grow
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=2, keepalive_expiry=30.0)
    return httpx.Client(headers=headers, auth=auth, verify=verify, timeout=httpx.Timeout(timeout),
                        limits=limits, follow_redirects=follow_redirects)


def fetch(client: Any, method: str, url: str, *, what: str, max_bytes: int = MAX_BYTES,
          accept_status: bool = False, **kw: Any) -> tuple[int, bytes, str]:
    """Do one request and read at most ``max_bytes``. Returns (status, body, content type).

    The client's timeout is a deadline for the whole request: connect, headers and body together.
    Each wait (connect, pool, every read) is given only what is left of it, so an endpoint that
    trickles its answer a line at a time is cut off at the deadline like one that says nothing.
    Transport errors and the deadline become one-line :class:`SourceError` (an error of the source,
    which the next poll retries, never a plugin fault); with ``accept_status`` false, a status
    outside 2xx does too (with the start of the body, redacted).
    """
    import httpx

    budget = client.timeout.read or DEFAULT_TIMEOUT
    deadline = time.monotonic() + budget
    late = SourceError(f"{what}: {redact(url)} gave no complete answer within {budget:g}s")
    try:
        with client.stream(method, url, timeout=httpx.Timeout(budget), **kw) as resp:
            # httpcore reads this dict before each read: every read waits only for what is left
            waits = resp.request.extensions.get("timeout")
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_bytes():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise late
                if isinstance(waits, dict):
                    waits["read"] = left
                size += len(chunk)
                if size > max_bytes:
                    raise SourceError(f"{what}: response from {redact(url)} is larger than {max_bytes} bytes")
                chunks.append(chunk)
            body = b"".join(chunks)
            status = resp.status_code
            ctype = resp.headers.get("content-type", "")
    except httpx.TimeoutException:
        raise late from None
    except httpx.HTTPError as exc:
        raise SourceError(f"{what}: cannot reach {redact(url)}: {type(exc).__name__}: {redact(exc)}") from None
    if not accept_status and not 200 <= status < 300:
        snippet = body[:200].decode("utf-8", "replace").replace("\n", " ").strip()
        raise SourceError(f"{what}: HTTP {status} from {redact(url)}" + (f": {redact(snippet)}" if snippet else ""))
    return status, body, ctype


def url_field(doc: str) -> Field:
    return Field("str", required=True, check=_check_url, doc=doc)


def _interp(v: Any, node: Any, key: Any, path: str) -> Any:
    """``${ENV}`` in values the schema does not interpolate itself (inside custom converters)."""
    from migtui.api import interpolate

    if not isinstance(v, str):
        return v
    line = node.line_of(key) if hasattr(node, "line_of") else None
    return interpolate(v, file=getattr(node, "file", None), line=line, path=path, env=getattr(node, "env", None))
