"""How commands print: every line through :mod:`migtui.safetext` (light: click and safetext only)."""

from __future__ import annotations

from typing import Any

import click

from migtui.safetext import visible


def echo(text: Any = "", err: bool = False) -> None:
    """``click.echo`` for lines that may hold text from outside (query results, plugin errors, a
    server's answers, an action's output): control characters are shown as ``\\x1b``, never sent to
    the terminal. JSON output goes through ``safetext.json_text`` (escapes them)."""
    click.echo(visible(str(text), keep_newlines=True), err=err)
