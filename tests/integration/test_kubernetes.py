"""Deployment migrations on Kubernetes: the real ``kubernetes`` client, configured by a kubeconfig the
test writes, against a loopback API server that serves real-shaped objects and records every PATCH."""

from __future__ import annotations

import json
import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migtui.api import ActionRequest, BuildContext, CollectContext
from migtui.config import load_config
from migtui.errors import ConfigError, SourceError
from migtui.model import Phase, Sample, TableSnapshot
from migtui.plugins import PluginHost
from migtui_kubernetes import argo, undo
from migtui_kubernetes import decode as d
from tests.servers import k8s_api as k

SMP = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
DEP_PATH = "/apis/apps/v1/namespaces/shop/deployments/checkout"
RO_PATH = "/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/checkout-canary"


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def host() -> PluginHost:
    return PluginHost()


@pytest.fixture
def api():
    with k.FakeKubeAPI() as srv:
        yield srv


@pytest.fixture
def shop(api):
    """checkout at revision 2 (image 2.0) with revision 1 (image 1.9) on record, two pods (one crash-looping),
    a canary Rollout, and a blue-green pair behind the Service "storefront"."""
    dep = k.deployment("checkout", revision=2, image="registry.example/checkout:2.0")
    api.add(dep,
            k.replicaset(dep, revision=1, image="registry.example/checkout:1.9", pod_hash="5c4d3b"),
            k.replicaset(dep, revision=2, image="registry.example/checkout:2.0", pod_hash="6b7f9c", replicas=3),
            k.pod(dep, "a1b2c"), k.pod(dep, "d3e4f"),
            k.pod(dep, "g5h6i", ready=False, restarts=7, waiting="CrashLoopBackOff"),
            k.rollout("checkout-canary"))
    return api


def config(tmp_path: Path, api: k.FakeKubeAPI, body: str, *, context: str = "fake") -> Path:
    kc = api.kubeconfig(tmp_path)
    path = tmp_path / "migtui.yaml"
    path.write_text(f"sources:\n  - type: kubernetes\n    name: cluster\n    kubeconfig: {kc}\n"
                    f"    context: {context}\n" + textwrap.indent(textwrap.dedent(body), "    "))
    return path


def build_source(host: PluginHost, path: Path) -> Any:
    cfg = load_config(path)
    item = cfg["sources"][0]
    return host.build("source", item, BuildContext(config=cfg, item=item))


def collect(src: Any, now: float | None = None) -> list[Any]:
    return list(src.collect(CollectContext(now=now or time.time(), phase=Phase.MIGRATION, run="run-1", tick=1)))


def by_label(out: list[Any], metric: str, label: str) -> dict[str, float]:
    return {s.labels.get(label, ""): s.value for s in out if isinstance(s, Sample) and s.metric == metric}


def table(out: list[Any], name: str) -> list[dict[str, Any]]:
    (t,) = [x for x in out if isinstance(x, TableSnapshot) and x.name == name]
    return t.as_dicts()


# --------------------------------------------------------------------------- the source


def test_deployment_rollout_state_as_kubectl_rollout_status(host, api, tmp_path):
    api.add(
        k.deployment("done", revision=3),
        k.deployment("updating", updated=1, total=4, available=3),                     # 1 of 3 updated
        k.deployment("old-pods", total=5, updated=3, available=3),                     # old replicas terminating
        k.deployment("warming", updated=3, ready=1, available=1, total=3),             # 1 of 3 available
        k.deployment("unobserved", generation=5, observed=4),                          # spec not yet observed
        k.deployment("stuck", updated=1, ready=0, available=0, deadline_exceeded=True),
        k.deployment("held", paused=True, updated=1, total=4),
        k.deployment("idle", replicas=0, updated=0, ready=0, available=0, total=0),
    )
    names = ["done", "updating", "old-pods", "warming", "unobserved", "stuck", "held", "idle"]
    src = build_source(host, config(tmp_path, api, f"deployments: {json.dumps(names)}\nevents: false\n"))
    out = collect(src)
    state = by_label(out, "k8s.deployment.state", "deployment")
    assert state == {"done": 0, "updating": 1, "old-pods": 1, "warming": 1, "unobserved": 1, "stuck": 3, "held": 2,
                     "idle": 0}
    msgs = {r["deployment"]: r["message"] for r in table(out, "k8s_deployments")}
    assert msgs["done"] == 'deployment "done" successfully rolled out'
    assert msgs["updating"].endswith("1 out of 3 new replicas have been updated...")
    assert msgs["old-pods"].endswith("2 old replicas are pending termination...")
    assert msgs["warming"].endswith("1 of 3 updated replicas are available...")
    assert msgs["unobserved"] == "Waiting for deployment spec update to be observed..."
    assert msgs["stuck"] == 'deployment "stuck" exceeded its progress deadline'
    assert msgs["held"].endswith("(paused)")
    ratio = by_label(out, "k8s.deployment.ready_ratio", "deployment")
    assert ratio["warming"] == pytest.approx(1 / 3) and ratio["idle"] == 1.0 and ratio["stuck"] == 0.0
    assert by_label(out, "k8s.deployment.paused", "deployment")["held"] == 1.0
    panel = src.panels()[0]
    assert panel.kind == "deployment" and "k8s_deployments" in panel.tables
    src.close()


def test_pod_health_and_warning_events(host, shop, tmp_path):
    now = time.time()
    other = k.deployment("payments")
    shop.add(other, k.pod(other, "zz9zz", ready=False, waiting="ImagePullBackOff"),
             k.event("Pod", "checkout-6b7f9c-g5h6i", "BackOff", "Back-off restarting failed container", count=12,
                     last=iso(now - 30)),
             k.event("ReplicaSet", "checkout-7f8e9d", "FailedCreate", 'pods "checkout-7f8e9d-" is forbidden: '
                     "exceeded quota", count=3, last=iso(now - 60)),
             k.event("Pod", "checkout-6b7f9c-a1b2c", "Unhealthy", "Readiness probe failed", count=2,
                     last=iso(now - 7200)),                                                 # too old to count
             k.event("Pod", "checkout-6b7f9c-a1b2c", "Pulled", "Container image pulled", type_="Normal",
                     last=iso(now - 5)),
             k.event("Pod", "payments-6b7f9c-zz9zz", "Failed", "ErrImagePull", last=iso(now - 5)))
    src = build_source(host, config(tmp_path, shop, "deployments: [checkout, payments]\nevents_window: 10m\n"))
    out = collect(src, now)
    assert by_label(out, "k8s.pods.total", "deployment") == {"checkout": 3, "payments": 1}
    assert by_label(out, "k8s.pods.ready_ratio", "deployment")["checkout"] == pytest.approx(2 / 3)
    assert by_label(out, "k8s.pods.restarts", "deployment")["checkout"] == 7
    assert by_label(out, "k8s.pods.crashloop", "deployment") == {"checkout": 1, "payments": 0}
    assert by_label(out, "k8s.pods.image_errors", "deployment") == {"checkout": 0, "payments": 1}
    assert by_label(out, "k8s.events.warnings", "object") == {"checkout": 12 + 3, "payments": 1}
    rows = table(out, "k8s_events")
    assert [r["reason"] for r in rows] == ["Failed", "BackOff", "FailedCreate", "Unhealthy"]
    assert "exceeded quota" in rows[2]["message"]
    # the server filtered with the selectors the client sent
    queries = [(r.path, r.param("labelSelector"), r.param("fieldSelector")) for r in shop.requests]
    assert ("/api/v1/namespaces/shop/pods", "app=checkout", None) in queries
    assert ("/api/v1/namespaces/shop/events", None, "type=Warning") in queries


def test_blue_green_live_colour_and_health_of_each_side(host, api, tmp_path):
    blue = k.deployment("storefront-blue", labels={"color": "blue"}, app="storefront", image="shop/front:1")
    green = k.deployment("storefront-green", labels={"color": "green"}, app="storefront", image="shop/front:2",
                         updated=2, ready=1, available=1)
    api.add(blue, green, k.service("storefront", {"app": "storefront", "color": "blue"}),
            k.pod(blue, "b1b1b"), k.pod(green, "g1g1g", pod_hash="77aa88"),
            k.pod(green, "g2g2g", pod_hash="77aa88", ready=False, waiting="CrashLoopBackOff", restarts=3))
    src = build_source(host, config(tmp_path, api, "blue_green: {service: storefront, color_label: color}\n"))
    out = collect(src)
    assert by_label(out, "k8s.bluegreen.live", "color") == {"blue": 1.0, "green": 0.0}
    assert by_label(out, "k8s.bluegreen.live_ready_ratio", "service") == {"storefront": 1.0}
    assert by_label(out, "k8s.bluegreen.ready_ratio", "color") == {"blue": 1.0, "green": pytest.approx(1 / 3)}
    rows = {r["color"]: r for r in table(out, "k8s_bluegreen")}
    assert rows["blue"]["traffic"] == "LIVE" and rows["green"]["deployment"] == "storefront-green"
    # the switch: the Service now selects green
    api.get("Service", "storefront")["spec"]["selector"]["color"] = "green"
    out = collect(src)
    assert by_label(out, "k8s.bluegreen.live", "color") == {"blue": 0.0, "green": 1.0}
    assert by_label(out, "k8s.bluegreen.live_ready_ratio", "service")["storefront"] == pytest.approx(1 / 3)
    # the Service is deleted: said so, nothing guessed
    del api.objects[("Service", "shop", "storefront")]
    out = collect(src)
    assert by_label(out, "k8s.bluegreen.live_known", "service") == {"storefront": 0.0}
    assert by_label(out, "k8s.bluegreen.live", "color") == {}
    assert table(out, "k8s_bluegreen")[0]["traffic"] == "NOT FOUND"


def test_argo_rollout_phase_weight_step_analysis_pause_and_abort(host, api, tmp_path):
    api.add(k.rollout("canary-a", step=1, weight=20, analysis="Running"),
            k.rollout("canary-b", step=2, weight=None, phase="Progressing", analysis="Failed", pause_reason=None),
            k.rollout("canary-c", step=3, weight=0, phase="Degraded", abort=True, analysis="Failed",
                      pause_reason=None),
            k.rollout("canary-d", step=5, weight=None, phase="Healthy", analysis=None, pause_reason=None))
    src = build_source(host, config(tmp_path, api, "rollouts: [canary-a, canary-b, canary-c, canary-d]\n"))
    out = collect(src)
    assert by_label(out, "k8s.rollout.state", "rollout") == {"canary-a": 2, "canary-b": 1, "canary-c": 4,
                                                             "canary-d": 0}
    # no traffic router: the weight is the last setWeight up to the current step; aborted -> 0; done -> 100
    assert by_label(out, "k8s.rollout.canary_weight", "rollout") == {"canary-a": 20, "canary-b": 50, "canary-c": 0,
                                                                     "canary-d": 100}
    assert by_label(out, "k8s.rollout.step", "rollout") == {"canary-a": 1, "canary-b": 2, "canary-c": 3,
                                                            "canary-d": 5}
    assert by_label(out, "k8s.rollout.analysis", "rollout") == {"canary-a": 1, "canary-b": 3, "canary-c": 3}
    assert by_label(out, "k8s.rollout.paused", "rollout")["canary-a"] == 1.0
    assert by_label(out, "k8s.rollout.aborted", "rollout") == {"canary-a": 0, "canary-b": 0, "canary-c": 1,
                                                               "canary-d": 0}
    rows = {r["rollout"]: r for r in table(out, "k8s_rollouts")}
    assert rows["canary-a"]["flags"] == "paused: CanaryPauseStep" and rows["canary-c"]["flags"] == "ABORTED"
    assert rows["canary-b"]["analysis"] == "step: Failed (canary-b-7d9f8b-3-1)"
    assert any(r.path == "/apis/argoproj.io/v1alpha1/namespaces/shop/rollouts/canary-a" for r in api.requests)


def test_rbac_refusals_name_the_verb_and_resource(host, shop, tmp_path):
    shop.forbid("list", "pods")
    src = build_source(host, config(tmp_path, shop, "deployments: [checkout]\n"))
    with pytest.raises(SourceError) as err:
        collect(src)
    msg = str(err.value)
    assert msg.startswith('RBAC: list pods in namespace "shop" refused (403 Forbidden): ')
    assert 'cannot list resource "pods"' in msg and "\n" not in msg

    shop.forbid("patch", "deployments")
    action = build_action(host, tmp_path, shop, "pause", "k8s_deployment", "deployment: checkout")
    result = action.run(request("pause"))
    assert not result.ok
    assert 'RBAC: patch deployments.apps "checkout" in namespace "shop" refused (403 Forbidden)' in result.message
    assert shop.patches == []  # refused before anything was applied
    assert shop.get("Deployment", "checkout")["spec"].get("paused") is None

    shop.forbid("get", "deployments")
    undo = build_action(host, tmp_path, shop, "rollback", "k8s_deployment", "deployment: checkout")
    text = undo.describe(request("rollback"))  # still says what it would do, and why it cannot tell more
    assert text.startswith("roll back deployment shop/checkout (context fake) to the previous revision like "
                           "kubectl rollout undo") and 'RBAC: get deployments.apps "checkout"' in text
    assert shop.get("Deployment", "checkout")["spec"].get("paused") is None


def test_missing_objects_garbage_answers_and_missing_crds(host, shop, tmp_path):
    src = build_source(host, config(tmp_path, shop, "deployments: [checkout, retired]\nrollouts: [checkout-canary]\n"))
    out = collect(src)
    state = by_label(out, "k8s.deployment.state", "deployment")
    assert state["checkout"] == 0 and state["retired"] != state["retired"]  # NaN: the trigger's NaN policy decides
    rows = {r["deployment"]: r for r in table(out, "k8s_deployments")}
    assert rows["retired"]["state"] == "NOT FOUND"

    shop.raw[RO_PATH] = k.Response(200, "<html>502 Bad Gateway</html>", "text/html")
    with pytest.raises(SourceError, match='get rollouts.argoproj.io "checkout-canary" in namespace "shop": the API '
                                          "server answered with something that is not JSON"):
        collect(src)
    del shop.raw[RO_PATH]
    shop.missing_groups.add("argoproj.io")
    with pytest.raises(SourceError, match=r"not found \(404\) \(are Argo Rollouts installed\?\)"):
        collect(src)


def test_a_stalled_api_server_fails_the_poll_after_one_request(host, api, tmp_path):
    """A read that times out is not retried by the client (urllib3 retried a GET three times, so the
    poll said nothing for 4 x request_timeout); the next poll is the retry."""
    src = build_source(host, config(tmp_path, api, "request_timeout: 0.3s\ndeployments: [checkout]\n"))
    api.stalled(True)
    try:
        with pytest.raises(SourceError, match=r"cannot reach the API server: Read timed out"):
            collect(src)
        assert api.stalled_requests == ["GET /apis/apps/v1/namespaces/shop/deployments/checkout"]
    finally:
        api.stalled(False)


def test_connection_config_errors(host, api, tmp_path):
    with pytest.raises(ConfigError) as err:
        build_source(host, config(tmp_path, api, "deployments: [checkout]\n", context="prod"))
    assert "migtui.yaml:5: sources[0].context: context 'prod' is not in" in str(err.value)
    assert "contexts: fake, unused" in str(err.value)
    path = tmp_path / "other.yaml"
    path.write_text("sources:\n  - {type: kubernetes, kubeconfig: /nonexistent/kubeconfig, deployments: [x]}\n")
    with pytest.raises(ConfigError, match="other.yaml:2: sources\\[0\\].kubeconfig: kubeconfig /nonexistent/"):
        build_source(host, path)
    # a token the API server does not accept
    kc = api.kubeconfig(tmp_path, token="wrong-token-123")
    path.write_text(f"sources:\n  - {{type: kubernetes, kubeconfig: {kc}, context: fake, deployments: [x]}}\n")
    with pytest.raises(SourceError, match=r'get deployments.apps "x" in namespace "shop" unauthorized \(401\)'):
        collect(build_source(host, path))


# --------------------------------------------------------------------------- actions


def build_action(host: PluginHost, tmp_path: Path, api: k.FakeKubeAPI, verb: str, type_: str, target: str,
                 extra: str = "") -> Any:
    kc = api.kubeconfig(tmp_path)
    path = tmp_path / "actions.yaml"
    path.write_text(textwrap.dedent(f"""\
        sources:
          - {{type: kubernetes, name: cluster, kubeconfig: {kc}, context: fake, deployments: [checkout]}}
        actions:
          {verb}:
            - {{type: {type_}, name: {verb}-it, source: cluster, {target}{extra}}}
        """))
    cfg = load_config(path)
    item = cfg["actions"][verb][0]
    return host.build("action", item, BuildContext(config=cfg, item=item), verb=verb)


def request(verb: str, dry_run: bool = False, run: str = "run-1") -> ActionRequest:
    return ActionRequest(verb=verb, who="operator", why="error rate above 5%", run=run, phase=Phase.MIGRATION,
                         dry_run=dry_run)


def test_deployment_pause_and_resume_are_strategic_merge_patches_and_idempotent(host, shop, tmp_path):
    pause = build_action(host, tmp_path, shop, "pause", "k8s_deployment", "deployment: checkout")
    assert pause.confirm is False and pause.verb == "pause" and pause.name == "pause-it"
    assert '{"spec":{"paused":true}}' in pause.describe(request("pause"))

    dry = pause.run(request("pause", dry_run=True))
    assert dry.ok and dry.dry_run and dry.message.startswith("dry run: would pause deployment shop/checkout")
    assert dry.data["patches"] == [{"path": DEP_PATH, "content_type": SMP, "body": {"spec": {"paused": True}}}]
    assert shop.patches == []

    res = pause.run(request("pause"))
    assert res.ok and "paused deployment shop/checkout" in res.message and "false -> true" in res.message
    assert [(p.path, p.content_type, p.body) for p in shop.patches] == [(DEP_PATH, SMP, {"spec": {"paused": True}})]
    assert shop.get("Deployment", "checkout")["spec"]["paused"] is True

    again = pause.run(request("pause"))
    assert again.ok and "already paused; nothing changed" in again.message and len(shop.patches) == 1

    resume = build_action(host, tmp_path, shop, "resume", "k8s_deployment", "deployment: checkout")
    assert resume.undoes_pause  # the engine may derive resume from the pause entries
    res = resume.run(request("resume"))
    assert res.ok and "resumed" in res.message
    assert (shop.patches[-1].content_type, shop.patches[-1].body) == (SMP, {"spec": {"paused": False}})
    assert resume.run(request("resume")).message.endswith("was not paused; nothing changed")
    assert len(shop.patches) == 2


def test_deployment_rollback_is_kubectl_rollout_undo(host, shop, tmp_path):
    shop.get("Deployment", "checkout")["spec"]["paused"] = True  # paused mid-rollout by the pause trigger
    rollback = build_action(host, tmp_path, shop, "rollback", "k8s_deployment", "deployment: checkout")
    assert rollback.confirm is True
    text = rollback.describe(request("rollback"))
    assert "resume it (it is paused)" in text and "revision 1" in text and "checkout:1.9" in text

    dry = rollback.run(request("rollback", dry_run=True))
    assert dry.ok and dry.dry_run and shop.patches == []
    assert "would roll back deployment shop/checkout" in dry.message

    res = rollback.run(request("rollback"))
    assert res.ok, res.message
    assert res.message == ("rolled back deployment shop/checkout: resumed it (it was paused), then revision 2 -> "
                           "template of revision 1 (images registry.example/checkout:2.0 -> "
                           "registry.example/checkout:1.9)")
    first, second = shop.patches
    assert (first.path, first.content_type, first.body) == (DEP_PATH, SMP, {"spec": {"paused": False}})
    assert (second.path, second.content_type) == (DEP_PATH, JSON_PATCH)
    rs1 = shop.get("ReplicaSet", "checkout-5c4d3b")
    want_template = json.loads(json.dumps(rs1["spec"]["template"]))
    del want_template["metadata"]["labels"]["pod-template-hash"]
    assert second.body == [
        {"op": "replace", "path": "/spec/template", "value": want_template},
        {"op": "replace", "path": "/metadata/annotations", "value": {
            "deployment.kubernetes.io/revision": "2",
            "kubectl.kubernetes.io/last-applied-configuration": '{"kind":"Deployment"}'}},
    ]
    assert dry.data["patches"] == [{"path": p.path, "content_type": p.content_type, "body": p.body}
                                   for p in shop.patches]
    dep = shop.get("Deployment", "checkout")
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example/checkout:1.9"
    assert "pod-template-hash" not in dep["spec"]["template"]["metadata"]["labels"]
    assert dep["spec"]["paused"] is False

    # idempotent: the same run asking again changes nothing
    again = rollback.run(request("rollback"))
    assert again.ok and "nothing changed" in again.message and len(shop.patches) == 2


def test_deployment_rollback_without_history_fails_clearly(host, api, tmp_path):
    dep = k.deployment("checkout", revision=1)
    api.add(dep, k.replicaset(dep, revision=1, image="registry.example/checkout:2.0", pod_hash="6b7f9c"))
    rollback = build_action(host, tmp_path, api, "rollback", "k8s_deployment", "deployment: checkout")
    res = rollback.run(request("rollback"))
    assert not res.ok and "no previous revision to roll back to" in res.message and api.patches == []


def test_argo_rollout_pause_resume_abort_send_merge_patches(host, shop, tmp_path):
    pause = build_action(host, tmp_path, shop, "pause", "argo_rollout", "rollout: checkout-canary")
    res = pause.run(request("pause"))
    assert res.ok and "at step 1/5, canary weight 20%" in res.message
    assert pause.run(request("pause")).message.endswith("already paused; nothing changed")

    resume = build_action(host, tmp_path, shop, "resume", "argo_rollout", "rollout: checkout-canary")
    assert resume.run(request("resume")).ok

    rollback = build_action(host, tmp_path, shop, "rollback", "argo_rollout", "rollout: checkout-canary",
                            ", confirm: false")
    assert rollback.confirm is False
    assert rollback.run(request("rollback", dry_run=True)).data["patches"][0]["path"] == RO_PATH + "/status"
    res = rollback.run(request("rollback"))
    assert res.ok and res.message.startswith("aborted rollout shop/checkout-canary (canary weight 20% -> 0")
    assert rollback.run(request("rollback")).message.endswith("already aborted; nothing changed")

    assert [(p.path, p.content_type, p.body) for p in shop.patches] == [
        (RO_PATH, MERGE, {"spec": {"paused": True}}),
        (RO_PATH, MERGE, {"spec": {"paused": False}}),
        (RO_PATH + "/status", MERGE, {"status": {"abort": True}}),
    ]
    ro = shop.get("Rollout", "checkout-canary")
    assert ro["status"]["abort"] is True and ro["spec"]["paused"] is False


def test_blue_green_rollback_switches_the_service_selector_back(host, api, tmp_path):
    blue = k.deployment("storefront-blue", labels={"color": "blue"}, app="storefront")
    api.add(blue, k.service("storefront", {"app": "storefront", "color": "green"}))
    back = build_action(host, tmp_path, api, "rollback", "k8s_bluegreen", "service: storefront, rollback_to: blue")
    assert back.confirm is True
    res = back.run(request("rollback"))
    assert not res.ok and "no ready pod matches app=storefront,color=blue" in res.message and api.patches == []

    api.add(k.pod(blue, "b1b1b"))
    assert back.run(request("rollback", dry_run=True)).message == (
        "dry run: would switch service shop/storefront back: selector color: green -> blue")
    res = back.run(request("rollback"))
    assert res.ok and res.message == "switched service shop/storefront back: selector color: green -> blue"
    assert [(p.path, p.content_type, p.body) for p in api.patches] == [
        ("/api/v1/namespaces/shop/services/storefront", SMP, {"spec": {"selector": {"color": "blue"}}})]
    assert api.get("Service", "storefront")["spec"]["selector"] == {"app": "storefront", "color": "blue"}
    assert back.run(request("rollback")).message.endswith("already sends traffic to color=blue; nothing changed")
    assert len(api.patches) == 1


def test_action_configured_dry_run_never_patches(host, shop, tmp_path):
    pause = build_action(host, tmp_path, shop, "pause", "k8s_deployment", "deployment: checkout", ", dry_run: true")
    res = pause.run(request("pause"))
    assert res.ok and res.dry_run and res.message.startswith("dry run: would pause") and shop.patches == []


def test_action_config_errors(host, api, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent("""\
        actions:
          pause:
            - {type: k8s_deployment, source: nowhere, deployment: checkout}
        """))
    cfg = load_config(path)
    item = cfg["actions"]["pause"][0]
    with pytest.raises(ConfigError, match="bad.yaml:3: actions.pause\\[0\\].source: no source named 'nowhere'"):
        host.build("action", item, BuildContext(config=cfg, item=item), verb="pause")


# --------------------------------------------------------------------------- decoders never crash

_KEYS = st.sampled_from(["metadata", "spec", "status", "name", "replicas", "paused", "template", "conditions", "type",
                         "reason", "annotations", "labels", "items", "strategy", "canary", "steps", "setWeight",
                         "currentStepIndex", "abort", "weights", "weight", "selector", "containerStatuses", "state",
                         "waiting", "restartCount", "generation", "observedGeneration", "updatedReplicas",
                         "ownerReferences", "uid", "controller", "kind", "deployment.kubernetes.io/revision", "x"])


def _nest(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=5)


_json = st.recursive(st.none() | st.booleans() | st.integers(-5, 10) | st.floats() | st.text(max_size=6), _nest,
                     max_leaves=30)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_json, st.lists(_json, max_size=3))
def test_kubernetes_decoders_give_a_result_or_one_clear_error(obj, more):
    for fn in (d.deployment_status, argo.rollout_status, d.service_selector, d.warning_events,
               lambda o: d.pod_health([o, *more]), lambda o: undo.plan_rollback(o, more),
               lambda o: d.items_of(o, "pod")):
        try:
            result = fn(obj)
        except d.K8sDecodeError as exc:
            assert str(exc) and "\n" not in str(exc)
            continue
        if isinstance(result, d.DeploymentStatus):
            assert 0.0 <= result.ready_ratio <= 1.0 and result.state in d.DEPLOYMENT_STATES
        if isinstance(result, argo.RolloutStatus):
            assert result.state in argo.ROLLOUT_STATES and isinstance(result.set_weight, float)
            assert result.state_code == argo.ROLLOUT_STATES[result.state]


@settings(max_examples=200, deadline=None)
@given(replicas=st.integers(0, 5), updated=st.integers(0, 6), total=st.integers(0, 8), available=st.integers(0, 6),
       generation=st.integers(1, 4), observed=st.integers(0, 4), deadline=st.booleans(), paused=st.booleans())
def test_deployment_state_follows_kubectl_on_real_shaped_objects(replicas, updated, total, available, generation,
                                                                  observed, deadline, paused):
    obj = k.deployment("x", replicas=replicas, updated=updated, total=total, available=available, ready=available,
                       generation=generation, observed=observed, deadline_exceeded=deadline, paused=paused)
    st_ = d.deployment_status(obj)
    observed_ok = generation <= observed
    if observed_ok and deadline:
        assert st_.state == "failed"
    elif paused:
        assert st_.state == "paused"
    elif observed_ok and updated >= replicas and total <= updated and available >= updated:
        assert st_.state == "complete"
    else:
        assert st_.state == "progressing"


# --------------------------------------------------------------------------- the sample config


def test_sample_kubernetes_config_builds_collects_and_acts(host, shop, tmp_path, monkeypatch):
    root = Path(__file__).resolve().parents[2]
    blue = k.deployment("storefront-blue", labels={"color": "blue"}, app="storefront")
    green = k.deployment("storefront-green", labels={"color": "green"}, app="storefront")
    shop.add(blue, green, k.service("storefront", {"app": "storefront", "color": "green"}), k.pod(blue, "b1b1b"))
    monkeypatch.setenv("KUBECONFIG", str(shop.kubeconfig(tmp_path)))
    monkeypatch.setenv("MIGTUI_KUBE_CONTEXT", "fake")
    cfg = load_config(root / "sample_configs" / "kubernetes.yaml")
    (item,) = cfg["sources"]
    src = host.build("source", item, BuildContext(config=cfg, item=item))
    out = collect(src)
    assert by_label(out, "k8s.bluegreen.live", "color") == {"blue": 0.0, "green": 1.0}
    assert by_label(out, "k8s.rollout.canary_weight", "rollout") == {"checkout-canary": 20}
    assert by_label(out, "k8s.deployment.state", "deployment")["checkout"] == 0
    for verb, items in cfg["actions"].items():
        for it in items:
            action = host.build("action", it, BuildContext(config=cfg, item=it, sources={"cluster": src}), verb=verb)
            assert action.confirm is (verb == "rollback")
            res = action.run(request(verb, dry_run=True))
            assert res.ok and res.dry_run, res.message
    assert shop.patches == []


def test_sample_kubernetes_config_loads_on_a_machine_without_a_kubeconfig(host, tmp_path, monkeypatch):
    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    cfg = load_config(root / "sample_configs" / "kubernetes.yaml", env={})
    (item,) = cfg["sources"]
    src = host.build("source", item, BuildContext(config=cfg, item=item))
    with pytest.raises(SourceError, match="no kubeconfig"):
        collect(src)


# --------------------------------------------------------------------------- through the engine


def test_engine_collects_and_acts_on_the_cluster(shop, tmp_path, make_engine):
    kc = shop.kubeconfig(tmp_path)
    engine = make_engine(f"""
        name: k8s
        interval: 1s
        sources:
          - {{type: kubernetes, name: cluster, kubeconfig: {kc}, context: fake, deployments: [checkout],
             rollouts: [checkout-canary]}}
        actions:
          pause:
            - {{type: k8s_deployment, source: cluster, deployment: checkout}}
            - {{type: argo_rollout, source: cluster, rollout: checkout-canary}}
          rollback:
            - {{type: k8s_deployment, source: cluster, deployment: checkout}}
        """)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the first collection has landed
        engine.tick(wait=0.1)
        if engine.latest("k8s.rollout.canary_weight"):
            break
    (_, _, weight), = engine.latest("k8s.rollout.canary_weight")
    assert weight == 20.0
    assert [r.ok for r in engine.pause(why="error rate 7%").result(timeout=30)] == [True, True]
    assert [(p.path, p.content_type) for p in shop.patches] == [(DEP_PATH, SMP), (RO_PATH, MERGE)]

    refused = engine.rollback(why="error rate 12%").result(timeout=30)  # needs the operator's confirmation
    assert not refused[0].ok and len(shop.patches) == 2
    # resume was not configured: it is derived from the pause entries (undoes_pause)
    assert all(r.ok for r in engine.resume().result(timeout=30))
    assert [p.body for p in shop.patches[2:]] == [{"spec": {"paused": False}}] * 2
    done = engine.rollback(why="error rate 12%", confirmed=True).result(timeout=30)
    assert done[0].ok and "template of revision 1" in done[0].message
    assert shop.patches[-1].content_type == JSON_PATCH
