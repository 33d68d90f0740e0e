"""Trigger modals: pick one trigger or silence (acknowledge, lift a silence), and the silence form."""

from __future__ import annotations

from typing import ClassVar, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList
from textual.widgets.option_list import Option

from migtui import safetext
from migtui.config import parse_duration

SILENCE_PRESETS = ("5m", "15m", "1h")
DEFAULT_SILENCE = "15m"


class PickScreen(ModalScreen[str]):
    """A short list to choose from (which trigger to acknowledge, which silence to lift).
    Enter picks the highlighted entry (dismisses with its key), Esc cancels (dismisses with "").

    | Key       | Action           |
    |-----------|------------------|
    | up / down | move             |
    | enter     | pick             |
    | esc       | cancel           |
    """

    # the app's breakpoint classes style the main screen only: none here
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = []
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = []

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="pick-cancel")]

    DEFAULT_CSS = """
    PickScreen { align: center middle; }
    PickScreen > Vertical { width: 90%; max-width: 100; height: auto; max-height: 90%;
                            border: thick $accent; background: $surface; padding: 0 1; }
    PickScreen .title { text-style: bold; width: 100%; }
    PickScreen OptionList { height: auto; max-height: 14; }
    PickScreen .hint { color: $text-muted; width: 100%; }
    """

    def __init__(self, title: str, choices: Sequence[tuple[str, str]], *, hint: str = "") -> None:
        """``choices``: (key, label) pairs; the key is what the screen dismisses with."""
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.hint = hint or "Enter picks, Esc cancels."

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(safetext.rich(self.title_text, keep_newlines=True), classes="title")
            yield OptionList(*[Option(safetext.rich(label), id=f"pick-{i}") for i, (_, label) in enumerate(self.choices)],
                             id="pick-list")
            yield Label(safetext.rich(self.hint, keep_newlines=True), classes="hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0 if self.choices else None
        options.focus()

    @on(OptionList.OptionSelected, "#pick-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option_index][0])

    def action_cancel(self) -> None:
        self.dismiss("")


class SilenceScreen(ModalScreen["tuple[str, float] | None"]):
    """Choose what to silence (a trigger, an action level, or all) and for how long.

    Dismisses with ``(target, seconds)``, or None on Esc. The duration is typed (``30s``, ``5m``,
    ``2h``; empty means the default) or set by a preset button.

    | Key         | Action                                       |
    |-------------|----------------------------------------------|
    | up / down   | choose the target                            |
    | tab         | to the duration, then the buttons            |
    | enter       | silence (from the list or the duration)      |
    | esc         | cancel                                       |
    """

    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = []
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = []

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="silence-cancel")]

    DEFAULT_CSS = """
    SilenceScreen { align: center middle; }
    SilenceScreen > Vertical { width: 90%; max-width: 100; height: auto; max-height: 95%;
                               border: thick $warning; background: $surface; padding: 0 1; }
    SilenceScreen .title { text-style: bold; width: 100%; }
    SilenceScreen OptionList { height: auto; max-height: 10; }
    SilenceScreen #silence-hint { color: $text-muted; width: 100%; }
    SilenceScreen Horizontal { height: auto; }
    SilenceScreen Button { margin: 0 1 0 0; min-width: 7; }
    SilenceScreen #silence-go { margin-left: 2; }
    """

    def __init__(self, targets: Sequence[tuple[str, str]], *, default: str = DEFAULT_SILENCE) -> None:
        """``targets``: (target, label) pairs, the first one highlighted."""
        super().__init__()
        self.targets = list(targets)
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Silence: a silenced trigger keeps its state but neither acts nor alerts.", classes="title")
            yield OptionList(*[Option(safetext.rich(label), id=f"target-{i}") for i, (_, label) in enumerate(self.targets)],
                             id="silence-target")
            yield Label(f"For how long (30s, 5m, 2h; empty = {self.default}):")
            yield Input(placeholder=self.default, id="silence-duration")
            with Horizontal():
                for preset in SILENCE_PRESETS:
                    yield Button(preset, id=f"silence-{preset}", classes="preset")
                yield Button("Silence", variant="warning", id="silence-go")
                yield Button("Cancel (esc)", variant="primary", id="silence-cancel")
            yield Label("Enter silences the highlighted target; Esc cancels.", id="silence-hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0 if self.targets else None
        options.focus()

    def _target(self) -> str | None:
        idx = self.query_one(OptionList).highlighted
        return self.targets[idx][0] if idx is not None and 0 <= idx < len(self.targets) else None

    def _submit(self, duration: str | None = None) -> None:
        target = self._target()
        text = (self.query_one(Input).value if duration is None else duration).strip() or self.default
        hint = self.query_one("#silence-hint", Label)
        if target is None:
            hint.update(Text("Choose what to silence first.", style="bold red"))
            return
        try:
            seconds = parse_duration(text)
        except ValueError as exc:
            hint.update(safetext.rich(f"{exc}; or press Esc.", style="bold red"))
            return
        if seconds <= 0:
            hint.update(Text("A silence needs a positive duration.", style="bold red"))
            return
        self.dismiss((target, seconds))

    @on(OptionList.OptionSelected, "#silence-target")
    def _selected(self) -> None:
        self._submit()

    @on(Input.Submitted, "#silence-duration")
    def _typed(self) -> None:
        self._submit()

    @on(Button.Pressed, ".preset")
    def _preset(self, event: Button.Pressed) -> None:
        self._submit(str(event.button.label))

    @on(Button.Pressed, "#silence-go")
    def _go(self) -> None:
        self._submit()

    @on(Button.Pressed, "#silence-cancel")
    def _cancel_button(self) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
