"""The blocking tree: backends under the backend that blocks them, and one line per backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from rich.text import Text

from migtui.model import fmt_age
from migtui.tui.view.fmt import as_number
from migtui.tui.view.tables import cell_str


@dataclass
class BlockNode:
    pid: Any
    row: dict[str, Any] = field(default_factory=dict)
    children: list["BlockNode"] = field(default_factory=list)


_PARENT_COLS = ("blocked_by", "blocking_pid", "blocker_pid", "parent_pid", "blocking_pids", "blocked_by_pids")


def _pids(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        out = []
        for v in value:
            out.extend(_pids(v))
        return out
    if isinstance(value, str):
        parts = [p.strip() for p in value.strip("{}[]()").split(",") if p.strip()]
        return [_int(p) for p in parts if _int(p) is not None]
    i = _int(value)
    return [i] if i is not None else []


def _int(v: Any) -> int | None:
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return None


def blocking_forest(rows: Sequence[Mapping[str, Any]]) -> list[BlockNode]:
    """Trees rooted at the blockers: each waiting backend under the backend blocking it.

    Works with a ``blocked_by``/``blocking_pid``/``parent_pid``/``blocking_pids`` column (the first
    pid listed that is itself in the snapshot wins, else the first), or a ``path`` column listing the
    pids from the root. A blocker that is not a row of its own becomes a bare root."""
    nodes: dict[Any, BlockNode] = {}
    parent: dict[Any, Any] = {}
    order: list[Any] = []
    for r in rows:
        pid = _int(r.get("pid"))
        if pid is None:
            continue
        if pid not in nodes:
            nodes[pid] = BlockNode(pid, dict(r))
            order.append(pid)
    for pid in order:
        r = nodes[pid].row
        cands: list[Any] = []
        path = _pids(r.get("path"))
        if len(path) >= 2:
            cands = [path[-2]]
        else:
            for c in _PARENT_COLS:
                if c in r:
                    cands = [p for p in _pids(r.get(c)) if p != pid]
                    if cands:
                        break
        if not cands:
            continue
        inside = [c for c in cands if c in nodes]
        parent[pid] = inside[0] if inside else cands[0]
    for pid, par in list(parent.items()):
        if par not in nodes:
            nodes[par] = BlockNode(par, {"pid": par})
            order.append(par)
    # break cycles (deadlocks): walk up; a pid met twice loses its parent link
    for pid in order:
        seen = {pid}
        cur = parent.get(pid)
        while cur is not None:
            if cur in seen:
                parent.pop(pid, None)
                break
            seen.add(cur)
            cur = parent.get(cur)
    roots = []
    for pid in order:
        par = parent.get(pid)
        if par is None:
            roots.append(nodes[pid])
        else:
            nodes[par].children.append(nodes[pid])
    return roots


_WAIT_COLS = ("wait_seconds", "wait_age", "waiting_seconds", "lock_wait_seconds", "query_seconds", "xact_seconds",
              "state_seconds")


def is_migration_session(row: Mapping[str, Any], migration_apps: Sequence[str] = ()) -> bool:
    import fnmatch

    app = str(row.get("application_name") or "")
    return bool(app) and any(fnmatch.fnmatchcase(app, pat) for pat in migration_apps if pat)


def node_label(node: BlockNode, *, root: bool = False, migration_apps: Sequence[str] = ()) -> Text:
    r = node.row
    text = Text()
    if is_migration_session(r, migration_apps):
        text.append("MIGRATION ", style="bold reverse yellow")
    text.append(f"pid {node.pid}", style="bold")
    who = " ".join(cell_str(r[c]) for c in ("usename", "application_name") if r.get(c))
    if who:
        text.append(f" {who}")
    state = r.get("state")
    if state:
        text.append(f" [{cell_str(state)}]", style="yellow" if "idle in transaction" in str(state) else "")
    for c in _WAIT_COLS:
        v = as_number(r.get(c))
        if v is not None:
            text.append(f" waits {fmt_age(v)}" if "wait" in c else f" {c.split('_')[0]} {fmt_age(v)}",
                        style="bold red" if v >= 30 else "")
            break
    mode = r.get("mode") or r.get("lock_mode") or r.get("wait_event")
    if mode:
        text.append(f" {cell_str(mode)}", style="cyan")
    rel = r.get("relation") or r.get("relname") or r.get("locked_relation")
    if rel:
        text.append(f" on {cell_str(rel)}")
    if root and node.children:
        text.append(f"  blocks {count_blocked(node)}", style="bold red")
    q = r.get("query")
    if q:
        text.append(" " + cell_str(q, 70), style="dim")
    return text


def count_blocked(node: BlockNode) -> int:
    return sum(1 + count_blocked(c) for c in node.children)
