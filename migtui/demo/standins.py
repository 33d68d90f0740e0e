"""Local stand-ins for the feature-flag and A/B provider plugins, and the migration's progress.

They are ordinary in-process migtui plugins (registered with ``PluginHost(extra_plugins=...)``)
that add three source types, used only by the demo's config:

``demo_flags``
    ``flag.enabled`` and ``flag.rollout`` (0..1) per flag (label ``flag``), and
    ``flag.evaluations_per_s``; panel kind ``flags``.
``demo_ab``
    ``ab.visitors``, ``ab.conversions``, ``ab.conversion_rate`` per variant (label ``variant``), and
    ``ab.uplift``, ``ab.p_value``, ``ab.chance_to_beat_control``; panel kind ``ab``.
``demo_migration``
    what the scripted migration itself reports (the way a migration tool's progress table would):
    ``backfill.step``, ``backfill.rows_done``, ``backfill.done_ratio``, ``backfill.rows_per_s``,
    ``backfill.paused``; panel kind ``data``.

A real provider plugin would read the same numbers from LaunchDarkly, Unleash, GrowthBook...
"""

from __future__ import annotations

import math
from typing import Any, Iterable

from migtui.config import Field, Schema, validate
from migtui.hookspecs import hookimpl
from migtui.model import MetricSpec, PanelSpec, Sample

_OPTIONS = Schema({
    "type": Field("str", required=True),
    "name": Field("str"),
    "interval": Field("duration", minimum=0.1, doc="How often to report (default: the config's interval)."),
})


class _Base:
    timeout = 2.0

    def __init__(self, ctx: Any, demo: Any) -> None:
        opts = validate(_OPTIONS, ctx.options, ctx.path)
        self.name = ctx.name
        self.interval = float(opts.get("interval") or ctx.config.interval)
        self.demo = demo

    def close(self) -> None:
        pass


class FlagSource(_Base):
    def __init__(self, ctx: Any, demo: Any) -> None:
        super().__init__(ctx, demo)
        self._prev: tuple[float, int] | None = None

    def collect(self, ctx: Any) -> Iterable[Sample]:
        now = ctx.now
        total, _ = self.demo.service.totals()
        rate = math.nan
        if self._prev is not None and now > self._prev[0]:
            rate = (total - self._prev[1]) / (now - self._prev[0])
        self._prev = (now, total)
        out = [Sample(now, self.name, "flag.evaluations_per_s", rate)]
        for flag, (enabled, pct) in sorted(self.demo.flags.snapshot().items()):
            labels = {"flag": flag}
            out.append(Sample(now, self.name, "flag.enabled", 1.0 if enabled else 0.0, labels))
            out.append(Sample(now, self.name, "flag.rollout", pct / 100.0 if enabled else 0.0, labels))
        return out

    def panels(self) -> list[PanelSpec]:
        return [PanelSpec("flags", "Feature flags (local stand-in)", metrics=(
            MetricSpec("flag.enabled", "enabled", "", kind="state"),
            MetricSpec("flag.rollout", "rollout", "%", kind="state"),
            MetricSpec("flag.evaluations_per_s", "evaluations", "/s", kind="counter"),
        ), source=self.name)]


def two_proportion(v_a: int, c_a: int, v_b: int, c_b: int) -> tuple[float, float, float]:
    """(uplift of b over a, two-sided p-value, chance that b beats a) with a normal approximation."""
    if v_a <= 0 or v_b <= 0:
        return math.nan, math.nan, math.nan
    p_a, p_b = c_a / v_a, c_b / v_b
    uplift = (p_b - p_a) / p_a if p_a > 0 else math.nan
    pooled = (c_a + c_b) / (v_a + v_b)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / v_a + 1 / v_b))
    p_value = math.erfc(abs(p_b - p_a) / se_pooled / math.sqrt(2)) if se_pooled > 0 else math.nan
    se = math.sqrt(p_a * (1 - p_a) / v_a + p_b * (1 - p_b) / v_b)
    beat = 0.5 * math.erfc(-(p_b - p_a) / se / math.sqrt(2)) if se > 0 else math.nan
    return uplift, p_value, beat


class ABSource(_Base):
    metric_kinds = (MetricSpec("ab.conversions", "conversions", kind="counter"),)

    def collect(self, ctx: Any) -> Iterable[Sample]:
        now = ctx.now
        visits, orders = self.demo.workload.ab.snapshot()
        out = []
        for variant in ("control", "treatment"):
            labels = {"variant": variant}
            v, c = visits.get(variant, 0), orders.get(variant, 0)
            out.append(Sample(now, self.name, "ab.visitors", float(v), labels))
            out.append(Sample(now, self.name, "ab.conversions", float(c), labels))
            out.append(Sample(now, self.name, "ab.conversion_rate", c / v if v else math.nan, labels))
        uplift, p_value, beat = two_proportion(visits["control"], orders["control"],
                                               visits["treatment"], orders["treatment"])
        out.append(Sample(now, self.name, "ab.uplift", uplift))
        out.append(Sample(now, self.name, "ab.p_value", p_value))
        out.append(Sample(now, self.name, "ab.chance_to_beat_control", beat))
        return out

    def panels(self) -> list[PanelSpec]:
        return [PanelSpec("ab", "A/B test: checkout-button (local stand-in)", metrics=(
            MetricSpec("ab.conversion_rate", "conversion", "%", kind="state"),
            MetricSpec("ab.uplift", "uplift", "%", kind="state"),
            MetricSpec("ab.p_value", "p-value", "", kind="state"),
            MetricSpec("ab.chance_to_beat_control", "chance to beat control", "%", kind="state"),
            MetricSpec("ab.visitors", "visitors", "", kind="counter"),
        ), source=self.name)]


class MigrationSource(_Base):
    def __init__(self, ctx: Any, demo: Any) -> None:
        super().__init__(ctx, demo)
        self._prev: tuple[float, int] | None = None

    def collect(self, ctx: Any) -> Iterable[Sample]:
        now = ctx.now
        mig = self.demo.migration
        if mig is None:
            return []
        st = mig.state
        rate = math.nan
        if self._prev is not None and now > self._prev[0]:
            rate = (st.rows_done - self._prev[1]) / (now - self._prev[0])
        self._prev = (now, st.rows_done)
        return [
            Sample(now, self.name, "backfill.step", float(st.step_no)),
            Sample(now, self.name, "backfill.rows_done", float(st.rows_done)),
            Sample(now, self.name, "backfill.done_ratio", st.rows_done / st.rows_total if st.rows_total else 0.0),
            Sample(now, self.name, "backfill.rows_per_s", rate),
            Sample(now, self.name, "backfill.paused", 1.0 if st.paused else 0.0),
        ]

    def panels(self) -> list[PanelSpec]:
        return [PanelSpec("data", "Backfill: orders.total_cents", metrics=(
            MetricSpec("backfill.done_ratio", "done", "%", kind="progress"),
            MetricSpec("backfill.rows_per_s", "rows/s", "/s", kind="progress"),
            MetricSpec("backfill.rows_done", "rows done", "", kind="progress"),
            MetricSpec("backfill.paused", "paused", "", warn=1, kind="state"),
            MetricSpec("backfill.step", "step (0 baseline .. 5 post)", "", kind="progress"),
        ), source=self.name)]


class DemoPlugin:
    """The in-process plugin object; ``demo`` has ``service``, ``flags``, ``workload`` and ``migration``."""

    __name__ = "migtui.demo.standins"
    __version__ = "demo"

    def __init__(self, demo: Any) -> None:
        self.demo = demo

    @hookimpl
    def migtui_source_types(self, register: Any) -> None:
        demo = self.demo
        register("demo_flags", lambda ctx: FlagSource(ctx, demo),
                 doc="Demo stand-in for a feature-flag provider: flag.enabled, flag.rollout.")
        register("demo_ab", lambda ctx: ABSource(ctx, demo),
                 doc="Demo stand-in for an A/B provider: ab.conversion_rate, ab.p_value per variant.")
        register("demo_migration", lambda ctx: MigrationSource(ctx, demo),
                 doc="The demo's scripted migration: step and backfill progress.")


PLUGIN_NAME = "demo"
