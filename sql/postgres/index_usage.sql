-- name: index_usage
-- description: Index scans and tuples read per index of user tables in this database (the tables named in tables, or the limit largest indexes), as rates, with the approximate index size from relpages.
-- kind: metrics
-- min_version: 13
-- interval: 60s
-- timeout: 2s
-- privileges: none
-- params: tables={}, limit=50
-- rates: idx_scan, idx_tup_read, idx_tup_fetch
-- locks: none (statistics views and pg_class only, never pg_relation_size)
-- changes: PG16 adds last_idx_scan
SELECT /* migtui */
    s.relid::regclass::text                                                       AS tag_relation,
    s.indexrelid::regclass::text                                                  AS tag_index,
    s.idx_scan,
    s.idx_tup_read,
    s.idx_tup_fetch,
    c.relpages::bigint * current_setting('block_size')::bigint                    AS index_bytes,
    i.indisunique                                                                 AS is_unique,
    i.indisvalid                                                                  AS is_valid,
    NULL::float8  AS last_idx_scan_seconds_ago
FROM pg_stat_user_indexes s
JOIN pg_class c ON c.oid = s.indexrelid
JOIN pg_index i ON i.indexrelid = s.indexrelid
WHERE true
      AND (cardinality(:tables::text[]) = 0
           OR s.relid IN (SELECT to_regclass(t.name)::oid FROM unnest(:tables::text[]) AS t(name)))
ORDER BY c.relpages DESC, s.indexrelid
LIMIT :limit::int
