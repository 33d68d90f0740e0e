"""The targets file of ``migtui fleet watch --targets FILE``: which watches' ``/status`` to read.

Two forms. YAML::

    token_env: FLEET_TOKEN          # optional default: bearer token read from this variable
    targets:                        # (a top-level list works too)
      - url: http://10.0.0.7:9465/status
        name: tenant-007            # optional; default: host:port of the URL
        token_env: TENANT7_TOKEN    # optional, overrides the default
        metrics_url: http://10.0.0.7:9465/metrics   # optional; default: /status -> /metrics
      - http://10.0.0.8:9465/status
      - kubernetes:                 # a finder (plugin hook migtui_fleet_discovery): the watch pods
          selector: app.kubernetes.io/name=migtui
          namespace: migrations
          port: http
        token_env: WATCH_TOKEN      # optional, for what it finds
        relist: 10s                 # optional: how often it lists again (default 10s)

or plain text, one target a line, ``URL`` or ``NAME URL``, ``#`` starts a comment.
A wrong entry is one ConfigError naming the file and line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

from migtui.errors import ConfigError
from migtui.redact import register_secret
from migtui.schema import CDict, CList, parse_duration, parse_yaml

_KEYS = {"url", "name", "token_env", "metrics_url"}
_FINDER_KEYS = {"token_env", "relist"}
DEFAULT_RELIST = 10.0


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    """The watch's ``/status`` URL."""
    metrics_url: str
    token_env: str | None = None

    def headers(self, env: Mapping[str, str] | None = None) -> dict[str, str]:
        """``Authorization: Bearer`` from ``token_env`` (read when asked, registered as a secret)."""
        if not self.token_env:
            return {}
        token = (os.environ if env is None else env).get(self.token_env, "")
        if not token:
            return {}
        register_secret(token)
        return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Finder:
    """A targets-file entry ``- KIND: {options}`` (or ``--selector``): watches a plugin finds."""

    kind: str
    options: Any
    """The entry's mapping (a CDict with file and line when read from a file), validated by the plugin."""
    path: str
    """Where it was written, for errors: ``targets[2].kubernetes`` or ``--selector``."""
    token_env: str | None = None
    relist: float = DEFAULT_RELIST
    file: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class TargetsFile:
    targets: list[Target]
    finders: list[Finder]


def metrics_url_for(status_url: str) -> str:
    """``http://h:p/x/status`` -> ``http://h:p/x/metrics`` (the last path segment replaced)."""
    parts = urlsplit(status_url)
    path = parts.path.rsplit("/", 1)[0] + "/metrics" if parts.path.endswith("/status") else \
        parts.path.rstrip("/") + "/metrics"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _check_url(url: Any, file: str, line: int | None) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ConfigError(f"a target needs a URL, got {url!r}", file=file, line=line)
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"not an http(s) URL: {url!r}", file=file, line=line)
    return url.strip()


def make_target(url: str, name: str | None, token_env: str | None, metrics_url: str | None = None) -> Target:
    return Target(name=name or urlsplit(url).netloc, url=url,
                  metrics_url=metrics_url or metrics_url_for(url), token_env=token_env or None)


def _finder(item: CDict, index: int, default_env: str | None, file: str) -> Finder:
    kinds = [k for k in item if k not in _FINDER_KEYS]
    line = item.line_of(kinds[0]) if kinds else getattr(item, "line", None)
    if len(kinds) != 1 or not isinstance(item[kinds[0]], CDict):
        raise ConfigError("a target is url: ... or one finder such as 'kubernetes: {selector: ...}' "
                          f"(with token_env:, relist:), got keys {', '.join(map(str, item)) or 'none'}",
                          file=file, line=line)
    relist = DEFAULT_RELIST
    if item.get("relist") is not None:
        try:
            relist = parse_duration(item["relist"])
        except ValueError as exc:
            raise ConfigError(f"relist: {exc}", file=file, line=item.line_of("relist")) from None
        if relist < 1:
            raise ConfigError(f"relist: at least 1s, got {item['relist']!r}", file=file, line=item.line_of("relist"))
    env = item.get("token_env", default_env)
    return Finder(str(kinds[0]), item[kinds[0]], f"targets[{index}].{kinds[0]}", None if env is None else str(env),
                  relist, file, line)


def _from_yaml(data: Any, file: str) -> TargetsFile:
    default_env = None
    items = data
    if isinstance(data, CDict):
        unknown = set(data) - {"targets", "token_env"}
        if unknown:
            key = sorted(unknown)[0]
            raise ConfigError(f"unknown key {key!r} (expected targets, token_env)", file=file,
                              line=data.line_of(key))
        default_env = data.get("token_env")
        items = data.get("targets")
    if not isinstance(items, CList):
        raise ConfigError("expected a list of targets (under 'targets:' or at the top)", file=file,
                          line=getattr(data, "line", None))
    out, finders = [], []
    for i, item in enumerate(items):
        line = items.line_of(i)
        if isinstance(item, CDict) and "url" not in item and not set(item) <= _KEYS:
            finders.append(_finder(item, i, default_env, file))
            continue
        if isinstance(item, str):
            out.append(make_target(_check_url(item, file, line), None, default_env, None))
            continue
        if not isinstance(item, CDict):
            raise ConfigError(f"a target is a URL or a mapping with url:, got {item!r}", file=file, line=line)
        unknown = set(item) - _KEYS
        if unknown:
            key = sorted(unknown)[0]
            raise ConfigError(f"unknown key {key!r} (expected {', '.join(sorted(_KEYS))})", file=file,
                              line=item.line_of(key))
        url = _check_url(item.get("url"), file, item.line_of("url"))
        murl = item.get("metrics_url")
        if murl is not None:
            murl = _check_url(murl, file, item.line_of("metrics_url"))
        name = item.get("name")
        out.append(make_target(url, None if name is None else str(name), item.get("token_env", default_env), murl))
    return TargetsFile(out, finders)


def _from_text(text: str, file: str) -> list[Target]:
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        if len(words) > 2:
            raise ConfigError(f"expected 'URL' or 'NAME URL', got {line!r}", file=file, line=n)
        name, url = (None, words[0]) if len(words) == 1 else (words[0], words[1])
        out.append(make_target(_check_url(url, file, n), name, None, None))
    return out


def load_targets(path: str | Path) -> list[Target]:
    """The URL targets of ``path`` (see :func:`load_targets_file`)."""
    return load_targets_file(path).targets


def load_targets_file(path: str | Path) -> TargetsFile:
    """The targets and finders of ``path`` (YAML or text); ConfigError on the first wrong entry, or
    when two targets share a name."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the targets file: {exc.strerror or exc}", file=file) from None
    data = parse_yaml(text, file) if text.strip() else None
    found = (_from_yaml(data, file) if isinstance(data, (CDict, CList))
             else TargetsFile(_from_text(text, file), []))
    if not found.targets and not found.finders:
        raise ConfigError("no targets", file=file)
    seen: set[str] = set()
    for t in found.targets:
        if t.name in seen:
            raise ConfigError(f"two targets are named {t.name!r} (give each a name:)", file=file)
        seen.add(t.name)
    return found
