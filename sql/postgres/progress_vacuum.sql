-- name: progress_vacuum
-- description: VACUUM and autovacuum progress in this database per backend - phase, heap blocks scanned and vacuumed with percentages, index passes and the dead-tuple store.
-- kind: metrics
-- min_version: 13
-- interval: 5s
-- timeout: 1s
-- privileges: pg_read_all_stats
-- locks: none
-- changes: PG17 renames max_dead_tuples/num_dead_tuples to max_dead_tuple_bytes/num_dead_item_ids and adds dead_tuple_bytes, indexes_total, indexes_processed; PG18 adds delay_time
-- kinds: progress unit=s: seconds, delay_seconds
-- kinds: progress: heap_blks_total, heap_blks_scanned, heap_blks_vacuumed, heap_blks_scanned_pct, heap_blks_vacuumed_pct, index_vacuum_count, dead_tuples, max_dead_tuples, dead_store_pct, indexes_total, indexes_processed
-- kinds: progress unit=B: dead_tuple_bytes, max_dead_tuple_bytes
-- kinds: state: autovacuum
SELECT /* migtui */
    p.pid::text                                                                  AS tag_pid,
    coalesce(p.relid::regclass::text, '')                                        AS tag_relation,
    p.phase                                                                      AS tag_phase,
    (a.backend_type = 'autovacuum worker')                                       AS autovacuum,
    extract(epoch FROM clock_timestamp() - coalesce(a.xact_start, a.query_start))::float8 AS seconds,
    p.heap_blks_total,
    p.heap_blks_scanned,
    p.heap_blks_vacuumed,
    round(100.0 * p.heap_blks_scanned / nullif(p.heap_blks_total, 0), 2)::float8  AS heap_blks_scanned_pct,
    round(100.0 * p.heap_blks_vacuumed / nullif(p.heap_blks_total, 0), 2)::float8 AS heap_blks_vacuumed_pct,
    p.index_vacuum_count,
    p.num_dead_tuples                                                            AS dead_tuples,
    p.max_dead_tuples                                                            AS max_dead_tuples,
    NULL::bigint                                                                 AS dead_tuple_bytes,
    NULL::bigint                                                                 AS max_dead_tuple_bytes,
    round(100.0 * p.num_dead_tuples / nullif(p.max_dead_tuples, 0), 2)::float8   AS dead_store_pct,
    NULL::bigint                                                                 AS indexes_total,
    NULL::bigint                                                                 AS indexes_processed,
    NULL::float8                                                                 AS delay_seconds
FROM pg_stat_progress_vacuum p
LEFT JOIN pg_stat_activity a ON a.pid = p.pid
WHERE p.datname = current_database()
