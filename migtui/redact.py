"""Keep secrets (DSN passwords, tokens, webhook URLs) out of the store, reports, logs and screens.

Secrets are registered when the config is loaded (every value marked secret, every password in a
DSN) and :func:`redact` replaces them, wherever they appear, with ``***``. Driver error messages go
through :func:`redact` too, because libpq repeats parts of the connection string. Text that looks
like a secret is masked even when nobody registered it: passwords in URLs and DSNs, the credentials
of ``Authorization`` headers (``Basic``, ``Bearer``, ``Digest`` ...), every cookie of a ``Cookie`` or
``Set-Cookie`` header, and the value of any header, key or query parameter named like a secret
(``X-Api-Key``, ``x-auth-token``, ``client_secret``, ``?access_key=``, ``X-Amz-Signature``).
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
# ?password=secret in URI query strings, token=..., access_token=..., X-Amz-Signature=...
_QUERY_SECRET = re.compile(r"(?P<k>[?&](?:[\w.-]*(?:password|passwd|token|secret|api_?key|apikey|access_?key|"
                           r"signature|credential)[\w.-]*|key|sig|auth)=)(?P<v>[^&\s\"'<>]+)", re.I)
# Authorization / Proxy-Authorization headers, also as "authorization": "..." in JSON: the scheme
# stays, the credentials go (Basic <base64>, Digest ... response=..., a bare token)
_AUTH_HEADER = re.compile(r"(?P<k>\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?(?:[A-Za-z][\w-]*\s+(?=\S))?)"
                          r"(?P<v>[^\"'\r\n]+)", re.I)
# Bearer / Basic / token credentials wherever they appear without their header
_BEARER = re.compile(r"(?P<k>\b(?:Bearer|Basic|token)\s+)(?P<v>(?=[A-Za-z0-9._~+/=-]*[0-9+/=])[A-Za-z0-9._~+/=-]{8,})")
# Cookie / Set-Cookie: every name=value pair of the header
_COOKIE = re.compile(r"(?P<k>\b(?:set-)?cookie[\"']?\s*[:=]\s*[\"']?)(?P<v>[^\s\"',;]+(?:;\s*[\w.-]+=[^\s\"',;]*)*)",
                     re.I)
# any header or key named like a secret: X-Api-Key: ..., x-auth-token=..., "client_secret": "..."
_SECRET_KEY = re.compile(r"(?P<k>(?<![\w-])[\w-]*(?:token|secret|password|passwd|api[-_]?key|apikey|access[-_]?key|"
                         r"private[-_]?key|credentials?|session[-_]?id|csrf[-_]?token)(?![\w-])[\"']?\s*[:=]\s*[\"']?)"
                         r"(?P<v>[^\s\"',;&]+)", re.I)


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
    for pattern in (_QUERY_SECRET, _AUTH_HEADER, _COOKIE, _SECRET_KEY, _BEARER):
        s = pattern.sub(_mask, s)
    return s


def _mask(m: re.Match[str]) -> str:
    return m.group("v") if m.group("v") == MASK else f"{m.group('k')}{MASK}"


_SECRET_NAME = re.compile(r"(?:password|passwd|secret|token|api[-_]?key|apikey|access[-_]?key|private[-_]?key|"
                          r"routing[-_]?key|webhook|authorization|cookie|credentials?|signature|session[-_]?id)s?"
                          r"(?:$|[\W_])", re.I)


def is_secret_name(name: Any) -> bool:
    """A key, header or parameter named like a secret (``password``, ``X-Api-Key``, ``Cookie``,
    ``bearer_token``, ``webhook_url`` ...): its text value is masked whole."""
    return bool(_SECRET_NAME.search(str(name)))


def redact_obj(obj: Any) -> Any:
    """Redact every string inside nested dicts/lists (for JSON data and config snapshots); the text
    value of a key named like a secret (:func:`is_secret_name`) is masked whole."""
    if isinstance(obj, str):
        return redact(obj)
    if isinstance(obj, dict):
        return {k: MASK if isinstance(v, str) and v and is_secret_name(k) else redact_obj(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact_obj(v) for v in obj]
    return obj
