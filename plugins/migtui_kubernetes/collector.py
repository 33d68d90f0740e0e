"""``kubernetes`` source: Deployments, their pods and warning events, blue-green Services, Argo Rollouts.

Metrics (docs/kubernetes.md lists all of them): ``k8s.deployment.state`` (0 complete,
1 progressing, 2 paused, 3 failed), ``k8s.deployment.ready_ratio``, ``k8s.pods.ready_ratio`` /
``restarts`` / ``crashloop`` / ``image_errors``, ``k8s.events.warnings``, ``k8s.bluegreen.live`` /
``ready_ratio`` / ``live_ready_ratio``, ``k8s.rollout.state`` (0 healthy, 1 progressing, 2 paused,
3 degraded, 4 aborted), ``k8s.rollout.canary_weight`` / ``set_weight`` / ``step`` / ``paused`` /
``aborted`` / ``analysis`` (0 successful, 1 running, 2 inconclusive, 3 failed, 4 error). Tables:
``k8s_deployments``, ``k8s_bluegreen``, ``k8s_rollouts``, ``k8s_events``.
"""

from __future__ import annotations

import time
from typing import Any, Iterable

from migtui.api import (BuildContext, CollectContext, Field, MetricSpec, PanelSpec, Sample, Schema, TableSnapshot,
                        error_at, validate)

from migtui_kubernetes import argo
from migtui_kubernetes import decode as d
from migtui_kubernetes.connect import Kube, Target, connect, connection_fields, label_selector

BLUE_GREEN = Schema({
    "service": Field("str", required=True, doc="The Service whose selector picks the live colour."),
    "color_label": Field("str", default="color", doc="The selector/pod label holding the colour."),
    "deployments": Field("dict", items="str", default=dict,
                         doc="colour -> Deployment (default: found by the pod template's colour label)."),
})


def _bluegreen_list(value: Any, parent: Any, key: Any, path: str) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        value_list, single = [value], True
    elif isinstance(value, list):
        value_list, single = value, False
    else:
        raise error_at(parent, key, path, "expected {service: ..., color_label: ...} or a list of them")
    return [validate(BLUE_GREEN, v, path if single else f"{path}[{i}]") for i, v in enumerate(value_list)]


def _names(value: Any, parent: Any, key: Any, path: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise error_at(parent, key, path, "expected a list of names")
    return list(value)


SCHEMA = Schema({
    "type": Field("str", required=True),
    "name": Field("str"),
    "interval": Field("duration", default=5.0, minimum=0.5, doc="How often to read the cluster."),
    "timeout": Field("duration", doc="Budget for one collection (default: 3 x request_timeout)."),
    "title": Field("str", doc="Panel title."),
    **connection_fields(),
    "deployments": Field(_names, default=list, doc="Deployments to watch (rollout state, pods, events)."),
    "blue_green": Field(_bluegreen_list, default=list, doc="Blue-green Services: {service, color_label, deployments}."),
    "rollouts": Field(_names, default=list, doc="Argo Rollouts (argoproj.io/v1alpha1) to watch."),
    "events": Field("bool", default=True, doc="Watch Warning events of the watched objects."),
    "events_window": Field("duration", default=600.0, doc="k8s.events.warnings counts events seen this recently."),
    "events_limit": Field("int", default=20, minimum=0, doc="Rows of the events table."),
}, doc="Kubernetes deployments, blue-green services and Argo Rollouts.")


class KubernetesSource:
    def __init__(self, ctx: BuildContext) -> None:
        self.opts = validate(SCHEMA, ctx.options, ctx.path)
        if not (self.opts["deployments"] or self.opts["blue_green"] or self.opts["rollouts"]):
            raise error_at(ctx.options, None, ctx.path, "name at least one of deployments, blue_green or rollouts")
        self.name = ctx.name
        self.interval = float(self.opts["interval"])
        self.timeout = float(self.opts["timeout"] or 3 * float(self.opts["request_timeout"]))
        config_dir = getattr(getattr(ctx, "config", None), "path", None)
        self.kube: Kube = connect(self.opts, ctx.options, ctx.path,
                                  config_dir=config_dir.parent if config_dir is not None else None)
        self.namespace = self.kube.namespace

    # -- reads

    def _t(self, verb: str, resource: str, name: str = "") -> Target:
        return Target(verb, resource, name, self.namespace)

    def get_deployment(self, name: str) -> dict[str, Any] | None:
        return self.kube.call(self.kube.apps.read_namespaced_deployment, self._t("get", "deployments.apps", name),
                              name, self.namespace, missing_ok=True)

    def list_deployments(self) -> list[dict[str, Any]]:
        doc = self.kube.call(self.kube.apps.list_namespaced_deployment, self._t("list", "deployments.apps"),
                             self.namespace)
        return d.items_of(doc, "deployment")

    def list_pods(self, selector: str) -> list[dict[str, Any]]:
        doc = self.kube.call(self.kube.core.list_namespaced_pod, self._t("list", "pods"), self.namespace,
                             label_selector=selector)
        return d.items_of(doc, "pod")

    def collect(self, ctx: CollectContext) -> Iterable[Sample | TableSnapshot]:
        now = ctx.now
        out: list[Sample | TableSnapshot] = []

        def emit(metric: str, value: float, **labels: str) -> None:
            out.append(Sample(now, self.name, metric, float(value), labels))

        deployments: dict[str, dict[str, Any]] = {}
        related: dict[str, set[str]] = {}  # watched object -> names of it, its ReplicaSets and pods
        statuses: dict[str, d.DeploymentStatus] = {}
        health: dict[str, d.PodHealth] = {}
        dep_rows = []
        wanted = list(self.opts["deployments"])
        bluegreen_rows = []
        bg_specs: list[tuple[dict[str, Any], str, dict[str, str]]] = []
        all_deps: list[dict[str, Any]] | None = None
        for bg in self.opts["blue_green"]:
            svc = self.kube.call(self.kube.core.read_namespaced_service, self._t("get", "services", bg["service"]),
                                 bg["service"], self.namespace, missing_ok=True)
            selector = d.service_selector(svc) if svc is not None else {}
            live = selector.get(bg["color_label"], "")
            colours = dict(bg["deployments"])
            if not colours and svc is not None:
                if all_deps is None:
                    all_deps = self.list_deployments()
                colours = self._discover_colours(all_deps, selector, bg["color_label"])
            for dep in colours.values():
                if dep not in wanted:
                    wanted.append(dep)
            bg_specs.append((bg, live if svc is not None else None, colours))

        for name in wanted:
            dep = self.get_deployment(name)
            if dep is None:
                # Deleted (an old colour removed mid-migration?): say so, and let NaN reach the triggers.
                emit("k8s.deployment.state", float("nan"), deployment=name)
                emit("k8s.deployment.ready_ratio", float("nan"), deployment=name)
                dep_rows.append((name, "NOT FOUND", "", 0, 0, 0, 0, "", 0, 0, "",
                                 f'deployment "{name}" not found in namespace "{self.namespace}"'))
                continue
            deployments[name] = dep
            st = d.deployment_status(dep)
            statuses[name] = st
            emit("k8s.deployment.state", st.state_code, deployment=name)
            emit("k8s.deployment.desired", st.desired, deployment=name)
            emit("k8s.deployment.updated", st.updated, deployment=name)
            emit("k8s.deployment.ready", st.ready, deployment=name)
            emit("k8s.deployment.available", st.available, deployment=name)
            emit("k8s.deployment.ready_ratio", st.ready_ratio, deployment=name)
            emit("k8s.deployment.paused", 1.0 if st.paused else 0.0, deployment=name)
            sel = label_selector(st.selector)
            pods = self.list_pods(sel) if sel else []
            ph = d.pod_health(pods)
            related[name] = d.related_names(name, pods)
            health[name] = ph
            emit("k8s.pods.total", ph.total, deployment=name)
            emit("k8s.pods.ready_ratio", ph.ready_ratio, deployment=name)
            emit("k8s.pods.restarts", ph.restarts, deployment=name)
            emit("k8s.pods.crashloop", ph.crashloop, deployment=name)
            emit("k8s.pods.image_errors", ph.image_errors, deployment=name)
            dep_rows.append((name, st.state, st.revision, st.desired, st.updated, st.ready, st.available,
                             f"{ph.ready}/{ph.total}", ph.restarts, ph.crashloop, ", ".join(st.images), st.message))
        if dep_rows:
            out.append(TableSnapshot(now, self.name, "k8s_deployments",
                                     ("deployment", "state", "revision", "desired", "updated", "ready", "available",
                                      "pods_ready", "restarts", "crashloop", "images", "message"), dep_rows))

        for bg, live, colours in bg_specs:
            svc = bg["service"]
            if live is None:
                bluegreen_rows.append((svc, "", "", "NOT FOUND", f'service "{svc}" not found in namespace '
                                       f'"{self.namespace}"', "", ""))
                emit("k8s.bluegreen.live_known", 0.0, service=svc)
                continue
            if not live:
                bluegreen_rows.append((svc, "", "", "no live colour",
                                       f"the service's selector has no {bg['color_label']} label", "", ""))
            emit("k8s.bluegreen.live_known", 1.0 if live in colours else 0.0, service=svc)
            for colour, dep in sorted(colours.items()):
                st, ph = statuses.get(dep), health.get(dep)
                emit("k8s.bluegreen.live", 1.0 if colour == live else 0.0, service=svc, color=colour)
                if st is not None and ph is not None:
                    emit("k8s.bluegreen.ready_ratio", min(st.ready_ratio, ph.ready_ratio), service=svc, color=colour)
                    if colour == live:
                        emit("k8s.bluegreen.live_ready_ratio", min(st.ready_ratio, ph.ready_ratio), service=svc)
                elif colour == live:
                    emit("k8s.bluegreen.live_ready_ratio", 0.0, service=svc)  # traffic goes to a deleted Deployment
                bluegreen_rows.append((svc, colour, dep, "LIVE" if colour == live else "idle",
                                       st.state if st else "?", f"{ph.ready}/{ph.total}" if ph else "?",
                                       ", ".join(st.images) if st else ""))
            if live and live not in colours:
                bluegreen_rows.append((svc, live, "?", "LIVE", "no deployment with this colour", "", ""))
        if bluegreen_rows:
            out.append(TableSnapshot(now, self.name, "k8s_bluegreen",
                                     ("service", "color", "deployment", "traffic", "state", "pods_ready", "images"),
                                     bluegreen_rows))

        ro_rows = []
        for name in self.opts["rollouts"]:
            obj = self.kube.call(self.kube.custom.get_namespaced_custom_object,
                                 self._t("get", "rollouts.argoproj.io", name),
                                 "argoproj.io", "v1alpha1", self.namespace, "rollouts", name, missing_ok=True)
            if obj is None:
                emit("k8s.rollout.state", float("nan"), rollout=name)
                ro_rows.append((name, "NOT FOUND", "", "", "", "", "", "", "", "", "",
                                f'rollout "{name}" not found in namespace "{self.namespace}"'))
                continue
            r = argo.rollout_status(obj)
            emit("k8s.rollout.state", r.state_code, rollout=name)
            emit("k8s.rollout.paused", 1.0 if r.paused else 0.0, rollout=name)
            emit("k8s.rollout.aborted", 1.0 if r.aborted else 0.0, rollout=name)
            emit("k8s.rollout.set_weight", r.set_weight, rollout=name)
            emit("k8s.rollout.canary_weight", r.actual_weight if r.actual_weight is not None else r.set_weight,
                 rollout=name)
            if r.step is not None:
                emit("k8s.rollout.step", r.step, rollout=name)
            emit("k8s.rollout.ready", r.ready, rollout=name)
            emit("k8s.rollout.ready_ratio", 1.0 if r.desired == 0 else min(r.ready, r.desired) / r.desired,
                 rollout=name)
            for kind, status in sorted(r.analysis.items()):
                code = argo.ANALYSIS_STATES.get(status.lower())
                if code is not None:
                    emit("k8s.rollout.analysis", code, rollout=name, analysis=kind)
            analysis = ", ".join(f"{k}: {v} ({r.analysis_runs.get(k, '')})" for k, v in sorted(r.analysis.items()))
            step = "" if r.step is None else f"{r.step}/{r.steps}"
            weight = f"{r.set_weight:g}" + ("" if r.actual_weight is None else f" (actual {r.actual_weight:g})")
            flags = ", ".join(x for x in ("ABORTED" if r.aborted else "", "paused: " + "/".join(r.pause_reasons or
                                                                                                ["spec.paused"])
                                          if r.paused else "") if x)
            ro_rows.append((name, r.phase, r.state, r.strategy, step, weight, analysis, flags,
                            f"{r.ready}/{r.desired}", r.stable_rs, r.current_hash, r.message))
            related.setdefault(name, {name})
        if ro_rows:
            out.append(TableSnapshot(now, self.name, "k8s_rollouts",
                                     ("rollout", "phase", "state", "strategy", "step", "canary_weight", "analysis",
                                      "flags", "ready", "stable", "canary", "message"), ro_rows))

        if self.opts["events"]:
            out.extend(self._events(now, related))
        return out

    def _discover_colours(self, deps: list[dict[str, Any]], selector: dict[str, str], key: str) -> dict[str, str]:
        base = {k: v for k, v in selector.items() if k != key}
        found: dict[str, str] = {}
        for dep in deps:
            st = d.deployment_status(dep)
            labels = st.template_labels
            if key in labels and all(labels.get(k) == v for k, v in base.items()):
                found.setdefault(labels[key], st.name)
        return found

    def _events(self, now: float, related: dict[str, set[str]]) -> list[Sample | TableSnapshot]:
        if not related:
            return []
        doc = self.kube.call(self.kube.core.list_namespaced_event, self._t("list", "events"), self.namespace,
                             field_selector="type=Warning")

        def owner_of(e: d.WarningEvent) -> str | None:
            for owner, names in related.items():
                if e.name in names:
                    return owner
            # ReplicaSets (<owner>-<hash>) and pods (<owner>-<hash>-<id>) we did not list; longest name first
            for owner in sorted(related, key=len, reverse=True):
                if d.belongs_to(e.name, owner):
                    return owner
            return None

        events = [(owner_of(e), e) for e in d.warning_events(doc)]
        events = [(o, e) for o, e in events if o is not None]
        window = float(self.opts["events_window"])
        out: list[Sample | TableSnapshot] = []
        for owner in related:
            n = sum(e.count for o, e in events if o == owner and (e.ts is None or now - e.ts <= window))
            out.append(Sample(now, self.name, "k8s.events.warnings", float(n), {"object": owner}))
        rows = []
        for _, e in events[: int(self.opts["events_limit"])]:
            when = time.strftime("%H:%M:%S", time.gmtime(e.ts)) if e.ts else ""
            rows.append((when, f"{e.kind}/{e.name}", e.reason, e.count, e.message[:300]))
        out.append(TableSnapshot(now, self.name, "k8s_events", ("time", "object", "reason", "count", "message"), rows))
        return out

    @property
    def metric_kinds(self) -> list[MetricSpec]:
        """The kinds of the metrics the panel does not show (reports judge health ones only)."""
        return [MetricSpec("k8s.deployment.desired", kind="state"),
                MetricSpec("k8s.deployment.updated", kind="progress"),
                MetricSpec("k8s.deployment.ready", kind="state"), MetricSpec("k8s.deployment.available", kind="state"),
                MetricSpec("k8s.deployment.paused", kind="state"), MetricSpec("k8s.pods.total", kind="state"),
                MetricSpec("k8s.pods.ready_ratio", unit="%", kind="health", direction="lower_is_worse"),
                MetricSpec("k8s.pods.image_errors", kind="health", direction="higher_is_worse"),
                MetricSpec("k8s.bluegreen.live_known", kind="health", direction="lower_is_worse"),
                MetricSpec("k8s.bluegreen.ready_ratio", unit="%", kind="state"),
                MetricSpec("k8s.rollout.paused", kind="state"), MetricSpec("k8s.rollout.set_weight", kind="state"),
                MetricSpec("k8s.rollout.aborted", kind="health", direction="higher_is_worse"),
                MetricSpec("k8s.rollout.ready", kind="state"),
                MetricSpec("k8s.rollout.ready_ratio", unit="%", kind="health", direction="lower_is_worse")]

    def panels(self) -> list[PanelSpec]:
        metrics = []
        if self.opts["deployments"] or self.opts["blue_green"]:
            metrics += [MetricSpec("k8s.deployment.ready_ratio", "ready", "%", kind="health", direction="lower_is_worse"),
                        MetricSpec("k8s.deployment.state", "state (0 ok, 1 progressing, 2 paused, 3 failed)", "",
                                   2, 3, kind="state"),
                        MetricSpec("k8s.pods.restarts", "restarts", "", kind="counter"),
                        MetricSpec("k8s.pods.crashloop", "crash loops", "", None, 1, kind="health", direction="higher_is_worse")]
        if self.opts["blue_green"]:
            metrics += [MetricSpec("k8s.bluegreen.live", "live colour", "", kind="state"),
                        MetricSpec("k8s.bluegreen.live_ready_ratio", "live side ready", "%", kind="health", direction="lower_is_worse")]
        if self.opts["rollouts"]:
            metrics += [MetricSpec("k8s.rollout.canary_weight", "canary weight (%)", "", kind="state"),
                        MetricSpec("k8s.rollout.step", "step", "", kind="progress"),
                        MetricSpec("k8s.rollout.state", "state (0 healthy .. 3 degraded, 4 aborted)", "", 2, 3, kind="state"),
                        MetricSpec("k8s.rollout.analysis", "analysis (0 ok, 1 running, 2 inconclusive, 3 failed)",
                                   "", 2, 3, kind="state")]
        if self.opts["events"]:
            metrics.append(MetricSpec("k8s.events.warnings", "warning events", "", kind="counter"))
        tables = [t for t, on in (("k8s_deployments", bool(self.opts["deployments"] or self.opts["blue_green"])),
                                  ("k8s_bluegreen", bool(self.opts["blue_green"])),
                                  ("k8s_rollouts", bool(self.opts["rollouts"])),
                                  ("k8s_events", bool(self.opts["events"]))) if on]
        return [PanelSpec(kind="deployment", title=self.opts.get("title") or f"Deployment: {self.name} "
                                                                            f"({self.namespace})",
                          metrics=metrics, tables=tables, source=self.name)]

    def close(self) -> None:
        self.kube.close()


def factory(ctx: BuildContext) -> KubernetesSource:
    return KubernetesSource(ctx)

