"""``kubectl rollout undo`` as a plan: the previous revision's pod template and the annotations to
write on the Deployment (kubectl's rules). Pure, like :mod:`migtui_kubernetes.decode`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from migtui_kubernetes.decode import REVISION, K8sDecodeError, get, kind_name, str_map

HASH_LABEL = "pod-template-hash"

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
    text = str_map(get(obj, "metadata.annotations", dict, None, what=what), what, "metadata.annotations").get(REVISION)
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
        what = kind_name(rs, "replicaset")
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
    what = kind_name(deployment, "deployment")
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
    rs_what = kind_name(rs, "replicaset")
    template = strip_hash(get(rs, "spec.template", dict, {}, what=rs_what))
    to_images = [str(c.get("image")) for c in (template.get("spec") or {}).get("containers") or []
                 if isinstance(c, dict)]
    dep_ann = str_map(get(deployment, "metadata.annotations", dict, None, what=what), what, "metadata.annotations")
    rs_ann = str_map(get(rs, "metadata.annotations", dict, None, what=rs_what), rs_what, "metadata.annotations")
    annotations = {k: dep_ann[k] for k in ANNOTATIONS_TO_SKIP if k in dep_ann}
    annotations.update({k: v for k, v in rs_ann.items() if k not in ANNOTATIONS_TO_SKIP})
    plan = RollbackPlan(current_rev, to_rev, template, annotations, from_images=cur_images, to_images=to_images)
    if template == cur_template:
        plan.noop = f"the deployment already runs the template of revision {to_rev}"
    return plan
