"""An in-process test plugin: a ``fixed`` source producing fixed values (for snapshot tests).

Registered as ``undo-fixed`` through ``PluginHost(extra_plugins=...)``. Values depend only on the
collect context's ``now`` and a tick counter, so an engine ticked by hand with a fixed clock draws
the same screen every time.
"""

from __future__ import annotations

import math
from typing import Any

from migtui.hookspecs import hookimpl
from migtui.model import MetricSpec, PanelSpec, Sample, TableSnapshot, TableSpec
from migtui.sqlcatalog import load_catalog

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def _catalog_tables(*names: str) -> tuple[TableSpec, ...]:
    """Tables as the built-in catalog's headers declare them (title, drawing, columns)."""
    catalog = load_catalog()
    return tuple(catalog.get(n).display.table(n) for n in names)  # type: ignore[union-attr]


class FixedCollector:
    def __init__(self, name: str) -> None:
        self.name = name
        self.interval = 2.0
        self.timeout = 5.0
        self.n = 0

    def collect(self, ctx: Any) -> list[Any]:
        self.n += 1
        i, now = self.n, ctx.now
        wave = math.sin(i / 3.0)
        out: list[Any] = [
            Sample(now, self.name, "activity_summary.waiting", float(max(0, int(3 + 3 * wave)))),
            Sample(now, self.name, "activity_summary.oldest_xact_seconds", 20.0 + i * 4),
            Sample(now, self.name, "connections.used_ratio", 0.42 + 0.01 * (i % 5)),
            Sample(now, self.name, "database_counters.xact_commit_per_s", 250.0 + 40 * wave),
            Sample(now, self.name, "database_counters.rollback_ratio", 0.01),
            Sample(now, self.name, "api.error_rate", 0.02 + 0.015 * (i / 30)),
            Sample(now, self.name, "api.p95_ms", 180.0 + 5 * i),
            Sample(now, self.name, "api.rps", 1200.0 + 100 * wave),
        ]
        out.append(TableSnapshot(now, self.name, "blocking_tree",
                                 ["root_pid", "depth", "pid", "blocked_by", "waiters", "usename", "application_name",
                                  "state", "wait_event_type", "wait_event", "wait_seconds", "state_seconds",
                                  "xact_seconds", "query"],
                                 [[4100, 0, 4100, [], 2, "app", "billing", "idle in transaction", "Client",
                                   "ClientRead", None, 95.0, 130.0, "UPDATE orders SET total = total + 1 WHERE id = 7"],
                                  [4100, 1, 4200, [4100], 1, "deploy", "alembic", "active", "Lock", "relation", 42.0,
                                   42.0, 42.0, "ALTER TABLE orders ADD COLUMN note text"],
                                  [4100, 2, 4300, [4200], 0, "app", "web", "active", "Lock", "relation", 12.5, 12.5,
                                   12.5, "SELECT * FROM orders WHERE id = 9"]]))
        out.append(TableSnapshot(now, self.name, "lock_waits",
                                 ["pid", "blocking_pids", "wait_seconds", "mode", "relation", "query"],
                                 [[4200, [4100], 42.0, "AccessExclusiveLock", "orders", "ALTER TABLE orders ..."],
                                  [4300, [4200], 12.5, "AccessShareLock", "orders", "SELECT * FROM orders ..."]]))
        out.append(TableSnapshot(now, self.name, "progress_create_index",
                                 ["pid", "index_name", "phase", "blocks_done", "blocks_total", "eta_seconds"],
                                 [[4400, "orders_note_idx", "building index: scanning table", 420, 1000, 130.0]]))
        out.append(TableSnapshot(now, self.name, "long_running",
                                 ["pid", "usename", "application_name", "state", "query_seconds", "query"],
                                 [[4200, "deploy", "alembic", "active", 42.0,
                                   "ALTER TABLE orders ADD COLUMN note text"]]))
        out.append(TableSnapshot(now, self.name, "idle_in_transaction",
                                 ["pid", "usename", "application_name", "state", "idle_seconds", "xact_seconds",
                                  "query"],
                                 [[4100, "app", "billing", "idle in transaction", 95.0, 130.0, "UPDATE orders ..."]]))
        return out

    def panels(self) -> list[PanelSpec]:
        return [
            PanelSpec("schema", "Schema", metrics=(
                MetricSpec("activity_summary.waiting", "lock waiters", "", warn=1, critical=5),
                MetricSpec("activity_summary.oldest_xact_seconds", "oldest xact", "s", warn=60, critical=300),
                MetricSpec("connections.used_ratio", "connections used", "%", warn=0.8, critical=0.95),
            ), tables=_catalog_tables("blocking_tree", "lock_waits", "progress_create_index", "long_running"),
              source=self.name),
            PanelSpec("data", "Data", metrics=(
                MetricSpec("database_counters.xact_commit_per_s", "commits/s", "/s"),
                MetricSpec("database_counters.rollback_ratio", "rollback ratio", "", warn=0.05, critical=0.2),
            ), tables=_catalog_tables("idle_in_transaction"), source=self.name),
            PanelSpec("api", "API", metrics=(
                MetricSpec("api.error_rate", "error rate", "%", warn=0.05, critical=0.1),
                MetricSpec("api.p95_ms", "p95 latency", "ms", warn=2000),
                MetricSpec("api.rps", "requests/s", "/s"),
            ), source=self.name),
        ]

    def close(self) -> None:
        pass


class FixedPlugin:
    """The ``fixed`` source type."""

    @hookimpl
    def migtui_source_types(self, register: Any) -> None:
        register("fixed", lambda ctx: FixedCollector(ctx.name), doc="fixed test values")


TRIGGERS = """\
triggers:
  - {name: error-rate-pause, metric: api.error_rate, above: 0.03, action: pause}
  - {name: p95-warn, metric: api.p95_ms, ratio_to_baseline: {stat: p95, above: 1.3}, for: 60s, action: warn}
  - {name: lock-waiters, metric: activity_summary.waiting, above: 5, for: 30s, action: rollback}
  - {name: rps-vs-baseline, metric: api.rps, ratio_to_baseline: {below: 0.5}, min_samples: 50, action: warn}
"""
"""Over the fixed values: the error rate passes 0.03 at tick 21 (firing, asks for a pause that is
not configured), p95 passes 1.3x its baseline p95 at tick 24 and stays pending (for: 60s), the lock
waiters never pass 5 (ok), and the rps rule wants 50 baseline samples where there are 10
(inconclusive)."""


def fixed_engine(tmp_path: Any, *, ticks: int = 30, baseline_ticks: int = 10) -> Any:
    """An engine over the ``fixed`` source with a fixed clock, ticked ``ticks`` times by hand, with
    the real trigger runtime and baseline keeper: the first ``baseline_ticks`` ticks are the baseline
    phase; leaving it captures the baseline into the engine's store; the rest is the migration phase.

    Deterministic: the run id is fixed, and events stamped with the wall clock (the engine stamps
    an event when it is created) are re-stamped with the engine's fixed clock."""
    from unittest import mock

    from migtui.config import load_config
    from migtui.engine import Engine
    from migtui.plugins import PluginHost
    from migtui.store import Store

    cfg = tmp_path / "fixed.yaml"
    cfg.write_text("name: orders-migration\ninterval: 2s\nsources:\n  - {type: fixed, name: demo}\n" + TRIGGERS)
    clock = {"now": T0}
    host = PluginHost(load_entry_points=False, extra_plugins=[("undo-fixed", FixedPlugin())])
    with mock.patch("migtui.store.new_run_id", lambda now=None: "20260101T000000-0000"):
        engine = Engine(load_config(cfg), store=Store.open(tmp_path / "fixed.duckdb"), host=host,
                        clock=lambda: clock["now"])

    def restamp() -> None:
        for ev in engine.recent_events:
            if not T0 <= ev.ts <= clock["now"]:
                ev.ts = clock["now"]

    restamp()
    for i in range(ticks):
        clock["now"] = T0 + 2.0 * i
        if i == baseline_ticks:
            engine.set_phase("migration", who="test")  # captures the baseline of the ticks so far
            restamp()
        engine.tick(now=clock["now"], wait=60.0)  # waits for the collector launched at this tick
        restamp()
    engine.clock_box = clock
    return engine
