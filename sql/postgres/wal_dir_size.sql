-- name: wal_dir_size
-- description: Files and bytes in pg_wal (pg_ls_waldir), to see WAL piling up behind a slot, a failing archiver or a large backfill.
-- kind: metrics
-- min_version: 13
-- interval: 60s
-- timeout: 2s
-- cost: moderate
-- privileges: pg_monitor
-- locks: none
-- kinds: health higher_is_worse: wal_files
-- kinds: health higher_is_worse unit=B: wal_bytes
SELECT /* migtui */
    count(*)                 AS wal_files,
    coalesce(sum(size), 0)   AS wal_bytes
FROM pg_ls_waldir()
