"""Ctrl-C that lands in the middle of a store write. DuckDB turns a pending KeyboardInterrupt into its
own RuntimeError ("INTERRUPT Error"), so a watch that stopped by raising KeyboardInterrupt saw a failed
write instead, said the store was broken and kept running (CI saw this once in 400 runs)."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from migtui.commands.watch import run_headless
from migtui.model import Sample
from migtui.plugins import PluginHost
from migtui.store import Store
from migtui.testing import function_sources


def test_ctrl_c_during_a_store_write_stops_cleanly_and_keeps_the_store(make_engine: Any, tmp_path: Any,
                                                                       monkeypatch: Any) -> None:
    store_path = tmp_path / "run.duckdb"
    engine = make_engine("""
    name: sigint
    interval: 0.2s
    sources:
      - {type: counter, name: c}
    """, host=PluginHost(extra_plugins=[function_sources(
        counter=lambda ctx, n: [Sample(ctx.now, "c", "calls", float(n))])]), store_path=store_path)
    real_flush = engine.store.flush
    slow_writes = {"n": 0}

    def slow_flush() -> int:
        # the third write takes long in DuckDB itself, and Ctrl-C arrives in the middle of it
        slow_writes["n"] += 1
        if slow_writes["n"] == 3:
            threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
            engine.store.con.execute("SELECT count(*) FROM range(400000000) t(x) WHERE x % 7 = 3").fetchall()
        return real_flush()

    monkeypatch.setattr(engine.store, "flush", slow_flush)
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        run_headless(engine, 120.0, as_json=True)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    assert slow_writes["n"] < 10, "the watch kept running after Ctrl-C"
    assert not [e for e in engine.recent_events if e.kind == "error"], "Ctrl-C was taken for a broken store"
    s = Store.open(store_path, read_only=True)
    try:
        [run] = s.runs()
        assert run["status"] == "finished" and run["samples"] >= 2
    finally:
        s.close()
