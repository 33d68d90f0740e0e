"""Modal screens: confirmations (quit, cancel/terminate a backend), the rollback confirmation, help."""

from migtui.tui.screens.confirm import ConfirmScreen, NoteScreen, RollbackScreen
from migtui.tui.screens.help import HelpScreen

__all__ = ["ConfirmScreen", "HelpScreen", "NoteScreen", "RollbackScreen"]
