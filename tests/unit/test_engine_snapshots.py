"""Two sources that produce the same table (a primary and a replica both have a blocking tree): each
keeps its own, in the engine and in the store."""

from __future__ import annotations

import time
from typing import Any

from migtui.hookspecs import hookimpl
from migtui.model import TableSnapshot
from migtui.plugins import PluginHost
from migtui.store import Store

COLUMNS = ["root_pid", "depth", "pid", "query"]


class _Tree:
    def __init__(self, name: str, rows: list[list[Any]]) -> None:
        self.name, self.rows = name, rows
        self.interval, self.timeout = 1.0, 5.0

    def collect(self, ctx: Any) -> list[Any]:
        return [TableSnapshot(ctx.now, self.name, "blocking_tree", COLUMNS, self.rows)]

    def panels(self) -> list[Any]:
        return []

    def close(self) -> None:
        pass


class TreePlugin:
    @hookimpl
    def migtui_source_types(self, register: Any) -> None:
        register("locked", lambda ctx: _Tree(ctx.name, [[41, 0, 41, "ALTER TABLE orders ADD COLUMN x int"]]))
        register("calm", lambda ctx: _Tree(ctx.name, []))


def test_each_source_keeps_its_own_blocking_tree(make_engine: Any, tmp_path: Any) -> None:
    store_path = tmp_path / "two.duckdb"
    engine = make_engine("""
    name: two
    interval: 1s
    sources:
      - {type: locked, name: primary}
      - {type: calm, name: replica}
    """, host=PluginHost(extra_plugins=[("trees", TreePlugin())]), store_path=store_path)
    t0 = time.time()
    for i in range(3):
        engine.tick(now=t0 + i, wait=5)
    assert engine.snapshots["primary/blocking_tree"].rows[0][2] == 41
    assert engine.snapshots["replica/blocking_tree"].rows == []
    run_id = engine.run_id
    engine.close()
    s = Store.open(store_path, read_only=True)
    try:
        stored = dict(s.con.execute("SELECT source, max(json_array_length(rows)) FROM snapshots WHERE run_id = ? "
                                    "AND name = 'blocking_tree' GROUP BY source", [run_id]).fetchall())
    finally:
        s.close()
    assert stored == {"primary": 1, "replica": 0}
