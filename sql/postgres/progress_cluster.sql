-- name: progress_cluster
-- description: CLUSTER and VACUUM FULL progress in this database per backend - phase, heap blocks and tuples with a scan percentage.
-- kind: metrics
-- min_version: 13
-- interval: 5s
-- timeout: 1s
-- privileges: pg_read_all_stats
-- locks: none
-- kinds: progress unit=s: seconds
-- kinds: progress: heap_blks_total, heap_blks_scanned, heap_blks_scanned_pct, heap_tuples_scanned, heap_tuples_written, index_rebuild_count
SELECT /* migtui */
    p.pid::text                                                                 AS tag_pid,
    coalesce(p.relid::regclass::text, '')                                       AS tag_relation,
    p.command                                                                   AS tag_command,
    p.phase                                                                     AS tag_phase,
    extract(epoch FROM clock_timestamp() - a.query_start)::float8               AS seconds,
    p.heap_blks_total,
    p.heap_blks_scanned,
    round(100.0 * p.heap_blks_scanned / nullif(p.heap_blks_total, 0), 2)::float8 AS heap_blks_scanned_pct,
    p.heap_tuples_scanned,
    p.heap_tuples_written,
    p.index_rebuild_count
FROM pg_stat_progress_cluster p
LEFT JOIN pg_stat_activity a ON a.pid = p.pid
WHERE p.datname = current_database()
