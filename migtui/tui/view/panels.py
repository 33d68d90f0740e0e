"""Panels grouped by migration type, their tab titles, and a source's connection badge."""

from __future__ import annotations

import time
from typing import Any, Iterable, Sequence

from migtui import safetext
from migtui.model import PanelSpec, fmt_age

KIND_TITLES = {"schema": "Schema", "data": "Data", "api": "API", "deployment": "Deployment",
               "flags": "Feature flags", "ab": "A/B tests"}
KIND_ORDER = ("schema", "data", "api", "deployment", "flags", "ab")


def panels_by_kind(panels: Iterable[PanelSpec]) -> list[tuple[str, list[PanelSpec]]]:
    """Panels grouped by migration type, in the cockpit's order (known kinds first)."""
    groups: dict[str, list[PanelSpec]] = {}
    for p in panels:
        groups.setdefault(p.kind, []).append(p)
    order = [k for k in KIND_ORDER if k in groups] + [k for k in groups if k not in KIND_ORDER]
    return [(k, groups[k]) for k in order]


def kind_title(kind: str, panels: Sequence[PanelSpec]) -> str:
    if kind in KIND_TITLES:
        return KIND_TITLES[kind]
    return panels[0].title if panels and panels[0].title else kind.title()


def source_badge(frame: Any, source: str, now: float | None = None) -> tuple[str, str]:
    """(text, style) describing a source's connection for a panel or the header."""
    st = frame.sources.get(source)
    if st is None:
        return ("", "")
    now = time.time() if now is None else now
    state = st.state
    if state == "ok":
        return ("ok", "green")
    if state == "starting":
        return ("connecting…", "yellow")
    if state == "stale":
        age = fmt_age(now - st.last_ok) if st.last_ok else "-"
        return (f"STALE (last data {age} ago)", "bold yellow")
    if state == "quarantined":
        return (f"QUARANTINED: {safetext.one_line(st.last_error)}", "bold red")
    err = safetext.one_line(st.last_error or "error")
    if "reconnecting" in err or "lost the connection" in err or "cannot connect" in err:
        return (f"DISCONNECTED, reconnecting: {err}", "bold red")
    return (f"ERROR: {err}", "bold red")
