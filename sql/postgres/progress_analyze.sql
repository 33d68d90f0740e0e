-- name: progress_analyze
-- description: ANALYZE progress in this database per backend - phase, sample blocks scanned with a percentage, extended statistics and child tables.
-- kind: metrics
-- min_version: 13
-- interval: 5s
-- timeout: 1s
-- privileges: pg_read_all_stats
-- locks: none
-- changes: PG18 adds delay_time
-- kinds: progress unit=s: seconds, delay_seconds
-- kinds: progress: sample_blks_total, sample_blks_scanned, sample_blks_scanned_pct, ext_stats_total, ext_stats_computed, child_tables_total, child_tables_done
-- kinds: state: autovacuum
SELECT /* migtui */
    p.pid::text                                                                     AS tag_pid,
    coalesce(p.relid::regclass::text, '')                                           AS tag_relation,
    p.phase                                                                         AS tag_phase,
    (a.backend_type = 'autovacuum worker')                                          AS autovacuum,
    extract(epoch FROM clock_timestamp() - coalesce(a.xact_start, a.query_start))::float8 AS seconds,
    p.sample_blks_total,
    p.sample_blks_scanned,
    round(100.0 * p.sample_blks_scanned / nullif(p.sample_blks_total, 0), 2)::float8 AS sample_blks_scanned_pct,
    p.ext_stats_total,
    p.ext_stats_computed,
    p.child_tables_total,
    p.child_tables_done,
    NULL::float8                                                                    AS delay_seconds
FROM pg_stat_progress_analyze p
LEFT JOIN pg_stat_activity a ON a.pid = p.pid
WHERE p.datname = current_database()
