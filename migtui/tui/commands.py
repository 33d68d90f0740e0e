"""The command palette (ctrl+p) reaches every cockpit action: one command per key binding."""

from __future__ import annotations

from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider


class CockpitCommands(Provider):
    """Commands built from the app's bindings, so the palette, the footer and the help agree."""

    def _commands(self) -> list[tuple[str, str, str]]:
        app: Any = self.app
        out = []
        for b in app.cockpit_bindings():
            if b.action in ("command_palette",):
                continue
            key = b.key_display or b.key.split(",")[0]
            out.append((f"{b.tooltip or b.description} ({key})", b.action, b.id or ""))
        return out

    async def discover(self) -> Hits:
        for text, action, _id in self._commands():
            yield DiscoveryHit(text, partial(self.app.run_action, action), help=_id)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, action, _id in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(self.app.run_action, action), help=_id)
