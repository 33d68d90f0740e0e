"""Argo Rollouts (``argoproj.io/v1alpha1``) from API JSON: phase, weights, step, analysis and
pause/abort state. Pure, like :mod:`migtui_kubernetes.decode`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from migtui_kubernetes.decode import K8sDecodeError, get, kind_name

ROLLOUT_STATES = {"healthy": 0, "progressing": 1, "paused": 2, "degraded": 3, "aborted": 4}
ANALYSIS_STATES = {"successful": 0, "pending": 1, "running": 1, "inconclusive": 2, "failed": 3, "error": 4}


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
    what = kind_name(obj, "rollout")
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
