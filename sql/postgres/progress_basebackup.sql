-- name: progress_basebackup
-- description: Base backups being streamed (pg_basebackup) per WAL sender - phase and bytes streamed with a percentage when the total is estimated.
-- kind: metrics
-- min_version: 13
-- interval: 5s
-- timeout: 1s
-- privileges: pg_read_all_stats
-- locks: none
-- kinds: progress unit=s: seconds
-- kinds: progress unit=B: backup_total, backup_streamed
-- kinds: progress: backup_streamed_pct, tablespaces_total, tablespaces_streamed
SELECT /* migtui */
    p.pid::text                                                                  AS tag_pid,
    p.phase                                                                      AS tag_phase,
    extract(epoch FROM clock_timestamp() - a.backend_start)::float8              AS seconds,
    p.backup_total,
    p.backup_streamed,
    round(100.0 * p.backup_streamed / nullif(p.backup_total, 0), 2)::float8      AS backup_streamed_pct,
    p.tablespaces_total,
    p.tablespaces_streamed
FROM pg_stat_progress_basebackup p
LEFT JOIN pg_stat_activity a ON a.pid = p.pid
