"""The cockpit's pure views: blocking tree, progress, numbers, sparklines (no Textual needed)."""

from __future__ import annotations

import math
from types import SimpleNamespace

from migtui.engine import Series
from migtui.tui.view import (blocking_forest, count_blocked, display_unit, eta_from_points, fmt_delta, fmt_value,
                             node_label, progress_rows, rows_from_series, sparkline, trigger_rows,
                             worst_trigger)


def test_blocking_tree_is_rooted_at_the_blocker() -> None:
    # the shape of sql/postgres/blocking_tree.sql: roots have depth 0 and no blocked_by
    rows = [
        {"root_pid": 10, "depth": 0, "pid": 10, "blocked_by": [], "state": "idle in transaction",
         "application_name": "report", "xact_seconds": 95.0},
        {"root_pid": 10, "depth": 1, "pid": 20, "blocked_by": [10], "application_name": "alembic",
         "wait_seconds": 42.0, "query": "ALTER TABLE orders ADD COLUMN x int"},
        {"root_pid": 10, "depth": 2, "pid": 30, "blocked_by": [20, 10], "wait_seconds": 3.0},
        {"root_pid": 10, "depth": 2, "pid": 31, "blocked_by": "{20}", "wait_seconds": 2.0},
    ]
    [root] = blocking_forest(rows)
    assert root.pid == 10 and [c.pid for c in root.children] == [20]
    assert sorted(c.pid for c in root.children[0].children) == [30, 31]
    assert count_blocked(root) == 3
    label = node_label(root, root=True).plain
    assert "pid 10" in label and "idle in transaction" in label and "blocks 3" in label
    migration = node_label(root.children[0], migration_apps=("alembic*",)).plain
    assert migration.startswith("MIGRATION pid 20") and "waits 42s" in migration


def test_blocking_tree_survives_a_missing_blocker_row_and_a_cycle() -> None:
    forest = blocking_forest([{"pid": 5, "blocked_by": [4]}, {"pid": 6, "blocked_by": [7]},
                              {"pid": 7, "blocked_by": [6]}])
    pids = sorted(n.pid for n in forest)
    assert 4 in pids  # the blocker that is not a row becomes a bare root
    assert count_blocked(next(n for n in forest if n.pid == 4)) == 1
    assert {6, 7} & set(pids)  # a deadlock cycle is broken, nothing is lost
    assert sum(1 + count_blocked(n) for n in forest) == 4  # pids 4, 5, 6, 7


def test_progress_from_a_snapshot_and_from_a_metrics_query() -> None:
    [p] = progress_rows([{"kind": "backfill", "what": "orders", "phase": "copying", "done": 10, "total": 40,
                          "percent": 25.0, "eta_seconds": 90.0}])
    assert (p.label, p.phase, p.percent, p.eta) == ("orders", "copying", 25.0, 90.0)
    [p] = progress_rows([{"pid": 1, "index_name": "i", "blocks_done": 1, "blocks_total": 4}])
    assert p.percent == 25.0 and p.eta is None

    ser = Series("progress_create_index.blocks_pct", {"pid": "12", "index": "orders_x_idx",
                                                      "phase": "building index: scanning table"}, "db")
    ser.points.extend([(100.0, 10.0), (110.0, 20.0), (120.0, 30.0)])
    old = Series("progress_create_index.blocks_pct", {"pid": "9", "index": "done_idx"}, "db")
    old.points.append((10.0, 100.0))
    engine = SimpleNamespace(series={("db", s.metric, tuple(sorted(s.labels.items()))): s for s in (ser, old)})
    rows = rows_from_series(engine, "progress_create_index", "db", now=121.0)
    assert rows is not None and len(rows) == 1  # the finished build is too old to show
    [p] = progress_rows(rows)
    assert p.label == "orders_x_idx" and p.percent == 30.0 and p.eta == 70.0
    assert rows_from_series(engine, "progress_copy", "db", now=121.0) is None


def test_numbers_units_and_deltas() -> None:
    assert fmt_value(0.42, "%") == "42.0%"
    assert fmt_value(42.0, display_unit("migration.percent", "%")) == "42.0%"
    assert fmt_value(3 * 1024 * 1024, "B") == "3.0MiB"
    assert fmt_value(130.0, "s") == "2m10s"
    assert fmt_value(math.nan) == "-" and fmt_value(None) == "-"
    assert fmt_delta(150.0, 100.0) == "+50%"
    assert fmt_delta(None, 1.0) == "-"
    # the oldest transaction 0.0s against a baseline of 0.04s (both shown as 0.0s): no change to read
    assert fmt_value(0.0, "s") == fmt_value(0.04, "s") and fmt_delta(0.0, 0.04, "s") == "0"
    assert fmt_delta(0.5, 0.04, "s") != "0"
    assert eta_from_points([(0, 50.0)]) is None


def test_sparkline_dims_values_at_or_below_the_baseline() -> None:
    line = sparkline([1.0, 5.0, 9.0, math.nan], 10, style="red", baseline=5.0)
    assert line.plain[0] == "▁" and line.plain[-1] == " " and len(line.plain) == 4

    def styles_at(i: int) -> set[str]:
        return {str(span.style) for span in line.spans if span.start <= i < span.end}

    assert styles_at(0) == styles_at(1) == {"dim"} and styles_at(2) == {"red"} and styles_at(3) == set()


def test_sparkline_bars_of_one_style_are_one_span() -> None:
    # a span per bar made every redraw of the metrics table split and style each bar on its own
    line = sparkline([1.0, 2.0, 3.0, 4.0] * 20, 60, style="green", baseline=0.0)
    assert len(line.plain) == 60 and [(s.start, s.end, str(s.style)) for s in line.spans] == [(0, 60, "green")]


def test_trigger_rows_from_the_frame_and_the_worst_state() -> None:
    status = ({"name": "a", "state": "pending", "action": "rollback", "since": 1.0, "value": 3.0},
              {"name": "b", "state": "firing", "action": "pause", "value": "NaN"},
              {"name": "c", "state": "ok", "action": "warn"})

    assert trigger_rows(SimpleNamespace(triggers=None)) is None
    rows = trigger_rows(SimpleNamespace(triggers=status), now=5.0)
    worst = worst_trigger(rows)
    assert worst is not None and worst.name == "b" and worst.display_state == "pause"
    assert rows[1].value is None


def test_metric_rows_of_each_new_frame_show_its_values() -> None:
    # series are grouped by metric once for frames of the same series (read-only copies): the next frame's
    # changed values and new series still show, other sources' series never
    from types import MappingProxyType

    from migtui.engine.frame import SeriesTail
    from migtui.model import MetricSpec, PanelSpec
    from migtui.tui.view import metric_rows

    panel = PanelSpec("schema", "Schema", metrics=(MetricSpec("pg.lock_waiters", "lock waiters"),
                                                   MetricSpec("pg.conn.*")), source="db")

    def frame(waiters: float, conns: dict[str, float]) -> SimpleNamespace:
        tails = [SeriesTail("db", "pg.lock_waiters", {}, ((1.0, waiters),)),
                 SeriesTail("replica", "pg.lock_waiters", {}, ((1.0, 99.0),)),
                 *(SeriesTail("db", f"pg.conn.{k}", {}, ((1.0, v),)) for k, v in conns.items())]
        series = MappingProxyType({(t.source, t.metric, ()): t for t in tails})
        return SimpleNamespace(series=series, baselines={}, sources={})

    first = metric_rows(frame(1.0, {"active": 3.0}), panel, None, now=1.0)
    assert [(r.title, r.value) for r in first] == [("lock waiters", 1.0), ("active", 3.0)]
    second = metric_rows(frame(7.0, {"active": 4.0, "idle": 2.0}), panel, None, now=1.0)
    assert [(r.title, r.value) for r in second] == [("lock waiters", 7.0), ("active", 4.0), ("idle", 2.0)]
    third = metric_rows(frame(9.0, {"active": 5.0, "idle": 1.0}), panel, None, now=1.0)  # same series, new values
    assert [(r.title, r.value) for r in third] == [("lock waiters", 9.0), ("active", 5.0), ("idle", 1.0)]
