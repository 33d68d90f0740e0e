-- name: table_sizes_approx
-- description: Lock-free approximate sizes of user tables in this database (relpages * block_size for heap, TOAST and indexes, as of the last VACUUM, ANALYZE or CREATE INDEX) and the row estimate; the tables named in tables, or the limit largest. Never blocks behind a migration's lock queue.
-- kind: metrics
-- min_version: 13
-- interval: 60s
-- timeout: 2s
-- cost: expensive
-- privileges: none
-- params: tables={}, limit=50
-- locks: none (pg_class only; pg_relation_size and friends take AccessShareLock and queue behind a waiting ALTER TABLE)
-- kinds: counter unit=B: table_bytes, toast_bytes, indexes_bytes, total_bytes
-- kinds: counter: row_estimate
WITH /* migtui */ ix AS (
    SELECT i.indrelid, sum(ic.relpages)::bigint AS pages
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    GROUP BY i.indrelid
), top AS MATERIALIZED (
    -- one pass over pg_index (not one lookup per table), names for the rows shown only
    SELECT c.oid,
           c.relpages::bigint                          AS heap_pages,
           coalesce(tc.relpages, 0)::bigint            AS toast_pages,
           coalesce(ix.pages, 0)::bigint               AS index_pages,
           CASE WHEN c.reltuples >= 0 THEN c.reltuples END AS reltuples
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_class tc ON tc.oid = c.reltoastrelid
    LEFT JOIN ix ON ix.indrelid = c.oid
    WHERE c.relkind IN ('r', 'm')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%'
      AND n.nspname NOT LIKE 'pg_temp%'
      AND (cardinality(:tables::text[]) = 0
           OR c.oid IN (SELECT to_regclass(x.name)::oid FROM unnest(:tables::text[]) AS x(name)))
    ORDER BY c.relpages::bigint + coalesce(tc.relpages, 0) + coalesce(ix.pages, 0) DESC, c.oid
    LIMIT :limit::int
)
SELECT
    s.oid::regclass::text                                                   AS tag_relation,
    s.heap_pages * b.block_size                                             AS table_bytes,
    s.toast_pages * b.block_size                                            AS toast_bytes,
    s.index_pages * b.block_size                                            AS indexes_bytes,
    (s.heap_pages + s.toast_pages + s.index_pages) * b.block_size           AS total_bytes,
    s.reltuples::float8                                                     AS row_estimate
FROM top s
CROSS JOIN (SELECT current_setting('block_size')::bigint AS block_size) b
ORDER BY s.heap_pages + s.toast_pages + s.index_pages DESC, s.oid
