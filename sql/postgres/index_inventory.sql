-- name: index_inventory
-- description: For the report: every index on this database's user tables (up to limit, largest first) with its scans since it was created (or the statistics were reset), its approximate size from relpages and whether it is valid. The report compares the baseline's list with post's: new indexes with their scans (an unused one flagged) and dropped ones. Runs at the start of each phase and on its interval.
-- kind: table
-- min_version: 13
-- interval: 60s
-- timeout: 2s
-- cost: moderate
-- at_phase_start: yes
-- privileges: none
-- params: limit=2000
-- locks: none (catalogs and statistics functions only, never pg_relation_size)
SELECT /* migtui */
    i.indexrelid::bigint                                              AS index_oid,
    i.indexrelid::regclass::text                                      AS index_name,
    i.indrelid::regclass::text                                        AS relation,
    pg_stat_get_numscans(i.indexrelid)                                AS idx_scan,
    c.relpages::bigint * current_setting('block_size')::bigint        AS index_bytes,
    i.indisvalid                                                      AS is_valid,
    i.indisunique                                                     AS is_unique
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
ORDER BY c.relpages DESC, i.indexrelid
LIMIT :limit::int
