"""A Kubernetes API server stand-in for the real ``kubernetes`` client.

It serves real-shaped Deployment, ReplicaSet, Pod, Event, Service and Argo Rollout JSON at the real
REST paths (``/apis/apps/v1/namespaces/{ns}/deployments/{name}``, ``/api/v1/namespaces/{ns}/pods``,
``/apis/argoproj.io/v1alpha1/namespaces/{ns}/rollouts/{name}/status`` ...), filters lists by
``labelSelector`` and ``fieldSelector``, applies PATCHes the way the API server does for their
content type (JSON patch, JSON merge patch, strategic merge patch - refused with 415 for custom
resources, as the real server does), and records every PATCH (path, Content-Type, parsed body) in
``api.patches``. ``api.forbid("patch", "deployments")`` makes it answer 403 with the API server's
Status body. ``api.kubeconfig(tmp_path)`` writes a kubeconfig pointing at it.

For the fleet view: :func:`watch_pod` is a migtui watch pod (labels and port as deploy/kubernetes
sets them) whose IP and port are a real ``/status`` server on 127.0.0.1; ``api.delete`` removes an
object, ``api.stalled(True)`` makes every request wait (until ``stalled(False)``, at most 30 s), as an
API server that stopped answering.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.servers.httpbase import LoopbackServer, Request, Response

KINDS = {
    # kind: (api prefix, group for messages, plural, list kind)
    "Deployment": ("/apis/apps/v1", "apps", "deployments"),
    "ReplicaSet": ("/apis/apps/v1", "apps", "replicasets"),
    "Pod": ("/api/v1", "", "pods"),
    "Event": ("/api/v1", "", "events"),
    "Service": ("/api/v1", "", "services"),
    "Rollout": ("/apis/argoproj.io/v1alpha1", "argoproj.io", "rollouts"),
}
_BY_PLURAL = {(prefix, plural): kind for kind, (prefix, _, plural) in KINDS.items()}
_PATH = re.compile(r"^(?P<prefix>/api/v1|/apis/[^/]+/[^/]+)/namespaces/(?P<ns>[^/]+)/(?P<plural>[^/]+)"
                   r"(?:/(?P<name>[^/]+))?(?:/(?P<sub>status|scale))?$")
CUSTOM_GROUPS = ("argoproj.io",)


@dataclass
class Patch:
    path: str
    content_type: str
    body: Any


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> Response:
    doc = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
           "reason": reason, "code": code}
    if details:
        doc["details"] = details
    return Response(code, json.dumps(doc), "application/json")


# --------------------------------------------------------------------------- label / field selectors


def _split_terms(text: str) -> list[str]:
    terms, depth, cur = [], 0, ""
    for c in text:
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == "," and depth == 0:
            terms.append(cur.strip())
            cur = ""
        else:
            cur += c
    if cur.strip():
        terms.append(cur.strip())
    return terms


def label_match(selector: str, labels: dict[str, str]) -> bool:
    for term in _split_terms(selector or ""):
        m = re.match(r"^([\w./-]+)\s+(in|notin)\s+\((.*)\)$", term)
        if m:
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",")}
            if op == "in" and labels.get(key) not in values:
                return False
            if op == "notin" and key in labels and labels[key] in values:
                return False
            continue
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term not in labels:
            return False
    return True


def _field(obj: dict[str, Any], dotted: str) -> Any:
    cur: Any = obj
    for part in dotted.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return cur


def field_match(selector: str, obj: dict[str, Any]) -> bool:
    for term in _split_terms(selector or ""):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if str(_field(obj, k.strip())) == v.strip():
                return False
        else:
            k, v = term.replace("==", "=").split("=", 1)
            if str(_field(obj, k.strip())) != v.strip():
                return False
    return True


# --------------------------------------------------------------------------- patch semantics


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


class PatchError(Exception):
    pass


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json_patch(doc: Any, ops: Any) -> Any:
    """RFC 6902 add / remove / replace / test (what kubectl and the client send)."""
    if not isinstance(ops, list):
        raise PatchError("a JSON patch must be a list of operations")
    doc = copy.deepcopy(doc)
    for op in ops:
        parts = _pointer(op.get("path", ""))
        if not parts:
            raise PatchError("cannot patch the root")
        parent: Any = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent.get(p)
            if parent is None:
                raise PatchError(f"path {op['path']} does not exist")
        last = parts[-1]
        kind = op.get("op")
        if kind == "test":
            actual = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if actual != op.get("value"):
                raise PatchError(f"test failed at {op['path']}")
        elif kind in ("add", "replace"):
            if kind == "replace" and isinstance(parent, dict) and last not in parent:
                raise PatchError(f"replace of missing path {op['path']}")
            if isinstance(parent, list):
                idx = len(parent) if last == "-" else int(last)
                if kind == "add":
                    parent.insert(idx, op["value"])
                else:
                    parent[idx] = op["value"]
            else:
                parent[last] = copy.deepcopy(op["value"])
        elif kind == "remove":
            if isinstance(parent, list):
                del parent[int(last)]
            elif last in parent:
                del parent[last]
            else:
                raise PatchError(f"remove of missing path {op['path']}")
        else:
            raise PatchError(f"unsupported op {kind!r}")
    return doc


# --------------------------------------------------------------------------- the server


class FakeKubeAPI(LoopbackServer):
    def __init__(self, token: str = "migtui-test-token") -> None:
        self.token = token
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}  # (kind, ns, name) -> object
        self.patches: list[Patch] = []
        self.forbidden: list[tuple[str, str, str | None]] = []  # (verb, plural, name or None)
        self.raw: dict[str, Response] = {}  # path -> canned answer (a proxy's error page, garbage)
        self.missing_groups: set[str] = set()  # API groups not installed (e.g. argoproj.io: no CRDs)
        self.user = "system:serviceaccount:shop:migtui"
        self._rv = 1000
        self._state_lock = threading.Lock()
        self.stall = threading.Event()
        self.stalled_requests: list[str] = []  # "METHOD path" of each request that arrived while stalled
        self._unstalled = threading.Event()
        self._unstalled.set()
        super().__init__(self._handle)

    # -- setup

    def add(self, *objs: dict[str, Any]) -> None:
        for obj in objs:
            meta = obj.setdefault("metadata", {})
            self._rv += 1
            meta.setdefault("resourceVersion", str(self._rv))
            self.objects[(obj["kind"], meta.get("namespace", "default"), meta["name"])] = obj

    def delete(self, kind: str, name: str, namespace: str = "shop") -> None:
        with self._state_lock:
            self._rv += 1
            del self.objects[(kind, namespace, name)]

    def stalled(self, on: bool) -> None:
        """While on, every request waits (up to 30 s) before it is answered."""
        if on:
            self._unstalled.clear()
            self.stall.set()
        else:
            self.stall.clear()
            self._unstalled.set()

    def get(self, kind: str, name: str, namespace: str = "shop") -> dict[str, Any]:
        return self.objects[(kind, namespace, name)]

    def forbid(self, verb: str, plural: str, name: str | None = None) -> None:
        self.forbidden.append((verb, plural, name))

    def kubeconfig(self, folder: Path, *, context: str = "fake", namespace: str = "shop",
                   token: str | None = None) -> Path:
        path = Path(folder) / "kubeconfig"
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "fake-cluster", "cluster": {"server": self.url}},
                         {"name": "elsewhere", "cluster": {"server": "http://127.0.0.1:9"}}],
            "users": [{"name": "migtui", "user": {"token": token or self.token}}],
            "contexts": [{"name": context, "context": {"cluster": "fake-cluster", "user": "migtui",
                                                       "namespace": namespace}},
                         {"name": "unused", "context": {"cluster": "elsewhere", "user": "migtui"}}],
            "current-context": "unused",
        }, indent=2))
        return path

    def patches_to(self, suffix: str) -> list[Patch]:
        return [p for p in self.patches if p.path.endswith(suffix)]

    # -- serving

    def _handle(self, req: Request) -> Response:
        if self.stall.is_set():
            self.stalled_requests.append(f"{req.method} {req.path}")
            self._unstalled.wait(30)
        if req.headers.get("authorization") != f"Bearer {self.token}":
            return status(401, "Unauthorized", "Unauthorized")
        if req.path in self.raw:
            return self.raw[req.path]
        m = _PATH.match(req.path)
        if m and m.group("prefix").startswith("/apis/") and m.group("prefix").split("/")[2] in self.missing_groups:
            return status(404, "NotFound", "the server could not find the requested resource")
        if not m or (m.group("prefix"), m.group("plural")) not in _BY_PLURAL:
            return status(404, "NotFound", "the server could not find the requested resource")
        prefix, ns, plural, name, sub = m.group("prefix", "ns", "plural", "name", "sub")
        kind = _BY_PLURAL[(prefix, plural)]
        group = KINDS[kind][1]
        resource = f"{plural}.{group}" if group else plural
        verb = {"GET": "get" if name else "list", "PATCH": "patch"}.get(req.method, req.method.lower())
        for fverb, fplural, fname in self.forbidden:
            if fverb == verb and fplural == plural and (fname is None or fname == name):
                what = f'{resource} "{name}"' if name else resource
                sub_txt = f'/{sub}' if sub else ""
                return status(403, "Forbidden",
                              f'{what} is forbidden: User "{self.user}" cannot {verb} resource "{plural}{sub_txt}" '
                              f'in API group "{group}" in the namespace "{ns}"',
                              {"name": name or "", "group": group, "kind": plural})
        with self._state_lock:
            if req.method == "GET" and name is None:
                return self._list(kind, ns, req)
            obj = self.objects.get((kind, ns, name or ""))
            if obj is None:
                return status(404, "NotFound", f'{resource} "{name}" not found',
                              {"name": name, "group": group, "kind": plural})
            if req.method == "GET":
                return Response(200, json.dumps(obj), "application/json")
            if req.method == "PATCH":
                return self._patch(kind, group, obj, req, sub)
        return status(405, "MethodNotAllowed", f"{req.method} is not supported by this test server")

    def _list(self, kind: str, ns: str, req: Request) -> Response:
        ls, fs = req.param("labelSelector", ""), req.param("fieldSelector", "")
        items = [o for (k, n, _), o in sorted(self.objects.items()) if k == kind and n == ns
                 and label_match(ls or "", (o.get("metadata") or {}).get("labels") or {})
                 and field_match(fs or "", o)]
        items = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")} for o in items]
        api_version = KINDS[kind][0].split("/", 2)[-1]  # /apis/apps/v1 -> apps/v1, /api/v1 -> v1
        return Response(200, json.dumps({"kind": f"{kind}List", "apiVersion": api_version,
                                         "metadata": {"resourceVersion": str(self._rv)}, "items": items}),
                        "application/json")

    def _patch(self, kind: str, group: str, obj: dict[str, Any], req: Request, sub: str | None) -> Response:
        ctype = req.headers.get("content-type", "").split(";")[0].strip()
        try:
            body = json.loads(req.body or b"null")
        except ValueError:
            return status(400, "BadRequest", "the patch body is not JSON")
        self.patches.append(Patch(req.path, ctype, body))
        try:
            if ctype == "application/json-patch+json":
                new = json_patch(obj, body)
            elif ctype == "application/merge-patch+json":
                new = merge_patch(obj, body)
            elif ctype == "application/strategic-merge-patch+json":
                if group in CUSTOM_GROUPS:
                    return status(415, "UnsupportedMediaType",
                                  'the body of the request was in an unknown format - accepted media types include: '
                                  'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml')
                new = merge_patch(obj, body)  # enough for the patches migtui sends (no list merge keys)
            else:
                return status(415, "UnsupportedMediaType", f"unsupported patch type {ctype!r}")
        except (PatchError, KeyError, IndexError, ValueError, TypeError, AttributeError) as exc:
            return status(422, "Invalid", f"the patch could not be applied: {exc}")
        if sub == "status":
            new = {**obj, "status": new.get("status", {})}
        else:
            new["status"] = obj.get("status", {})
            if new.get("spec") != obj.get("spec"):
                new["metadata"]["generation"] = int(obj["metadata"].get("generation", 1)) + 1
        self._rv += 1
        new["metadata"]["resourceVersion"] = str(self._rv)
        self.objects[(kind, obj["metadata"].get("namespace", "default"), obj["metadata"]["name"])] = new
        return Response(200, json.dumps(new), "application/json")


# --------------------------------------------------------------------------- real-shaped objects


def _template(app: str, image: str, extra_labels: dict[str, str] | None = None,
              pod_hash: str | None = None) -> dict[str, Any]:
    labels = {"app": app, **(extra_labels or {})}
    if pod_hash:
        labels["pod-template-hash"] = pod_hash
    return {
        "metadata": {"creationTimestamp": None, "labels": labels},
        "spec": {
            "containers": [{"name": app, "image": image, "imagePullPolicy": "IfNotPresent",
                            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                            "resources": {}, "terminationMessagePath": "/dev/termination-log",
                            "terminationMessagePolicy": "File"}],
            "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
            "securityContext": {}, "terminationGracePeriodSeconds": 30,
        },
    }


def deployment(name: str, *, ns: str = "shop", image: str = "registry.example/checkout:2.0", replicas: int = 3,
               revision: int = 2, generation: int = 4, observed: int | None = None, updated: int | None = None,
               ready: int | None = None, available: int | None = None, total: int | None = None,
               paused: bool = False, deadline_exceeded: bool = False, labels: dict[str, str] | None = None,
               app: str | None = None) -> dict[str, Any]:
    app = app or name
    sel = {"app": app, **(labels or {})}
    updated = replicas if updated is None else updated
    ready = updated if ready is None else ready
    available = ready if available is None else available
    total = max(replicas, updated) if total is None else total
    prog = ({"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
             "message": f'ReplicaSet "{name}-6b7f9c" has timed out progressing.'} if deadline_exceeded else
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
             "message": f'ReplicaSet "{name}-6b7f9c" has successfully progressed.'})
    status_ = {
        "observedGeneration": generation if observed is None else observed,
        "replicas": total, "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": available,
        "conditions": [
            {"type": "Available", "status": "True" if available >= replicas else "False",
             "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability.",
             "lastUpdateTime": "2026-11-21T07:40:00Z", "lastTransitionTime": "2026-11-21T07:40:00Z"},
            {**prog, "lastUpdateTime": "2026-11-21T07:41:00Z", "lastTransitionTime": "2026-11-21T07:30:00Z"},
        ],
    }
    if total - available > 0:
        status_["unavailableReplicas"] = total - available
    spec: dict[str, Any] = {
        "replicas": replicas, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
        "selector": {"matchLabels": sel},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
        "template": _template(app, image, labels),
    }
    if paused:
        spec["paused"] = True
    return {
        "kind": "Deployment", "apiVersion": "apps/v1",
        "metadata": {"name": name, "namespace": ns, "uid": f"uid-{name}", "generation": generation,
                     "creationTimestamp": "2026-11-20T10:00:00Z", "labels": {"app": app, **(labels or {})},
                     "annotations": {"deployment.kubernetes.io/revision": str(revision),
                                     "kubectl.kubernetes.io/last-applied-configuration": '{"kind":"Deployment"}'}},
        "spec": spec, "status": status_,
    }


def replicaset(dep: dict[str, Any], *, revision: int, image: str, pod_hash: str, replicas: int = 0,
               extra_annotations: dict[str, str] | None = None) -> dict[str, Any]:
    name = dep["metadata"]["name"]
    tmpl = copy.deepcopy(dep["spec"]["template"])
    tmpl["metadata"]["labels"]["pod-template-hash"] = pod_hash
    tmpl["spec"]["containers"][0]["image"] = image
    labels = {**dep["spec"]["selector"]["matchLabels"], "pod-template-hash": pod_hash}
    return {
        "kind": "ReplicaSet", "apiVersion": "apps/v1",
        "metadata": {
            "name": f"{name}-{pod_hash}", "namespace": dep["metadata"]["namespace"], "uid": f"uid-rs-{pod_hash}",
            "generation": 1, "labels": labels, "creationTimestamp": "2026-11-20T10:00:00Z",
            "annotations": {"deployment.kubernetes.io/revision": str(revision),
                            "deployment.kubernetes.io/desired-replicas": str(dep["spec"]["replicas"]),
                            "deployment.kubernetes.io/max-replicas": str(dep["spec"]["replicas"] + 1),
                            **(extra_annotations or {})},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                 "uid": dep["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": tmpl},
        "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas,
                   "fullyLabeledReplicas": replicas, "observedGeneration": 1},
    }


def pod(dep: dict[str, Any], suffix: str, *, pod_hash: str = "6b7f9c", ready: bool = True, restarts: int = 0,
        waiting: str | None = None, phase: str = "Running") -> dict[str, Any]:
    name = dep["metadata"]["name"]
    labels = {**dep["spec"]["selector"]["matchLabels"], "pod-template-hash": pod_hash}
    state: dict[str, Any] = ({"waiting": {"reason": waiting, "message": "back-off 5m0s restarting failed container"}}
                             if waiting else {"running": {"startedAt": "2026-11-21T07:35:00Z"}})
    return {
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": f"{name}-{pod_hash}-{suffix}", "namespace": dep["metadata"]["namespace"],
                     "uid": f"uid-pod-{suffix}", "labels": labels, "creationTimestamp": "2026-11-21T07:30:00Z",
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{name}-{pod_hash}",
                                          "uid": f"uid-rs-{pod_hash}", "controller": True, "blockOwnerDeletion": True}]},
        "spec": dep["spec"]["template"]["spec"],
        "status": {
            "phase": phase, "podIP": "10.0.0.12", "startTime": "2026-11-21T07:30:00Z",
            "conditions": [{"type": "Initialized", "status": "True"},
                           {"type": "Ready", "status": "True" if ready else "False"},
                           {"type": "ContainersReady", "status": "True" if ready else "False"},
                           {"type": "PodScheduled", "status": "True"}],
            "containerStatuses": [{"name": name, "ready": ready, "restartCount": restarts, "started": not waiting,
                                   "image": dep["spec"]["template"]["spec"]["containers"][0]["image"],
                                   "imageID": "", "state": state}],
        },
    }


def event(obj_kind: str, obj_name: str, reason: str, message: str, *, ns: str = "shop", count: int = 1,
          type_: str = "Warning", last: str = "2026-11-21T07:59:00Z", uid: str = "") -> dict[str, Any]:
    return {
        "kind": "Event", "apiVersion": "v1",
        "metadata": {"name": f"{obj_name}.{uid or reason.lower()}", "namespace": ns,
                     "creationTimestamp": "2026-11-21T07:50:00Z"},
        "involvedObject": {"kind": obj_kind, "namespace": ns, "name": obj_name, "apiVersion": "v1"},
        "reason": reason, "message": message, "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2026-11-21T07:50:00Z", "lastTimestamp": last, "count": count, "type": type_,
        "eventTime": None, "reportingComponent": "kubelet", "reportingInstance": "node-1",
    }


def service(name: str, selector: dict[str, str], *, ns: str = "shop") -> dict[str, Any]:
    return {
        "kind": "Service", "apiVersion": "v1",
        "metadata": {"name": name, "namespace": ns, "uid": f"uid-svc-{name}"},
        "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.20", "selector": dict(selector),
                 "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]},
        "status": {"loadBalancer": {}},
    }


def rollout(name: str, *, ns: str = "shop", step: int = 1, weight: int | None = 20, phase: str = "Paused",
            paused: bool = False, abort: bool = False, analysis: str | None = "Running",
            pause_reason: str | None = "CanaryPauseStep") -> dict[str, Any]:
    status_: dict[str, Any] = {
        "phase": phase, "message": "CanaryPauseStep" if phase == "Paused" else "",
        "currentStepIndex": step, "currentPodHash": "7d9f8b", "stableRS": "5c4d3b",
        "replicas": 5, "updatedReplicas": 1, "readyReplicas": 5, "availableReplicas": 5,
        "observedGeneration": "3", "canary": {},
        "selector": f"app={name}",
    }
    if weight is not None:
        status_["canary"]["weights"] = {"canary": {"podTemplateHash": "7d9f8b", "serviceName": f"{name}-canary",
                                                   "weight": weight},
                                        "stable": {"podTemplateHash": "5c4d3b", "serviceName": f"{name}-stable",
                                                   "weight": 100 - weight}}
    if analysis:
        status_["canary"]["currentStepAnalysisRunStatus"] = {"name": f"{name}-7d9f8b-3-1", "status": analysis,
                                                             "message": ""}
    if pause_reason:
        status_["pauseConditions"] = [{"reason": pause_reason, "startTime": "2026-11-21T07:58:00Z"}]
        status_["controllerPause"] = True
    if abort:
        status_["abort"] = True
        status_["abortedAt"] = "2026-11-21T08:00:00Z"
    spec: dict[str, Any] = {
        "replicas": 5, "selector": {"matchLabels": {"app": name}},
        "template": _template(name, "registry.example/checkout:2.1"),
        "strategy": {"canary": {"canaryService": f"{name}-canary", "stableService": f"{name}-stable",
                                "steps": [{"setWeight": 20}, {"pause": {}}, {"setWeight": 50},
                                          {"pause": {"duration": "5m"}}, {"setWeight": 80}]}},
    }
    if paused:
        spec["paused"] = True
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
            "metadata": {"name": name, "namespace": ns, "uid": f"uid-ro-{name}", "generation": 3,
                         "annotations": {"rollout.argoproj.io/revision": "3"}},
            "spec": spec, "status": status_}


def watch_pod(name: str, database: str | None, port: int, *, ns: str = "shop", phase: str = "Running",
              ip: str | None = "127.0.0.1", deleting: bool = False, port_name: str = "http") -> dict[str, Any]:
    """A pod of deploy/kubernetes's watch Job (its labels, its named port) at ``ip:port``."""
    labels = {"app.kubernetes.io/name": "migtui", "app.kubernetes.io/component": "migration-watch",
              "batch.kubernetes.io/job-name": f"migtui-watch-{database or name}"}
    if database:
        labels["migtui.dev/database"] = database
    meta: dict[str, Any] = {"name": name, "namespace": ns, "uid": f"uid-pod-{name}", "labels": labels,
                            "creationTimestamp": "2026-11-21T07:30:00Z"}
    if deleting:
        meta["deletionTimestamp"] = "2026-11-21T08:00:00Z"
        meta["deletionGracePeriodSeconds"] = 30
    status_: dict[str, Any] = {"phase": phase, "startTime": "2026-11-21T07:30:00Z"}
    if ip and phase == "Running":
        status_["podIP"] = ip
        status_["podIPs"] = [{"ip": ip}]
    return {
        "kind": "Pod", "apiVersion": "v1", "metadata": meta,
        "spec": {"restartPolicy": "Never", "containers": [{
            "name": "migtui", "image": "ghcr.io/example/migtui:0.1.0",
            "ports": [{"name": port_name, "containerPort": port, "protocol": "TCP"}]}]},
        "status": status_,
    }
