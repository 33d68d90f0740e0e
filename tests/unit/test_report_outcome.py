"""The outcome line of a report (migtui.report.summary.outcome): its facts come most severe first,
not in the alphabetical order of the metrics (the verdicts are the real rules' output)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from migtui.report.summary import outcome
from migtui.report.verdicts import judge

T = np.arange(120.0) + 1000.0


def _health(metric: str, base: list[float] | np.ndarray, migration: np.ndarray, post: np.ndarray,
            p_post: float = 0.9) -> dict[str, Any]:
    b = np.asarray(base, float)
    verdicts = {"migration": judge(b, migration, T, 1e-9, "higher_is_worse", 0.1, 60.0),
                "post": judge(b, post, T, p_post, "higher_is_worse", 0.1, 60.0)}
    for v in verdicts.values():
        if "peak" in v:  # as migtui.report.health adds it: seconds since the run started
            v["peak"]["at"] = v["peak"]["start"] - T[0]
    return {"metric": metric, "source": "db", "labels": {}, "kind": "health", "unit": "", "direction": "higher_is_worse",
            "verdicts": verdicts}


def _report(series: list[dict[str, Any]], *, actions: list[dict[str, Any]] = (), triggers: list[dict[str, Any]] = (),
            exit_code: int | None = 0, status: str = "finished") -> dict[str, Any]:
    notes = [] if exit_code is None else [{"data": {"type": "migration_command", "change": "exited",
                                                    "exit_code": exit_code, "seconds": 42.0}}]
    return {"run": {"status": status}, "notes": notes, "series": series, "actions": list(actions),
            "triggers": list(triggers), "checklist": [{"item": "Health", "status": "pass", "evidence": "ok"}]}


rng = np.random.default_rng(3)
BASE = rng.normal(100, 2, 120)
SAME = rng.normal(100, 2, 120)
# a_lock_waits: +20% for the whole migration; z_latency: 6 times its level; m_errors: 0 -> 7% burst
A_SMALL = _health("a_lock_waits", BASE, rng.normal(120, 2, 120), SAME)
Z_BIG = _health("z_latency", BASE, rng.normal(600, 20, 120), SAME)
burst = np.zeros(120)
burst[60:75] = 0.07
M_FROM_ZERO = _health("m_errors", np.zeros(120), burst, np.zeros(120))
FIRED = {"subject": "pause:m_errors", "message": "ok -> firing", "ts": "2026-01-01T00:01:00",
         "data": {"to": "firing", "source": "db", "metric": "m_errors"}}
PAUSE = {"subject": "pause", "ts": "2026-01-01T00:01:00", "data": {"verb": "pause", "who": "trigger", "ok": True}}
ROLLBACK = {"subject": "rollback", "ts": "2026-01-01T00:02:03",
            "data": {"verb": "rollback", "who": "alice", "ok": True, "why": "errors"}}


def test_worse_metrics_come_by_size_of_effect_not_by_name() -> None:
    assert all(s["verdicts"]["migration"]["verdict"] == "worse" for s in (A_SMALL, Z_BIG, M_FROM_ZERO))
    out = outcome(_report([A_SMALL, Z_BIG]))
    assert out["verdict"] == "degraded"
    assert [f.split()[0] for f in out["facts"]] == ["z_latency", "a_lock_waits", "migration"]
    assert out["facts"][2] == "migration command exited 0 after 42s"  # a fact that decided nothing comes last


def test_a_rate_from_zero_outranks_a_sixfold_latency_and_trigger_firings_keep_their_place() -> None:
    out = outcome(_report([A_SMALL, Z_BIG, M_FROM_ZERO], triggers=[FIRED], actions=[PAUSE]))
    assert [f.split()[0] for f in out["facts"]] == ["m_errors", "z_latency", "1"]
    assert out["facts"][1].endswith("(+1 more worse)")
    assert out["facts"][2] == "1 trigger firings, 1 actions (pause by trigger)"


def test_failure_then_rollback_come_before_the_metrics() -> None:
    out = outcome(_report([A_SMALL, Z_BIG], actions=[ROLLBACK], exit_code=3))
    assert out["verdict"] == "failed"
    assert out["facts"][:2] == ["migration command exited 3 after 42s", "rolled back by alice at 00:02:03 (errors)"]
    assert out["facts"][2].startswith("z_latency worse during migration")
    rolled = outcome(_report([A_SMALL], actions=[ROLLBACK]))
    assert rolled["verdict"] == "rolled back" and rolled["facts"][0].startswith("rolled back by alice")


def test_a_run_that_went_well_says_what_was_judged_first() -> None:
    ok = _health("a_lock_waits", BASE, SAME, SAME)
    out = outcome(_report([ok], exit_code=None))
    assert out == {"verdict": "ok", "facts": ["1 health metrics judged, none worse than the baseline", "run finished"]}


def test_a_sustained_shift_reads_as_a_shift_of_the_median_not_as_a_peak() -> None:
    """The demo's 'response_time_p95 worse after (peak 17.1 ms for 2.0 s ...)' was decided by the
    whole post phase sitting 1.2 ms (25%) above the baseline, not by a burst: the text says so."""
    from migtui.report.formatting import verdict_text

    base = rng.normal(4.76, 0.02, 120)
    post = np.full(120, 5.96) + rng.normal(0, 0.02, 120)
    s = _health("response_time_p95", base, rng.normal(4.76, 0.02, 120), post, p_post=1e-9)
    s["unit"] = "ms"
    assert s["verdicts"]["post"]["verdict"] == "worse" and "why" not in s["verdicts"]["post"]
    text = verdict_text(s)
    assert "peak" not in text.split(", ")[1], text
    assert text.endswith("worse after (+1.2 ms, +25% on a baseline median of 4.76 ms)"), text
    burst = verdict_text(M_FROM_ZERO)  # a burst the whole phase dilutes still reads as its peak
    assert re.match(r"worse during migration \(peak 0\.07 for 15 s at 0?0:01:00\)", burst), burst


def test_among_metrics_that_rose_from_zero_the_one_a_trigger_fired_on_comes_first() -> None:
    """0 -> 1 idle session and 0% -> 7% errors are both 'from zero': the error rate paused the
    migration, so it is the fact that decided the run."""
    idle = _health("a_idle_in_transaction", np.zeros(120), burst * 10, np.zeros(120))
    out = outcome(_report([idle, M_FROM_ZERO], triggers=[FIRED], actions=[PAUSE]))
    assert [f.split()[0] for f in out["facts"]] == ["m_errors", "a_idle_in_transaction", "1"]
    assert [f.split()[0] for f in outcome(_report([idle, M_FROM_ZERO]))["facts"]][:2] == [
        "a_idle_in_transaction", "m_errors"]


def test_the_checklist_names_the_worse_metrics_largest_effect_first() -> None:
    from migtui.report.checklist import post_migration_checklist

    report = _report([A_SMALL, Z_BIG, M_FROM_ZERO], triggers=[FIRED])
    for s in report["series"]:
        s["stats"] = {"post": {"n": 120}}
    report.update(phase_seconds={"post": 120.0}, checks=[], errors=[], alerts=[], events=[])
    perf = next(i for i in post_migration_checklist(report) if i["item"] == "Performance vs baseline")
    assert perf["status"] == "warn" and perf["evidence"].startswith("3 of 3 health metrics worse")
    named = [part.split(": ")[-1].split()[0] for part in perf["evidence"].split("; ")]
    assert named == ["m_errors", "z_latency", "a_lock_waits"]


def test_a_slower_application_statement_degrades_the_run_and_is_named() -> None:
    """All health metrics the same, but the hot query got slower after the migration (the scripted
    regression of a dropped index): the run is degraded and the statement is one of the facts."""
    same = _health("a_lock_waits", BASE, SAME, SAME)
    report = _report([same])
    assert outcome(report)["verdict"] == "ok"
    report["statements"] = {"available": True, "slower": [
        {"queryid": 7, "text": "SELECT * FROM orders WHERE customer_id = $1", "mean_before_ms": 0.05,
         "mean_after_ms": 4.2, "total_change_ms": 8300.0, "change_ms": 4.15, "calls_after": 2000}]}
    out = outcome(report)
    assert out["verdict"] == "degraded"
    assert out["facts"][0] == ("1 application statement(s) slower after: SELECT * FROM orders WHERE "
                               "customer_id = $1 0.05 ms -> 4.2 ms (+8.3 s in post)")
    assert out["facts"][1] == "1 health metrics judged, none worse than the baseline"
