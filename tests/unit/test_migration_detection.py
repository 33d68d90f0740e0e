"""Which statements count as a migration's DDL (a session's current or last statement)."""

from __future__ import annotations

import pytest

from migtui_postgres.detection import is_ddl


@pytest.mark.parametrize("query", [
    'ALTER TABLE "shop_order" ADD COLUMN "status" text NULL',
    "create index concurrently orders_status on orders (status)",
    "/* alembic */ DROP TABLE legacy",
    "-- add the column\nALTER TABLE orders ADD COLUMN note text",
    "REINDEX INDEX CONCURRENTLY orders_pkey",
    "VACUUM (FULL) orders",
])
def test_schema_changes_are_ddl(query: str) -> None:
    assert is_ddl(query)


@pytest.mark.parametrize("query", [
    "CREATE TEMP TABLE scratch (x int)",
    "create temporary table scratch (x int)",
    "CREATE LOCAL TEMP TABLE s (x int)",
    "UPDATE orders SET status = 'new' WHERE id < 100",
    "SELECT 'ALTER TABLE x' AS q",
    "COMMIT",
    "VACUUM orders",
    "",
])
def test_other_statements_are_not(query: str) -> None:
    assert not is_ddl(query)
