"""Fleet discovery ``kubernetes``: the watch pods a label selector picks, as ``/status`` URLs.

``migtui fleet watch --selector app.kubernetes.io/name=migtui`` (or a targets-file entry
``- kubernetes: {selector: ..., namespace: ..., port: http}``) lists the Pods of the namespace with
that selector (one ``list pods`` call: the RBAC in deploy/kubernetes/fleet grants exactly that) and
turns every running pod into ``http://<pod IP>:<port><path>``. The database's name is the pod's
``migtui.dev/database`` label (or annotation; deploy/kubernetes's overlays set it), else the pod name.

Left out, each with a note: pods not Running (Pending has no IP yet; a finished Job's watch has
exited), pods being deleted (a rollout's old pods), pods without an IP, or without the named port.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from migtui.api import Field, Schema, SourceError, error_at, validate

from migtui_kubernetes.connect import Kube, Target, connect, connection_fields

DATABASE_KEY = "migtui.dev/database"
RBAC = (("list", "pods", ""),)
"""(verb, resource, API group) of every call a finder makes (deploy/kubernetes/fleet's Role grants them)."""


def _port(value: Any, parent: Any, key: Any, path: str) -> int | str:
    if isinstance(value, bool):
        raise error_at(parent, key, path, f"expected a port name or number, got {value!r}")
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        number = int(value)
        if not 1 <= number <= 65535:
            raise error_at(parent, key, path, f"port {number} is not in 1-65535")
        return number
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise error_at(parent, key, path, f"expected a port name or number, got {value!r}")


def _path(value: Any, parent: Any, key: Any, path: str) -> str:
    if not isinstance(value, str) or not value.startswith("/"):
        raise error_at(parent, key, path, f"expected a URL path starting with '/', got {value!r}")
    return value


SCHEMA = Schema({
    "selector": Field("str", required=True,
                      doc="Label selector of the watch pods, as kubectl -l takes it "
                          "(app.kubernetes.io/name=migtui,app.kubernetes.io/component=migration-watch)."),
    "port": Field(_port, default="http", doc="The container port of the watch's --http: its name or number."),
    "scheme": Field("str", default="http", choices=("http", "https"), doc="http or https."),
    "path": Field(_path, default="/status", doc="Path of the watch's status endpoint."),
    "database_label": Field("str", default=DATABASE_KEY,
                            doc="Pod label (or annotation) holding the database's name; default: the pod name."),
    **connection_fields(),
}, doc="Watch pods found by a label selector.")


def _host(ip: str) -> str:
    try:
        return f"[{ip}]" if ipaddress.ip_address(ip).version == 6 else ip
    except ValueError:
        return ip


def _container_port(pod: dict[str, Any], port: int | str) -> int | None:
    if isinstance(port, int):
        return port
    for container in (pod.get("spec") or {}).get("containers") or []:
        for p in (container or {}).get("ports") or []:
            if isinstance(p, dict) and p.get("name") == port and isinstance(p.get("containerPort"), int):
                return int(p["containerPort"])
    return None


def targets_of(pods: list[Any], opts: dict[str, Any]) -> tuple[list[dict[str, str]], list[str]]:
    """``(targets, notes)`` of a pod list (plain JSON dicts), sorted by database and pod."""
    targets, notes = [], []
    for pod in pods:
        if not isinstance(pod, dict):
            continue
        meta = pod.get("metadata") or {}
        status = pod.get("status") or {}
        name = str(meta.get("name") or "?")
        phase = status.get("phase") or "Unknown"
        if meta.get("deletionTimestamp"):
            notes.append(f"{name}: being deleted")
            continue
        if phase != "Running":
            notes.append(f"{name}: {phase}")
            continue
        ip = status.get("podIP")
        if not isinstance(ip, str) or not ip:
            notes.append(f"{name}: no pod IP yet")
            continue
        port = _container_port(pod, opts["port"])
        if port is None:
            notes.append(f"{name}: no container port named {opts['port']!r}")
            continue
        key = opts["database_label"]
        database = ((meta.get("labels") or {}).get(key) or (meta.get("annotations") or {}).get(key) or name)
        targets.append({"name": str(database), "url": f"{opts['scheme']}://{_host(ip)}:{port}{opts['path']}",
                        "instance": name})
    targets.sort(key=lambda t: (t["name"], t["instance"]))
    return targets, notes


class PodFinder:
    """Lists the watch pods of one selector in one namespace (the kubeconfig's or the pod's own)."""

    def __init__(self, options: Any, path: str) -> None:
        self.opts = validate(SCHEMA, options, path)
        self.kube: Kube = connect(self.opts, options, path)
        self.target = Target("list", "pods", namespace=self.kube.namespace)

    def describe(self) -> str:
        return f"kubernetes pods {self.opts['selector']} in {self.kube.namespace}"

    def find(self) -> tuple[list[dict[str, str]], list[str]]:
        # resourceVersion=0: served from the API server's watch cache, not a quorum read of etcd (a
        # fleet view of 1,000 pods lists every few seconds; a list a moment old is fine here)
        doc = self.kube.call(self.kube.core.list_namespaced_pod, self.target, self.kube.namespace,
                             label_selector=self.opts["selector"], resource_version="0")
        items = doc.get("items")
        if not isinstance(items, list):
            raise SourceError(f"Kubernetes: {self.target}: the answer has no list of items")
        return targets_of(items, self.opts)

    def close(self) -> None:
        self.kube.close()


def factory(options: Any, path: str) -> PodFinder:
    return PodFinder(options, path)
