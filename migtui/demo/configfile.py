"""The demo's migtui config: written to the demo's temp folder, loaded like any other config.

It points at the embedded server and the local shop API (no passwords: the server trusts local
connections), carries the seed triggers, the cooperative pause and the rollback SQL file, and lists
the stand-in sources for flags, A/B and the backfill's progress.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import yaml

from migtui.demo.migration import APPLICATION_NAME, MIGRATION_SQL, PAUSE_KEY
from migtui.demo.scenario import Scenario

ROLLBACK_SQL = Path(__file__).with_name("rollback.sql")

FAST_QUERIES = ("blocking_tree", "lock_waits", "lock_waits_summary", "relation_locks", "progress_create_index",
                "activity_summary", "long_running", "idle_in_transaction")

SEED_TRIGGERS = [
    {"metric": "error_rate", "threshold": 0.05, "action": "pause"},
    {"metric": "response_time_p95", "threshold": 2000, "action": "warn"},
    {"metric": "error_rate", "threshold": 0.1, "action": "rollback"},
]

HEADER = """\
# Written by `migtui demo` for this run only: an embedded PostgreSQL on 127.0.0.1 (trust auth, no
# password), the demo's shop API, the seed triggers, a cooperative pause and a rollback SQL file.
# The demo_* sources are in-process stand-ins that exist only inside `migtui demo` ({path}).
"""


def demo_config(*, db_dsn: str, api_url: str, scenario: Scenario, headless: bool,
                available: Iterable[tuple[str, str]] = (), store: str | None = None) -> dict[str, Any]:
    """The config as data. ``available``: the (kind, type) pairs the plugin host knows; parts whose
    plugin type is missing are left out (and named in ``x_demo_missing``)."""
    have = set(available)
    missing: list[str] = []
    interval = f"{scenario.interval:g}s"
    sources: list[dict[str, Any]] = [
        {"type": "postgres", "name": "shop-db", "dsn": db_dsn, "tables": ["orders"],
         "migration_application_name": APPLICATION_NAME,
         # the lock trouble lasts seconds: look at locks and index builds every tick
         "intervals": {**{q: interval for q in FAST_QUERIES},
                       # the phases last seconds: the report's slower queries and new indexes need reads in each
                       **{q: f"{2 * scenario.interval:g}s" for q in ("statements_top", "index_inventory")}}},
        {"type": "openmetrics", "name": "shop-api", "url": api_url, "interval": interval, "timeout": "2s",
         "title": "API: shop (demo service)",
         "error_rate": {"errors": 'shop_http_requests_total{code=~"5.."}', "total": "shop_http_requests_total"},
         "latency_histogram": "shop_http_request_duration_seconds", "latency_warn": 2000,
         "throughput": "shop_http_requests_total"},
        {"type": "demo_migration", "name": "backfill"},
        {"type": "demo_flags", "name": "flags"},
        {"type": "demo_ab", "name": "ab-test"},
    ]
    kept = []
    for s in sources:
        if have and ("source", s["type"]) not in have:
            missing.append(f"source type {s['type']}")
        else:
            kept.append(s)
    triggers = [dict(t) for t in SEED_TRIGGERS]
    if scenario.standby:
        from migtui.demo.standby import throttle_trigger

        triggers.append(throttle_trigger(scenario.throttle_resume_after))
        sources[0]["intervals"]["replication_lag"] = interval
    if headless:
        # Nobody is there to confirm: the headless demo's pause trigger acts on its own. (A pause
        # needs no confirmation by default anyway; a rollback does, and stays that way.)
        for t in triggers:
            if t["action"] == "pause":
                t["confirm"] = False
    cfg: dict[str, Any] = {"name": "demo", "interval": interval, "sources": kept, "triggers": triggers}
    if store:
        cfg["store"] = store
    actions: dict[str, Any] = {}
    if not have or ("action", "pg_pause") in have:
        # resume undoes the pause by default (releases the advisory lock)
        actions["pause"] = [{"type": "pg_pause", "name": "pause-backfill", "source": "shop-db", "key": PAUSE_KEY}]
    else:
        missing.append("action type pg_pause")
    if not have or ("action", "pg_rollback_sql") in have:
        actions["rollback"] = [{"type": "pg_rollback_sql", "name": "rollback-sql", "source": "shop-db",
                                "dir": str(ROLLBACK_SQL.parent), "file": ROLLBACK_SQL.name,
                                "lock_timeout": "5s"}]
    else:
        missing.append("action type pg_rollback_sql")
    if actions:
        cfg["actions"] = actions
    # The migration extension spots the demo's migration session (progress of CREATE INDEX etc.);
    # the demo switches phases itself.
    # Its statements are known before they run: the panel "Pending migration" lints them during the
    # baseline and, in the demo, on into the migration, up to the lock trouble.
    cfg["migration"] = {"application_name": APPLICATION_NAME, "auto_phase": False,
                        "files": [str(MIGRATION_SQL)], "lint_phases": ["baseline", "migration"],
                        "lint_interval": interval, "lint_sample": "500ms"}
    if missing:
        cfg["x_demo_missing"] = missing
    return cfg


def write_config(path: Path, cfg: dict[str, Any]) -> Path:
    data = {k: v for k, v in cfg.items() if not k.startswith("x_")}
    text = HEADER.format(path=path) + yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=110)
    path.write_text(text, encoding="utf-8")
    return path
