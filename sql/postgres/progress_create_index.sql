-- name: progress_create_index
-- description: CREATE INDEX [CONCURRENTLY] and REINDEX progress in this database per backend - phase, the writers a concurrent build waits for, blocks and tuples done with percentages.
-- kind: metrics
-- min_version: 13
-- interval: 5s
-- timeout: 1s
-- privileges: pg_read_all_stats
-- locks: none
-- panel: schema
-- render: progress
-- title: Index builds
-- kinds: progress unit=s: seconds
-- kinds: progress: lockers_total, lockers_done, blocks_total, blocks_done, blocks_pct, tuples_total, tuples_done, tuples_pct, partitions_total, partitions_done
-- kinds: state: current_locker_pid
SELECT /* migtui */
    p.pid::text                                                                 AS tag_pid,
    coalesce(p.relid::regclass::text, '')                                       AS tag_relation,
    coalesce(CASE WHEN p.index_relid <> 0 THEN p.index_relid::regclass::text END, '') AS tag_index,
    p.command                                                                   AS tag_command,
    p.phase                                                                     AS tag_phase,
    extract(epoch FROM clock_timestamp() - a.query_start)::float8               AS seconds,
    p.lockers_total,
    p.lockers_done,
    p.current_locker_pid,
    p.blocks_total,
    p.blocks_done,
    round(100.0 * p.blocks_done / nullif(p.blocks_total, 0), 2)::float8         AS blocks_pct,
    p.tuples_total,
    p.tuples_done,
    round(100.0 * p.tuples_done / nullif(p.tuples_total, 0), 2)::float8         AS tuples_pct,
    p.partitions_total,
    p.partitions_done
FROM pg_stat_progress_create_index p
LEFT JOIN pg_stat_activity a ON a.pid = p.pid
WHERE p.datname = current_database()
