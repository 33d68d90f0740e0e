"""`migtui ctl ack / silence / unsilence` against a running engine over its control socket: a live
OpenMetrics endpoint and an Alertmanager-webhook receiver on 127.0.0.1, real triggers, the real
alert dispatcher and a real shell pause action."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

import pytest

from migtui.store import Store
from tests.conftest import ctl, wait_until
from tests.servers.gauges_and_hook import GaugesAndHook


Service = GaugesAndHook


@pytest.fixture
def service() -> Iterator[Service]:
    s = Service()
    yield s
    s.close()


TRIGGERS = """\
    triggers:
      - {name: noisy-backfill, metric: error_rate, threshold: 0.05, action: warn}
      - {name: slow-p95, metric: response_time_p95, threshold: 2000, action: warn}
      - {name: errors-pause, metric: error_rate, threshold: 0.1, action: pause}
    """


def _config(service: Service, tmp_path: Path) -> str:
    return service.config(tmp_path, "ctl-ack", TRIGGERS)


def state(engine: Any, name: str) -> dict[str, Any]:
    return next(r for r in engine.parts.triggers.status() if r["name"] == name)


def test_ctl_ack_silence_unsilence_drive_the_triggers_of_a_running_watch(
        make_engine: Any, service: Service, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "watch.duckdb"
    engine = make_engine(_config(service, tmp_path), store_path=store)
    engine.start()
    who = f"ctl:{os.getuid()}"
    s = str(store)
    acted = tmp_path / "acted"
    rt = engine.parts.triggers

    # nothing fires yet: acknowledging says so in one line
    code, _, err = ctl(capsys, "ack", "noisy-backfill", "--store", s)
    assert code == 1 and "noisy-backfill" in err and "only a firing trigger can be acknowledged" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1

    # both warn triggers fire and their alerts repeat
    service.gauges.update(app_error_rate=0.07, app_p95_ms=2500.0)
    wait_until(lambda: service.firing_alerts("noisy-backfill") >= 2 and service.firing_alerts("slow-p95") >= 2,
               what="repeated alerts of both warn triggers", timeout=30)

    code, out, err = ctl(capsys, "ack", "noisy-backfill", "--store", s)
    assert code == 0, err
    assert out.strip() == f"noisy-backfill: acknowledged by {who}"
    assert state(engine, "noisy-backfill")["acked_by"] == who
    assert rt.dispatcher.wait_idle(20)  # deliveries computed before the ack are out
    acked_before, other_before = service.firing_alerts("noisy-backfill"), service.firing_alerts("slow-p95")
    wait_until(lambda: service.firing_alerts("slow-p95") >= other_before + 2, what="the other trigger to repeat", timeout=30)
    assert service.firing_alerts("noisy-backfill") == acked_before  # the acknowledged one does not

    code, out, err = ctl(capsys, "status", "--json", "--store", s)
    assert code == 0, err
    status = json.loads(out)["status"]
    rows = {r["name"]: r for r in status["trigger_states"]}
    assert rows["noisy-backfill"]["acked_by"] == who and rows["noisy-backfill"]["state"] == "firing"
    assert rows["slow-p95"]["acked_by"] == "" and status["silences"] == []
    code, out, _ = ctl(capsys, "status", "--store", s)
    assert f"acknowledged: noisy-backfill (firing) by {who}" in out

    # silence the pause level: the pause trigger fires, but nothing is paused
    code, out, err = ctl(capsys, "silence", "pause", "10m", "--store", s)
    assert code == 0, err
    assert out.startswith(f"silenced pause for 600s by {who} (until ")
    service.gauges["app_error_rate"] = 0.2
    fired = wait_until(lambda: [e for e in list(engine.recent_events) if e.kind == "trigger"
                                and e.subject == "errors-pause" and e.data.get("state") == "firing"],
                       what="the pause trigger to fire", timeout=30)
    assert fired[0].data["silenced"] is True and fired[0].data["requested"] is None
    assert not [e for e in list(engine.recent_events) if e.kind == "action" and e.data.get("who") == "trigger errors-pause"]
    assert rt.dispatcher.wait_idle(20)
    assert not acted.exists() and service.firing_alerts("errors-pause") == 0
    code, out, err = ctl(capsys, "status", "--store", s)
    assert code == 0, err
    assert "silenced: pause until " in out and f"by {who} (errors-pause)" in out
    code, out, _ = ctl(capsys, "status", "--json", "--store", s)
    [sil] = json.loads(out)["status"]["silences"]
    assert sil["target"] == "pause" and sil["who"] == who and sil["triggers"] == ["errors-pause"]

    # clear one-line errors, never a traceback
    for args, want_code, want in (
            (("ack", "nosuch"), 1, "no trigger named 'nosuch'; triggers: noisy-backfill, slow-p95, errors-pause"),
            (("silence", "sideways", "5m"), 1, "cannot silence 'sideways'"),
            (("silence", "warn", "soon"), 2, "expected a duration like 30s, 5m or 250ms"),
            (("silence", "warn", "0s"), 2, "a silence needs a positive duration"),
            (("unsilence", "warn"), 1, "'warn' is not silenced")):
        code, _, err = ctl(capsys, *args, "--store", s)
        assert code == want_code and want in err, (args, code, err)
        assert "Traceback" not in err

    # lifting the silence lets the still-firing trigger pause the migration
    code, out, err = ctl(capsys, "unsilence", "pause", "--store", s, "--json")
    assert code == 0, err
    answer = json.loads(out)
    assert answer["message"] == f"silence of pause lifted by {who}"
    assert answer["event"]["data"]["op"] == "unsilence" and answer["event"]["data"]["who"] == who
    wait_until(lambda: acted.exists() and acted.read_text() == "pause\n", what="the pause action to run", timeout=30)
    assert not state(engine, "errors-pause")["silenced_until"]

    run_id = engine.run_id
    engine.close()
    ro = Store.open(store, read_only=True)
    try:
        events = ro.events(run_id)
    finally:
        ro.close()
    ops = [(e.subject, e.data["op"], e.data["who"]) for e in events if e.kind == "trigger" and e.data.get("op")]
    assert ops == [("noisy-backfill", "ack", who), ("pause", "silence", who), ("pause", "unsilence", who)]
    assert [e.data["who"] for e in events if e.kind == "action" and e.data.get("stage") == "result"] == \
        ["trigger errors-pause"]


def test_raw_protocol_for_trigger_commands(make_engine: Any, service: Service, tmp_path: Path) -> None:
    from migtui.control import request

    store = tmp_path / "raw.duckdb"
    engine = make_engine(_config(service, tmp_path), store_path=store)
    engine.start()
    assert request(store, {"cmd": "ack"})["error"].startswith("ack needs a trigger name")
    assert request(store, {"cmd": "silence", "target": "all"})["error"].startswith("silence needs a duration")
    assert request(store, {"cmd": "silence", "target": "all", "seconds": "later"})["ok"] is False
    answer = request(store, {"cmd": "silence", "target": "all", "seconds": 90})
    assert answer["ok"] is True and answer["event"]["data"]["triggers"] == ["noisy-backfill", "slow-p95",
                                                                            "errors-pause"]
    answer = request(store, {"cmd": "silence", "target": "slow-p95", "duration": "1h"})
    assert answer["ok"] is True
    silences = request(store, {"cmd": "status"})["status"]["silences"]
    assert [x["target"] for x in silences] == ["all", "slow-p95"]  # soonest to end first
    assert request(store, {"cmd": "unsilence", "target": "all"})["ok"] is True
    assert request(store, {"cmd": "unsilence", "target": "all"}) == {"ok": False, "error": "'all' is not silenced"}
    assert "ack, silence, unsilence, throttle, no-throttle or set" in request(store, {"cmd": "dance"})["error"]
