"""Confirmations: a yes/no modal, and the rollback modal that needs the run's name typed."""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from migtui import safetext


class ConfirmScreen(ModalScreen[bool]):
    """Ask before doing something that cannot be undone. Dismisses with True only on "yes".

    | Key    | Action  |
    |--------|---------|
    | y      | confirm |
    | n, esc | cancel  |
    """

    # the app's breakpoint classes style the main screen only: none here, so pushing this screen
    # does not restyle it once per breakpoint class
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = []
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = []

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm-yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm-no"),
    ]

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 90%; max-width: 100; height: auto; max-height: 90%;
                               border: thick $warning; background: $surface; padding: 0 1; }
    ConfirmScreen .title { text-style: bold; }
    ConfirmScreen VerticalScroll { height: auto; max-height: 14; }
    ConfirmScreen Horizontal { height: auto; align-horizontal: right; }
    ConfirmScreen Button { margin: 0 1; min-width: 10; }
    """

    def __init__(self, title: str, lines: Sequence[str], *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.title_text = title
        self.lines = list(lines)
        self.yes, self.no = yes, no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(safetext.rich(self.title_text, keep_newlines=True), classes="title")
            with VerticalScroll():
                yield Static(safetext.rich("\n".join(self.lines), keep_newlines=True), id="confirm-body")
            with Horizontal():
                yield Button(f"{self.yes} (y)", variant="error", id="yes")
                yield Button(f"{self.no} (n)", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class RollbackScreen(ModalScreen[bool]):
    """Shows exactly what a rollback will run; the run's name must be typed to confirm.

    | Key   | Action                                   |
    |-------|------------------------------------------|
    | enter | roll back (only when the name matches)   |
    | esc   | cancel                                   |
    """

    # the app's breakpoint classes style the main screen only: none here, so pushing this screen
    # does not restyle it once per breakpoint class
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = []
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = []

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="rollback-cancel"),
    ]

    DEFAULT_CSS = """
    RollbackScreen { align: center middle; }
    RollbackScreen > Vertical { width: 95%; max-width: 110; height: auto; max-height: 95%;
                                border: thick $error; background: $surface; padding: 0 1; }
    RollbackScreen .title { text-style: bold; color: $error; }
    RollbackScreen VerticalScroll { height: auto; max-height: 12; }
    RollbackScreen #rollback-hint { color: $text-muted; }
    RollbackScreen Horizontal { height: auto; align-horizontal: right; }
    RollbackScreen Button { margin: 0 1; }
    """

    def __init__(self, run_name: str, plan: Sequence[str], *, reason: str = "") -> None:
        super().__init__()
        self.run_name = run_name
        self.plan = list(plan)
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical():
            if self.reason:
                yield Label(safetext.rich(self.reason, style="bold", keep_newlines=True), id="rollback-reason")
            yield Label(safetext.rich(f"ROLL BACK run {self.run_name!r}? This will run:"), classes="title")
            with VerticalScroll():
                body = "\n".join(f"  {i}. {line}" for i, line in enumerate(self.plan, 1)) if self.plan else \
                    "  (no rollback action is configured: nothing will run)"
                yield Static(safetext.rich(body, keep_newlines=True), id="rollback-plan")
            yield Label(safetext.rich(f"Type the run's name ({self.run_name}) and press Enter to roll back; "
                                      "Esc cancels.", keep_newlines=True), id="rollback-hint")
            yield Input(placeholder=self.run_name, id="rollback-name")
            with Horizontal():
                yield Button("Roll back", variant="error", id="rollback-go", disabled=True)
                yield Button("Cancel (esc)", variant="primary", id="rollback-cancel")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Changed, "#rollback-name")
    def _changed(self, event: Input.Changed) -> None:
        self.query_one("#rollback-go", Button).disabled = event.value.strip() != self.run_name

    @on(Input.Submitted, "#rollback-name")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.run_name:
            self.dismiss(True)
        else:
            self.query_one("#rollback-hint", Label).update(
                safetext.rich(f"That is not the run's name. Type {self.run_name} exactly, or press Esc.",
                              style="bold red", keep_newlines=True))

    @on(Button.Pressed, "#rollback-go")
    def _go(self) -> None:
        if self.query_one(Input).value.strip() == self.run_name:
            self.dismiss(True)

    @on(Button.Pressed, "#rollback-cancel")
    def _cancel_button(self) -> None:
        self.dismiss(False)

    def action_cancel(self) -> None:
        self.dismiss(False)


__all__ = ["Any", "ConfirmScreen", "RollbackScreen"]


class NoteScreen(ModalScreen[str]):
    """Type a note for the run's audit log; Enter saves, Esc cancels (dismisses with "")."""

    # the app's breakpoint classes style the main screen only: none here, so pushing this screen
    # does not restyle it once per breakpoint class
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = []
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = []

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="note-cancel")]

    DEFAULT_CSS = """
    NoteScreen { align: center middle; }
    NoteScreen > Vertical { width: 90%; max-width: 100; height: auto; border: thick $accent;
                            background: $surface; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Note for the run's event log (Enter saves, Esc cancels):")
            yield Input(placeholder="e.g. starting step 2: backfill orders", id="note-text")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted, "#note-text")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss("")
