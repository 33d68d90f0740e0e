"""Trigger rules from YAML, driven by real metric streams through the TriggerEngine."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest

from migtui.config import load_config
from migtui.errors import ConfigError, MigtuiError
from migtui.model import Event, Level, Sample
from migtui.triggers import BaselineStats, MemoryMetricView, TriggerEngine

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_800_000_000.0


def load_triggers(tmp_path: Path, yaml_text: str):
    p = tmp_path / "cfg.yaml"
    p.write_text(textwrap.dedent(yaml_text))
    return load_config(p, env={})["triggers"]


class Stream:
    """A metric stream fed tick by tick into a MemoryMetricView and a TriggerEngine."""

    def __init__(self, specs, *, interval: float = 2.0, **kw) -> None:
        self.engine = TriggerEngine(specs, **kw)
        self.view = MemoryMetricView()
        self.now = T0
        self.interval = interval
        self.log: list = []

    def tick(self, values: dict | None = None, *, source: str = "api", labels=None, advance: bool = True):
        if advance:
            self.now += self.interval
        samples = []
        for metric, value in (values or {}).items():
            if isinstance(value, dict):  # {labels-json: value}
                for lab, v in value.items():
                    samples.append(Sample(self.now, source, metric, float(v), dict(lab)))
            else:
                samples.append(Sample(self.now, source, metric, float(value), dict(labels or {})))
        self.view.add(samples)
        trs = self.engine.evaluate(self.now, self.view)
        self.log.extend(trs)
        return trs

    def states(self):
        return {r.name: r.state for r in self.engine.status(self.now)}

    def requested(self):
        return [(t.name, t.requested) for t in self.log if t.requested]


SEED = """
    triggers:
      - {metric: error_rate, threshold: 0.05, action: pause}
      - {metric: response_time_p95, threshold: 2000, action: warn}
      - {metric: error_rate, threshold: 0.1, action: rollback}
"""


def test_seed_config_file_loads_the_three_rules_as_written():
    cfg = load_config(ROOT / "sample_configs" / "seed-triggers.yaml", env={})
    specs = cfg["triggers"]
    assert [(s.metric, s.condition.op, s.condition.lo, s.action) for s in specs] == [
        ("error_rate", "above", 0.05, "pause"),
        ("response_time_p95", "above", 2000.0, "warn"),
        ("error_rate", "above", 0.1, "rollback"),
    ]
    assert [s.name for s in specs] == ["pause:error_rate", "warn:response_time_p95", "rollback:error_rate"]


def test_seed_rules_fire_warn_pause_rollback_once_each_in_order(tmp_path):
    s = Stream(load_triggers(tmp_path, SEED))
    # healthy
    for _ in range(3):
        assert s.tick({"error_rate": 0.01, "response_time_p95": 300}) == []
    # latency climbs first
    for _ in range(3):
        s.tick({"error_rate": 0.01, "response_time_p95": 2500})
    # then errors: 0.06 (pause), then 0.12 (rollback), held for a while
    for _ in range(3):
        s.tick({"error_rate": 0.06, "response_time_p95": 2600})
    for _ in range(5):
        s.tick({"error_rate": 0.12, "response_time_p95": 2700})
    assert s.requested() == [("warn:response_time_p95", "warn"), ("pause:error_rate", "pause"),
                             ("rollback:error_rate", "rollback")]
    assert s.states() == {"pause:error_rate": "firing", "warn:response_time_p95": "firing",
                          "rollback:error_rate": "firing"}
    firing = [t for t in s.log if t.state == "firing"]
    assert [t.name for t in firing] == ["warn:response_time_p95", "pause:error_rate", "rollback:error_rate"]
    ev = firing[-1].event(run="r1", phase="migration")
    assert ev.kind == "trigger" and ev.level == Level.ROLLBACK and ev.subject == "rollback:error_rate"
    assert ev.data["value"] == 0.12 and ev.data["threshold"] == "> 0.1" and ev.data["state"] == "firing"
    assert ev.data["requested"] == "rollback"
    assert "error_rate = 0.12, limit > 0.1" in ev.message


def test_strongest_action_wins_when_both_cross_in_one_tick(tmp_path):
    s = Stream(load_triggers(tmp_path, SEED))
    s.tick({"error_rate": 0.01, "response_time_p95": 100})
    trs = s.tick({"error_rate": 0.5, "response_time_p95": 100})
    assert {t.name for t in trs} == {"pause:error_rate", "rollback:error_rate"}
    assert [t.requested for t in trs if t.requested] == ["rollback"]
    # when errors fall back under 0.1 but stay above 0.05, pause is not requested after rollback
    s.tick({"error_rate": 0.07, "response_time_p95": 100})
    assert s.requested() == [("rollback:error_rate", "rollback")]
    assert s.states()["rollback:error_rate"] == "resolved"
    # full recovery, then a new escalation asks again
    s.tick({"error_rate": 0.0, "response_time_p95": 100})
    s.tick({"error_rate": 0.06, "response_time_p95": 100})
    assert s.requested()[-1] == ("pause:error_rate", "pause")


def test_hysteresis_clear_keeps_firing_until_value_crosses_clear(tmp_path):
    specs = load_triggers(tmp_path, """
        triggers:
          - {name: lag, metric: replication_lag, above: 10, clear: 5, action: pause}
    """)
    s = Stream(specs)
    seq = [2, 12, 8, 9, 6, 11, 4, 8, 12]
    states = []
    for v in seq:
        s.tick({"replication_lag": v})
        states.append(s.states()["lag"])
    assert states == ["ok", "firing", "firing", "firing", "firing", "firing", "resolved", "resolved", "firing"]
    assert s.requested() == [("lag", "pause"), ("lag", "pause")]  # once per episode


def test_for_requires_the_condition_to_hold_and_one_good_sample_resets(tmp_path):
    specs = load_triggers(tmp_path, """
        triggers:
          - {name: locks, metric: pg.locks.waiting, above: 3, for: 10s, action: pause}
    """)
    s = Stream(specs, interval=2.0)
    s.tick({"pg.locks.waiting": 5})
    assert s.states()["locks"] == "pending"
    for _ in range(3):
        s.tick({"pg.locks.waiting": 5})
    s.tick({"pg.locks.waiting": 1})  # one good evaluation resets pending
    assert s.states()["locks"] == "ok"
    for _ in range(5):
        s.tick({"pg.locks.waiting": 6})
    assert s.states()["locks"] == "pending"  # 8s in
    s.tick({"pg.locks.waiting": 6})
    assert s.states()["locks"] == "firing"  # 10s in
    assert [(t.prev, t.state) for t in s.log] == [("ok", "pending"), ("pending", "ok"), ("ok", "pending"),
                                                  ("pending", "firing")]


def test_keep_firing_for_rides_out_short_dips(tmp_path):
    specs = load_triggers(tmp_path, """
        triggers:
          - {name: err, metric: error_rate, above: 0.05, keep_firing_for: 6s, action: pause}
    """)
    s = Stream(specs)
    seq = [0.1, 0.01, 0.01, 0.1, 0.01, 0.01, 0.01, 0.01]
    states = []
    for v in seq:
        s.tick({"error_rate": v})
        states.append(s.states()["err"])
    assert states == ["firing", "firing", "firing", "firing", "firing", "firing", "resolved", "resolved"]
    assert len(s.requested()) == 1


def test_m_of_n_window(tmp_path):
    specs = load_triggers(tmp_path, """
        triggers:
          - {name: p95, metric: api.p95, above: 500, window: {m: 3, n: 5}, action: warn}
          - {name: p95s, metric: api.p95, above: 500, window: 3 of 5, dry_run: true}
    """)
    s = Stream(specs)
    seq = [600, 100, 600, 100, 100, 600, 600, 100]
    states = []
    for v in seq:
        s.tick({"api.p95": v})
        states.append(s.states()["p95"])
    # bad at 1,3,6,7: the 7th sample makes 3 of the last 5 (3,6,7); the 8th leaves 2 of 5 (6,7)
    assert states == ["ok", "ok", "ok", "ok", "ok", "ok", "firing", "resolved"]
    assert [t.state for t in s.log if t.name == "p95s"] == ["firing", "resolved"]
    assert [t.name for t in s.log if t.requested] == ["p95"]  # dry run never requests


def test_missing_data_is_inconclusive_and_warns_never_a_silent_pass(tmp_path):
    specs = load_triggers(tmp_path, """
        triggers:
          - {name: err, metric: error_rate, above: 0.05, action: rollback}
    """)
    s = Stream(specs, default_max_age=10.0)
    s.tick({})  # start-up grace: no verdict yet
    assert s.log == []
    for _ in range(6):
        s.tick({})
    assert s.states()["err"] == "inconclusive"
    (tr,) = s.log
    assert tr.level == Level.WARN and tr.reason == "no data" and tr.requested == "warn"
    ev = tr.event(run="r")
    assert ev.level == Level.WARN and "no data" in ev.message
    s.tick({"error_rate": 0.01})
    assert s.states()["err"] == "ok"


def test_nan_stale_and_collector_error_policies(tmp_path):
    specs = load_triggers(tmp_path, """
        trigger_defaults: {max_age: 5s}
        triggers:
          - {name: nan-pause, metric: m, above: 1, nan: pause, action: warn}
          - {name: stale-fire, metric: m, above: 1, stale: fire, action: pause}
          - {name: err-ok, metric: m, above: 1, on_error: ok, action: pause}
          - {name: err-default, metric: m, above: 1, action: pause}
    """)
    s = Stream(specs, interval=2.0)
    s.tick({"m": 0.5})
    assert set(s.states().values()) == {"ok"}
    s.tick({"m": math.nan})
    st = s.states()
    assert st["nan-pause"] == "inconclusive" and st["err-default"] == "inconclusive"
    assert [t.requested for t in s.log if t.name == "nan-pause"] == ["pause"]
    # the collector now fails: no new samples; the last sample goes stale
    s.view.record_result("api", s.now + 1, error="connection refused")
    s.tick({})
    st = s.states()
    assert st["err-ok"] == "ok"  # explicitly accepted
    assert st["err-default"] == "inconclusive"
    err = [t for t in s.log if t.name == "err-default"][-1]
    assert "source api failing: connection refused" in err.reason
    # collector recovers but publishes nothing: the NaN sample is stale now
    s.view.record_result("api", s.now + 1)
    for _ in range(3):
        s.tick({})
    assert s.states()["stale-fire"] == "firing"
    last = [t for t in s.log if t.name == "stale-fire"][-1]
    assert last.reason.startswith("stale: newest sample") and last.level == Level.PAUSE
    # a pause is already in force (nan-pause asked for it): not requested a second time
    assert s.requested() == [("nan-pause", "pause")] and last.acted == "pause"


def test_label_selector_and_worst_aggregation(tmp_path):
    specs = load_triggers(tmp_path, """
        triggers:
          - {name: orders-dead, metric: pg.tables.n_dead_tup, labels: {table: orders}, above: 1000, action: warn}
          - {name: any-dead, metric: pg.tables.n_dead_tup, above: 1000, action: warn}
          - {name: min-rows, metric: pg.tables.n_live_tup, below: 10, action: warn}
    """)
    s = Stream(specs)
    dead = {(("table", "orders"),): 10, (("table", "users"),): 5000}
    live = {(("table", "orders"),): 500, (("table", "users"),): 3}
    s.tick({"pg.tables.n_dead_tup": dead, "pg.tables.n_live_tup": live}, source="db")
    st = s.states()
    assert st == {"orders-dead": "ok", "any-dead": "firing", "min-rows": "firing"}
    tr = [t for t in s.log if t.name == "any-dead"][0]
    assert tr.labels == {"table": "users"} and tr.value == 5000
    assert [t for t in s.log if t.name == "min-rows"][0].labels == {"table": "users"}


def test_baseline_relative_ratio_and_zscore(tmp_path):
    specs = load_triggers(tmp_path, """
        triggers:
          - {name: slow, metric: api.latency_p95, ratio_to_baseline: {stat: p95, above: 1.5, clear: 1.2}, action: pause}
          - {name: zlocks, metric: pg.locks.waiting, zscore: {above: 3}, action: warn}
          - {name: nobase, metric: api.rps, ratio_to_baseline: {below: 0.5}, action: warn, no_data: ok}
    """)
    s = Stream(specs)
    s.view.set_baselines({
        ("api", "api.latency_p95", ()): BaselineStats(n=100, mean=180, stddev=20, p95=200),
        ("api", "pg.locks.waiting", ()): BaselineStats(n=100, mean=1.0, stddev=0.5),
    })
    s.tick({"api.latency_p95": 250, "pg.locks.waiting": 2.0, "api.rps": 10})
    assert s.states() == {"slow": "ok", "zlocks": "ok", "nobase": "ok"}
    s.tick({"api.latency_p95": 320, "pg.locks.waiting": 3.0, "api.rps": 10})  # 1.6x, z=4
    assert s.states()["slow"] == "firing" and s.states()["zlocks"] == "firing"
    tr = [t for t in s.log if t.name == "slow"][0]
    assert tr.threshold == "> 1.5x baseline p95" and tr.score == pytest.approx(1.6)
    assert "(1.6x baseline p95)" in tr.message()
    s.tick({"api.latency_p95": 260, "pg.locks.waiting": 1.0, "api.rps": 10})  # 1.3x: still held
    assert s.states()["slow"] == "firing"
    s.tick({"api.latency_p95": 230, "pg.locks.waiting": 1.0, "api.rps": 10})  # 1.15x: cleared
    assert s.states()["slow"] == "resolved"


def test_baseline_too_small_counts_as_no_data(tmp_path):
    specs = load_triggers(tmp_path, """
        triggers:
          - {name: slow, metric: lat, ratio_to_baseline: {above: 2}, min_samples: 30, action: pause}
    """)
    s = Stream(specs)
    s.view.set_baselines({("api", "lat", ()): BaselineStats(n=12, mean=100, stddev=5, p95=110)})
    s.tick({"lat": 500})
    assert s.states()["slow"] == "inconclusive"
    assert s.log[0].reason == "baseline has 12 samples (min_samples 30)"


def test_silence_records_state_but_requests_nothing_until_it_expires(tmp_path):
    s = Stream(load_triggers(tmp_path, SEED))
    ev = s.engine.silence("rollback", 10, "alice", now=s.now)
    assert ev.kind == "trigger" and ev.data["op"] == "silence" and ev.data["who"] == "alice"
    assert ev.data["triggers"] == ["rollback:error_rate"]
    s.tick({"error_rate": 0.2, "response_time_p95": 1})
    assert s.states()["rollback:error_rate"] == "firing"
    rb = [t for t in s.log if t.name == "rollback:error_rate"][0]
    assert rb.silenced and not rb.alerting and rb.requested is None
    assert s.requested() == [("pause:error_rate", "pause")]
    row = [r for r in s.engine.status(s.now) if r.name == "rollback:error_rate"][0]
    assert row.silenced_by == "alice" and row.silenced_until == pytest.approx(s.now - 2 + 10)
    for _ in range(5):  # silence expires while it keeps firing -> rollback is requested then, once
        s.tick({"error_rate": 0.2, "response_time_p95": 1})
    assert s.requested() == [("pause:error_rate", "pause"), ("rollback:error_rate", "rollback")]
    assert [t.reason for t in s.log if t.requested == "rollback"] == ["silence expired"]
    assert s.engine.silences(s.now) == []


def test_silences_lists_what_is_in_force_soonest_first(tmp_path):
    s = Stream(load_triggers(tmp_path, SEED))
    s.engine.silence("all", 600, "alice", now=s.now)
    s.engine.silence("rollback", 60, "bob", now=s.now)
    assert [(x["target"], x["who"], x["until"] - s.now) for x in s.engine.silences(s.now)] == [
        ("rollback", "bob", 60), ("all", "alice", 600)]
    assert s.engine.silences(s.now)[0]["triggers"] == ["rollback:error_rate"]
    s.engine.unsilence("all", "alice", now=s.now)
    assert [x["target"] for x in s.engine.silences(s.now + 61)] == []


def test_acknowledge_and_unknown_names(tmp_path):
    s = Stream(load_triggers(tmp_path, SEED))
    with pytest.raises(MigtuiError, match="only a firing trigger"):
        s.engine.acknowledge("pause:error_rate", "bob", now=s.now)
    s.tick({"error_rate": 0.07, "response_time_p95": 1})
    ev = s.engine.acknowledge("pause:error_rate", "bob", now=s.now)
    assert ev.data == {"op": "ack", "who": "bob", "state": "firing"}
    row = [r for r in s.engine.status(s.now) if r.name == "pause:error_rate"][0]
    assert row.acked_by == "bob" and row.threshold == "> 0.05" and row.value == 0.07
    with pytest.raises(MigtuiError, match="no trigger named 'nope'"):
        s.engine.acknowledge("nope", "bob", now=s.now)
    with pytest.raises(MigtuiError, match="cannot silence 'nope'"):
        s.engine.silence("nope", 5, "bob", now=s.now)


def test_restore_after_restart_does_not_request_the_same_action_again(tmp_path):
    specs = load_triggers(tmp_path, SEED)
    s = Stream(specs)
    s.tick({"error_rate": 0.2, "response_time_p95": 1})
    ack = s.engine.acknowledge("rollback:error_rate", "carol", now=s.now)
    sil = s.engine.silence("warn", 3600, "carol", now=s.now)
    events: list[Event] = [t.event(run="r1") for t in s.log] + [ack, sil]
    # round-trip through JSON-ish dicts, as the store gives them back
    stored = [{"kind": e.kind, "subject": e.subject, "ts": e.ts, "data": __import__("json").dumps(e.data)}
              for e in events]

    s2 = Stream(specs)
    s2.now = s.now
    assert s2.engine.restore(stored, now=s2.now) == 2
    rows = {r.name: r for r in s2.engine.status(s2.now)}
    assert rows["rollback:error_rate"].state == "firing" and rows["rollback:error_rate"].acked_by == "carol"
    assert rows["warn:response_time_p95"].silenced_by == "carol"
    s2.tick({"error_rate": 0.2, "response_time_p95": 1})
    assert s2.log == [] and s2.requested() == []  # nothing re-requested after the restart
    s2.tick({"error_rate": 0.0, "response_time_p95": 1})
    assert {t.name: t.state for t in s2.log} == {"pause:error_rate": "resolved", "rollback:error_rate": "resolved"}


@pytest.mark.parametrize("body, where, problem", [
    ("- {metric: error_rate, threshold: high, action: pause}", "triggers[1].threshold", "expected a number"),
    ("- {metric: error_rate, threshold: 0.1, action: explode}", "triggers[1].action", "must be one of warn, pause, rollback"),
    ("- {metric: error_rate, action: pause}", "triggers[1]", "needs a condition"),
    ("- {metric: error_rate, above: 1, below: 0}", "triggers[1].below", "only one of"),
    ("- {metric: error_rate, above: 1, clear: 2}", "triggers[1].clear", "at or below 1"),
    ("- {metric: error_rate, above: 1, window: {m: 6, n: 5}}", "triggers[1].window", "m must be between 1 and n"),
    ("- {metric: error_rate, above: 1, for: soon}", "triggers[1].for", "expected a duration"),
    ("- {metric: error_rate, above: 1, no_data: panic}", "triggers[1].no_data", "must be one of ok, inconclusive"),
    ("- {metric: x, zscore: {above: 3, stat: p95}}", "triggers[1].zscore.stat", "unknown key"),
    ("- {metric: x, ratio_to_baseline: {stat: p42, above: 2}}", "triggers[1].ratio_to_baseline.stat", "must be one of"),
    ("- {metric: x, treshold: 1}", "triggers[1].treshold", "did you mean 'threshold'"),
    ("- {metric: x, above: 1, outside: [1, 2]}", "triggers[1].outside", "only one of"),
    ("- {metric: x, outside: [5, 1]}", "triggers[1].outside", "low must not be above high"),
    ("- {name: a, metric: x, above: 1}\n  - {name: a, metric: y, above: 1}", "triggers[2].name", "duplicate trigger name"),
])
def test_invalid_triggers_are_rejected_with_file_line_and_key_path(tmp_path, body, where, problem):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\ntriggers:\n  - {metric: ok_metric, above: 1}\n  " + body + "\n")
    with pytest.raises(ConfigError) as ei:
        load_config(p, env={})
    msg = str(ei.value)
    assert msg.startswith(f"{p}:4: {where}: ") or msg.startswith(f"{p}:5: {where}: "), msg
    assert problem in msg
    assert "\n" not in msg


def test_yaml_is_never_evaluated(tmp_path):
    p = tmp_path / "evil.yaml"
    p.write_text("triggers:\n  - {metric: x, above: \"__import__('os').system('true')\"}\n")
    with pytest.raises(ConfigError, match=r"triggers\[0\]\.above: expected a number"):
        load_config(p, env={})


def test_outside_range_and_defaults_merge(tmp_path):
    specs = load_triggers(tmp_path, """
        trigger_defaults: {for: 4s, action: pause}
        triggers:
          - {name: conn, metric: pg.connections.used_ratio, outside: [0.05, 0.9], clear: [0.1, 0.8]}
          - {name: quick, metric: pg.connections.used_ratio, above: 0.95, for: 0s, action: rollback}
    """)
    assert specs[0].for_ == 4.0 and specs[0].action == "pause" and specs[1].for_ == 0.0
    assert specs[0].threshold_text() == "outside [0.05, 0.9]"
    s = Stream(specs)
    for v, want in [(0.5, "ok"), (0.01, "pending"), (0.02, "pending"), (0.03, "firing"), (0.07, "firing"),
                    (0.5, "resolved")]:
        s.tick({"pg.connections.used_ratio": v})
        assert s.states()["conn"] == want, (v, s.states())
