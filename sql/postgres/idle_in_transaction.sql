-- name: idle_in_transaction
-- description: Sessions of this database idle inside an open transaction for longer than min_seconds; they hold their locks and the xmin horizon (migtui's own sessions excluded).
-- kind: table
-- min_version: 13
-- interval: 2s
-- timeout: 1s
-- privileges: pg_read_all_stats
-- params: min_seconds=5, limit=50
-- locks: none
-- panel: data
-- title: Idle in transaction
-- columns: pid, usename, application_name, state, idle_seconds, xact_seconds, backend_xmin_age, query
SELECT /* migtui */
    a.pid,
    a.usename::text                                                   AS usename,
    a.application_name,
    host(a.client_addr)                                               AS client_addr,
    a.state,
    a.wait_event_type,
    a.wait_event,
    round(extract(epoch FROM clock_timestamp() - a.state_change)::numeric, 1)::float8 AS idle_seconds,
    round(extract(epoch FROM clock_timestamp() - a.xact_start)::numeric, 1)::float8   AS xact_seconds,
    age(a.backend_xmin)::bigint                                       AS backend_xmin_age,
    left(a.query, 200)                                                AS query
FROM pg_stat_activity a
WHERE a.datname = current_database()
  AND a.backend_type = 'client backend'
  AND a.state IN ('idle in transaction', 'idle in transaction (aborted)')
  AND a.pid <> pg_backend_pid()
  AND coalesce(a.application_name, '') <> 'migtui'
  AND a.state_change < clock_timestamp() - make_interval(secs => :min_seconds::float8)
ORDER BY a.state_change
LIMIT :limit::int
