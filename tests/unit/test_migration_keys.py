"""Advisory-lock keys of the migration tools, as pg_locks shows them (classid = high 32 bits,
objid = low 32 bits, objsubid 1 for the bigint form)."""

from __future__ import annotations

import math
import zlib

from migtui_postgres.history import golang_migrate_lock_key, match_advisory, rails_lock_key
from migtui_postgres.migration_config import parse_migration_config
from migtui_postgres.progress import RateTracker


def _pg_locks_row(key: int) -> tuple[int, int, int]:
    u = key & 0xFFFFFFFFFFFFFFFF
    return u >> 32, u & 0xFFFFFFFF, 1


def test_known_keys_are_matched() -> None:
    assert match_advisory(*_pg_locks_row(72707369), "shop", ["public"]) == "prisma"
    assert match_advisory(*_pg_locks_row(75474063), "shop", ["public"]) == "sqitch"
    assert match_advisory(*_pg_locks_row(0x466C79776179 + 12345), "shop", ["public"]) == "flyway"
    assert rails_lock_key("shop") == 2053462845 * zlib.crc32(b"shop")
    assert match_advisory(*_pg_locks_row(rails_lock_key("shop")), "shop", ["public"]) == "rails"
    assert match_advisory(*_pg_locks_row(rails_lock_key("shop")), "other", ["public"]) is None
    key = golang_migrate_lock_key("shop", "app")
    assert 0 <= key < 2 ** 32
    assert match_advisory(*_pg_locks_row(key), "shop", ["public", "app"]) == "golang-migrate"
    assert match_advisory(*_pg_locks_row(key), "shop", ["public"]) is None
    assert match_advisory(*_pg_locks_row((zlib.crc32(b"shop") * 1486364155) & 0xFFFFFFFF), "shop", []) == "golang-migrate"
    assert match_advisory(*_pg_locks_row(2686470616), "shop", []) == "atlas"  # FNV-1 of atlas_migrate_execute
    assert match_advisory(*_pg_locks_row(5887940537704921958), "shop", []) == "goose"
    assert match_advisory(1, 2, 2, "shop", ["public"]) is None  # two-int4 form
    assert match_advisory(*_pg_locks_row(42), "shop", ["public"]) is None


def test_rate_and_eta() -> None:
    r = RateTracker(window=60)
    r.add(0, 0)
    assert math.isnan(r.rate()) and math.isnan(r.eta(100))
    r.add(10, 20)
    r.add(20, 40)
    assert r.rate() == 2.0 and r.eta(100) == 30.0
    r.add(25, 100)
    assert r.eta(100) == 0.0
    r.add(30, 10)  # went backwards (another phase, a restart): start over
    assert math.isnan(r.rate())


def test_defaults() -> None:
    opts = parse_migration_config({})
    assert opts["auto_phase"] is False and opts["interval"] == 5.0 and opts["backfill"] is None
    assert opts["preflight"]["idle_in_transaction"] == 5.0


def test_query_texts_shown_lose_their_passwords() -> None:
    from migtui_postgres.pgconn import scrub_query

    assert scrub_query("ALTER ROLE app PASSWORD 'hunter2' VALID UNTIL 'infinity'") == \
        "ALTER ROLE app PASSWORD '***' VALID UNTIL 'infinity'"
    assert "hunter2" not in scrub_query("create user x with password 'hun''ter2'")
    assert len(scrub_query("SELECT " + "x" * 500)) == 120
