"""Triggers over a real PostgreSQL: lock contention created by the test fires a pause trigger."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg

from migtui.api import BuildContext, CollectContext
from migtui.config import load_config
from migtui.errors import MigtuiError
from migtui.model import Level, Phase, Sample
from migtui.plugins import PluginHost
from migtui.triggers import MemoryMetricView, TriggerEngine

CONFIG = """\
name: pg-triggers
interval: 1s
sources:
  - {type: postgres, name: db, dsn: "${MIGTUI_DSN}", include: [activity_summary]}
  - {type: postgres, name: nowhere, dsn: "postgresql://nobody@127.0.0.1:1/none", include: [activity_summary], connect_timeout: 1s}
triggers:
  - {name: lock-queue, metric: activity_summary.waiting, source: db, above: 0, action: pause}
  - {name: unreachable, metric: activity_summary.waiting, source: nowhere, above: 0, action: pause}
"""


def build(tmp_path: Path, dsn: str):
    p = tmp_path / "pg.yaml"
    p.write_text(CONFIG)
    cfg = load_config(p, env={"MIGTUI_DSN": dsn})
    host = PluginHost()
    plugin_sql = [(plugin, Path(path)) for plugin, path, target in host.sql_dirs if target == "postgres"]
    collectors = {}
    for item in cfg["sources"]:
        ctx = BuildContext(config=cfg, item=item, plugin_sql_dirs=plugin_sql)
        collectors[item.name] = host.build("source", item, ctx)
    return cfg, collectors


def collect(collectors, view: MemoryMetricView, now: float) -> None:
    ctx = CollectContext(now=now, phase=Phase.MIGRATION, run="r", tick=0)
    for name, c in collectors.items():
        try:
            view.add([x for x in c.collect(ctx) if isinstance(x, Sample)])
            view.record_result(name, now)
        except MigtuiError as exc:
            view.record_result(name, now, error=str(exc))


def test_lock_contention_fires_pause_and_resolves(pg, tmp_path):
    cfg, collectors = build(tmp_path, pg.dsn)
    engine, view = TriggerEngine(cfg["triggers"]), MemoryMetricView()
    with pg.connect() as setup:
        setup.execute("CREATE TABLE IF NOT EXISTS orders_trig (id int)")
    holder = psycopg.connect(pg.dsn)  # holds ACCESS EXCLUSIVE, like an ALTER TABLE would
    holder.execute("LOCK TABLE orders_trig IN ACCESS EXCLUSIVE MODE")
    waiter_done = threading.Event()

    def waiter():
        with pg.connect() as conn:
            conn.execute("SELECT count(*) FROM orders_trig")
        waiter_done.set()

    t = threading.Thread(target=waiter, daemon=True)
    try:
        now = time.time()
        collect(collectors, view, now)
        first = engine.evaluate(now, view)
        assert [(x.name, x.state) for x in first] == [("unreachable", "inconclusive")]
        assert "source nowhere failing" in first[0].reason and first[0].level == Level.WARN
        t.start()
        deadline = time.time() + 60
        trs = []
        while time.time() < deadline:  # wait until PostgreSQL shows the waiter
            now = time.time()
            collect({"db": collectors["db"]}, view, now)
            trs = engine.evaluate(now, view)
            if trs:
                break
            time.sleep(0.2)
        assert [(x.name, x.prev, x.state, x.requested) for x in trs] == [("lock-queue", "ok", "firing", "pause")]
        assert trs[0].value >= 1 and trs[0].source == "db"
        holder.rollback()  # release the lock: the waiter finishes
        assert waiter_done.wait(60)
        trs = []
        deadline = time.time() + 60
        while time.time() < deadline and not trs:  # the next activity_summary poll sees no waiter
            now = time.time()
            collect({"db": collectors["db"]}, view, now)
            trs = engine.evaluate(now, view)
            time.sleep(0.2)
        assert [(x.name, x.state, x.value) for x in trs] == [("lock-queue", "resolved", 0.0)]
    finally:
        holder.close()
        t.join(5)
        for c in collectors.values():
            c.close()
