-- name: progress_copy
-- description: COPY progress in this database per backend (backfills and exports) - bytes and tuples processed with a percentage when the input size is known.
-- kind: metrics
-- min_version: 14
-- interval: 5s
-- timeout: 1s
-- privileges: pg_read_all_stats
-- locks: none
-- changes: PG14 adds pg_stat_progress_copy; PG17 adds tuples_skipped (ON_ERROR ignore)
-- panel: data
-- render: progress
-- title: COPY progress
-- kinds: progress unit=s: seconds
-- kinds: progress unit=B: bytes_processed, bytes_total
-- kinds: progress: bytes_pct, tuples_processed, tuples_excluded, tuples_skipped
SELECT /* migtui */
    p.pid::text                                                                  AS tag_pid,
    coalesce(CASE WHEN p.relid <> 0 THEN p.relid::regclass::text END, '')        AS tag_relation,
    p.command                                                                    AS tag_command,
    p.type                                                                       AS tag_type,
    extract(epoch FROM clock_timestamp() - a.query_start)::float8                AS seconds,
    p.bytes_processed,
    p.bytes_total,
    round(100.0 * p.bytes_processed / nullif(p.bytes_total, 0), 2)::float8       AS bytes_pct,
    p.tuples_processed,
    p.tuples_excluded,
    NULL::bigint                                                                 AS tuples_skipped
FROM pg_stat_progress_copy p
LEFT JOIN pg_stat_activity a ON a.pid = p.pid
WHERE p.datname = current_database()
