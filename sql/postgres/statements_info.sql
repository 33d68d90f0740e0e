-- name: statements_info
-- description: pg_stat_statements housekeeping - entries evicted (dealloc, as a rate; a high rate means pg_stat_statements.max is too small and statistics are lost) and seconds since the statistics were reset.
-- kind: metrics
-- min_version: 14
-- interval: 30s
-- timeout: 1s
-- privileges: none
-- extension: pg_stat_statements >= 1.9
-- rates: dealloc
-- locks: none
-- kinds: health higher_is_worse unit=/s: dealloc_per_s
-- kinds: state unit=s: stats_reset_seconds_ago
SELECT /* migtui */
    i.dealloc,
    extract(epoch FROM clock_timestamp() - i.stats_reset)::float8               AS stats_reset_seconds_ago
FROM pg_stat_statements_info i
WHERE current_setting('pg_stat_statements.max', true) IS NOT NULL
