"""The cockpit's main screen and footer, and the message that carries an engine update to the UI."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer


class EngineUpdated(Message):
    """An engine tick finished (posted from the engine thread)."""

    def __init__(self, update: Any) -> None:
        super().__init__()
        self.update = update


class CockpitScreen(Screen[None]):
    """The main screen. Textual lays every screen under a modal out again when the modal is pushed
    (a "resize" of the background to the size it already has), which re-renders every panel; that is
    most of the time from a key to its modal on screen, so an unchanged size is skipped here."""

    def _screen_resized(self, size: Size) -> None:
        if self.is_attached and self.stack_updates and size == self.outer_size and self.app.screen is not self:
            return  # a background screen keeping its size: nothing to lay out
        super()._screen_resized(size)


class CockpitFooter(Footer):
    """The footer, rebuilt only when the keys it shows change and only while its screen is on top.

    Textual's Footer rebuilds all its keys whenever the bindings may have changed, including on every
    modal pushed over the cockpit (where it is hidden under the modal anyway) and again when the modal
    closes; that was a large part of the time from a key to its modal, and the old keys linger."""

    _shown: Any = None

    def _signature(self) -> Any:
        try:
            bindings = self.screen.active_bindings
        except Exception:  # noqa: BLE001 - not mounted yet
            return None
        return tuple((b.key, self.app.get_key_display(b), b.description, b.action, enabled, tooltip)
                     for (_, b, enabled, tooltip) in bindings.values() if b.show)

    def compose(self) -> ComposeResult:
        self._shown = self._signature() if getattr(self, "_bindings_ready", True) else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if getattr(self, "_bindings_ready", False) and (screen is not self.app.screen
                                                        or self._signature() == self._shown):
            return  # under a modal (redone when the cockpit is on top again), or nothing changed
        super().bindings_changed(screen)
