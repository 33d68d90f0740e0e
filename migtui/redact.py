"""Keep secrets (DSN passwords, tokens, webhook URLs) out of the store, reports, logs and screens.

Secrets are registered when the config is loaded (every value marked secret, every password in a
DSN) and :func:`redact` replaces them, wherever they appear, with ``***``. Driver error messages go
through :func:`redact` too, because libpq repeats parts of the connection string.
"""

from __future__ import annotations

import re
import threading
from typing import Any

MASK = "***"

_lock = threading.Lock()
_secrets: set[str] = set()

# postgresql://user:secret@host, https://user:secret@host
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@")
# password=secret in a libpq key=value string (quoted or not)
_KV_PASSWORD = re.compile(r"(?P<k>\b(?:password|passwd|pwd)\s*=\s*)(?P<v>'(?:[^'\\]|\\.)*'|\S+)", re.I)
# ?password=secret in URI query strings, token=..., access_token=...
_QUERY_SECRET = re.compile(r"(?P<k>[?&](?:password|token|access_token|api_key|apikey|key)=)(?P<v>[^&\s]+)", re.I)
_BEARER = re.compile(r"(?P<k>\b(?:Bearer|token)\s+)(?P<v>[A-Za-z0-9._~+/=-]{8,})")


def register_secret(value: str | None) -> None:
    """Remember ``value`` so that :func:`redact` masks it everywhere. Short values are ignored."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def register_dsn(dsn: str | None) -> None:
    """Register the password inside a libpq DSN (URI or key=value)."""
    if not dsn:
        return
    for m in _URL_USERINFO.finditer(dsn):
        register_secret(m.group("pw"))
    for m in _KV_PASSWORD.finditer(dsn):
        register_secret(m.group("v").strip("'"))
    for m in _QUERY_SECRET.finditer(dsn):
        register_secret(m.group("v"))


def clear_secrets() -> None:
    """Forget registered secrets (tests)."""
    with _lock:
        _secrets.clear()


def redact(text: Any) -> str:
    """Return ``text`` as a string with every known secret and secret-looking pattern masked."""
    s = str(text)
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in s:
            s = s.replace(secret, MASK)
    s = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{m.group('user')}:{MASK}@", s)
    s = _KV_PASSWORD.sub(lambda m: f"{m.group('k')}{MASK}", s)
    s = _QUERY_SECRET.sub(lambda m: f"{m.group('k')}{MASK}", s)
    s = _BEARER.sub(lambda m: f"{m.group('k')}{MASK}", s)
    return s


def redact_obj(obj: Any) -> Any:
    """Redact every string inside nested dicts/lists (for JSON data and config snapshots)."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        return {k: redact_obj(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact_obj(v) for v in obj]
    return obj
