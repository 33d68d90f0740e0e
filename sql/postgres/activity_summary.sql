-- name: activity_summary
-- description: Client sessions of this database by state, lock waiters, autovacuum workers and the oldest transaction and statement (migtui's own sessions excluded).
-- kind: metrics
-- min_version: 13
-- interval: 2s
-- timeout: 1s
-- privileges: pg_read_all_stats
-- locks: none
-- panel: schema
-- show: waiting "lock waiters" warn=1 critical=5 kind=health direction=higher_is_worse min_change=1
-- show: oldest_xact_seconds "oldest xact" unit=s warn=60 critical=300 kind=health direction=higher_is_worse min_change=1
-- show: idle_in_transaction "idle in xact" kind=health direction=higher_is_worse min_change=1
-- kinds: health higher_is_worse min_change=1: active
-- kinds: health higher_is_worse unit=s min_change=1: longest_query_seconds, longest_idle_in_transaction_seconds
-- kinds: state: sessions, idle, autovacuum_workers
SELECT /* migtui */
    count(*) FILTER (WHERE backend_type = 'client backend')                                  AS sessions,
    count(*) FILTER (WHERE backend_type = 'client backend' AND state = 'active')             AS active,
    count(*) FILTER (WHERE backend_type = 'client backend' AND state = 'idle')               AS idle,
    count(*) FILTER (WHERE backend_type = 'client backend'
                       AND state LIKE 'idle in transaction%')                                AS idle_in_transaction,
    count(*) FILTER (WHERE wait_event_type = 'Lock')                                         AS waiting,
    count(*) FILTER (WHERE backend_type = 'autovacuum worker')                               AS autovacuum_workers,
    coalesce(extract(epoch FROM max(clock_timestamp() - xact_start)
             FILTER (WHERE backend_type = 'client backend'))::float8, 0)                     AS oldest_xact_seconds,
    coalesce(extract(epoch FROM max(clock_timestamp() - query_start)
             FILTER (WHERE backend_type = 'client backend' AND state = 'active'))::float8, 0) AS longest_query_seconds,
    coalesce(extract(epoch FROM max(clock_timestamp() - state_change)
             FILTER (WHERE backend_type = 'client backend'
                       AND state LIKE 'idle in transaction%'))::float8, 0)                   AS longest_idle_in_transaction_seconds
FROM pg_stat_activity
WHERE datname = current_database()
  AND pid <> pg_backend_pid()
  AND coalesce(application_name, '') <> 'migtui'
