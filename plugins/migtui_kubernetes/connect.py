"""Connecting to a cluster with the official ``kubernetes`` client, and calling it with clear errors.

The client is imported here, lazily, only when a source or action is built. Every call goes
through :meth:`Kube.call`, which adds a timeout, reads the raw JSON (no model classes: the decoders
in :mod:`migtui_kubernetes.decode` work on plain dicts) and turns failures into one line naming the
verb and resource: ``RBAC: get deployments.apps "checkout" in namespace "shop" refused (403 Forbidden): ...``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any, Callable

from migtui.api import ConfigError, Field, MigtuiError, SourceError, error_at, redact

SA_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


def connection_fields() -> dict[str, Field]:
    return {
        "kubeconfig": Field("path", doc="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)."),
        "context": Field("str", doc="kubeconfig context (default: the current context)."),
        "namespace": Field("str", doc="Namespace (default: the context's namespace, else 'default')."),
        "in_cluster": Field("bool", default=False,
                            doc="Use the pod's service account instead of a kubeconfig."),
        "request_timeout": Field("duration", default=10.0, minimum=0.1,
                                 doc="Timeout of each API request."),
    }


class KubeError(MigtuiError):
    """A Kubernetes API call failed (the message names the verb and resource)."""


@dataclass
class Target:
    verb: str
    resource: str  # plural[.group], e.g. deployments.apps, rollouts.argoproj.io, pods
    name: str = ""
    namespace: str = ""
    subresource: str = ""

    def __str__(self) -> str:
        res = self.resource + (f"/{self.subresource}" if self.subresource else "")
        what = f'{res} "{self.name}"' if self.name else res
        return f'{self.verb} {what}' + (f' in namespace "{self.namespace}"' if self.namespace else "")


def _status_message(body: Any) -> tuple[str, str]:
    """(reason, message) from a Kubernetes Status body, tolerant of anything."""
    try:
        doc = json.loads(body) if isinstance(body, (str, bytes, bytearray)) else body
    except (ValueError, TypeError, RecursionError):
        text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else str(body or "")
        return "", text.strip().replace("\n", " ")[:200]
    if isinstance(doc, dict):
        return str(doc.get("reason") or ""), str(doc.get("message") or "").replace("\n", " ")[:300]
    return "", ""


def _object_missing(body: Any, name: str) -> bool:
    """A 404 about this object (``details.name``), not about an unknown resource type (a missing CRD)."""
    try:
        doc = json.loads(body) if isinstance(body, (str, bytes, bytearray)) else body
    except (ValueError, TypeError, RecursionError):
        return False
    details = doc.get("details") if isinstance(doc, dict) else None
    return isinstance(details, dict) and details.get("name") == name and bool(name)


def api_error(exc: Exception, target: Target, error_cls: type[MigtuiError] = SourceError) -> MigtuiError:
    """One clear line for a failed call."""
    status = getattr(exc, "status", None)
    body = getattr(exc, "body", None)
    reason, message = _status_message(body)
    if status == 403:
        return error_cls(f"RBAC: {target} refused (403 Forbidden)" + (f": {redact(message)}" if message else ""))
    if status == 401:
        return error_cls(f"Kubernetes: {target} unauthorized (401): credentials rejected; check the kubeconfig user")
    if status == 404:
        hint = ""
        if "argoproj.io" in target.resource:
            hint = " (are Argo Rollouts installed?)"
        return error_cls(f"Kubernetes: {target}: not found (404){hint}" + (f": {redact(message)}" if message else ""))
    if status == 409:
        return error_cls(f"Kubernetes: {target}: conflict (409): {redact(message)}")
    if status == 422:
        return error_cls(f"Kubernetes: {target}: invalid (422): {redact(message)}")
    if status is not None and status != 0:
        detail = message or reason or getattr(exc, "reason", "") or ""
        return error_cls(f"Kubernetes: {target} failed (HTTP {status})" + (f": {redact(detail)}" if detail else ""))
    return error_cls(f"Kubernetes: {target}: cannot reach the API server: {redact(_transport_error(exc))[:300]}")


def _transport_error(exc: BaseException) -> str:
    """What failed under urllib3's wrapping: ``Read timed out. (read timeout=10.0)``, ``Failed to
    establish a new connection: [Errno 111] Connection refused`` (the pool, object address and URL left out)."""
    reason = getattr(exc, "reason", None)  # MaxRetryError: the last attempt's failure
    inner = reason if isinstance(reason, BaseException) else exc
    text = str(inner).strip().splitlines()[0] if str(inner).strip() else type(inner).__name__
    text = re.sub(r"^(?:\w*Connection(?:Pool)?\([^)]*\)|<[^>]*>): ", "", text)
    return text


class Kube:
    """An API client for one cluster/context and namespace.

    ``error`` makes a deferred failure: a config without an explicit kubeconfig on a machine that
    has none still loads (the sample configs must), and every call then fails with that message.
    """

    def __init__(self, api_client: Any, namespace: str, timeout: float, where: str = "", error: str = "") -> None:
        self.api_client = api_client
        self.namespace = namespace
        self.timeout = timeout
        self.where = where
        self.error = error
        self._apis: dict[str, Any] = {}

    def _api(self, name: str) -> Any:
        if self.error:
            raise SourceError(self.error)
        if name not in self._apis:
            from kubernetes import client

            self._apis[name] = getattr(client, name)(self.api_client)
        return self._apis[name]

    @property
    def core(self) -> Any:
        return self._api("CoreV1Api")

    @property
    def apps(self) -> Any:
        return self._api("AppsV1Api")

    @property
    def custom(self) -> Any:
        return self._api("CustomObjectsApi")

    def call(self, fn: Callable[..., Any], target: Target, *args: Any,
             error_cls: type[MigtuiError] = SourceError, missing_ok: bool = False, **kw: Any) -> Any:
        """Call a client method and return the decoded JSON body (a dict); with ``missing_ok``,
        None when the object does not exist (404)."""
        kw.setdefault("_request_timeout", (self.timeout, self.timeout))
        kw.setdefault("_preload_content", False)
        try:
            resp = fn(*args, **kw)
            data = resp.data if hasattr(resp, "data") else resp
        except Exception as exc:  # noqa: BLE001 - ApiException, urllib3 errors, socket errors
            if missing_ok and getattr(exc, "status", None) == 404 and _object_missing(getattr(exc, "body", None),
                                                                                     target.name):
                return None
            raise api_error(exc, target, error_cls) from None
        if isinstance(data, dict):
            return data
        try:
            doc = json.loads(data)
        except (ValueError, TypeError, RecursionError):
            raise error_cls(f"Kubernetes: {target}: the API server answered with something that is not JSON") from None
        if not isinstance(doc, dict):
            raise error_cls(f"Kubernetes: {target}: the API server answered with a JSON {type(doc).__name__}, "
                            "expected an object")
        return doc

    def close(self) -> None:
        if self.api_client is None:
            return
        try:
            self.api_client.close()
        except Exception:  # noqa: BLE001
            pass


def _no_retries(cfg: Any) -> Any:
    """``cfg`` with urllib3's retries off. Its default retries a GET whose read timed out three times, so
    a stalled API server failed one call after 4 x request_timeout instead of one: the source's poll,
    the fleet's pod list and an action's read all waited that long before saying so. migtui retries
    on its own schedule (the next poll, the next list)."""
    cfg.retries = 0
    return cfg


def connect(opts: dict[str, Any], node: Any, path: str, *, config_dir: Any = None) -> Kube:
    """Build a :class:`Kube` from validated connection options (no network I/O).

    Bad kubeconfig paths or contexts become a ConfigError at the entry's position.
    """
    try:
        from kubernetes import client, config as kconfig
        from kubernetes.config.config_exception import ConfigException
    except ImportError as exc:  # pragma: no cover - a dependency of migtui
        raise ConfigError(f"the kubernetes Python client is not installed ({exc})", file=getattr(node, "file", None),
                          line=getattr(node, "line", None), path=path) from None
    timeout = float(opts.get("request_timeout") or 10.0)
    namespace = opts.get("namespace")
    if opts.get("in_cluster"):
        cfg = client.Configuration()
        try:
            kconfig.load_incluster_config(client_configuration=cfg)
        except ConfigException as exc:
            raise error_at(node, "in_cluster", f"{path}.in_cluster", f"in-cluster config unavailable: {exc}") from None
        if not namespace:
            try:
                with open(SA_NAMESPACE, encoding="utf-8") as f:
                    namespace = f.read().strip()
            except OSError:
                namespace = "default"
        api_client = client.ApiClient(_no_retries(cfg))
        _register_credentials(api_client)
        return Kube(api_client, namespace or "default", timeout, "in-cluster")
    path_opt = opts.get("kubeconfig")
    if path_opt:
        kc = os.path.expanduser(str(path_opt))
        if config_dir is not None and not os.path.isabs(kc):
            kc = os.path.join(str(config_dir), kc)
    else:
        kc = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or os.path.expanduser("~/.kube/config")
    key = "kubeconfig" if path_opt else None
    if not os.path.exists(kc):
        if path_opt:
            raise error_at(node, key, f"{path}.kubeconfig", f"kubeconfig {kc} does not exist")
        return Kube(None, namespace or "default", timeout, "?",
                    error=f"Kubernetes: no kubeconfig ({kc} does not exist); set kubeconfig:, $KUBECONFIG "
                          f"or in_cluster: true")
    context = opts.get("context")
    try:
        contexts, current = kconfig.list_kube_config_contexts(config_file=kc)
    except Exception as exc:  # noqa: BLE001 - yaml errors, ConfigException
        raise error_at(node, key, f"{path}.kubeconfig", f"cannot read kubeconfig {kc}: {redact(exc)}") from None
    names = [c.get("name") for c in contexts or []]
    if context and context not in names:
        raise error_at(node, "context", f"{path}.context",
                       f"context {context!r} is not in {kc}; contexts: {', '.join(map(str, names)) or 'none'}")
    chosen = next((c for c in contexts or [] if c.get("name") == context), None) if context else current
    if not namespace:
        namespace = ((chosen or {}).get("context") or {}).get("namespace") or "default"
    try:
        api_client = kconfig.new_client_from_config(config_file=kc, context=context, persist_config=False,
                                                    client_configuration=_no_retries(client.Configuration()))
    except Exception as exc:  # noqa: BLE001
        raise error_at(node, "context" if context else key, f"{path}.context",
                       f"cannot use kubeconfig {kc}: {redact(exc)}") from None
    _register_credentials(api_client)
    return Kube(api_client, namespace, timeout, f"{(chosen or {}).get('name', '?')}")


def _register_credentials(api_client: Any) -> None:
    """Keep the kubeconfig's token and password out of events, logs and the store."""
    from migtui.api import register_secret

    conf = getattr(api_client, "configuration", None)
    for value in (getattr(conf, "api_key", None) or {}).values():
        if isinstance(value, str):
            register_secret(value.split(" ", 1)[-1])
    register_secret(getattr(conf, "password", None) or None)


def label_selector(selector: Any) -> str:
    """A LabelSelector object (matchLabels / matchExpressions) as the API's query string."""
    if not isinstance(selector, dict):
        return ""
    parts = []
    ml = selector.get("matchLabels") or {}
    if isinstance(ml, dict):
        parts.extend(f"{k}={v}" for k, v in sorted(ml.items()))
    for expr in selector.get("matchExpressions") or []:
        if not isinstance(expr, dict):
            continue
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(map(str, values))})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(map(str, values))})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)
