-- name: lock_waits_summary
-- description: The lock queue of this database - waiting sessions, the longest wait, root blockers (blocking others without waiting themselves) and the most sessions blocked directly by one pid.
-- kind: metrics
-- min_version: 13
-- interval: 5s
-- timeout: 2s
-- privileges: pg_read_all_stats
-- locks: none (reads pg_locks once)
-- changes: PG14 adds pg_locks.waitstart; before 14 the wait is measured from query_start
-- kinds: health higher_is_worse min_change=1: waiting, root_blockers, max_blocked_by_one
-- kinds: health higher_is_worse unit=s min_change=1: max_wait_seconds
WITH /* migtui */ waiting AS MATERIALIZED (
    SELECT pid, query_start
    FROM pg_stat_activity
    WHERE wait_event_type = 'Lock'
      AND datname = current_database()
      AND pid <> pg_backend_pid()
), blocked AS MATERIALIZED (
    SELECT w.pid, w.query_start, pg_blocking_pids(w.pid) AS blocked_by
    FROM waiting w
), ungranted AS MATERIALIZED (
    SELECT pid, min(NULL::timestamptz) AS waitstart
    FROM pg_locks
    WHERE NOT granted
    GROUP BY pid
), edges AS (
    SELECT b.pid, unnest(b.blocked_by) AS blocker
    FROM blocked b
)
SELECT
    (SELECT count(*) FROM blocked)                                                            AS waiting,
    coalesce((SELECT max(extract(epoch FROM clock_timestamp() - coalesce(l.waitstart, b.query_start)))
              FROM blocked b LEFT JOIN ungranted l ON l.pid = b.pid)::float8, 0)              AS max_wait_seconds,
    (SELECT count(DISTINCT e.blocker) FROM edges e
      WHERE NOT EXISTS (SELECT 1 FROM blocked b WHERE b.pid = e.blocker))                     AS root_blockers,
    coalesce((SELECT max(n) FROM (SELECT count(*) AS n FROM edges GROUP BY blocker) c), 0)    AS max_blocked_by_one
