"""Modal screens: confirmations (quit, cancel/terminate a backend), the rollback confirmation, help,
and the trigger modals (pick a trigger or silence, silence for a while)."""

from migtui.tui.screens.confirm import ConfirmScreen, NoteScreen, RollbackScreen
from migtui.tui.screens.help import HelpScreen
from migtui.tui.screens.triggers import PickScreen, SilenceScreen

__all__ = ["ConfirmScreen", "HelpScreen", "NoteScreen", "PickScreen", "RollbackScreen", "SilenceScreen"]
