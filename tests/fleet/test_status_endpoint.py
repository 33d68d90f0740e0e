"""GET /status of a real watch: the same document as `migtui ctl status --json`, with a verdict that
the Argo Rollouts AnalysisTemplate in deploy/argo/ gates a canary on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ctl, wait_until
from tests.fleet.argo_eval import condition, json_path, measure
from tests.fleet.conftest import LiveWatch, running_watch
from tests.servers.httpbase import Response

TEMPLATE = Path(__file__).parents[2] / "deploy" / "argo" / "analysis-template.yaml"
TOKEN = "fleet-token-0123456789abcdef"
ROLLBACK_ON_ERRORS = """\
triggers:
  - {name: errors, metric: error_rate, threshold: 0.05, action: rollback, confirm: false}
"""


def status(watch: LiveWatch, token: str | None = None) -> dict[str, Any]:
    code, body, headers = watch.get("/status", token=token)
    assert code == 200 and headers["Content-Type"] == "application/json"
    return json.loads(body)


def test_status_is_what_ctl_status_json_prints(live_watch: LiveWatch, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    def busy() -> Any:
        live_watch.endpoint.metrics.observe(0.08, n=500)
        doc = status(live_watch)
        return doc if doc["verdict"] == "pause" else None

    doc = wait_until(busy, "the busy pause trigger to fire (verdict pause)")
    rows = {r["name"]: r for r in doc["trigger_states"]}
    assert rows["busy"]["state"] == "firing" and rows["busy"]["threshold"] == "> 1" and rows["busy"]["value"] > 1
    assert doc["phase"] == "baseline" and doc["database"] == "orders-db"
    assert doc["sources"] == [{"name": "api", "type": "openmetrics", "state": "ok", "last_error": ""}]
    assert doc["progress"] == {"percent": None, "eta_seconds": None}
    assert doc["throttle"]["throttled"] is False

    code, out, err = ctl(capsys, "status", "--store", str(tmp_path / "watch.duckdb"), "--json")
    assert code == 0, err
    from_ctl = json.loads(out)["status"]
    assert set(from_ctl) == set(doc)
    assert (from_ctl["run"], from_ctl["pid"]) == (doc["run"], doc["pid"])


def test_the_argo_analysis_template_gates_on_the_verdict(tmp_path: Path, cli_env: dict[str, str]) -> None:
    template = yaml.safe_load(TEMPLATE.read_text())
    assert template["kind"] == "AnalysisTemplate"
    (metric,) = template["spec"]["metrics"]
    web = metric["provider"]["web"]
    (tmp_path / "token").write_text(TOKEN)
    with running_watch(tmp_path, cli_env, ROLLBACK_ON_ERRORS, "--http-token-file", str(tmp_path / "token")) as watch:
        url = web["url"].replace("{{args.status-url}}", watch.url + "/status")
        header = {h["key"]: h["value"].replace("{{args.token}}", TOKEN) for h in web["headers"]}
        assert header["Authorization"] == f"Bearer {TOKEN}" and url.endswith("/status")
        assert watch.get("/status")[0] == 401  # the template's header is what lets the controller in

        def phase(want: str, errors: bool) -> Any:
            watch.endpoint.metrics.observe(0.08, n=200, error=errors)
            doc = status(watch, token=TOKEN)
            return doc if measure(metric, doc) == want else None

        healthy = wait_until(lambda: phase("Successful", errors=False), "a healthy migration to measure Successful")
        assert json_path(web["jsonPath"], healthy) == "ok"
        failing = wait_until(lambda: phase("Failed", errors=True), "an error burst to measure Failed")
        assert failing["verdict"] == "rollback"
        watch.endpoint.override = Response(503, "down")
        down = wait_until(lambda: (d := status(watch, token=TOKEN)) and d["sources"][0]["state"] != "ok" and d,
                          "the source to go down")
        assert down["verdict"] in ("rollback", "inconclusive")  # a firing rollback stays; else it cannot tell


def test_the_conditions_as_the_controller_reads_them() -> None:
    (metric,) = yaml.safe_load(TEMPLATE.read_text())["spec"]["metrics"]
    phases = {v: measure(metric, {"verdict": v}) for v in ("ok", "warn", "pause", "rollback", "inconclusive")}
    assert phases == {"ok": "Successful", "warn": "Successful", "pause": "Inconclusive", "rollback": "Failed",
                      "inconclusive": "Inconclusive"}
    assert condition("result in ['a', 'b'] && result != 'b'", "a")
    with pytest.raises(ValueError):
        condition("__import__('os')", "ok")
