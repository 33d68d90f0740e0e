"""Pure decoders from Kubernetes API JSON (plain dicts) to the states migtui shows.

No I/O and no client classes: any input gives a result or one :class:`K8sDecodeError` that names
the object and field; nothing else is raised (a property test checks that).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from migtui.api import SourceError

DEPLOYMENT_STATES = {"complete": 0, "progressing": 1, "paused": 2, "failed": 3}
ROLLOUT_STATES = {"healthy": 0, "progressing": 1, "paused": 2, "degraded": 3, "aborted": 4}
ANALYSIS_STATES = {"successful": 0, "pending": 1, "running": 1, "inconclusive": 2, "failed": 3, "error": 4}
CRASH_REASONS = ("CrashLoopBackOff",)
IMAGE_REASONS = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull")
REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"

_MISSING = object()


class K8sDecodeError(SourceError):
    """An API object does not have the shape Kubernetes gives it."""


def _kind_name(obj: Any, kind: str) -> str:
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


def _str_map(value: Any, what: str, path: str) -> dict[str, str]:
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
    what = _kind_name(obj, "deployment")
    name = get(obj, "metadata.name", str, "", what=what)
    desired = get(obj, "spec.replicas", int, 1, what=what)  # the API defaults replicas to 1
    st = lambda k: get(obj, f"status.{k}", int, 0, what=what)  # noqa: E731
    replicas, updated, ready, available, unavailable = (st("replicas"), st("updatedReplicas"), st("readyReplicas"),
                                                        st("availableReplicas"), st("unavailableReplicas"))
    generation = get(obj, "metadata.generation", int, 0, what=what)
    observed = get(obj, "status.observedGeneration", int, 0, what=what)
    paused = bool(get(obj, "spec.paused", bool, False, what=what))
    annotations = _str_map(get(obj, "metadata.annotations", dict, None, what=what), what, "metadata.annotations")
    conditions = get(obj, "status.conditions", list, [], what=what)
    if not all(isinstance(c, dict) for c in conditions):
        raise K8sDecodeError(f"{what}: status.conditions: expected a list of objects")
    progressing = next((c for c in conditions if c.get("type") == "Progressing"), None)
    containers = get(obj, "spec.template.spec.containers", list, [], what=what)
    images = [str(c.get("image")) for c in containers if isinstance(c, dict) and c.get("image")]
    selector = get(obj, "spec.selector", dict, {}, what=what)
    template_labels = _str_map(get(obj, "spec.template.metadata.labels", dict, None, what=what), what,
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
        what = _kind_name(pod, "pod")
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
        what = _kind_name(ev, "event")
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
    what = _kind_name(obj, "service")
    return _str_map(get(obj, "spec.selector", dict, None, what=what), what, "spec.selector")


# --------------------------------------------------------------------------- Argo Rollouts


@dataclass
class RolloutStatus:
    name: str
    strategy: str
    phase: str
    message: str
    state: str
    paused: bool
    aborted: bool
    pause_reasons: list[str]
    step: int | None
    steps: int
    set_weight: float
    actual_weight: float | None
    analysis: dict[str, str]  # step|background -> status
    analysis_runs: dict[str, str]
    desired: int
    ready: int
    available: int
    updated: int
    stable_rs: str
    current_hash: str
    active_selector: str = ""
    preview_selector: str = ""
    spec_paused: bool = False

    @property
    def state_code(self) -> int:
        return ROLLOUT_STATES[self.state]


def rollout_status(obj: Any) -> RolloutStatus:
    """Phase, weights, step, analysis and pause/abort state of an ``argoproj.io/v1alpha1`` Rollout."""
    if not isinstance(obj, dict):
        raise K8sDecodeError(f"rollout: expected an object, got {type(obj).__name__}")
    what = _kind_name(obj, "rollout")
    name = get(obj, "metadata.name", str, "", what=what)
    strategy_obj = get(obj, "spec.strategy", dict, {}, what=what)
    strategy = "blueGreen" if "blueGreen" in strategy_obj else "canary"
    steps = get(obj, "spec.strategy.canary.steps", list, [], what=what)
    if not all(isinstance(s, dict) for s in steps):
        raise K8sDecodeError(f"{what}: spec.strategy.canary.steps: expected a list of objects")
    aborted = bool(get(obj, "status.abort", bool, False, what=what))
    paused = bool(get(obj, "spec.paused", bool, False, what=what))
    pcs = get(obj, "status.pauseConditions", list, [], what=what)
    reasons = [str(p.get("reason")) for p in pcs if isinstance(p, dict) and p.get("reason")]
    step = get(obj, "status.currentStepIndex", int, None, what=what)
    # replicasetutil.GetCurrentSetWeight
    if aborted:
        set_weight = 0.0
    elif strategy != "canary" or not steps or step is None or step >= len(steps) or step < 0:
        set_weight = 100.0
    else:
        set_weight = 0.0
        for i in range(step, -1, -1):
            w = get(steps[i], "setWeight", (int, float), None, what=what)
            if w is not None:
                set_weight = float(w)
                break
    actual = get(obj, "status.canary.weights.canary.weight", (int, float), None, what=what)
    analysis: dict[str, str] = {}
    runs: dict[str, str] = {}
    for key, label in (("currentStepAnalysisRunStatus", "step"), ("currentBackgroundAnalysisRunStatus", "background")):
        for base in ("status.canary", "status.blueGreen"):
            st = get(obj, f"{base}.{key}", dict, None, what=what)
            if st:
                status = get(st, "status", str, "", what=what)
                if status:
                    analysis[label] = status
                    runs[label] = get(st, "name", str, "", what=what)
    for key, label in (("prePromotionAnalysisRunStatus", "prePromotion"),
                       ("postPromotionAnalysisRunStatus", "postPromotion")):
        st = get(obj, f"status.blueGreen.{key}", dict, None, what=what)
        if st and get(st, "status", str, "", what=what):
            analysis[label] = get(st, "status", str, "", what=what)
            runs[label] = get(st, "name", str, "", what=what)
    phase = get(obj, "status.phase", str, "", what=what)
    if aborted:
        state = "aborted"
    elif phase.lower() in ROLLOUT_STATES:
        state = phase.lower()
    elif paused or reasons:
        state = "paused"
    else:
        state = "progressing"
    return RolloutStatus(
        name=name, strategy=strategy, phase=phase or state.capitalize(),
        message=get(obj, "status.message", str, "", what=what).replace("\n", " "),
        state=state, paused=paused or bool(reasons), aborted=aborted, pause_reasons=reasons,
        step=step, steps=len(steps), set_weight=set_weight,
        actual_weight=float(actual) if actual is not None else None,
        analysis=analysis, analysis_runs=runs,
        desired=get(obj, "spec.replicas", int, 1, what=what),
        ready=get(obj, "status.readyReplicas", int, 0, what=what),
        available=get(obj, "status.availableReplicas", int, 0, what=what),
        updated=get(obj, "status.updatedReplicas", int, 0, what=what),
        stable_rs=get(obj, "status.stableRS", str, "", what=what),
        current_hash=get(obj, "status.currentPodHash", str, "", what=what),
        active_selector=get(obj, "status.blueGreen.activeSelector", str, "", what=what),
        preview_selector=get(obj, "status.blueGreen.previewSelector", str, "", what=what),
        spec_paused=paused,
    )


# --------------------------------------------------------------------------- rollback (kubectl rollout undo)

# kubectl's annotationsToSkip: kept from the Deployment, never copied from the ReplicaSet.
ANNOTATIONS_TO_SKIP = (
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
)


def _revision(obj: dict[str, Any], what: str) -> int | None:
    text = _str_map(get(obj, "metadata.annotations", dict, None, what=what), what, "metadata.annotations").get(REVISION)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise K8sDecodeError(f"{what}: annotation {REVISION} is not a number: {text[:40]!r}") from None


def owned_replicasets(deployment: dict[str, Any], rs_items: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(revision, ReplicaSet) of the ReplicaSets controlled by the deployment, newest first."""
    uid = get(deployment, "metadata.uid", str, "", what="deployment")
    name = get(deployment, "metadata.name", str, "", what="deployment")
    out = []
    for rs in rs_items:
        what = _kind_name(rs, "replicaset")
        refs = get(rs, "metadata.ownerReferences", list, [], what=what)
        owned = any(isinstance(r, dict) and r.get("controller") and r.get("kind") == "Deployment"
                    and (r.get("uid") == uid if uid else r.get("name") == name) for r in refs)
        if not owned:
            continue
        rev = _revision(rs, what)
        if rev is not None:
            out.append((rev, rs))
    out.sort(key=lambda x: x[0], reverse=True)
    return out


def strip_hash(template: Any) -> dict[str, Any]:
    """A pod template without the pod-template-hash label (a deep copy)."""
    import copy

    t = copy.deepcopy(template) if isinstance(template, dict) else {}
    labels = (t.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return t


@dataclass
class RollbackPlan:
    from_revision: int | None
    to_revision: int | None
    template: dict[str, Any] | None
    annotations: dict[str, str]
    noop: str = ""  # why nothing needs doing
    from_images: list[str] = field(default_factory=list)
    to_images: list[str] = field(default_factory=list)

    @property
    def json_patch(self) -> list[dict[str, Any]]:
        return [{"op": "replace", "path": "/spec/template", "value": self.template},
                {"op": "replace", "path": "/metadata/annotations", "value": self.annotations}]


def plan_rollback(deployment: Any, rs_items: list[Any]) -> RollbackPlan:
    """``kubectl rollout undo`` (to the previous revision): the template and annotations to write.

    Raises K8sDecodeError when there is no previous revision.
    """
    if not isinstance(deployment, dict):
        raise K8sDecodeError("deployment: expected an object")
    what = _kind_name(deployment, "deployment")
    history = owned_replicasets(deployment, [r for r in rs_items if isinstance(r, dict)])
    current_rev = _revision(deployment, what)
    if current_rev is None and history:
        current_rev = history[0][0]
    older = [(rev, rs) for rev, rs in history if current_rev is None or rev < current_rev]
    cur_template = strip_hash(get(deployment, "spec.template", dict, {}, what=what))
    cur_images = [str(c.get("image")) for c in (cur_template.get("spec") or {}).get("containers") or []
                  if isinstance(c, dict)]
    if not older:
        return RollbackPlan(current_rev, None, None, {}, noop=f"no previous revision to roll back to "
                                                             f"({what} has {len(history)} revision(s) on record)",
                            from_images=cur_images)
    to_rev, rs = older[0]
    rs_what = _kind_name(rs, "replicaset")
    template = strip_hash(get(rs, "spec.template", dict, {}, what=rs_what))
    to_images = [str(c.get("image")) for c in (template.get("spec") or {}).get("containers") or []
                 if isinstance(c, dict)]
    dep_ann = _str_map(get(deployment, "metadata.annotations", dict, None, what=what), what, "metadata.annotations")
    rs_ann = _str_map(get(rs, "metadata.annotations", dict, None, what=rs_what), rs_what, "metadata.annotations")
    annotations = {k: dep_ann[k] for k in ANNOTATIONS_TO_SKIP if k in dep_ann}
    annotations.update({k: v for k, v in rs_ann.items() if k not in ANNOTATIONS_TO_SKIP})
    plan = RollbackPlan(current_rev, to_rev, template, annotations, from_images=cur_images, to_images=to_images)
    if template == cur_template:
        plan.noop = f"the deployment already runs the template of revision {to_rev}"
    return plan
