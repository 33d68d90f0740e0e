-- name: statements_text
-- description: For the report: the normalized text ($1 placeholders, cut to text_chars) of the statements in queryids (those statements_top listed whose text migtui has not read yet), and migtui's own statements (the ones marked /* migtui */) with their calls and time but no text, and every statement's time in this database (db_exec_ms, to put migtui's share in proportion). Reads pg_stat_statements with showtext on, which loads the whole query-text file, so it runs rarely: on its interval, at the start of each phase, and when statements_top lists new statements (at most every 30 s).
-- kind: table
-- min_version: 13
-- interval: 120s
-- timeout: 2s
-- cost: expensive
-- at_phase_start: yes
-- privileges: pg_read_all_stats
-- extension: pg_stat_statements >= 1.8
-- params: queryids={}, text_chars=1000, limit=500
-- locks: none
SELECT /* migtui */
    s.queryid,
    r.rolname::text                                                   AS username,
    s.query LIKE '%/* migtui */%'                                     AS migtui,
    s.calls,
    round(s.total_exec_time::numeric, 3)::float8                      AS total_exec_ms,
    CASE WHEN s.queryid = ANY (:queryids::bigint[])
         THEN left(s.query, :text_chars::int) END                     AS query,
    (SELECT round(sum(t.total_exec_time)::numeric, 3)::float8  -- uncorrelated: read once, not per row
     FROM pg_stat_statements(false) t
     WHERE t.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())) AS db_exec_ms
FROM pg_stat_statements(true) s
LEFT JOIN pg_roles r ON r.oid = s.userid
WHERE current_setting('pg_stat_statements.max', true) IS NOT NULL
  AND s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND (s.queryid = ANY (:queryids::bigint[]) OR s.query LIKE '%/* migtui */%')
ORDER BY s.queryid = ANY (:queryids::bigint[]) DESC, s.total_exec_time DESC
LIMIT :limit::int
