-- name: invalid_indexes_list
-- description: Invalid indexes in this database (a failed or cancelled CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY), leaving out builds still in progress, with a DROP INDEX CONCURRENTLY statement to clean each up.
-- kind: table
-- min_version: 13
-- interval: 30s
-- timeout: 2s
-- cost: moderate
-- privileges: pg_read_all_stats
-- locks: none (catalogs and pg_stat_progress_create_index only)
WITH /* migtui */ building AS MATERIALIZED (
    SELECT relid, index_relid, command
    FROM pg_stat_progress_create_index
    WHERE datname = current_database()
)
SELECT
    i.indexrelid::regclass::text                                              AS index,
    i.indrelid::regclass::text                                                AS relation,
    i.indisready                                                              AS ready,
    i.indislive                                                               AS live,
    ic.relpages::bigint * current_setting('block_size')::bigint               AS index_bytes,
    CASE WHEN ic.relname ~ '_ccnew[0-9]*$' THEN 'REINDEX CONCURRENTLY leftover (new copy)'
         WHEN ic.relname ~ '_ccold[0-9]*$' THEN 'REINDEX CONCURRENTLY leftover (old copy)'
         ELSE 'failed or cancelled build' END                                 AS cause,
    format('DROP INDEX CONCURRENTLY %s', i.indexrelid::regclass)              AS drop_statement
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE NOT i.indisvalid
  AND NOT EXISTS (SELECT 1 FROM building b WHERE b.index_relid = i.indexrelid)
  AND NOT EXISTS (SELECT 1 FROM building b
                  WHERE b.relid = i.indrelid AND b.command = 'REINDEX CONCURRENTLY'
                    AND ic.relname ~ '_cc(new|old)[0-9]*$')
ORDER BY 2, 1
