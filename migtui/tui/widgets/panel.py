"""One panel per migration type (Schema, Data, API, Deployment, Feature flags, A/B tests).

A panel draws the :class:`~migtui.model.PanelSpec` descriptions of every source of its type: the
source's connection state, each metric's current value, baseline and delta with a sparkline of the
last minutes, and the table snapshots the spec names (the blocking tree, lock waits, progress with
percentage and ETA, long-running and idle-in-transaction sessions, or any other table).
"""

from __future__ import annotations

from typing import Any, Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from migtui import safetext
from migtui.model import PanelSpec, TableSpec
from migtui.tui.view import (STATE_STYLE, TriggerRow, cell, cell_str, fmt_age, fmt_delta, fmt_value, metric_rows,
                             progress_bar, progress_rows, rows_from_series, source_badge, sparkline,
                             visible_columns, with_eta, wrapped_cell)
from migtui.tui.widgets._update import set_content
from migtui.tui.widgets.blocking import BlockingTree

MAX_TABLE_ROWS = 50
"""Rows a table shows (the panel scrolls); the rest are counted in a last line."""


class KindPanel(VerticalScroll):
    """All panels of one migration type, stacked (one section per source)."""

    DEFAULT_CSS = """
    KindPanel { height: 1fr; padding: 0 1; overflow-x: hidden; scrollbar-size-vertical: 1; }
    KindPanel .section-title { text-style: bold; color: $accent; margin-top: 1; }
    KindPanel .section-title.first { margin-top: 0; }
    KindPanel .table-title { text-style: bold; margin-top: 1; }
    KindPanel Static { width: 100%; }
    KindPanel #more-hint { dock: bottom; height: 1; background: $panel; color: $text; display: none; }
    KindPanel #more-hint.-shown { display: block; }
    """

    def __init__(self, kind: str, specs: Sequence[PanelSpec], **kw: Any) -> None:
        super().__init__(**kw)
        self.kind = kind
        self.specs = list(specs)

    def compose(self) -> ComposeResult:
        for i, spec in enumerate(self.specs):
            yield Static(safetext.rich(spec.title + (f" · {spec.source}" if spec.source else "")),
                         classes="section-title" + (" first" if i == 0 else ""), id=f"title-{i}")
            yield Static("", id=f"metrics-{i}", classes="metrics")
            for ts in spec.table_specs:
                yield Static(safetext.rich(ts.heading), classes="table-title")
                if ts.render == "tree":
                    yield BlockingTree(id=f"tree-{i}-{ts.name}", classes="blocking-tree")
                else:
                    yield Static(Text("no data yet", style="dim"), id=f"table-{i}-{ts.name}", classes="snapshot")

        yield Static("", id="more-hint")

    def on_resize(self) -> None:
        """Tables are laid out for a width: redraw for the new one (unless the display is frozen)."""
        app: Any = self.app
        if self.display and not getattr(app, "frozen", False) and hasattr(app, "render_now"):
            self.call_after_refresh(app.render_now)
        self.call_after_refresh(self.update_hint)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.update_hint()

    def update_hint(self) -> None:
        """A line at the bottom while sections are below the fold: which ones, and how to scroll there."""
        try:
            hint = self.query_one("#more-hint", Static)
        except Exception:  # noqa: BLE001 - not composed yet, or closing
            return
        bottom = self.scroll_y + self.scrollable_content_region.height
        below = [getattr(w.content, "plain", str(w.content)) for w in self.query(".table-title")
                 if w.virtual_region.y >= bottom - 1] if self.max_scroll_y > self.scroll_y else []
        text = ""
        if self.max_scroll_y > self.scroll_y:
            names = [safetext.one_line(n.split(" (")[0], 24) for n in below]  # "Blocking tree (k cancel…" -> "Blocking tree"
            what = ", ".join(names[:2]) + (f" +{len(names) - 2}" if len(names) > 2 else "") if names else "more rows"
            tabs = list(getattr(self.app, "tab_ids", []))
            key = f"{tabs.index(f'tab-{self.kind}') + 1}, then " if f"tab-{self.kind}" in tabs else ""
            text = f"↓ more below: {what} · {key}PgDn / End"
        if getattr(hint.content, "plain", hint.content) != text:
            hint.update(Text(text, no_wrap=True, overflow="ellipsis"))
        hint.set_class(bool(text), "-shown")

    def show(self, frame: Any, triggers: list[TriggerRow] | None, *, now: float) -> None:
        """Redraw from the engine's frame; only the parts whose content changed are updated."""
        width = max(40, self.size.width - 2)
        snapshots = frame.snapshots
        widgets = self._widgets()
        if not widgets:  # not composed yet, or the app is closing and its widgets are gone: nothing to draw
            return
        for i, spec in enumerate(self.specs):
            title = safetext.rich(spec.title, style="bold")
            if spec.source:
                title.append(f" · {safetext.one_line(spec.source)} ")
                text, style = source_badge(frame, spec.source, now)
                title.append(text, style=style)
            set_content(widgets[f"title-{i}"], title, lambda t=title: t)
            mrows = metric_rows(frame, spec, triggers, now=now) if spec.metrics else []
            set_content(widgets[f"metrics-{i}"], _metrics_key(frame, mrows, width),
                        lambda: render_metrics(frame, spec, triggers, width=width, now=now, rows=mrows))
            for ts in spec.table_specs:
                table = ts.name
                # a panel of one source never shows another source's table (primary vs replica)
                snap = snapshots.get(f"{spec.source}/{table}") if spec.source else snapshots.get(table)
                if ts.render == "tree":
                    tree = widgets[f"tree-{i}-{table}"]
                    tree.migration_apps = migration_apps(frame, spec.source)
                    tree.show_rows(snap.as_dicts() if snap else [], empty="no lock waits" if snap else "no data yet")
                    continue
                widget = widgets[f"table-{i}-{table}"]
                if snap is None:  # a metrics query shown as a table (progress_* are metrics queries)
                    rows = rows_from_series(frame, table, spec.source, now=now)
                    if rows is not None:
                        set_content(widget, ("rows", table, len(rows), repr(rows[:MAX_TABLE_ROWS])),
                                    lambda t=ts, r=rows: render_rows(t, r))
                        continue
                if snap is not None and ts.render == "progress" and snap.rows:  # ETA from the percentage's rate
                    rows = with_eta(snap.as_dicts(), rows_from_series(frame, table, spec.source, now=now))
                    set_content(widget, ("rows", table, len(rows), repr(rows[:MAX_TABLE_ROWS]), tuple(snap.columns)),
                                lambda t=ts, r=rows, c=snap.columns: render_rows(t, r, c))
                    continue
                set_content(widget, _snapshot_key(table, snap, now),
                            lambda t=ts, s=snap: render_snapshot(t, s, width=width, now=now))
        self.call_after_refresh(self.update_hint)  # heights may have changed

    def _widgets(self) -> dict[str, Any]:
        """The panel's widgets by id (looked up once, not with a query per refresh)."""
        cache: dict[str, Any] | None = getattr(self, "_by_id", None)
        if not cache or any(not w.is_attached for w in cache.values()):  # never keep an empty lookup
            cache = self._by_id = {w.id: w for w in self.query("Static, BlockingTree") if w.id}
        return cache

    @property
    def trees(self) -> list[BlockingTree]:
        return list(self.query(BlockingTree))


def migration_apps(frame: Any, source: str) -> tuple[str, ...]:
    """application_name patterns of the migration's sessions: what the panel's source and the
    migration watch declare (:attr:`migtui.api.Collector.session_names`)."""
    pats: list[str] = []
    for name, st in frame.sources.items():
        if name == source or not source or name == "migration":
            pats.extend(st.session_names)
    return tuple(p for p in pats if p)


def _value_widths(rows: Sequence[Any]) -> tuple[int, int, int]:
    """Widths of the now, base and Δ columns: their usual size, or wider, so a number is never cut."""
    return (max([10, *(len(fmt_value(r.value, r.unit)) for r in rows)]),
            max([10, *(len(fmt_value(r.baseline, r.unit)) for r in rows)]),
            max([6, *(len(fmt_delta(r.value, r.baseline, r.unit)) for r in rows)]))


def _spark_width(rows: Sequence[Any], width: int) -> tuple[int, int]:
    name_w = min(24, max((len(r.title) for r in rows), default=10))
    return name_w, max(8, min(180, width - name_w - 9 - sum(_value_widths(rows)) - 13))


def _metrics_key(frame: Any, rows: Sequence[Any], width: int) -> Any:
    """What the metrics table shows (its sparklines draw the last ``spark_w`` points)."""
    _, spark_w = _spark_width(rows, width)
    return (frame.interval, spark_w,
            [(r.title, r.unit, r.value, r.baseline, r.state_label, r.points[-spark_w:]) for r in rows])


def _snapshot_key(name: str, snap: Any, now: float) -> Any:
    if snap is None:
        return None
    if not snap.rows:  # "none (as of 5m ago)"
        return ("empty", fmt_age(now - snap.ts) if snap.ts and now - snap.ts > 10 else "")
    return (name, tuple(snap.columns), len(snap.rows), repr(snap.rows[:MAX_TABLE_ROWS]))


def render_metrics(frame: Any, spec: PanelSpec, triggers: list[TriggerRow] | None, *, width: int,
                   now: float, rows: list[Any] | None = None) -> Table | Text:
    if not spec.metrics:
        return Text("")
    if rows is None:
        rows = metric_rows(frame, spec, triggers, now=now)
    name_w, spark_w = _spark_width(rows, width)
    now_w, base_w, delta_w = _value_widths(rows)
    columns = [("metric", name_w, "left"), ("state", 9, "left"), ("now", now_w, "right"), ("base", base_w, "right"),
               ("Δ", delta_w, "right"), (f"last {int(spark_w * frame.interval // 60) or 1}m", spark_w, "left")]
    cells = []
    for r in rows:
        style = STATE_STYLE.get(r.state, "")
        cells.append([safetext.rich(r.title, style=style if r.state == "stale" else ""), Text(r.state_label, style=style),
                      safetext.rich(fmt_value(r.value, r.unit), style=style if r.state not in ("ok", "nodata") else ""),
                      safetext.rich(fmt_value(r.baseline, r.unit)), safetext.rich(fmt_delta(r.value, r.baseline, r.unit)),
                      sparkline(r.points, spark_w, style=style or "green", baseline=r.baseline)])
    return fixed_table(columns, cells, width)


def fixed_table(columns: Sequence[tuple[str, int, str]], rows: Sequence[Sequence[Text]], width: int) -> Table | Text:
    """What ``Table(box=None, padding=(0, 1), show_edge=False, header_style="bold dim")`` draws for
    columns of a fixed width (``(header, width, justify)``) whose cells never wrap (they end in "…"),
    as one Text when it fits ``width`` (less a scrollbar): the same lines and styles, without laying out
    and rendering each cell on its own (the metrics table is redrawn at every refresh)."""
    if sum(w + 2 for _, w, _ in columns) > width - 1:  # too wide: the Table narrows its columns to fit
        table = Table(box=None, expand=False, padding=(0, 1), show_edge=False, header_style="bold dim")
        for header, w, justify in columns:
            table.add_column(header, justify=justify, width=w, no_wrap=True, overflow="ellipsis")  # type: ignore[arg-type]
        for r in rows:
            table.add_row(*r)
        return table

    def line(cells: Sequence[Text]) -> Text:
        out = Text(end="", no_wrap=True)
        for (_, w, justify), c in zip(columns, cells):
            c = c.copy()
            if justify == "right":
                c.rstrip()
            c.truncate(w, overflow="ellipsis")
            if justify == "right":
                c.pad_left(w - c.cell_len)
            else:
                c.pad_right(w - c.cell_len)
            out.append(" ")
            out.append_text(c)
            out.append(" ")
        return out

    header = line([Text(h) for h, _, _ in columns])
    header.stylize("bold dim")
    return Text("\n", end="", no_wrap=True).join([header, *(line(r) for r in rows)])


def render_snapshot(ts: TableSpec, snap: Any, *, width: int, now: float) -> Any:
    if snap is None:
        return Text("no data yet", style="dim")
    rows = snap.as_dicts()
    age = fmt_age(now - snap.ts) if snap.ts else "-"
    if not rows:
        return Text(f"none (as of {age} ago)" if now - snap.ts > 10 else "none", style="dim")
    return render_rows(ts, rows, snap.columns, width=width)


def render_rows(ts: TableSpec, rows: list[dict[str, Any]], columns: Sequence[str] | None = None, *,
                width: int | None = None) -> Any:
    """A snapshot's rows (or rows built from a metrics query) as a table; progress gets bars and ETA.
    Given the ``width``, text columns that would get fewer than 8 cells are left out (last first,
    ``query`` last of all), so what is shown is readable."""
    if not rows:
        return Text("none", style="dim")
    if ts.render == "progress":
        return render_progress(rows)
    if columns is None:
        columns = list(dict.fromkeys(c for r in rows for c in r))
    cols = visible_columns(ts.columns, columns)
    table = Table(box=None, expand=True, padding=(0, 1), show_edge=False, header_style="bold dim")
    shown = rows[:MAX_TABLE_ROWS]
    wrap = ts.render == "wrap"  # text cells wrap onto more lines instead of ending in "…"
    cols = _fitting_columns(cols, shown, width, wrap=wrap)
    for c in cols:
        # pids and numbers keep their width (a cut pid is useless to `k`/`t` or psql); text columns give way
        # (no_wrap=False lets Rich narrow them; their cells still never wrap, they end in "…")
        num = _is_number_column(c)
        table.add_column(cell(c.replace("_seconds", " s")), justify="right" if num else "left",
                         no_wrap=num, overflow="fold" if wrap else "ellipsis", ratio=3 if c == "query" else None,
                         min_width=max((len(cell_str(r.get(c))) for r in shown), default=1) if num
                         else (_wrap_width(c, shown) if wrap else None))
    for r in shown:
        table.add_row(*[wrapped_cell(r.get(c)) if wrap else cell(r.get(c)) for c in cols])
    if len(rows) > MAX_TABLE_ROWS:
        return Group(table, Text(f"… {len(rows) - MAX_TABLE_ROWS} more", style="dim"))
    return table


def _is_number_column(c: str) -> bool:
    return c.endswith(("_seconds", "_age", "pid", "pids", "_bytes", "_by")) or c == "pid"


WRAP_MIN = 16
"""A wrapped text column is at least this wide (or as wide as its longest cell): narrower, a SQL
excerpt or a blocker's description becomes a column of word fragments, one per line."""


def _wrap_width(c: str, rows: Sequence[dict[str, Any]]) -> int:
    """What a wrapped text column needs: its longest word (at most 20 cells, so a word is never
    folded) and at least ``WRAP_MIN`` cells, or its longest cell when that is shorter."""
    cells = [cell_str(r.get(c), 200) for r in rows]
    word = min(20, max([len(c), *(len(w) for text in cells for w in text.split())]))
    return max(word, min(WRAP_MIN, max([len(c), *map(len, cells)])))


def _fitting_columns(cols: list[str], rows: Sequence[dict[str, Any]], width: int | None, *,
                     wrap: bool = False) -> list[str]:
    """The columns that fit ``width``: the last text columns give way first (``query`` last of all);
    a text column needs 8 cells, or with ``wrap`` its :func:`_wrap_width` (at least 3 columns stay)."""
    if not width:
        return cols
    cols = list(cols)

    def need() -> int:
        return sum(max([len(c), *(len(cell_str(r.get(c))) for r in rows)]) if _is_number_column(c)
                   else (_wrap_width(c, rows) if wrap else 8) for c in cols) + 2 * len(cols)

    while need() > width:
        text = [c for c in cols if not _is_number_column(c)]
        drop = next((c for c in reversed(text) if c != "query"), None) or (text[-1] if text else None)
        if drop is None or len(cols) == (3 if wrap else 1):
            break
        cols.remove(drop)
    return cols


def render_progress(rows: list[dict[str, Any]]) -> Table:
    table = Table(box=None, expand=True, padding=(0, 1), show_edge=False, header_style="bold dim")
    table.add_column("pid", justify="right", no_wrap=True)
    table.add_column("what", ratio=2, no_wrap=False, overflow="ellipsis")  # cells never wrap; the column gives way
    table.add_column("phase", ratio=2, no_wrap=False, overflow="ellipsis")
    table.add_column("progress", no_wrap=True)
    table.add_column("%", justify="right", no_wrap=True)
    table.add_column("ETA", justify="right", no_wrap=True)
    for p in progress_rows(rows)[:MAX_TABLE_ROWS]:
        table.add_row(cell(p.pid), cell(p.label), cell(p.phase), progress_bar(p.percent, 16),
                      f"{p.percent:.0f}%" if p.percent is not None else "-",
                      fmt_age(p.eta) if p.eta is not None else "-")
    return table
