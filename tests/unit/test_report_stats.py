"""The report's DuckDB Mann-Whitney agrees with migtui.triggers.baseline.mann_whitney_u (ties, another run's
baseline), and the report's phases and checklist follow the store's events."""

from __future__ import annotations

import math
import random

from migtui.triggers.baseline import mann_whitney_u
from migtui.model import Event, Level, Phase, Sample
from migtui.report import build_report


def _fill(store, run: str, phase: str, values: list[float], t0: float, metric: str = "api.latency") -> float:
    store.add_samples(run, phase, [Sample(t0 + i, "api", metric, v, {"route": "/x"}) for i, v in enumerate(values)])
    store.flush()
    return t0 + len(values)


def test_rank_sum_matches_baseline_module_with_ties_and_another_runs_baseline(migtui_store) -> None:
    rnd = random.Random(7)
    base_run = migtui_store.create_run("base", now=1_000_000)
    base_vals = [float(rnd.randint(0, 20)) for _ in range(60)]  # many ties
    _fill(migtui_store, base_run, "baseline", base_vals, 1_000_000)
    migtui_store.finish_run(base_run, now=1_000_100)

    run = migtui_store.create_run("mig", baseline_of=base_run, now=1_000_200)
    post_vals = [float(rnd.randint(3, 25)) for _ in range(45)]
    _fill(migtui_store, run, "post", post_vals, 1_000_200)
    migtui_store.finish_run(run, now=1_000_300)

    report = build_report(migtui_store.cursor(), run)
    s = next(x for x in report["series"] if x["metric"] == "api.latency")
    expected = mann_whitney_u(post_vals, base_vals)
    assert math.isclose(s["post_vs_baseline"]["p_value"], expected.p_value, rel_tol=1e-9)
    assert math.isclose(s["post_vs_baseline"]["u"], expected.u)
    assert s["post_vs_baseline"]["verdict"] == ("differs" if expected.p_value < 0.05 else "same")
    assert s["post_vs_baseline"]["shift"] == "up"
    assert s["stats"]["baseline"]["n"] == 60 and s["stats"]["post"]["n"] == 45
    assert report["baseline_run"] == base_run


def test_too_few_samples_and_checklist(migtui_store) -> None:
    run = migtui_store.create_run("short", now=2_000_000)
    _fill(migtui_store, run, "baseline", [1.0, 2.0, 3.0], 2_000_000)
    migtui_store.add_event(Event("phase", "migration", "phase baseline -> migration", Level.INFO,
                                 {"from": "baseline", "to": "migration", "who": "bob"}, ts=2_000_010, run=run,
                                 phase=Phase.MIGRATION))
    migtui_store.add_event(Event("action", "pause", "pause pg ok", Level.PAUSE,
                                 {"who": "trigger:error_rate", "why": "error_rate > 0.05", "ok": True, "verb": "pause",
                                  "stage": "result"}, ts=2_000_020, run=run, phase=Phase.MIGRATION))
    migtui_store.add_event(Event("check", "integrity:orders", "orders: fail", Level.ERROR,
                                 {"type": "integrity", "check": "orders", "result": "fail"}, ts=2_000_030, run=run,
                                 phase=Phase.POST))
    migtui_store.flush()
    migtui_store.finish_run(run, now=2_000_040)
    report = build_report(migtui_store.cursor(), "latest")
    s = report["series"][0]
    assert s["post_vs_baseline"]["verdict"] == "too few samples"
    assert [p["phase"] for p in report["phases"]] == ["baseline", "migration"]
    assert report["phases"][0]["seconds"] == 10 and report["phases"][1]["started_by"] == "bob"
    items = {i["item"]: i["status"] for i in report["checklist"]}
    assert items["Integrity verification"] == "fail"
    assert items["Health"] == "warn"  # no post phase
    assert items["Performance vs baseline"] == "warn"
    assert report["actions"][0]["data"]["who"] == "trigger:error_rate"
