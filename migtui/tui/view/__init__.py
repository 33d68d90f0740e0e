"""Pure views over the engine's frame for the cockpit. No Textual here (Rich only), so it is cheap to test.

Everything here reads a :class:`migtui.engine.Frame` (``engine.frame``): immutable, so the UI thread
draws it while the engine thread builds the next one.

Modules: :mod:`.fmt` (numbers, ages, deltas, sparklines, state colours), :mod:`.triggers` (trigger
rows), :mod:`.metrics` (metric rows and baselines), :mod:`.panels` (panel groups, titles, source
badges), :mod:`.tables` (table cells and columns), :mod:`.progress` (progress rows and ETAs),
:mod:`.blocking` (the blocking tree). The names below are the package's public ones.
"""

from migtui.model import fmt_age
from migtui.tui.view.blocking import BlockNode, blocking_forest, count_blocked, is_migration_session, node_label
from migtui.tui.view.fmt import (SPARK, STATE_STYLE, as_number, display_unit, fmt_coarse, fmt_delta, fmt_elapsed,
                                 fmt_left, fmt_value, sparkline)
from migtui.tui.view.metrics import MetricRow, baseline_value, metric_rows, source_reachable
from migtui.tui.view.panels import KIND_ORDER, KIND_TITLES, kind_title, panels_by_kind, source_badge
from migtui.tui.view.progress import (ProgressRow, eta_from_points, progress_bar, progress_rows, rows_from_series,
                                      with_eta)
from migtui.tui.view.tables import cell, cell_str, visible_columns, wrapped_cell
from migtui.tui.view.triggers import TriggerRow, trigger_rows, trigger_state_for_metric, worst_trigger

__all__ = ["BlockNode", "KIND_ORDER", "KIND_TITLES", "MetricRow", "ProgressRow", "SPARK", "STATE_STYLE", "TriggerRow",
           "as_number", "baseline_value", "blocking_forest", "cell", "cell_str", "wrapped_cell", "count_blocked", "display_unit",
           "eta_from_points", "fmt_age", "fmt_coarse", "fmt_delta", "fmt_elapsed", "fmt_left", "fmt_value",
           "is_migration_session", "kind_title", "metric_rows", "node_label", "panels_by_kind", "progress_bar",
           "progress_rows", "rows_from_series", "source_badge", "source_reachable", "sparkline",
           "trigger_rows", "trigger_state_for_metric", "visible_columns", "with_eta", "worst_trigger"]
