"""What every bundled alerter shares: the option fields (levels, resolved notifications, HTTP
timeout and retries), timestamps as the receivers want them, and :class:`HttpAlerter`, the HTTP
delivery: httpx with a per-request timeout, retries with exponential backoff on 429, 5xx and
connection errors or timeouts, honouring ``Retry-After`` (capped by ``max_retry_wait``). URLs and
keys are registered as secrets and never appear in results.
"""

from __future__ import annotations

import email.utils
import hashlib
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence

import httpx

from migtui.api import Alert, DeliveryResult, Field, Level, redact, register_secret, safetext

LEVELS = ("info", "warn", "pause", "rollback")

COMMON_FIELDS = {
    "type": Field("str", required=True),
    "name": Field("str"),
    "min_level": Field("str", default="warn", choices=LEVELS,
                       doc="send only alerts at or above this level (test alerts always go)"),
    "send_resolved": Field("bool", default=True, doc="also send 'resolved' notifications"),
}

HTTP_FIELDS = {
    **COMMON_FIELDS,
    "timeout": Field("duration", default=10.0, doc="per request"),
    "retries": Field("int", default=3, minimum=0, doc="extra attempts on 429, 5xx, timeouts"),
    "backoff": Field("duration", default=1.0, doc="first retry wait; doubles each time"),
    "max_retry_wait": Field("duration", default=30.0, doc="cap for one wait, Retry-After included"),
    "headers": Field("dict", items="str", default=dict, doc="extra HTTP headers (values are secret)"),
}

ZERO_TIME = "0001-01-01T00:00:00Z"


def iso(ts: float | None) -> str:
    if ts is None:
        return ZERO_TIME
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _retry_after(resp: httpx.Response) -> float | None:
    raw = resp.headers.get("Retry-After")
    if not raw:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - time.time())


class HttpAlerter:
    """Shared HTTP plumbing: one httpx client, retries with backoff, redacted results."""

    kind = "http"
    stateful = False

    def __init__(self, name: str, opts: Mapping[str, Any]) -> None:
        self.name = name
        self.min_level = Level(opts.get("min_level") or "warn")
        self.send_resolved = bool(opts.get("send_resolved", True))
        self.timeout = float(opts.get("timeout") or 10.0)
        self.retries = int(opts.get("retries") if opts.get("retries") is not None else 3)
        self.backoff = float(opts.get("backoff") if opts.get("backoff") is not None else 1.0)
        self.max_retry_wait = float(opts.get("max_retry_wait") if opts.get("max_retry_wait") is not None else 30.0)
        self.headers = dict(opts.get("headers") or {})
        for v in self.headers.values():
            register_secret(v)
        self.sleep: Callable[[float], None] = time.sleep
        self._client = httpx.Client(timeout=self.timeout, follow_redirects=False,
                                    headers={"User-Agent": "migtui-alerts", **self.headers})
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def _wait_for(self, attempt: int, resp: httpx.Response | None) -> float:
        wait = self.backoff * (2 ** (attempt - 1))
        if resp is not None:
            ra = _retry_after(resp)
            if ra is not None:
                wait = ra
        return min(wait, self.max_retry_wait)

    def post(self, url: str, *, json_body: Any = None, content: bytes | None = None,
             no_retry: Sequence[int] = ()) -> DeliveryResult:
        """POST with retries. Success is any 2xx."""
        if content is None:
            content = safetext.json_text(json_body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        attempts = 0
        last = ""
        status: int | None = None
        with self._lock:
            while True:
                attempts += 1
                resp: httpx.Response | None = None
                try:
                    resp = self._client.post(url, content=content, headers=headers)
                    status = resp.status_code
                    if 200 <= status < 300:
                        return DeliveryResult(True, f"{self.name}: delivered (HTTP {status})", attempts, status)
                    body = resp.text[:200].strip()
                    last = f"HTTP {status}" + (f": {body}" if body else "")
                    retry = (status == 429 or status >= 500) and status not in no_retry
                except httpx.TimeoutException:
                    last, status, retry = f"timed out after {self.timeout:g}s", None, True
                except httpx.HTTPError as exc:
                    last, status, retry = f"{type(exc).__name__}: {exc}", None, True
                if not retry or attempts > self.retries:
                    tries = f" after {attempts} attempts" if attempts > 1 else ""
                    return DeliveryResult(False, redact(f"{self.name}: failed{tries}: {last}"), attempts, status)
                self.sleep(self._wait_for(attempts, resp))

    def wanted(self, alerts: Sequence[Alert]) -> list[Alert]:
        out = []
        for a in alerts:
            if a.test:
                out.append(a)
            elif a.status == "resolved" and not self.send_resolved:
                continue
            elif Level(a.level).rank >= self.min_level.rank:
                out.append(a)
        return out
