"""Every manifest under deploy/ loads into the kubernetes client's models without losing a field
(an unknown or misspelt key is an error), the CRDs (PodMonitor, PrometheusRule, AnalysisTemplate,
Kustomization) match a minimal schema, and what they name exists: files, secrets, labels, metrics."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import ApiClient

from migtui.config import load_config
from migtui.http.metrics import OWN

DEPLOY = Path(__file__).parents[2] / "deploy"
MODELS = {"ConfigMap": "V1ConfigMap", "Secret": "V1Secret", "Job": "V1Job", "Service": "V1Service",
          "ServiceAccount": "V1ServiceAccount", "Role": "V1Role", "RoleBinding": "V1RoleBinding"}
SCHEMAS: dict[str, Any] = {
    "PodMonitor": {"spec": {"selector": "V1LabelSelector", "namespaceSelector": dict, "jobLabel": str,
                            "podMetricsEndpoints": [{"port": str, "path": str, "interval": str, "scrapeTimeout": str,
                                                     "scheme": str, "authorization": {"type": str, "credentials":
                                                                                      "V1SecretKeySelector"}}]}},
    "PrometheusRule": {"spec": {"groups": [{"name": str, "interval": str, "rules": [
        {"alert": str, "record": str, "expr": str, "for": str, "labels": dict, "annotations": dict}]}]}},
    "AnalysisTemplate": {"spec": {"args": [{"name": str, "value": str, "valueFrom": {
        "secretKeyRef": "V1SecretKeySelector"}}], "metrics": [{
            "name": str, "interval": str, "count": int, "failureLimit": int, "inconclusiveLimit": int,
            "successCondition": str, "failureCondition": str, "provider": {"web": {
                "url": str, "headers": [{"key": str, "value": str}], "timeoutSeconds": int, "jsonPath": str,
                "method": str}}}]}},
}
KUSTOMIZATION = {"apiVersion": str, "kind": str, "resources": [str], "nameSuffix": str, "namePrefix": str,
                 "namespace": str, "patches": [{"path": str}], "labels": [{"pairs": dict, "includeSelectors": bool, "includeTemplates": bool}],
                 "secretGenerator": [{"name": str, "behavior": str, "envs": [str], "options": dict}],
                 "configMapGenerator": [{"name": str, "behavior": str, "files": [str], "options": dict}]}


def manifests() -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for path in sorted(DEPLOY.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                out.append((path, doc))
    return out


def _normal(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _normal(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        return [_normal(v) for v in obj]
    return obj


def _diff(want: Any, got: Any, where: str) -> list[str]:
    if isinstance(want, dict) and isinstance(got, dict):
        out = [f"{where}.{k}: unknown field" for k in want if k not in got]
        return out + [e for k in want if k in got for e in _diff(want[k], got[k], f"{where}.{k}")]
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        return [e for i, (a, b) in enumerate(zip(want, got)) for e in _diff(a, b, f"{where}[{i}]")]
    return [] if want == got else [f"{where}: {want!r} became {got!r}"]


def model_errors(doc: dict[str, Any], model: str) -> list[str]:
    """What the client's model drops or changes of ``doc`` (a round trip through the model)."""
    client = ApiClient()
    try:
        obj = client._ApiClient__deserialize(copy.deepcopy(doc), model)
    except (ValueError, TypeError) as exc:
        return [f"{model}: {exc}"]
    return _diff(_normal(doc), _normal(client.sanitize_for_serialization(obj)), doc.get("kind", model))


def schema_errors(doc: Any, schema: Any, where: str) -> list[str]:
    if isinstance(schema, str):
        return model_errors(doc, schema) if isinstance(doc, dict) else [f"{where}: expected an object"]
    if isinstance(schema, type):
        return [] if isinstance(doc, schema) else [f"{where}: expected {schema.__name__}, got {doc!r}"]
    if isinstance(schema, list):
        if not isinstance(doc, list):
            return [f"{where}: expected a list"]
        return [e for i, item in enumerate(doc) for e in schema_errors(item, schema[0], f"{where}[{i}]")]
    if not isinstance(doc, dict):
        return [f"{where}: expected an object"]
    out: list[str] = []
    for k, v in doc.items():
        out += schema_errors(v, schema[k], f"{where}.{k}") if k in schema else [f"{where}.{k}: unknown field"]
    return out


def errors_of(path: Path, doc: dict[str, Any]) -> list[str]:
    kind = doc.get("kind")
    if kind == "Kustomization":
        errs = schema_errors(doc, KUSTOMIZATION, "kustomization")
        named = doc.get("resources", []) + [p["path"] for p in doc.get("patches", [])]
        named += [e for g in doc.get("secretGenerator", []) for e in g.get("envs", [])]
        return errs + [f"{name}: no such file or directory" for name in named if not (path.parent / name).exists()]
    if kind in MODELS:
        return model_errors(doc, MODELS[kind])
    if kind in SCHEMAS:
        meta = model_errors(doc.get("metadata", {}), "V1ObjectMeta")
        return meta + schema_errors({k: v for k, v in doc.items() if k not in ("apiVersion", "kind", "metadata")},
                                    SCHEMAS[kind], kind)
    return [f"unknown kind {kind!r}"]


@pytest.mark.parametrize("path, doc", manifests(), ids=lambda v: str(v.relative_to(DEPLOY)) if isinstance(v, Path)
                         else v.get("kind", "?"))
def test_every_manifest_is_valid(path: Path, doc: dict[str, Any]) -> None:
    assert errors_of(path, doc) == []


def test_an_invalid_field_is_named() -> None:
    job = next(doc for _, doc in manifests() if doc["kind"] == "Job" and "template" in doc["spec"]
               and doc["spec"]["template"]["spec"]["containers"][0].get("image"))
    bad = copy.deepcopy(job)
    bad["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    bad["spec"]["backofLimit"] = 1
    assert set(model_errors(bad, "V1Job")) == {"Job.spec.backofLimit: unknown field",
                                                "Job.spec.template.spec.containers[0].imagePullPolicyy: unknown field"}
    rule = next(doc for _, doc in manifests() if doc["kind"] == "PrometheusRule")
    bad = copy.deepcopy(rule)
    bad["spec"]["groups"][0]["rules"][0]["expresion"] = "up"
    assert errors_of(DEPLOY, bad) == ["PrometheusRule.spec.groups[0].rules[0].expresion: unknown field"]


def test_what_the_manifests_name_exists(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    docs = {(doc["kind"], doc["metadata"]["name"] if "metadata" in doc else path.parent.name): doc
            for path, doc in manifests() if "overlays" not in path.parts}
    job = docs[("Job", "migtui-watch")]
    pod = job["spec"]["template"]
    monitor = docs[("PodMonitor", "migtui")]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    port = pod["spec"]["containers"][0]["ports"][0]
    assert monitor["spec"]["podMetricsEndpoints"][0]["port"] == port["name"]
    args = pod["spec"]["containers"][0]["args"]
    assert args[args.index("--http") + 1].endswith(f":{port['containerPort']}")
    token = monitor["spec"]["podMetricsEndpoints"][0]["authorization"]["credentials"]
    assert token["key"] in docs[("Secret", token["name"])]["stringData"]
    argo = docs[("AnalysisTemplate", "migtui-migration")]["spec"]["args"][1]["valueFrom"]["secretKeyRef"]
    assert (argo["name"], argo["key"]) == (token["name"], token["key"])
    for rule in docs[("PrometheusRule", "migtui")]["spec"]["groups"][0]["rules"]:
        for name in re.findall(r"\bmigtui_[a-z_]+", rule["expr"]):
            assert name in OWN, f"{rule['alert']}: {name} is not served by /metrics"
    config = tmp_path / "migtui.yaml"
    config.write_text(docs[("ConfigMap", "migtui-config")]["data"]["migtui.yaml"])
    monkeypatch.setenv("MIGTUI_DSN", "postgresql://monitor@127.0.0.1:5432/postgres")
    cfg = load_config(config)
    assert [t.name for t in cfg["triggers"]] == ["lock-queue", "replica-lag"]


def documented_selector() -> str:
    return re.search(r"--selector (app\S+)", (DEPLOY.parent / "docs" / "fleet.md").read_text()).group(1)


def test_the_fleet_view_finds_the_watch_pods_and_may_list_them() -> None:
    """What ``migtui fleet watch --selector`` (docs/fleet.md) relies on: the documented selector picks
    the Job's pods, its default port name is theirs, every overlay puts the database label on the pods,
    and the Role of deploy/kubernetes/fleet grants every call the finder makes, to its ServiceAccount."""
    from migtui_kubernetes.fleet import DATABASE_KEY, RBAC, SCHEMA

    from tests.servers.k8s_api import label_match

    docs = {(doc["kind"], doc["metadata"]["name"] if "metadata" in doc else str(path.parent.relative_to(DEPLOY))): doc
            for path, doc in manifests() if "overlays" not in path.parts or doc["kind"] == "Kustomization"}
    pod = docs[("Job", "migtui-watch")]["spec"]["template"]
    assert label_match(documented_selector(), pod["metadata"]["labels"]), documented_selector()
    assert SCHEMA.fields["port"].default in [p["name"] for c in pod["spec"]["containers"] for p in c["ports"]]
    overlays = [doc for (kind, where), doc in docs.items() if kind == "Kustomization" and where.startswith("kubernetes/overlays/")]
    assert overlays
    for overlay in overlays:
        assert any(DATABASE_KEY in group["pairs"] and group.get("includeTemplates") for group in overlay["labels"]), overlay
    role, binding = docs[("Role", "migtui-fleet")], docs[("RoleBinding", "migtui-fleet")]
    for verb, resource, group in RBAC:
        assert any(verb in rule["verbs"] and resource in rule["resources"] and group in rule["apiGroups"]
                   for rule in role["rules"]), (verb, resource, group)
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "migtui-fleet"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": docs[("ServiceAccount", "migtui-fleet")]["metadata"]["name"]}]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("overlay", sorted((DEPLOY / "kubernetes" / "overlays").iterdir()), ids=lambda p: p.name)
def test_an_overlay_built_by_kustomize_labels_its_pods_with_the_database(overlay: Path) -> None:
    """``kubectl kustomize`` (offline): the overlay's Job pods carry the database label the fleet
    view names rows by, and the documented selector picks them."""
    from migtui_kubernetes.fleet import DATABASE_KEY

    from tests.servers.k8s_api import label_match

    out = subprocess.run(["kubectl", "kustomize", str(overlay)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    (job,) = [d for d in yaml.safe_load_all(out.stdout) if d and d["kind"] == "Job"]
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert labels.get(DATABASE_KEY) == overlay.name
    assert label_match(documented_selector(), labels)
