"""The blocking tree: rooted at the blocker, each waiting backend under the one blocking it.

Move with the arrow keys; ``k`` (cancel) and ``t`` (terminate) act on the backend under the cursor.
"""

from __future__ import annotations

from typing import Any, Sequence

from rich.text import Text
from textual.widgets import Tree

from migtui.tui.view import BlockNode, blocking_forest, node_label


class BlockingTree(Tree[Any]):
    """A :class:`~textual.widgets.Tree` of :class:`~migtui.tui.view.BlockNode`; node data is the pid."""

    DEFAULT_CSS = """
    BlockingTree { height: auto; max-height: 16; padding: 0; background: transparent; overflow-x: hidden; }
    BlockingTree:focus { background-tint: $foreground 5%; }
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__("blocking tree", **kw)
        self.show_root = False
        self.guide_depth = 3
        self._shape: tuple[Any, ...] = ()
        self.migration_apps: tuple[str, ...] = ()
        """application_name patterns of the migration's sessions (marked MIGRATION in the tree)."""
        self.show_rows([])

    @property
    def selected_pid(self) -> int | None:
        node = self.cursor_node
        if node is None or node.data is None:
            return None
        return node.data

    @property
    def selected_row(self) -> dict[str, Any]:
        node = self.cursor_node
        return dict(getattr(node, "_migtui_row", {}) or {}) if node is not None else {}

    def show_rows(self, rows: Sequence[dict[str, Any]], *, empty: str = "no lock waits") -> None:
        forest = blocking_forest(rows)
        shape = _shape(forest) if forest else ("empty", empty)
        if shape == self._shape:  # same backends: relabel the nodes whose label changed (nothing else)
            if forest:
                self._relabel(self.root, forest, top=True)
            return
        keep = self.selected_pid
        self._shape = shape
        self.clear()
        if not forest:
            self.root.add_leaf(Text(empty, style="dim"), data=None)
            return
        self._add(self.root, forest, top=True)
        self.root.expand_all()
        if keep is not None:
            self.call_after_refresh(self._restore_cursor, keep)

    def _add(self, parent: Any, nodes: list[BlockNode], *, top: bool) -> None:
        for n in nodes:
            label = node_label(n, root=top, migration_apps=self.migration_apps)
            child = parent.add(label, data=n.pid, expand=True, allow_expand=bool(n.children)) if n.children \
                else parent.add_leaf(label, data=n.pid)
            child._migtui_row = n.row
            self._add(child, n.children, top=False)

    def _relabel(self, parent: Any, nodes: list[BlockNode], *, top: bool) -> None:
        for tnode, n in zip(parent.children, nodes):
            label = node_label(n, root=top, migration_apps=self.migration_apps)
            if self.process_label(label) != tnode.label:
                tnode.set_label(label)
            tnode._migtui_row = n.row
            self._relabel(tnode, n.children, top=False)

    def _restore_cursor(self, pid: Any) -> None:
        for i, line in enumerate(self._tree_lines):
            if line.node.data == pid:
                self.cursor_line = i
                return


def _shape(nodes: list[BlockNode]) -> tuple[Any, ...]:
    return tuple((n.pid, _shape(n.children)) for n in nodes)
