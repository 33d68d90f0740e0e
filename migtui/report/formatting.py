"""How the HTML and Markdown reports write numbers, durations, labels and times."""

from __future__ import annotations

from typing import Any

from migtui.model import fmt_elapsed


def fmt_value(v: float | None) -> str:
    if v is None:
        return "–"
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 1e9:
        return f"{v / 1e9:.3g}G"
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e4:
        return f"{v / 1e3:.3g}k"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 1:
        return f"{v:.3g}"
    return f"{v:.3g}"


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h{m:02d}m{sec:02d}s" if h else f"{m}m{sec:02d}s"


def labels_text(labels: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def ended_unknown(run: dict[str, Any]) -> str:
    """What a report says for a run without an end time: still running, or ended without a record."""
    return "(still running)" if run.get("status") == "running" else "(not recorded)"


def time_of_day(ts: str | None) -> str:
    return ts[11:19] if ts else ""


STATE_STEPS = 6
"""A state with more changes than this reads as first -> last, with the count of changes."""


def fmt_metric(v: float | None, unit: str = "") -> str:
    """A value in its unit: a ``%`` metric is a ratio written as percent (0.07 -> 7.0%)."""
    if v is None:
        return "–"
    if unit == "%":  # the ends of a ratio read as 0% and 100%, the rest with one decimal
        return f"{v * 100:.0f}%" if v in (0.0, 1.0) else f"{v * 100:.1f}%"
    return fmt_value(v) + (f" {unit}" if unit else "")


def shift_text(shift: float, median: float | None, unit: str = "") -> str:
    """'+1.2 ms, +25% on a baseline median of 4.76 ms': a whole phase's shift against the baseline."""
    sign = "+" if shift >= 0 else "-"
    text = f"{sign}{fmt_metric(abs(shift), unit)}"
    if median:
        text += f", {sign}{abs(shift) / abs(median) * 100:.0f}% on a baseline median of {fmt_metric(median, unit)}"
    elif median is not None:
        text += " on a baseline median of 0"
    return text


def verdict_text(s: dict[str, Any]) -> str:
    """'worse during migration (peak 7.0% for 15 s at 00:03:16), same after'."""
    parts = []
    for phase, where in (("migration", "during migration"), ("post", "after")):
        v = (s.get("verdicts") or {}).get(phase) or {}
        text = f"{v.get('verdict', 'no data')} {where}"
        if "peak" in v and v.get("why") == "worst window":  # a burst the whole phase dilutes
            pk = v["peak"]
            secs = f"{pk['seconds']:.0f}" if pk["seconds"] >= 10 else f"{pk['seconds']:.1f}"
            text += (f" (peak {fmt_metric(pk['value'], s.get('unit', ''))} for {secs} s "
                     f"at {fmt_elapsed(pk['at'])})")
        elif v.get("verdict") in ("worse", "better"):  # the whole phase moved: by how much, from what
            text += f" ({shift_text(v['shift'], v.get('baseline_median'), s.get('unit', ''))})"
        parts.append(text)
    verdicts = [((s.get("verdicts") or {}).get(ph) or {}).get("verdict", "no data") for ph in ("migration", "post")]
    if verdicts[0] == verdicts[1] and "(" not in parts[0] + parts[1]:
        return f"{verdicts[0]} during migration and after"
    return ", ".join(parts)


def timeline_text(s: dict[str, Any]) -> str:
    """'0% → 100% at 00:04:31' (a state's changes, a progress's first and last change)."""
    tl = s.get("timeline") or {}
    unit = s.get("unit", "")
    if tl.get("first") is None:
        return "no data"
    if not tl["changes"]:
        return f"{fmt_metric(tl['first'], unit)} throughout"
    n = len(tl["changes"]) + int(tl.get("more") or 0)
    if s["kind"] == "state" and n <= STATE_STEPS:
        steps = [f"{fmt_metric(c['from'], unit)} → {fmt_metric(c['to'], unit)} at {fmt_elapsed(c['at'])}"
                 for c in tl["changes"]]
        return "; ".join(steps) + (f"; {tl['more']} more changes" if tl.get("more") else "")
    a, b = tl["changes"][0], tl["changes"][-1]
    count = f"{n} changes " if s["kind"] == "state" else ""
    return (f"{fmt_metric(tl['first'], unit)} → {fmt_metric(tl['last'], unit)} "
            f"({count}from {fmt_elapsed(a['at'])} to {fmt_elapsed(b['at'])})")
