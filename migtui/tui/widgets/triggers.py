"""The triggers panel: each trigger's state, value against threshold, and the action it takes.

Acknowledged and silenced triggers are marked after the state: ``warn 2m05s ack,silenced 15m``
(narrow: ``warn ack,sil``); who did it is in the event log."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from migtui import safetext
from migtui.tui.view import STATE_STYLE, TriggerRow, cell, fmt_age, fmt_left, fmt_value
from migtui.tui.widgets._update import set_content


class TriggersView(Static):
    """A table of :class:`migtui.tui.view.TriggerRow` (or a note when triggers are not available)."""

    DEFAULT_CSS = """
    TriggersView { height: auto; }
    """

    def show(self, rows: list[TriggerRow] | None, *, now: float) -> None:
        width = self.size.width or 80
        cells = trigger_cells(rows, now=now, width=width)
        set_content(self, cells, lambda: render_triggers(rows, now=now, width=width, cells=cells))


def trigger_cells(rows: list[TriggerRow] | None, *, now: float, width: int = 80) -> list[list[object]] | None:
    """The cells of the triggers table (what it shows), worst first; None without a triggers extension."""
    if rows is None:
        return None
    wide = width >= 60
    out: list[list[object]] = []
    for r in sorted(rows, key=lambda r: (-r.rank, r.name)):
        state = r.display_state
        label = state if wide or state != "inconclusive" else "inconcl."
        if wide and r.state in ("pending", "firing", "inconclusive") and r.since:
            label += f" {fmt_age(now - r.since)}"
        silenced = bool(r.silenced_until and r.silenced_until > now)
        state_cell = safetext.rich(label, style=STATE_STYLE.get(state, ""))
        marks = []  # next to the state, so they show at every width
        if r.acked_by:
            marks.append("ack")
        if silenced:
            marks.append(f"silenced {fmt_left((r.silenced_until or now) - now)}" if wide else "sil")
        if marks:
            state_cell.append(" " + ",".join(marks), style="bold")
        action = r.action + (" (dry-run)" if r.dry_run else "")
        value = fmt_value(r.value)
        if r.action == "throttle" and r.utilization is not None:
            value += f" {r.utilization:.0%}"  # how close to the limit before it throttles
        cells: list[object] = [safetext.rich(r.name), state_cell, safetext.rich(value)]
        if wide:
            cells += [cell(r.threshold), cell(action)]
        out.append(cells)
    return out


def render_triggers(rows: list[TriggerRow] | None, *, now: float, width: int = 80,
                    cells: list[list[object]] | None = None) -> Table | Text:
    """Name, state (with its age), value, threshold and action of each trigger; narrow: name, state
    (a firing trigger's state is its action: warn, pause, rollback) and value."""
    if rows is None:
        return Text("triggers are not loaded (no triggers extension)", style="dim")
    if not rows:
        return Text("no triggers configured (triggers: in the config)", style="dim")
    wide = width >= 60
    if cells is None:
        cells = trigger_cells(rows, now=now, width=width) or []
    table = Table(box=None, expand=True, padding=(0, 1), show_edge=False, header_style="bold")
    # a trigger's name is what `ctl ack` and `ctl silence` take: never cut; the other text columns give
    # way first (their cells end in "…"), and a name longer than a third of the table wraps (fold)
    longest = max((len(r.name) for r in rows), default=8)
    table.add_column("trigger", width=max(8, min(longest, width // 3 if wide else width // 2)), no_wrap=False,
                     overflow="fold")
    table.add_column("state", no_wrap=True, min_width=7, overflow="ellipsis")
    table.add_column("value", justify="right", no_wrap=True, min_width=5)
    if wide:
        table.add_column("threshold", min_width=6, no_wrap=False, overflow="ellipsis")
        table.add_column("action", min_width=4, no_wrap=False, overflow="ellipsis")
    for row in cells:
        table.add_row(*row)  # type: ignore[arg-type]
    return table
