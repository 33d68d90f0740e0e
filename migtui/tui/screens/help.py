"""The help screen: every key of the cockpit, generated from the bindings themselves."""

from __future__ import annotations

from typing import ClassVar, Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class HelpScreen(ModalScreen[None]):
    """Lists every key binding (key, what it does, binding id for keymaps). ``esc``/``?``/``q`` close."""

    # the app's breakpoint classes style the main screen only: none here
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = []
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = []

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", id="help-close"),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 95%; max-width: 110; height: 90%; border: thick $accent;
                            background: $surface; padding: 0 1; }
    HelpScreen .title { text-style: bold; }
    """

    def __init__(self, bindings: Iterable[Binding], notes: str = "") -> None:
        super().__init__()
        self.bindings = list(bindings)
        self.notes = notes

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, padding=(0, 1), header_style="bold")
        table.add_column("key", no_wrap=True, style="bold cyan")
        table.add_column("does", ratio=3)
        table.add_column("binding id", no_wrap=True, style="dim")
        for b in self.bindings:
            table.add_row(Text(key_label(b)), Text(b.tooltip or b.description), Text(b.id or ""))
        with Vertical():
            yield Label("migtui cockpit: keys (esc closes)", classes="title")
            with VerticalScroll():
                yield Static(table, id="help-keys")
                if self.notes:
                    yield Static(Text(self.notes), id="help-notes")

    def action_close(self) -> None:
        self.dismiss(None)


def key_label(b: Binding) -> str:
    names = {"question_mark": "?", "escape": "esc", "ctrl+p": "ctrl+p"}
    return b.key_display or ", ".join(names.get(k.strip(), k.strip()) for k in b.key.split(","))
