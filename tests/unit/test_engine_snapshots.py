"""Two sources that produce the same table (a primary and a replica both have a blocking tree): each
keeps its own, in the engine and in the store."""

from __future__ import annotations

import time
from typing import Any

from migtui.model import TableSnapshot
from migtui.plugins import PluginHost
from migtui.store import Store
from migtui.testing import function_sources

COLUMNS = ["root_pid", "depth", "pid", "query"]
LOCKED = [[41, 0, 41, "ALTER TABLE orders ADD COLUMN x int"]]


def test_each_source_keeps_its_own_blocking_tree(make_engine: Any, tmp_path: Any) -> None:
    store_path = tmp_path / "two.duckdb"
    engine = make_engine("""
    name: two
    interval: 1s
    sources:
      - {type: locked, name: primary}
      - {type: calm, name: replica}
    """, host=PluginHost(extra_plugins=[function_sources(
        locked=lambda ctx, n: [TableSnapshot(ctx.now, "primary", "blocking_tree", COLUMNS, LOCKED)],
        calm=lambda ctx, n: [TableSnapshot(ctx.now, "replica", "blocking_tree", COLUMNS, [])])]), store_path=store_path)
    t0 = time.time()
    for i in range(3):
        engine.tick(now=t0 + i, wait=30)
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
