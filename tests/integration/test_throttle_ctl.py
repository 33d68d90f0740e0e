"""The throttle driven by an HTTP endpoint flipping 200/429 (the freno convention, polled every
100 ms) and by hand over the control socket: `migtui ctl status --json` shows it, `ctl throttle
[--for]` / `ctl no-throttle` force and lift it, `ctl set` changes a running trigger. The pause and
resume actions are real shell commands that create and remove a file."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.conftest import ctl, wait_until
from tests.servers.throttle_gate import ThrottleGate


@pytest.fixture
def gate() -> Iterator[ThrottleGate]:
    with ThrottleGate() as g:
        yield g


def _config(gate: ThrottleGate, paused: Path) -> str:
    return f"""
    interval: 100ms
    sources:
      - {{type: http_probe, name: freno, interval: 100ms, timeout: 1s, probes: {{gate: "{gate.url}/check"}}}}
    actions:
      pause:
        - {{type: shell, name: hold, command: [touch, "{paused}"]}}
      resume:
        - {{type: shell, name: release, command: [rm, -f, "{paused}"]}}
    triggers:
      - {{name: gate, source: freno, metric: probe.up, below: 1, action: throttle, resume_after: 300ms}}
      - {{name: slow-gate, source: freno, metric: probe.latency_ms, above: 60000, action: throttle}}
    """


def _status(capsys: pytest.CaptureFixture[str], store: str) -> dict[str, Any]:
    code, out, err = ctl(capsys, "status", "--json", "--store", store)
    assert code == 0, err
    return json.loads(out)["status"]


def test_an_http_endpoint_answering_429_throttles_and_200_releases(
        make_engine: Any, gate: ThrottleGate, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paused, store = tmp_path / "paused", tmp_path / "watch.duckdb"
    engine = make_engine(_config(gate, paused), store_path=store)
    engine.start()
    wait_until(lambda: any(r["name"] == "slow-gate" and r["utilization"] is not None
                           for r in engine.frame.triggers or ()), "a first measurement")
    status = _status(capsys, str(store))
    assert status["throttle"]["throttled"] is False
    util = status["throttle"]["triggers"]["slow-gate"]["utilization"]
    assert 0 <= util < 1, "latency / 60000 ms: far from the limit"

    gate.status = 429
    wait_until(paused.exists, "the pause action")
    status = _status(capsys, str(store))
    t = status["throttle"]
    assert t["throttled"] is True and t["since"] is not None
    assert t["reason"].startswith("gate: probe.up = 0")
    assert t["triggers"]["gate"]["throttled"] is True and t["triggers"]["slow-gate"]["throttled"] is False
    code, out, _ = ctl(capsys, "status", "--store", str(store))
    assert "THROTTLED for" in out and "gate: probe.up = 0" in out
    from migtui.engine import EngineUpdate
    from migtui.headless import HeadlessPrinter

    frame = engine.fresh_frame()
    line = HeadlessPrinter(engine, as_json=False, out=io.StringIO()).status_line(
        EngineUpdate(tick=frame.tick, now=frame.now, phase=frame.phase, samples=[], snapshots=[], events=[], frame=frame))
    assert re.search(r"\| THROTTLED 0:00:\d\d: gate: probe\.up = 0", line), line  # the cockpit's clock format

    gate.status = 200
    wait_until(lambda: not paused.exists(), "the resume action")
    assert _status(capsys, str(store))["throttle"]["throttled"] is False
    engine.store.flush()
    events = engine.store.events(engine.run_id, kinds=["throttle"])
    assert [e.data["op"] for e in events] == ["throttle", "release"]

    # the report: a throttle timeline and the time spent throttled
    from migtui.report import export_report

    report = json.loads(export_report(engine.store, engine.run_id, "json", tmp_path / "r.json").read_text())
    [period] = report["throttle"]["periods"]
    assert period["released"] and period["reason"].startswith("gate: probe.up = 0")
    assert report["throttle"]["seconds"] == period["seconds"] > 0
    md = export_report(engine.store, engine.run_id, "md", tmp_path / "r.md").read_text()
    assert "## Throttle" in md and "Throttled 1 time," in md and "gate: probe.up = 0" in md
    html = export_report(engine.store, engine.run_id, "html", tmp_path / "r.html").read_text()
    assert "<h2>Throttle</h2>" in html and "Throttled 1 time," in html


def test_ctl_throttle_no_throttle_and_set(make_engine: Any, gate: ThrottleGate, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    paused, store = tmp_path / "paused", tmp_path / "watch.duckdb"
    engine = make_engine(_config(gate, paused), store_path=store)
    engine.start()
    who = f"ctl:{os.getuid()}"

    code, out, err = ctl(capsys, "throttle", "--for", "1h", "--store", str(store))
    assert code == 0, err
    assert f"throttled: forced by {who}" in out
    wait_until(paused.exists, "the pause action")
    code, out, err = ctl(capsys, "no-throttle", "--store", str(store))
    assert code == 0 and "not throttled" in out, err
    wait_until(lambda: not paused.exists(), "the resume action")
    code, _, err = ctl(capsys, "no-throttle", "--store", str(store))
    assert code == 1 and "no forced throttle to lift" in err

    # a running trigger changed by hand: the probe's latency is now far above its new limit
    code, out, err = ctl(capsys, "set", "slow-gate", "threshold=0.000001", "--store", str(store))
    assert code == 0, err
    assert f"slow-gate: threshold 60000 -> 1e-06 by {who}" in out
    wait_until(paused.exists, "the throttle of the changed trigger")
    assert _status(capsys, str(store))["throttle"]["reason"].startswith("slow-gate: probe.latency_ms")
    code, _, err = ctl(capsys, "set", "slow-gate", "clear=5", "--store", str(store))
    assert code == 1 and "clear must be at or below its threshold" in err
    code, _, err = ctl(capsys, "set", "gate", "bogus=1", "--store", str(store))
    assert code == 1 and "cannot set 'bogus'" in err
    engine.store.flush()
    sets = [e for e in engine.store.events(engine.run_id, kinds=["trigger"]) if e.data.get("op") == "set"]
    assert [(e.subject, e.data["who"], e.data["changes"]) for e in sets] == [
        ("slow-gate", who, {"threshold": ["60000", "1e-06"]})]


def test_alert_only_records_the_throttle_and_never_pauses(make_engine: Any, gate: ThrottleGate, tmp_path: Path) -> None:
    paused = tmp_path / "paused"
    engine = make_engine(_config(gate, paused) + "\n    headless: {alert_only: true}\n", headless=True)
    engine.start()
    gate.status = 429
    wait_until(lambda: engine.frame.throttle.get("throttled"), "the throttle")
    engine.store.flush()
    [ev] = engine.store.events(engine.run_id, kinds=["throttle"])
    assert "not paused (alert-only mode" in ev.message
    assert not paused.exists() and not engine.fresh_frame().paused
