-- name: statements_top
-- description: Top statements of this database by total execution time from pg_stat_statements (without query text, read with showtext off), with plan time, rows, buffer and temp I/O, block I/O time (ms) and WAL; nested statements left out from extension 1.9 on. Roles in exclude_users (e.g. a dedicated monitoring role) and the statements in exclude_queryids (migtui's own, once statements_text has told them apart) are left out. Empty when the library is not in shared_preload_libraries.
-- kind: table
-- min_version: 13
-- interval: 30s
-- timeout: 2s
-- at_phase_start: yes
-- privileges: pg_read_all_stats
-- extension: pg_stat_statements >= 1.8
-- params: limit=20, exclude_users={}, exclude_queryids={}
-- locks: none
-- changes: 1.8 splits total_time into plan and exec; 1.9 adds toplevel; 1.11 renames blk_read/write_time to shared_blk_*_time and adds local_blk_*_time
SELECT /* migtui */
    s.queryid,
    r.rolname::text                                                             AS username,
    s.toplevel                                                                  AS toplevel,
    s.calls,
    round(s.total_exec_time::numeric, 3)::float8                                AS total_exec_ms,
    round(s.mean_exec_time::numeric, 3)::float8                                 AS mean_exec_ms,
    round(s.max_exec_time::numeric, 3)::float8                                  AS max_exec_ms,
    round(s.total_plan_time::numeric, 3)::float8                                AS total_plan_ms,
    round((100.0 * s.total_exec_time
           / nullif(sum(s.total_exec_time) OVER (), 0))::numeric, 2)::float8     AS exec_time_pct,
    s.rows,
    s.shared_blks_hit,
    s.shared_blks_read,
    s.shared_blks_dirtied,
    s.shared_blks_written,
    s.temp_blks_written,
    round((s.blk_read_time)::numeric, 3)::float8                            AS blk_read_ms,
    round((s.blk_write_time)::numeric, 3)::float8                           AS blk_write_ms,
    s.wal_bytes::float8                                                         AS wal_bytes
FROM pg_stat_statements(false) s
LEFT JOIN pg_roles r ON r.oid = s.userid
WHERE current_setting('pg_stat_statements.max', true) IS NOT NULL
  AND s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND (r.rolname IS NULL OR r.rolname <> ALL (:exclude_users::text[]))
  AND s.queryid <> ALL (:exclude_queryids::bigint[])
  AND s.toplevel
ORDER BY s.total_exec_time DESC
LIMIT :limit::int
