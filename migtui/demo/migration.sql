-- The demo's schema migration, as migtui demo plays it: migtui/demo/migration.py sends these
-- statements one by one, in this order (one statement per line). The demo's config names this file
-- in migration.files, so migtui lints it before it runs: the cockpit's panel "Pending migration"
-- flags the second ALTER TABLE (no lock_timeout) and names the session it would queue behind.
SET lock_timeout = '5s';
ALTER TABLE orders ADD COLUMN IF NOT EXISTS total_cents bigint;
RESET lock_timeout;
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_created_idx ON orders (customer_id, created_at);
ALTER TABLE orders ALTER COLUMN total_cents SET DEFAULT 0;
