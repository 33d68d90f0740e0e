-- name: index_usage
-- description: Index scans and tuples read per index of user tables in this database (the tables named in tables, or the limit largest indexes), as rates, with the approximate index size from relpages.
-- kind: metrics
-- min_version: 13
-- interval: 60s
-- timeout: 2s
-- cost: expensive
-- privileges: none
-- params: tables={}, limit=50
-- rates: idx_scan, idx_tup_read, idx_tup_fetch
-- changes: PG16 adds last_idx_scan
-- locks: none (statistics functions and catalogs only, never pg_relation_size)
-- kinds: counter unit=/s: idx_scan_per_s, idx_tup_read_per_s, idx_tup_fetch_per_s
-- kinds: counter unit=B: index_bytes
-- kinds: state: is_unique, is_valid, last_idx_scan_seconds_ago
WITH /* migtui */ top AS MATERIALIZED (
    -- the largest indexes first, from pg_class alone; statistics and names for these rows only
    SELECT i.indexrelid, i.indrelid, c.relpages, i.indisunique, i.indisvalid
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_toast'
      AND (cardinality(:tables::text[]) = 0
           OR i.indrelid IN (SELECT to_regclass(x.name)::oid FROM unnest(:tables::text[]) AS x(name)))
    ORDER BY c.relpages DESC, i.indexrelid
    LIMIT :limit::int
)
SELECT
    t.indrelid::regclass::text                                                    AS tag_relation,
    t.indexrelid::regclass::text                                                  AS tag_index,
    pg_stat_get_numscans(t.indexrelid)                                            AS idx_scan,
    pg_stat_get_tuples_returned(t.indexrelid)                                     AS idx_tup_read,
    pg_stat_get_tuples_fetched(t.indexrelid)                                      AS idx_tup_fetch,
    t.relpages::bigint * current_setting('block_size')::bigint                    AS index_bytes,
    t.indisunique                                                                 AS is_unique,
    t.indisvalid                                                                  AS is_valid,
    NULL::float8 AS last_idx_scan_seconds_ago
FROM top t
ORDER BY t.relpages DESC, t.indexrelid
