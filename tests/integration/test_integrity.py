"""Integrity checks against a real PostgreSQL: recorded when the baseline ends, compared in post."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest


def _config(pg: Any, checks: str) -> str:
    return textwrap.dedent(f"""\
        name: integrity
        interval: 1s
        sources:
          - {{type: postgres, name: db, dsn: "{pg.dsn}", include: [activity_summary]}}
        migration: {{enabled: false}}
        """) + textwrap.dedent(checks)


def test_checks_recorded_in_baseline_and_compared_in_post(pg: Any, make_engine: Any) -> None:
    with pg.connect() as conn:
        conn.execute("DROP TABLE IF EXISTS integ_orders")
        conn.execute("CREATE TABLE integ_orders (id int PRIMARY KEY, amount numeric)")
        conn.execute("INSERT INTO integ_orders SELECT g, 10 FROM generate_series(1, 200) g")
    engine = make_engine(_config(pg, """\
        integrity:
          - name: orders_count
            sql: SELECT count(*) FROM integ_orders
            compare: equal
          - name: orders_total
            sql: SELECT sum(amount) FROM integ_orders
            compare: {within_pct: 1}
          - name: no_orphans
            sql: SELECT count(*) FROM integ_orders WHERE amount IS NULL
        """))
    ext = engine.parts.components["integrity"]
    engine.tick()
    engine.set_phase("migration", who="op")
    recorded = ext.wait()
    assert [r["result"] for r in recorded] == ["recorded"] * 3
    assert recorded[0]["value"] == 200
    with pg.connect() as conn:  # the migration adds one row: the count changes, the total by 0.5%
        conn.execute("INSERT INTO integ_orders VALUES (201, 10)")
    engine.set_phase("post", who="op")
    results = {r["check"]: r for r in ext.wait()}
    assert results["orders_count"]["result"] == "fail"
    assert results["orders_total"]["result"] == "pass"
    assert results["no_orphans"]["result"] == "pass"
    engine.tick()
    engine.finish()
    events = [e for e in engine.store.events(engine.run_id, ["check"])]
    post = [e for e in events if e.data["phase"] == "post"]
    assert {e.subject for e in post} == {"integrity:orders_count", "integrity:orders_total", "integrity:no_orphans"}
    fail = next(e for e in post if e.subject == "integrity:orders_count")
    assert fail.level.value == "error" and "201" in fail.message and "200" in fail.message


def test_bad_sql_is_an_error_event_and_config_errors_name_the_line(pg: Any, make_engine: Any) -> None:
    from migtui.errors import ConfigError

    engine = make_engine(_config(pg, """\
        integrity:
          - {name: broken, sql: SELECT nope FROM nowhere}
        """))
    res = engine.parts.components["integrity"].run(who="test").result(timeout=60)
    assert res[0]["result"] == "error" and "nowhere" in res[0]["error"]
    with pytest.raises(ConfigError) as err:
        make_engine(_config(pg, """\
            integrity:
              - {name: a, sql: SELECT 1, compare: {within_pct: lots}}
            """))
    assert "integrity[0].compare.within_pct" in str(err.value) and ".yaml:" in str(err.value)
    with pytest.raises(ConfigError) as err:
        make_engine(_config(pg, """\
            integrity:
              - {name: a, sql: SELECT 1}
              - {name: a, sql: SELECT 2}
            """))
    assert "duplicate check name 'a'" in str(err.value) and "integrity[1].name" in str(err.value)


def test_sample_config_builds_with_migration_and_integrity(pg: Any, make_engine: Any) -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    engine = make_engine(str(root / "sample_configs" / "migration-workflow.yaml"), env={"MIGTUI_DSN": pg.dsn})
    assert {"migration", "integrity"} <= set(engine.parts.components)
    assert [c["name"] for c in engine.parts.components["integrity"].checks] == [
        "orders_count", "orders_total", "orders_without_customer"]
    assert engine.parts.components["migration"].collector.opts["backfill"]["table"] == "orders"
