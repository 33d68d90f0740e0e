"""The ``k8s_bluegreen`` action: a blue-green rollback switches the Service's colour selector back
(strategic merge patch of ``spec.selector``), refusing when no ready pod has that colour. It does
nothing when the Service already selects it, and honours ``dry_run`` like the other actions
(:mod:`migtui_kubernetes.actions`).
"""

from __future__ import annotations

import json
from typing import Any

from migtui.api import ActionError, ActionRequest, ActionResult, BuildContext, Field, Schema, error_at

from migtui_kubernetes import decode as d
from migtui_kubernetes.actions import SMP, KubeAction, action_fields
from migtui_kubernetes.connect import Target

BLUEGREEN_SCHEMA = Schema({
    **{k: v for k, v in action_fields("service", "The Service whose selector picks the live colour.").items()},
    "color_label": Field("str", default="color", doc="The selector label holding the colour."),
    "rollback_to": Field("str", required=True, doc="The colour to send traffic back to, e.g. blue."),
    "require_ready": Field("bool", default=True,
                           doc="Refuse to switch when no ready pod matches the new selector."),
}, doc="Blue-green rollback: switch the Service selector back to the old colour.")


class BlueGreenAction(KubeAction):
    """``rollback``: strategic merge patch of the Service's selector back to ``rollback_to``."""

    kind = "service"
    resource = "services"
    target_key = "service"
    schema = BLUEGREEN_SCHEMA

    def __init__(self, ctx: BuildContext, verb: str) -> None:
        if verb != "rollback":
            raise error_at(ctx.options, None, ctx.path, "k8s_bluegreen can only rollback (switch the Service back)")
        super().__init__(ctx, verb)
        self.label = self.opts["color_label"]
        self.colour = self.opts["rollback_to"]

    @property
    def path(self) -> str:
        return f"/api/v1/namespaces/{self.namespace}/services/{self.target}"

    @property
    def body(self) -> dict[str, Any]:
        return {"spec": {"selector": {self.label: self.colour}}}

    def describe(self, request: ActionRequest) -> str:
        return (f"switch {self.where} (context {self.kube.where}) back to {self.label}={self.colour}: PATCH {SMP} "
                f"{json.dumps(self.body, separators=(',', ':'))} (nothing if it already selects {self.colour}"
                + ("; refused when no ready pod has that colour)" if self.opts["require_ready"] else ")"))

    def _rollback(self, request: ActionRequest) -> ActionResult:
        from migtui_kubernetes.connect import label_selector

        svc = self.kube.call(self.kube.core.read_namespaced_service, self._t("get"), self.target, self.namespace,
                             error_cls=ActionError)
        selector = d.service_selector(svc)
        live = selector.get(self.label, "")
        if live == self.colour:
            return ActionResult(True, f"{self.where} already sends traffic to {self.label}={self.colour}; "
                                      "nothing changed", dry_run=request.dry_run)
        wanted = {**selector, self.label: self.colour}
        if self.opts["require_ready"]:
            doc = self.kube.call(self.kube.core.list_namespaced_pod, Target("list", "pods", "", self.namespace),
                                 self.namespace, label_selector=label_selector({"matchLabels": wanted}),
                                 error_cls=ActionError)
            health = d.pod_health(d.items_of(doc, "pod"))
            if health.ready == 0:
                return ActionResult(False, f"refusing to switch {self.where} to {self.label}={self.colour}: no ready "
                                           f"pod matches {label_selector({'matchLabels': wanted})}",
                                    dry_run=request.dry_run)
        if not request.dry_run:
            self.kube.call(self.kube.core.patch_namespaced_service, self._t("patch"), self.target, self.namespace,
                           self.body, error_cls=ActionError)
        change = f"selector {self.label}: {live or '(none)'} -> {self.colour}"
        return self._patched(request, [{"path": self.path, "content_type": SMP, "body": self.body}],
                             f"switched {self.where} back: {change}", f"switch {self.where} back: {change}",
                             {"from": live, "to": self.colour})


def bluegreen_factory(ctx: BuildContext, verb: str) -> BlueGreenAction:
    return BlueGreenAction(ctx, verb)
