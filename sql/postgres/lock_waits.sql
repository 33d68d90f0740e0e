-- name: lock_waits
-- description: Sessions of this database waiting on a heavyweight lock, with the pids that block them (pg_blocking_pids, called on waiting rows only), the lock they wait for and how long.
-- kind: table
-- min_version: 13
-- interval: 5s
-- timeout: 2s
-- privileges: pg_read_all_stats
-- params: limit=100
-- locks: none (reads pg_locks once)
-- changes: PG14 adds pg_locks.waitstart; before 14 the wait is measured from query_start
-- panel: schema
-- title: Lock waits
-- columns: pid, blocked_by, blocking_pids, wait_seconds, wait_age, mode, locktype, relation, relname, usename, application_name, state, query
WITH /* migtui */ waiting AS MATERIALIZED (
    SELECT pid, usename, application_name, state, wait_event, query_start, xact_start, query
    FROM pg_stat_activity
    WHERE wait_event_type = 'Lock'
      AND datname = current_database()
      AND pid <> pg_backend_pid()
), blocked AS MATERIALIZED (
    SELECT w.*, pg_blocking_pids(w.pid) AS blocked_by
    FROM waiting w
), ungranted AS MATERIALIZED (
    SELECT DISTINCT ON (pid) pid, locktype, mode, relation, NULL::timestamptz AS waitstart
    FROM pg_locks
    WHERE NOT granted
    ORDER BY pid
)
SELECT
    b.pid,
    b.blocked_by,
    cardinality(b.blocked_by)                                                                AS blocked_by_count,
    round(extract(epoch FROM clock_timestamp()
                  - coalesce(l.waitstart, b.query_start))::numeric, 1)::float8               AS wait_seconds,
    round(extract(epoch FROM clock_timestamp() - b.xact_start)::numeric, 1)::float8          AS xact_seconds,
    l.locktype,
    l.mode,
    CASE WHEN l.relation IS NOT NULL THEN l.relation::regclass::text END                     AS relation,
    b.wait_event,
    b.state,
    b.usename::text                                                                          AS usename,
    b.application_name,
    left(b.query, 200)                                                                       AS query
FROM blocked b
LEFT JOIN ungranted l ON l.pid = b.pid
ORDER BY coalesce(l.waitstart, b.query_start), b.pid
LIMIT :limit::int
