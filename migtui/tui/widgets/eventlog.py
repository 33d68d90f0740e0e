"""The event log: phase changes, trigger transitions, alerts, actions and their results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text
from textual.widgets import RichLog

from migtui.model import Event, Level
from migtui.safetext import one_line, visible

LEVEL_STYLE = {"info": "", "warn": "yellow", "error": "red", "pause": "bold magenta", "rollback": "bold red"}
KIND_STYLE = {"phase": "cyan", "trigger": "magenta", "action": "bold", "alert": "yellow", "error": "red"}


class EventLog(RichLog):
    """The engine's events, newest at the bottom, plus the cockpit's own lines (kind ``ui``)."""

    DEFAULT_CSS = """
    EventLog { height: 1fr; scrollbar-size-vertical: 1; overflow-x: hidden; scrollbar-gutter: stable; }
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__(max_lines=1000, wrap=True, markup=False, highlight=False, min_width=20, **kw)
        self.lines_text: list[str] = []
        """Plain text of every line written (what tests and the tmux check read)."""
        self._entries: list[Text] = []
        self._wrapped_at = 0

    def add_event(self, ev: Event) -> None:
        level = str(getattr(ev.level, "value", ev.level))
        self._write(ev.ts, ev.kind, ev.subject, ev.message, level)

    def add_ui(self, message: str, level: str = "info", *, ts: float | None = None) -> None:
        import time

        self._write(time.time() if ts is None else ts, "ui", "", message, level)

    def _write(self, ts: float, kind: str, subject: str, message: str, level: str) -> None:
        t = Text()
        t.append(datetime.fromtimestamp(ts).strftime("%H:%M:%S "), style="dim")
        t.append(f"{one_line(kind)} ", style=KIND_STYLE.get(kind, "dim"))
        if subject:
            t.append(f"{one_line(subject)}: ", style="bold")
        t.append(visible(message, keep_newlines=True), style=LEVEL_STYLE.get(level, ""))
        self.lines_text.append(t.plain)
        self._entries.append(t)
        if len(self._entries) > 1000:
            del self.lines_text[:200]
            del self._entries[:200]
        self.write(t)

    def on_resize(self, event: Any) -> None:
        """Re-wrap every line for the new width (RichLog wraps once, when a line is written)."""
        super().on_resize(event)  # RichLog's own handler: the first size flushes deferred writes
        width = self.scrollable_content_region.width
        if not width or width == self._wrapped_at:
            return
        first = self._wrapped_at == 0
        self._wrapped_at = width
        if first:
            return
        self.clear()
        for t in self._entries:
            self.write(t, scroll_end=False)
        self.scroll_end(animate=False)


__all__ = ["EventLog", "Level"]
