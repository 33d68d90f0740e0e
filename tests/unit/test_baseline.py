"""Baseline statistics in a real DuckDB store, and the Mann-Whitney comparison."""

from __future__ import annotations

import math
import random
import statistics

import pytest
from scipy.stats import mannwhitneyu

from migtui.triggers.baseline import compare, compare_values, compute_baseline, load_baselines, mann_whitney_u
from migtui.model import Sample
from migtui.triggers import MemoryMetricView, TriggerEngine, TriggerSpec, Condition

T0 = 1_800_000_000.0


def fill(store, run_id, phase, metric, values, *, source="api", labels=None, start=T0):
    store.add_samples(run_id, phase, [Sample(start + i, source, metric, float(v), dict(labels or {}))
                                      for i, v in enumerate(values)])


@pytest.fixture
def store(migtui_store):
    return migtui_store


def test_compute_and_load_baseline_statistics(store):
    run = store.create_run("t")
    rnd = random.Random(7)
    lat = [100 + rnd.random() * 50 for _ in range(200)]
    fill(store, run, "baseline", "api.latency_p95", lat)
    fill(store, run, "baseline", "pg.tables.n_dead_tup", [10, 20, 30, math.nan], source="db",
         labels={"table": "orders"})
    fill(store, run, "baseline", "pg.tables.n_dead_tup", [5, 5], source="db", labels={"table": "users"})
    fill(store, run, "migration", "api.latency_p95", [9999] * 10)  # other phase: not in the baseline
    store.flush()

    assert compute_baseline(store.con, run, "baseline") == 3
    assert compute_baseline(store.con, run, "baseline") == 3  # recomputing replaces, never duplicates
    b = load_baselines(store.con, run, "baseline")
    assert set(b) == {("api", "api.latency_p95", ()), ("db", "pg.tables.n_dead_tup", (("table", "orders"),)),
                      ("db", "pg.tables.n_dead_tup", (("table", "users"),))}
    st = b[("api", "api.latency_p95", ())]
    assert st.n == 200
    assert st.mean == pytest.approx(statistics.fmean(lat))
    assert st.stddev == pytest.approx(statistics.stdev(lat))
    assert st.min == min(lat) and st.max == max(lat)
    qs = statistics.quantiles(lat, n=100, method="inclusive")
    assert st.p50 == pytest.approx(statistics.median(lat))
    assert st.p95 == pytest.approx(qs[94]) and st.p99 == pytest.approx(qs[98])
    orders = b[("db", "pg.tables.n_dead_tup", (("table", "orders"),))]
    assert orders.n == 3 and orders.mean == 20.0  # NaN left out
    assert store.con.execute("SELECT count(*) FROM baselines").fetchone()[0] == 3


def test_stored_baseline_drives_a_relative_trigger(store):
    run = store.create_run("t")
    fill(store, run, "baseline", "api.latency_p95", [200.0 + (i % 5) for i in range(50)])
    store.flush()
    compute_baseline(store.con, run)
    view = MemoryMetricView()
    view.set_baselines(load_baselines(store.con, run))
    spec = TriggerSpec(name="slow", metric="api.latency_p95", condition=Condition("above", 1.5), basis="ratio",
                       stat="p95", action="pause")
    eng = TriggerEngine([spec])
    view.add([Sample(T0, "api", "api.latency_p95", 250.0)])
    assert eng.evaluate(T0, view) == []
    view.add([Sample(T0 + 2, "api", "api.latency_p95", 400.0)])
    (tr,) = eng.evaluate(T0 + 2, view)
    assert tr.state == "firing" and tr.requested == "pause" and tr.score == pytest.approx(400 / 204)  # p95 of 200..204


def test_mann_whitney_matches_scipy_with_ties_and_all_alternatives():
    rnd = random.Random(3)
    cases = [([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]), ([1, 1, 1, 2], [1, 2, 2, 2, 3]), ([3.0], [1.0, 2.0])]
    for _ in range(60):
        x = [rnd.choice([0, 1, 2, 3, 5, 8]) + (rnd.random() if rnd.random() < 0.5 else 0)
             for _ in range(rnd.randint(2, 40))]
        y = [rnd.choice([0, 1, 2, 3, 4]) for _ in range(rnd.randint(2, 40))]
        cases.append((x, y))
    for x, y in cases:
        for alt in ("two-sided", "greater", "less"):
            mine = mann_whitney_u(x, y, alternative=alt)
            ref = mannwhitneyu(x, y, alternative=alt, method="asymptotic", use_continuity=True)
            assert mine.u == pytest.approx(float(ref.statistic))
            assert mine.p_value == pytest.approx(float(ref.pvalue), rel=1e-9, abs=1e-12), (x, y, alt)


def test_compare_post_with_baseline(store):
    run = store.create_run("t")
    rnd = random.Random(11)
    fill(store, run, "baseline", "api.latency_p95", [rnd.gauss(200, 10) for _ in range(60)])
    fill(store, run, "post", "api.latency_p95", [rnd.gauss(260, 10) for _ in range(60)], start=T0 + 1000)
    fill(store, run, "baseline", "api.rps", [rnd.gauss(50, 5) for _ in range(60)])
    fill(store, run, "post", "api.rps", [rnd.gauss(50, 5) for _ in range(60)], start=T0 + 1000)
    fill(store, run, "baseline", "pg.locks.waiting", [0, 1, 0])
    fill(store, run, "post", "pg.locks.waiting", [5, 6, 7], start=T0 + 1000)
    store.flush()
    res = {c.metric: c for c in compare(store.con, run, min_samples=10)}
    lat = res["api.latency_p95"]
    assert lat.verdict == "differs" and lat.shift == "up" and lat.p_value < 1e-6
    assert lat.delta == pytest.approx(lat.mean - lat.baseline_mean) and lat.ratio == pytest.approx(lat.mean / lat.baseline_mean)
    assert res["api.rps"].verdict == "same" and res["api.rps"].p_value > 0.05
    locks = res["pg.locks.waiting"]
    assert locks.verdict == "too few samples" and locks.p_value is None
    assert locks.notes == ["need at least 10 samples on each side (baseline 3, post 3)"]
    # direction: a latency *drop* is not a regression when only increases count
    down = {c.metric: c for c in compare(store.con, run, min_samples=10,
                                         direction={"api.latency_p95": "decrease"})}
    assert down["api.latency_p95"].verdict == "same" and down["api.latency_p95"].shift == "up"


def test_compare_against_another_runs_baseline(store):
    base = store.create_run("before")
    fill(store, base, "baseline", "m", list(range(20)))
    run = store.create_run("after", baseline_of=base)
    fill(store, run, "post", "m", list(range(100, 120)))
    store.flush()
    (c,) = compare(store.con, run, baseline_run=base)
    assert c.verdict == "differs" and c.baseline_n == 20 and c.n == 20


def test_compare_values_edge_cases():
    assert compare_values([1.0] * 12, [1.0] * 12)[0] == "same"  # identical: p = 1
    assert compare_values([1, 2], [3, 4], min_samples=3)[0] == "too few samples"
    verdict, res, shift = compare_values(list(range(10)), [v + 100 for v in range(10)], direction="increase")
    assert verdict == "differs" and shift == "up" and res is not None and res.p_value < 0.001
    with pytest.raises(ValueError):
        compare_values([1], [2], direction="sideways")
