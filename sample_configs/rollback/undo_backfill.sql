-- Undo the backfill of orders.total_cents (run by migtui's pg_rollback_sql action, in one
-- transaction with lock_timeout; no BEGIN/COMMIT here). Replace with your own undo.
UPDATE orders SET total_cents = NULL WHERE total_cents IS NOT NULL;
