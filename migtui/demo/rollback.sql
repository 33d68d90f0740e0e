-- Rollback of the demo migration (run by the pg_rollback_sql action, in one transaction, with
-- lock_timeout): drop what the migration added. Rows the backfill already wrote go with the column.
DROP INDEX IF EXISTS orders_customer_created_idx;
ALTER TABLE orders DROP COLUMN IF EXISTS total_cents;
