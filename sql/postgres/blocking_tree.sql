-- name: blocking_tree
-- description: Lock blocking chains of this database as a tree - each root blocker (depth 0, not waiting itself) followed by the sessions queued behind it, with the migration's session recognisable by application_name and query.
-- kind: table
-- min_version: 13
-- interval: 5s
-- timeout: 2s
-- privileges: pg_read_all_stats
-- params: max_depth=10, limit=200
-- locks: none (pg_blocking_pids on waiting rows only; reads pg_locks once)
-- changes: PG14 adds pg_locks.waitstart; before 14 the wait is measured from query_start
-- panel: schema
-- render: tree
-- title: Blocking tree (k cancel, t terminate the selected backend)
WITH RECURSIVE /* migtui */ waiting AS MATERIALIZED (
    SELECT pid
    FROM pg_stat_activity
    WHERE wait_event_type = 'Lock'
      AND datname = current_database()
      AND pid <> pg_backend_pid()
), blocked AS MATERIALIZED (
    SELECT w.pid, pg_blocking_pids(w.pid) AS blocked_by
    FROM waiting w
), ungranted AS MATERIALIZED (
    SELECT DISTINCT ON (pid) pid, locktype, mode, relation, NULL::timestamptz AS waitstart
    FROM pg_locks
    WHERE NOT granted
    ORDER BY pid
), roots AS (
    SELECT DISTINCT r.pid
    FROM blocked b, unnest(b.blocked_by) AS r(pid)
    WHERE NOT EXISTS (SELECT 1 FROM blocked x WHERE x.pid = r.pid)
), tree AS (
    SELECT r.pid AS root_pid, 0 AS depth, r.pid, '{}'::int[] AS blocked_by, ARRAY[r.pid] AS path
    FROM roots r
    UNION ALL
    SELECT t.root_pid, t.depth + 1, b.pid, b.blocked_by, t.path || b.pid
    FROM tree t
    JOIN blocked b ON t.pid = ANY (b.blocked_by)
    WHERE b.pid <> ALL (t.path)
      AND t.depth < :max_depth::int
)
SELECT
    t.root_pid,
    t.depth,
    t.pid,
    t.blocked_by,
    (SELECT count(*) FROM tree d
      WHERE d.root_pid = t.root_pid AND d.depth > t.depth AND t.pid = ANY (d.path))::int     AS waiters,
    a.usename::text                                                                          AS usename,
    a.application_name,
    a.state,
    a.wait_event_type,
    a.wait_event,
    l.locktype,
    l.mode,
    CASE WHEN l.relation IS NOT NULL THEN l.relation::regclass::text END                     AS relation,
    CASE WHEN t.depth > 0 THEN
        round(extract(epoch FROM clock_timestamp()
                      - coalesce(l.waitstart, a.query_start))::numeric, 1)::float8 END       AS wait_seconds,
    round(extract(epoch FROM clock_timestamp() - a.state_change)::numeric, 1)::float8        AS state_seconds,
    round(extract(epoch FROM clock_timestamp() - a.xact_start)::numeric, 1)::float8          AS xact_seconds,
    left(a.query, 200)                                                                       AS query
FROM tree t
LEFT JOIN pg_stat_activity a ON a.pid = t.pid
LEFT JOIN ungranted l ON l.pid = t.pid AND t.depth > 0
ORDER BY t.root_pid, t.path
LIMIT :limit::int
