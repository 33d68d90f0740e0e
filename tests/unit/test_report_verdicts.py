"""The verdict rules of a health metric (migtui.report.verdicts) on values whose answer is known."""

from __future__ import annotations

import numpy as np

from migtui.report.verdicts import judge, timeline


def _phase(values: list[float], start: float = 1000.0, step: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(len(values)) * step + start, np.asarray(values, float)


def test_a_short_burst_is_caught_by_the_worst_window_and_named() -> None:
    rng = np.random.default_rng(1)
    base = rng.uniform(0.004, 0.006, 120)
    vals = list(rng.uniform(0.004, 0.006, 120))
    vals[60:75] = [0.07] * 15  # 15 s of 7% errors in a 2-minute phase
    ts, v = _phase(vals)
    out = judge(base, v, ts, p_value=0.45, direction="higher_is_worse")
    assert out["verdict"] == "worse" and out["why"] == "worst window"
    assert out["peak"]["value"] == 0.07 and out["peak"]["seconds"] == 15 and out["peak"]["start"] == 1060


def test_significant_but_within_tolerance_is_same_and_direction_decides() -> None:
    base = np.linspace(100, 110, 60)
    ts, up5 = _phase(list(np.linspace(105, 115, 60)))
    assert judge(base, up5, ts, p_value=0.001, direction="higher_is_worse")["verdict"] == "same"
    ts, up30 = _phase(list(np.linspace(130, 140, 60)))
    assert judge(base, up30, ts, p_value=1e-9, direction="higher_is_worse")["verdict"] == "worse"
    assert judge(base, up30, ts, p_value=1e-9, direction="lower_is_worse")["verdict"] == "better"
    assert judge(base[:5], up30, ts, p_value=None, direction="either")["verdict"] == "no data"


def test_a_state_timeline_keeps_its_last_change() -> None:
    ts = np.arange(40.0)
    vals = np.arange(40.0) % 2  # flips every sample
    tl = timeline(ts, vals, "state")
    assert tl["more"] == 39 - 12 and tl["changes"][-1]["ts"] == 39.0
    progress = timeline(ts, np.arange(40.0), "progress")
    assert [c["ts"] for c in progress["changes"]] == [1.0, 39.0] and progress["last"] == 39.0


def test_a_blip_over_a_flat_zero_baseline_is_worse_only_past_the_metric_s_min_change() -> None:
    """The demo's post phase: one poll out of fifteen saw an active session (the baseline's fifteen
    saw none) and the longest query was 0.16 ms old; against a baseline flat at 0 the tolerance is
    0, so each read 'worse after'. A health metric may declare the smallest change that matters
    (min_change: one session, one second); the 7% error burst, with none declared, stays worse."""
    base = np.zeros(15)
    ts, one_active = _phase([0.0] * 7 + [1.0] + [0.0] * 7, step=2.0)
    assert judge(base, one_active, ts, p_value=0.33, direction="higher_is_worse")["verdict"] == "worse"
    calm = judge(base, one_active, ts, p_value=0.33, direction="higher_is_worse", min_change=1.0)
    assert calm["verdict"] == "same" and calm["min_change"] == 1.0
    ts, waits = _phase([0.0] * 3 + [5.0] * 7 + [0.0] * 5, step=2.0)  # 5 sessions queued for 14 s
    assert judge(base, waits, ts, p_value=0.01, direction="higher_is_worse", min_change=1.0)["verdict"] == "worse"
    ts, errors = _phase([0.0] * 7 + [0.07, 0.071] + [0.0] * 6, step=2.0)
    assert judge(base, errors, ts, p_value=0.2, direction="higher_is_worse")["verdict"] == "worse"
