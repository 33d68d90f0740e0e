-- name: invalid_indexes
-- description: How many invalid indexes this database has (builds still in progress left out) and their approximate size.
-- kind: metrics
-- min_version: 13
-- interval: 30s
-- timeout: 2s
-- cost: moderate
-- privileges: pg_read_all_stats
-- locks: none (catalogs and pg_stat_progress_create_index only)
-- panel: schema
-- show: count "invalid indexes" warn=1 kind=health direction=higher_is_worse
-- kinds: health higher_is_worse unit=B: bytes
WITH /* migtui */ building AS MATERIALIZED (
    SELECT relid, index_relid, command
    FROM pg_stat_progress_create_index
    WHERE datname = current_database()
)
SELECT
    count(*)                                                                           AS count,
    coalesce(sum(ic.relpages::bigint), 0) * current_setting('block_size')::bigint      AS bytes
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE NOT i.indisvalid
  AND NOT EXISTS (SELECT 1 FROM building b WHERE b.index_relid = i.indexrelid)
  AND NOT EXISTS (SELECT 1 FROM building b
                  WHERE b.relid = i.indrelid AND b.command = 'REINDEX CONCURRENTLY'
                    AND ic.relname ~ '_cc(new|old)[0-9]*$')
