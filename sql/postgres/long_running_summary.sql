-- name: long_running_summary
-- description: How many statements run and how many sessions sit idle in a transaction for longer than min_seconds in this database, with the largest ages in seconds and the oldest backend_xmin age.
-- kind: metrics
-- min_version: 13
-- interval: 2s
-- timeout: 1s
-- privileges: pg_read_all_stats
-- params: min_seconds=5
-- locks: none
-- kinds: health higher_is_worse min_change=1: long_running, idle_in_transaction
-- kinds: health higher_is_worse min_change=10000: max_backend_xmin_age
-- kinds: health higher_is_worse unit=s min_change=1: max_query_seconds, max_idle_in_transaction_seconds, max_xact_seconds
WITH /* migtui */ s AS (
    SELECT state,
           extract(epoch FROM clock_timestamp() - query_start)::float8  AS query_seconds,
           extract(epoch FROM clock_timestamp() - state_change)::float8 AS state_seconds,
           extract(epoch FROM clock_timestamp() - xact_start)::float8   AS xact_seconds,
           age(backend_xmin)::bigint                                    AS xmin_age
    FROM pg_stat_activity
    WHERE datname = current_database()
      AND backend_type = 'client backend'
      AND pid <> pg_backend_pid()
      AND coalesce(application_name, '') <> 'migtui'
)
SELECT
    count(*) FILTER (WHERE state = 'active' AND query_seconds > :min_seconds::float8)                    AS long_running,
    count(*) FILTER (WHERE state LIKE 'idle in transaction%' AND state_seconds > :min_seconds::float8)   AS idle_in_transaction,
    coalesce(max(query_seconds) FILTER (WHERE state = 'active'), 0)                                      AS max_query_seconds,
    coalesce(max(state_seconds) FILTER (WHERE state LIKE 'idle in transaction%'), 0)                     AS max_idle_in_transaction_seconds,
    coalesce(max(xact_seconds), 0)                                                                       AS max_xact_seconds,
    coalesce(max(xmin_age), 0)                                                                           AS max_backend_xmin_age
FROM s
