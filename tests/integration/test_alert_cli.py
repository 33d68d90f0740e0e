"""`migtui alert test --config FILE`, as a user runs it, against a local Slack stand-in."""

from __future__ import annotations

import json
import subprocess

from tests.conftest import migtui_cmd
from tests.integration.test_alerters import Receiver


def test_alert_test_reports_each_alerter_and_fails_when_one_fails(tmp_path, cli_env):
    slack, broken = Receiver(), Receiver(default=(404, {}, b"no_service"))
    try:
        cfg = tmp_path / "alerts.yaml"
        cfg.write_text(f"""\
name: window
alerters:
  - {{type: slack, name: team, url: "${{SLACK_URL}}"}}
  - {{type: slack, name: old, url: "{broken.url}/gone"}}
  - {{type: log, path: alerts.jsonl}}
""")
        cli_env["SLACK_URL"] = slack.url + "/services/T/B/SECRETSECRET"
        out = subprocess.run([*migtui_cmd(), "alert", "test", "--config", str(cfg)], env=cli_env,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 1, out.stderr
        lines = out.stdout.splitlines()
        assert lines[0].split() == ["team", "ok", "team:", "delivered", "(HTTP", "200)"]
        assert lines[1].startswith("old   FAILED  old: failed: HTTP 404: no_service")
        assert lines[2].startswith("log   ok")
        assert "SECRETSECRET" not in out.stdout + out.stderr
        assert json.loads(slack.requests[0]["body"])["text"].startswith("migtui: [warn] migtui test alert")
        logged = json.loads((tmp_path / "alerts.jsonl").read_text())
        assert logged["test"] is True and logged["key"] == "window/test"

        ok = subprocess.run([*migtui_cmd(), "alert", "test", "--config", str(cfg), "--only", "team", "--json"],
                            env=cli_env, capture_output=True, text=True, timeout=60)
        assert ok.returncode == 0, ok.stderr
        assert [(r["alerter"], r["ok"], r["status"]) for r in json.loads(ok.stdout)] == [("team", True, 200)]
    finally:
        slack.close()
        broken.close()


def test_alert_test_with_a_bad_alerter_option_names_the_key(tmp_path, cli_env):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("alerters:\n  - {type: pagerduty, routing_key: abcdefgh, retries: many}\n")
    out = subprocess.run([*migtui_cmd(), "alert", "test", "--config", str(cfg)], env=cli_env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip() == f"migtui: error: {cfg}:2: alerters[0].retries: expected an integer, got 'many'"
