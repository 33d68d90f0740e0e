"""Kubernetes actions: pause / resume / rollback of a Deployment (``k8s_deployment``) or an Argo
Rollout (``argo_rollout``); the blue-green Service switch (``k8s_bluegreen``) builds on
:class:`KubeAction` in :mod:`migtui_kubernetes.bluegreen`.

=============  ==========================================  ==============================================
verb           Deployment                                  Argo Rollout
=============  ==========================================  ==============================================
pause          strategic merge ``{"spec":{"paused":true}}``  merge patch ``{"spec":{"paused":true}}``
resume         strategic merge ``{"spec":{"paused":false}}`` merge patch ``{"spec":{"paused":false}}``
rollback       ``kubectl rollout undo``: resume first if      abort: merge patch of the status subresource
               paused, then JSON patch replacing               ``{"status":{"abort":true}}``
               /spec/template with the previous ReplicaSet's
               template (without pod-template-hash) and
               /metadata/annotations
=============  ==========================================  ==============================================

Every action reads the object first and does nothing when it is already in the wanted state
(pausing a paused deployment succeeds without a PATCH), honours ``dry_run`` (reads, then says
exactly which PATCH it would send), and answers with a message saying what changed.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from migtui.api import (ActionError, ActionRequest, ActionResult, BuildContext, Field, MigtuiError, Schema, error_at,
                        validate)

from migtui_kubernetes import argo, undo
from migtui_kubernetes import decode as d
from migtui_kubernetes.connect import Kube, Target, connect, connection_fields

SMP = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


def action_fields(target_key: str, doc: str) -> dict[str, Field]:
    return {
        "type": Field("str", required=True),
        "name": Field("str"),
        target_key: Field("str", required=True, doc=doc),
        "source": Field("str", doc="Name of a kubernetes source whose kubeconfig/context/namespace to use."),
        **connection_fields(),
        "confirm": Field("bool", doc="Ask the operator before acting (default: true for rollback)."),
        "dry_run": Field("bool", default=False, doc="Only describe and record; never patch."),
        "timeout": Field("duration", default=30.0, minimum=1.0, doc="Budget for the whole action."),
    }


DEPLOYMENT_SCHEMA = Schema(action_fields("deployment", "The Deployment to pause / resume / roll back."),
                           doc="Deployment pause (spec.paused), resume, rollback (kubectl rollout undo).")
ROLLOUT_SCHEMA = Schema(action_fields("rollout", "The Argo Rollout to pause / resume / abort."),
                        doc="Argo Rollout pause (spec.paused), resume, rollback (abort).")

_CONNECTION_KEYS = tuple(connection_fields())


def _connection_options(ctx: BuildContext, opts: dict[str, Any]) -> dict[str, Any]:
    """The action's own connection keys, falling back to the named kubernetes source's."""
    merged: dict[str, Any] = {}
    if opts.get("source"):
        item = None
        for it in (ctx.config.get("sources") or []) if ctx.config is not None else []:
            if getattr(it, "name", None) == opts["source"]:
                item = it
        if item is None:
            raise error_at(ctx.options, "source", f"{ctx.path}.source",
                           f"no source named {opts['source']!r} in sources")
        if item.type != "kubernetes":
            raise error_at(ctx.options, "source", f"{ctx.path}.source",
                           f"source {opts['source']!r} is of type {item.type}, not kubernetes")
        src = validate(Schema(connection_fields(), open=True), item.options, item.path)
        merged.update({k: src.get(k) for k in _CONNECTION_KEYS})
    for k in _CONNECTION_KEYS:
        if k in ctx.options and ctx.options[k] is not None:
            merged[k] = opts[k]
    merged.setdefault("request_timeout", 10.0)
    merged["request_timeout"] = merged.get("request_timeout") or 10.0
    return merged


class KubeAction:
    """One configured action on one object: validated options, the API connection, dry runs, a lock so
    two PATCH sequences never touch the object at once; subclasses write ``_pause`` / ``_resume`` /
    ``_rollback`` (blue-green: :mod:`migtui_kubernetes.bluegreen`)."""

    kind = ""
    resource = ""
    target_key = ""
    schema: Schema

    def __init__(self, ctx: BuildContext, verb: str) -> None:
        if verb not in ("pause", "resume", "rollback"):
            raise error_at(ctx.options, None, ctx.path, f"{ctx.item.type} cannot {verb}; it can pause, resume, rollback")
        self.opts = validate(self.schema, ctx.options, ctx.path)
        self.name = ctx.name
        self.verb = verb
        self.confirm = bool(self.opts["confirm"]) if self.opts["confirm"] is not None else verb == "rollback"
        self.timeout = float(self.opts["timeout"])
        self.dry_run = bool(self.opts["dry_run"])
        # A resume undoes this type's pause, so the engine may derive `resume` from `pause` entries.
        self.undoes_pause = verb == "resume"
        self.target = self.opts[self.target_key]
        conn = _connection_options(ctx, self.opts)
        config_path = getattr(getattr(ctx, "config", None), "path", None)
        self.kube: Kube = connect(conn, ctx.options, ctx.path,
                                  config_dir=config_path.parent if config_path is not None else None)
        self.namespace = self.kube.namespace
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        return f"{self.kind} {self.namespace}/{self.target}"

    def _t(self, verb: str, sub: str = "") -> Target:
        return Target(verb, self.resource, self.target, self.namespace, sub)

    def run(self, request: ActionRequest) -> ActionResult:
        if self.dry_run and not request.dry_run:
            import dataclasses

            request = dataclasses.replace(request, dry_run=True)
        with self._lock:  # never two PATCH sequences on the same object at once
            try:
                return getattr(self, f"_{self.verb}")(request)
            except MigtuiError as exc:
                return ActionResult(False, f"{self.verb} {self.where} failed: {exc}", dry_run=request.dry_run)

    def _patched(self, request: ActionRequest, patches: list[dict[str, Any]], done: str, would: str,
                 data: dict[str, Any] | None = None) -> ActionResult:
        data = {"patches": patches, **(data or {})}
        if request.dry_run:
            return ActionResult(True, f"dry run: would {would}", output=_render(patches), data=data, dry_run=True)
        return ActionResult(True, done, output=_render(patches), data=data)

    def close(self) -> None:
        self.kube.close()


def _render(patches: list[dict[str, Any]]) -> str:
    return "\n".join(f"PATCH {p['path']} ({p['content_type']}) {json.dumps(p['body'], sort_keys=True)}"
                     for p in patches)


# --------------------------------------------------------------------------- Deployment


class DeploymentAction(KubeAction):
    kind = "deployment"
    resource = "deployments.apps"
    target_key = "deployment"
    schema = DEPLOYMENT_SCHEMA

    def __init__(self, ctx: BuildContext, verb: str) -> None:
        super().__init__(ctx, verb)
        self._rolled_back: dict[str, dict[str, Any]] = {}  # run -> template we rolled back to

    @property
    def path(self) -> str:
        return f"/apis/apps/v1/namespaces/{self.namespace}/deployments/{self.target}"

    def _get(self, verb: str = "get", **kw: Any) -> dict[str, Any]:
        return self.kube.call(self.kube.apps.read_namespaced_deployment, self._t(verb), self.target, self.namespace,
                              error_cls=ActionError, **kw)

    def _patch(self, body: Any, verb: str = "patch") -> dict[str, Any]:
        # The client sends a dict as a strategic merge patch and a list as a JSON patch.
        return self.kube.call(self.kube.apps.patch_namespaced_deployment, self._t(verb), self.target, self.namespace,
                              body, error_cls=ActionError)

    def describe(self, request: ActionRequest) -> str:
        base = f"{self.where} (context {self.kube.where})"
        if self.verb == "pause":
            return f'pause {base}: PATCH {SMP} {{"spec":{{"paused":true}}}} (nothing if already paused)'
        if self.verb == "resume":
            return f'resume {base}: PATCH {SMP} {{"spec":{{"paused":false}}}} (nothing if not paused)'
        try:  # describe() may run where an operator waits (a confirmation): short reads
            quick = {"_request_timeout": (min(2.0, self.kube.timeout), min(3.0, self.kube.timeout))}
            dep = self._get(**quick)
            plan = self._plan(dep, **quick)
        except MigtuiError as exc:
            return (f"roll back {base} to the previous revision like kubectl rollout undo: JSON patch of "
                    f"/spec/template and /metadata/annotations from the previous ReplicaSet, resuming first if "
                    f"paused (cannot read it now: {exc})")
        if plan.noop:
            return f"roll back {base}: nothing to do, {plan.noop}"
        resume = "resume it (it is paused), then " if d.deployment_status(dep).paused else ""
        return (f"roll back {base}: {resume}JSON patch /spec/template to revision {plan.to_revision}'s template "
                f"(images {', '.join(plan.to_images) or '?'}; now revision {plan.from_revision}, "
                f"images {', '.join(plan.from_images) or '?'}) and /metadata/annotations")

    def _pause(self, request: ActionRequest) -> ActionResult:
        st = d.deployment_status(self._get())
        if st.paused:
            return ActionResult(True, f"{self.where} was already paused; nothing changed", dry_run=request.dry_run)
        body = {"spec": {"paused": True}}
        patch = {"path": self.path, "content_type": SMP, "body": body}
        if not request.dry_run:
            self._patch(body)
        return self._patched(request, [patch], f"paused {self.where} (revision {st.revision or '?'}, "
                                                f"{st.updated}/{st.desired} updated): spec.paused false -> true",
                             f"pause {self.where}: spec.paused false -> true")

    def _resume(self, request: ActionRequest) -> ActionResult:
        st = d.deployment_status(self._get())
        if not st.paused:
            return ActionResult(True, f"{self.where} was not paused; nothing changed", dry_run=request.dry_run)
        body = {"spec": {"paused": False}}
        patch = {"path": self.path, "content_type": SMP, "body": body}
        if not request.dry_run:
            self._patch(body)
        return self._patched(request, [patch], f"resumed {self.where}: spec.paused true -> false",
                             f"resume {self.where}: spec.paused true -> false")

    def _plan(self, dep: dict[str, Any], **kw: Any) -> undo.RollbackPlan:
        from migtui_kubernetes.connect import label_selector

        st = d.deployment_status(dep)
        rs_doc = self.kube.call(self.kube.apps.list_namespaced_replica_set,
                                Target("list", "replicasets.apps", "", self.namespace), self.namespace,
                                label_selector=label_selector(st.selector), error_cls=ActionError, **kw)
        return undo.plan_rollback(dep, d.items_of(rs_doc, "replicaset"))

    def _rollback(self, request: ActionRequest) -> ActionResult:
        dep = self._get()
        st = d.deployment_status(dep)
        current = undo.strip_hash(d.get(dep, "spec.template", dict, {}, what=self.where))
        if request.run and self._rolled_back.get(request.run) == current:
            return ActionResult(True, f"{self.where} was already rolled back in this run "
                                      f"(revision {st.revision or '?'} runs the restored template); nothing changed",
                                dry_run=request.dry_run)
        plan = self._plan(dep)
        if plan.noop:
            ok = plan.to_revision is not None
            return ActionResult(ok, f"{self.where}: nothing rolled back: {plan.noop}", dry_run=request.dry_run,
                                data={"from_revision": plan.from_revision, "to_revision": plan.to_revision})
        patches = []
        if st.paused:
            patches.append({"path": self.path, "content_type": SMP, "body": {"spec": {"paused": False}}})
        patches.append({"path": self.path, "content_type": JSON_PATCH, "body": plan.json_patch})
        data = {"from_revision": plan.from_revision, "to_revision": plan.to_revision,
                "from_images": plan.from_images, "to_images": plan.to_images}
        change = (f"revision {plan.from_revision} -> template of revision {plan.to_revision} "
                  f"(images {', '.join(plan.from_images) or '?'} -> {', '.join(plan.to_images) or '?'})")
        if not request.dry_run:
            if st.paused:
                self._patch({"spec": {"paused": False}}, verb="patch")
            try:
                self._patch(plan.json_patch)
            except MigtuiError as exc:
                if st.paused:
                    raise ActionError(f"resumed it (it was paused), but the rollback patch failed: {exc}") from None
                raise
            if request.run:
                self._rolled_back[request.run] = plan.template or {}
        resumed = "resumed it (it was paused), then " if st.paused else ""
        return self._patched(request, patches, f"rolled back {self.where}: {resumed}{change}",
                             f"roll back {self.where}: {'resume it first (paused), then ' if st.paused else ''}"
                             f"{change}", data)


# --------------------------------------------------------------------------- Argo Rollout


class RolloutAction(KubeAction):
    kind = "rollout"
    resource = "rollouts.argoproj.io"
    target_key = "rollout"
    schema = ROLLOUT_SCHEMA

    @property
    def path(self) -> str:
        return f"/apis/argoproj.io/v1alpha1/namespaces/{self.namespace}/rollouts/{self.target}"

    def _get(self) -> dict[str, Any]:
        return self.kube.call(self.kube.custom.get_namespaced_custom_object, self._t("get"), "argoproj.io",
                              "v1alpha1", self.namespace, "rollouts", self.target, error_cls=ActionError)

    def describe(self, request: ActionRequest) -> str:
        base = f"{self.where} (context {self.kube.where})"
        if self.verb == "pause":
            return f'pause {base}: PATCH {MERGE} {{"spec":{{"paused":true}}}} (nothing if already paused)'
        if self.verb == "resume":
            return f'resume {base}: PATCH {MERGE} {{"spec":{{"paused":false}}}} (nothing if not paused)'
        return (f'abort {base} (traffic back to the stable ReplicaSet): PATCH {self.path}/status {MERGE} '
                f'{{"status":{{"abort":true}}}} (nothing if already aborted)')

    def _merge(self, body: dict[str, Any], status: bool = False) -> None:
        fn = (self.kube.custom.patch_namespaced_custom_object_status if status
              else self.kube.custom.patch_namespaced_custom_object)
        self.kube.call(fn, self._t("patch", "status" if status else ""), "argoproj.io", "v1alpha1", self.namespace,
                       "rollouts", self.target, body, _content_type=MERGE, error_cls=ActionError)

    def _pause(self, request: ActionRequest) -> ActionResult:
        r = argo.rollout_status(self._get())
        if r.spec_paused:
            return ActionResult(True, f"{self.where} was already paused; nothing changed", dry_run=request.dry_run)
        body = {"spec": {"paused": True}}
        if not request.dry_run:
            self._merge(body)
        step = "" if r.step is None else f" at step {r.step}/{r.steps}, canary weight {r.set_weight:g}%"
        return self._patched(request, [{"path": self.path, "content_type": MERGE, "body": body}],
                             f"paused {self.where}{step}: spec.paused false -> true",
                             f"pause {self.where}{step}: spec.paused false -> true")

    def _resume(self, request: ActionRequest) -> ActionResult:
        r = argo.rollout_status(self._get())
        if not r.spec_paused:
            extra = ""
            if r.pause_reasons:
                extra = (f" (it waits at a pause step: {', '.join(r.pause_reasons)}; promote it with "
                         f"kubectl argo rollouts promote)")
            if r.aborted:
                extra = " (it is aborted; kubectl argo rollouts retry restarts it)"
            return ActionResult(True, f"{self.where} was not paused; nothing changed{extra}", dry_run=request.dry_run)
        body = {"spec": {"paused": False}}
        if not request.dry_run:
            self._merge(body)
        return self._patched(request, [{"path": self.path, "content_type": MERGE, "body": body}],
                             f"resumed {self.where}: spec.paused true -> false",
                             f"resume {self.where}: spec.paused true -> false")

    def _rollback(self, request: ActionRequest) -> ActionResult:
        r = argo.rollout_status(self._get())
        if r.aborted:
            return ActionResult(True, f"{self.where} was already aborted; nothing changed", dry_run=request.dry_run)
        body = {"status": {"abort": True}}
        if not request.dry_run:
            self._merge(body, status=True)
        weight = f"canary weight {r.actual_weight if r.actual_weight is not None else r.set_weight:g}% -> 0"
        return self._patched(request, [{"path": self.path + "/status", "content_type": MERGE, "body": body}],
                             f"aborted {self.where} ({weight}; stable {r.stable_rs or '?'} takes the traffic)",
                             f"abort {self.where} ({weight})")


def deployment_factory(ctx: BuildContext, verb: str) -> DeploymentAction:
    return DeploymentAction(ctx, verb)


def rollout_factory(ctx: BuildContext, verb: str) -> RolloutAction:
    return RolloutAction(ctx, verb)
