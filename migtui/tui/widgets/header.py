"""The cockpit's header line: run name, phase, elapsed time, sources, worst trigger state."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from migtui.safetext import one_line
from migtui.tui.view import STATE_STYLE, TriggerRow, fmt_elapsed, source_badge, worst_trigger
from migtui.tui.widgets._update import set_content

PHASE_STYLE = {"baseline": "bold black on cyan", "migration": "bold black on yellow", "post": "bold black on green"}


class CockpitHeader(Static):
    """One line (two on narrow terminals when it does not fit): what the DBA checks at a glance."""

    DEFAULT_CSS = """
    CockpitHeader { height: auto; max-height: 3; background: $panel; padding: 0 1; }
    """

    def show(self, frame: Any, triggers: list[TriggerRow] | None, *, now: float, frozen: bool) -> None:
        width = max(20, (self.size.width or 200) - 2)
        text = render_header(frame, triggers, now=now, frozen=frozen)
        if text.cell_len > width:  # narrow terminal: drop server versions, then fold ok sources
            text = render_header(frame, triggers, now=now, frozen=frozen, versions=False)
        if text.cell_len > width:
            text = render_header(frame, triggers, now=now, frozen=frozen, versions=False, fold_ok=True)
        set_content(self, text, lambda: text)  # once a second (the elapsed time), not every refresh


def render_header(frame: Any, triggers: list[TriggerRow] | None, *, now: float, frozen: bool,
                  versions: bool = True, fold_ok: bool = False) -> Text:
    """The header of a :class:`migtui.engine.Frame`."""
    phase = frame.phase.value
    t = Text()
    t.append(one_line(frame.name), style="bold underline")
    t.append(" ")
    t.append(f" {phase.upper()} ", style=PHASE_STYLE.get(phase, "reverse"))
    t.append(f" +{fmt_elapsed(now - frame.started_at)}")
    sources = list(frame.sources.values())
    ok = [st for st in sources if st.state == "ok"]
    if fold_ok and len(ok) > 1:
        t.append(f"  {len(ok)} sources ", style="bold")
        t.append("ok", style="green")
        sources = [st for st in sources if st.state != "ok"]
    for st in sources:
        text, style = source_badge(frame, st.name, now)
        short = text.split(":")[0] if len(text) > 24 else text
        t.append(f"  {one_line(st.name)}", style="bold")
        version = one_line(st.server) if versions else ""
        if version:
            t.append(f" {version}", style="dim")
        t.append(f" {short}", style=style)
    worst = worst_trigger(triggers)
    if triggers is None or worst is None:
        t.append("  triggers: none", style="dim")
    elif worst.rank == 0:
        t.append("  triggers ", style="bold")
        t.append("ok", style=STATE_STYLE["ok"])
    else:
        state = worst.display_state
        style = STATE_STYLE.get(state, "")
        t.append("  ")
        t.append(f" {state.upper()} ", style=f"{style} reverse" if worst.rank >= 3 else style)
        t.append(f" {one_line(worst.name)}")
    throttle = getattr(frame, "throttle", None) or {}
    if throttle.get("throttled"):
        t.append("  ")
        t.append(" THROTTLED ", style="bold magenta reverse")
        reason = one_line(str(throttle.get("reason") or ""))
        reason = reason if len(reason) <= 60 else reason[:59] + "…"
        t.append(f" {fmt_elapsed(now - (throttle.get('since') or now))} {reason}", style="magenta")
    if frame.paused:
        by = frame.paused_by
        t.append("  ")
        t.append(" PAUSED ", style="bold magenta reverse")
        if by:
            t.append(f" by {one_line(by)}", style="magenta")
    if frozen:
        t.append("  ")
        t.append(" FROZEN ", style="bold reverse")
    if frame.store_path is not None and not frame.store_ok:
        t.append("  store NOT WRITING", style="bold red")
    return t
