-- name: long_running
-- description: Statements of this database running for longer than min_seconds, oldest first (migtui's own sessions excluded).
-- kind: table
-- min_version: 13
-- interval: 2s
-- timeout: 1s
-- privileges: pg_read_all_stats
-- params: min_seconds=5, limit=50
-- locks: none
-- changes: PG14 adds pg_stat_activity.query_id (NULL before 14 and when compute_query_id is off)
-- panel: schema
-- title: Long-running statements
-- columns: pid, usename, application_name, state, wait_event, query_seconds, xact_seconds, query
SELECT /* migtui */
    a.pid,
    a.leader_pid,
    a.usename::text                                                   AS usename,
    a.application_name,
    host(a.client_addr)                                               AS client_addr,
    a.state,
    a.wait_event_type,
    a.wait_event,
    round(extract(epoch FROM clock_timestamp() - a.query_start)::numeric, 1)::float8 AS query_seconds,
    round(extract(epoch FROM clock_timestamp() - a.xact_start)::numeric, 1)::float8  AS xact_seconds,
    age(a.backend_xmin)::bigint                                       AS backend_xmin_age,
    NULL::bigint                                                      AS query_id,
    left(a.query, 200)                                                AS query
FROM pg_stat_activity a
WHERE a.datname = current_database()
  AND a.backend_type = 'client backend'
  AND a.state IN ('active', 'fastpath function call')
  AND a.pid <> pg_backend_pid()
  AND coalesce(a.application_name, '') <> 'migtui'
  AND a.query_start < clock_timestamp() - make_interval(secs => :min_seconds::float8)
ORDER BY a.query_start
LIMIT :limit::int
