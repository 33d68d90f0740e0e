"""What one trigger sees at one tick: the samples of its metric that match its source and labels,
checked for collector errors, missing, stale and NaN data, scored against the baseline for relative
rules (ratio, delta, z-score) and aggregated across series."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from migtui.model import Sample
from migtui.triggers.rules import DEFAULT_BASELINE_MIN_SAMPLES, TriggerSpec, fmt_num
from migtui.triggers.view import MetricView


@dataclass
class Observation:
    """What one trigger sees this tick."""

    kind: str  # value | policy | wait
    value: float | None = None
    score: float | None = None
    ts: float | None = None
    reason: str = ""
    policy: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    source: str = ""
    code: str = ""  # error | no_data | stale | nan | baseline (why a policy applies)



def observe(spec: TriggerSpec, now: float, view: MetricView, *, in_grace: bool,
            default_max_age: float) -> Observation:
    """What ``spec`` sees at ``now``: a value and its score, a policy to apply (collector error, no
    data, stale, NaN, no baseline) or ``wait`` (no data yet while ``in_grace``)."""
    samples = [s for s in view.latest(spec.metric)
               if (spec.source is None or s.source == spec.source)
               and all(s.labels.get(k) == v for k, v in spec.labels.items())]
    # collector errors first: they explain missing or old data
    sources = [spec.source] if spec.source else sorted({s.source for s in samples})
    for src in sources:
        status = view.source_status(src)
        if status is not None and not status.ok and status.consecutive_errors >= spec.error_limit:
            return Observation("policy", policy=spec.on_error, source=src, code="error",
                        reason=f"source {src} failing: {status.error or 'error'}")
    if not samples:
        if in_grace:
            return Observation("wait", reason="waiting for data")
        return Observation("policy", policy=spec.no_data, reason="no data", code="no_data")
    max_age = spec.max_age if spec.max_age is not None else default_max_age
    fresh = [s for s in samples if now - s.ts <= max_age]
    if not fresh:
        newest = max(s.ts for s in samples)
        return Observation("policy", policy=spec.stale, code="stale", reason=f"stale: newest sample {fmt_num(now - newest)}s old "
                    f"(max_age {fmt_num(max_age)}s)")
    numeric = [s for s in fresh if not (isinstance(s.value, float) and math.isnan(s.value))]
    if not numeric:
        return Observation("policy", policy=spec.nan, reason="value is NaN", code="nan")
    scored: list[tuple[float, Sample]] = []
    missing: str = ""
    for s in numeric:
        score, why = _score(spec, s, view)
        if score is None:
            missing = missing or why
            continue
        scored.append((score, s))
    if not scored:
        return Observation("policy", policy=spec.no_data, reason=missing or "no data", code="baseline")
    if spec.min_samples and not spec.relative:
        enough = [(sc, s) for sc, s in scored
                  if len(view.recent(s.source, s.metric, s.labels)) >= spec.min_samples]
        if not enough:
            return Observation("policy", policy=spec.no_data, code="no_data",
                        reason=f"fewer than {spec.min_samples} samples so far")
        scored = enough
    score, sample = _aggregate(spec, scored)
    ts = max(s.ts for _, s in scored)
    value = sample.value if sample is not None else score
    labels = dict(sample.labels) if sample is not None else {}
    src = sample.source if sample is not None else ""
    return Observation("value", value=value, score=score, ts=ts, labels=labels, source=src)

def _score(spec: TriggerSpec, s: Sample, view: MetricView) -> tuple[float | None, str]:
    v = float(s.value)
    if spec.basis == "value":
        return v, ""
    b = view.baseline(s.source, s.metric, s.labels)
    need = spec.min_samples or DEFAULT_BASELINE_MIN_SAMPLES
    if b is None:
        return None, "no baseline"
    if b.n < need:
        return None, f"baseline has {b.n} samples (min_samples {need})"
    if spec.basis == "zscore":
        if b.mean is None:
            return None, "no baseline"
        sd = max(b.stddev or 0.0, spec.min_stddev)
        diff = v - b.mean
        if sd == 0:
            return (0.0 if diff == 0 else math.copysign(math.inf, diff)), ""
        return diff / sd, ""
    ref = b.stat(spec.stat or "mean")
    if ref is None:
        return None, f"baseline {spec.stat} unknown"
    if spec.basis == "delta":
        return v - ref, ""
    if ref == 0:
        return (1.0 if v == 0 else math.copysign(math.inf, v)), ""
    return v / ref, ""

def _aggregate(spec: TriggerSpec, scored: list[tuple[float, Sample]]) -> tuple[float, Sample | None]:
    agg = spec.aggregate
    if len(scored) == 1:
        return scored[0]
    if agg == "worst":
        return max(scored, key=lambda p: spec.condition.badness(p[0]))
    if agg == "max":
        return max(scored, key=lambda p: p[0])
    if agg == "min":
        return min(scored, key=lambda p: p[0])
    total = math.fsum(p[0] for p in scored)
    return (total / len(scored) if agg == "avg" else total), None
