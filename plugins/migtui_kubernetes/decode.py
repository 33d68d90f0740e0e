"""Pure decoders from Kubernetes API JSON (plain dicts) to the states migtui shows.

No I/O and no client classes: any input gives a result or one :class:`K8sDecodeError` that names
the object and field; nothing else is raised (a property test checks that). Here: the shared
helpers, Deployments, Pods, Events and Services; Argo Rollouts in :mod:`migtui_kubernetes.argo`,
the ``kubectl rollout undo`` plan in :mod:`migtui_kubernetes.undo`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from migtui.api import SourceError

DEPLOYMENT_STATES = {"complete": 0, "progressing": 1, "paused": 2, "failed": 3}
CRASH_REASONS = ("CrashLoopBackOff",)
IMAGE_REASONS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull")
REVISION = "deployment.kubernetes.io/revision"

_MISSING = object()


class K8sDecodeError(SourceError):
    """An API object does not have the shape Kubernetes gives it."""


def kind_name(obj: Any, kind: str) -> str:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    return f"{kind} {name!r}" if isinstance(name, str) else kind


def get(obj: Any, path: str, typ: type | tuple[type, ...], default: Any = None, *, what: str = "object") -> Any:
    """``obj[a][b]...`` for ``path='a.b'``, checked against ``typ``; missing/null -> default."""
    cur: Any = obj
    for part in path.split("."):
        if cur is None:
            return default
        if not isinstance(cur, dict):
            raise K8sDecodeError(f"{what}: {path}: expected an object at {part!r}, got {type(cur).__name__}")
        cur = cur.get(part, None)
    if cur is None:
        return default
    if typ is float or typ == (int, float):
        if isinstance(cur, bool) or not isinstance(cur, (int, float)):
            raise K8sDecodeError(f"{what}: {path}: expected a number, got {type(cur).__name__}")
        return cur
    if typ is int:
        if isinstance(cur, bool) or not isinstance(cur, int):
            raise K8sDecodeError(f"{what}: {path}: expected an integer, got {type(cur).__name__}")
        return cur
    if not isinstance(cur, typ):
        tn = typ.__name__ if isinstance(typ, type) else "/".join(t.__name__ for t in typ)
        raise K8sDecodeError(f"{what}: {path}: expected {tn}, got {type(cur).__name__}")
    return cur


def str_map(value: Any, what: str, path: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise K8sDecodeError(f"{what}: {path}: expected a map of strings")
    return dict(value)


def items_of(doc: Any, kind: str) -> list[dict[str, Any]]:
    """The ``items`` of a list response."""
    if not isinstance(doc, dict):
        raise K8sDecodeError(f"{kind} list: expected an object, got {type(doc).__name__}")
    items = doc.get("items")
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise K8sDecodeError(f"{kind} list: items is not a list of objects")
    return items


def parse_time(value: Any) -> float | None:
    """RFC 3339 (``2026-11-21T08:00:00Z``, with or without fractions) -> epoch seconds, else None."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    try:
        return dt.timestamp()
    except (OverflowError, OSError, ValueError):
        return None


# --------------------------------------------------------------------------- Deployments


@dataclass
class DeploymentStatus:
    name: str
    desired: int
    replicas: int
    updated: int
    ready: int
    available: int
    unavailable: int
    paused: bool
    generation: int
    observed_generation: int
    revision: str
    state: str
    message: str
    images: list[str]
    selector: dict[str, Any]
    template_labels: dict[str, str]
    conditions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def state_code(self) -> int:
        return DEPLOYMENT_STATES[self.state]

    @property
    def ready_ratio(self) -> float:
        # Scaled to zero on purpose: all 0 of 0 desired pods are ready.
        return 1.0 if self.desired == 0 else min(self.ready, self.desired) / self.desired


def deployment_status(obj: Any) -> DeploymentStatus:
    """The rollout state, computed the way ``kubectl rollout status`` does."""
    if not isinstance(obj, dict):
        raise K8sDecodeError(f"deployment: expected an object, got {type(obj).__name__}")
    what = kind_name(obj, "deployment")
    name = get(obj, "metadata.name", str, "", what=what)
    desired = get(obj, "spec.replicas", int, 1, what=what)  # the API defaults replicas to 1
    st = lambda k: get(obj, f"status.{k}", int, 0, what=what)  # noqa: E731
    replicas, updated, ready, available, unavailable = (st("replicas"), st("updatedReplicas"), st("readyReplicas"),
                                                        st("availableReplicas"), st("unavailableReplicas"))
    generation = get(obj, "metadata.generation", int, 0, what=what)
    observed = get(obj, "status.observedGeneration", int, 0, what=what)
    paused = bool(get(obj, "spec.paused", bool, False, what=what))
    annotations = str_map(get(obj, "metadata.annotations", dict, None, what=what), what, "metadata.annotations")
    conditions = get(obj, "status.conditions", list, [], what=what)
    if not all(isinstance(c, dict) for c in conditions):
        raise K8sDecodeError(f"{what}: status.conditions: expected a list of objects")
    progressing = next((c for c in conditions if c.get("type") == "Progressing"), None)
    containers = get(obj, "spec.template.spec.containers", list, [], what=what)
    images = [str(c.get("image")) for c in containers if isinstance(c, dict) and c.get("image")]
    selector = get(obj, "spec.selector", dict, {}, what=what)
    template_labels = str_map(get(obj, "spec.template.metadata.labels", dict, None, what=what), what,
                               "spec.template.metadata.labels")

    # kubectl's DeploymentStatusViewer
    if generation <= observed:
        if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
            state, message = "failed", f'deployment "{name}" exceeded its progress deadline'
        elif updated < desired:
            state, message = "progressing", (f'Waiting for deployment "{name}" rollout to finish: '
                                             f"{updated} out of {desired} new replicas have been updated...")
        elif replicas > updated:
            state, message = "progressing", (f'Waiting for deployment "{name}" rollout to finish: '
                                             f"{replicas - updated} old replicas are pending termination...")
        elif available < updated:
            state, message = "progressing", (f'Waiting for deployment "{name}" rollout to finish: '
                                             f"{available} of {updated} updated replicas are available...")
        else:
            state, message = "complete", f'deployment "{name}" successfully rolled out'
    else:
        state, message = "progressing", "Waiting for deployment spec update to be observed..."
    if paused and state != "failed":
        state = "paused"
        message = f"{message} (paused)"
    return DeploymentStatus(name, desired, replicas, updated, ready, available, unavailable, paused, generation,
                            observed, annotations.get(REVISION, ""), state, message, images, selector,
                            template_labels, conditions)


# --------------------------------------------------------------------------- Pods


@dataclass
class PodHealth:
    total: int = 0
    ready: int = 0
    restarts: int = 0
    crashloop: int = 0
    image_errors: int = 0
    pending: int = 0
    not_ready: list[str] = field(default_factory=list)

    @property
    def ready_ratio(self) -> float:
        return 1.0 if self.total == 0 else self.ready / self.total


def pod_health(pods: list[Any]) -> PodHealth:
    h = PodHealth()
    for pod in pods:
        if not isinstance(pod, dict):
            raise K8sDecodeError("pod: expected an object")
        what = kind_name(pod, "pod")
        if get(pod, "metadata.deletionTimestamp", str, None, what=what):
            continue  # terminating: not part of the serving set any more
        h.total += 1
        phase = get(pod, "status.phase", str, "", what=what)
        if phase == "Pending":
            h.pending += 1
        conds = get(pod, "status.conditions", list, [], what=what)
        ready = any(isinstance(c, dict) and c.get("type") == "Ready" and c.get("status") == "True" for c in conds)
        if ready:
            h.ready += 1
        else:
            h.not_ready.append(get(pod, "metadata.name", str, "?", what=what))
        crash = image = False
        for key in ("containerStatuses", "initContainerStatuses"):
            for cs in get(pod, f"status.{key}", list, [], what=what):
                if not isinstance(cs, dict):
                    raise K8sDecodeError(f"{what}: status.{key}: expected a list of objects")
                h.restarts += get(cs, "restartCount", int, 0, what=what)
                reason = get(cs, "state.waiting.reason", str, "", what=what)
                crash = crash or reason in CRASH_REASONS
                image = image or reason in IMAGE_REASONS
        h.crashloop += crash
        h.image_errors += image
    return h


# --------------------------------------------------------------------------- Events


@dataclass
class WarningEvent:
    ts: float | None
    kind: str
    name: str
    reason: str
    message: str
    count: int


def warning_events(doc: Any) -> list[WarningEvent]:
    out = []
    for ev in items_of(doc, "event"):
        what = kind_name(ev, "event")
        if get(ev, "type", str, "", what=what) != "Warning":
            continue
        series_count = get(ev, "series.count", int, None, what=what)
        count = series_count or get(ev, "count", int, 1, what=what) or 1
        ts = None
        for key in ("lastTimestamp", "series.lastObservedTime", "eventTime", "firstTimestamp",
                    "metadata.creationTimestamp"):
            ts = parse_time(get(ev, key, str, None, what=what))
            if ts is not None:
                break
        out.append(WarningEvent(ts, get(ev, "involvedObject.kind", str, "", what=what),
                                get(ev, "involvedObject.name", str, "", what=what),
                                get(ev, "reason", str, "", what=what),
                                get(ev, "message", str, "", what=what).replace("\n", " "), count))
    out.sort(key=lambda e: e.ts or 0.0, reverse=True)
    return out


def related_names(owner: str, pods: list[Any]) -> set[str]:
    """The Deployment's name, its pods' names and their ReplicaSets' names (from ownerReferences)."""
    names = {owner}
    for p in pods:
        if not isinstance(p, dict):
            continue
        meta = p.get("metadata") if isinstance(p.get("metadata"), dict) else {}
        if isinstance(meta.get("name"), str):
            names.add(meta["name"])
        for ref in meta.get("ownerReferences") or []:
            if isinstance(ref, dict) and isinstance(ref.get("name"), str):
                names.add(ref["name"])
    return names


def belongs_to(event_object_name: str, owner: str) -> bool:
    """Whether a name is the owner, one of its ReplicaSets (``owner-<hash>``) or their pods
    (``owner-<hash>-<id>``)."""
    import re

    if event_object_name == owner:
        return True
    return re.fullmatch(re.escape(owner) + r"-[a-z0-9]{4,10}(-[a-z0-9]{5})?", event_object_name) is not None


# --------------------------------------------------------------------------- Services (blue-green)


def service_selector(obj: Any) -> dict[str, str]:
    if not isinstance(obj, dict):
        raise K8sDecodeError(f"service: expected an object, got {type(obj).__name__}")
    what = kind_name(obj, "service")
    return str_map(get(obj, "spec.selector", dict, None, what=what), what, "spec.selector")
