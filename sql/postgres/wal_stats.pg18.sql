-- name: wal_stats
-- description: WAL generation counters from pg_stat_wal (records, full-page images, bytes, buffers-full events, writes and syncs with their times in ms), as rates.
-- kind: metrics
-- min_version: 18
-- interval: 5s
-- timeout: 1s
-- privileges: none
-- rates: wal_records, wal_fpi, wal_bytes, wal_buffers_full, wal_write, wal_sync, wal_write_time, wal_sync_time
-- locks: none
-- changes: PG14 adds pg_stat_wal; PG18 moves wal_write, wal_sync and their times to pg_stat_io (object wal)
SELECT /* migtui */
    w.wal_records,
    w.wal_fpi,
    w.wal_bytes,
    w.wal_buffers_full,
    io.writes                                                                AS wal_write,
    io.fsyncs                                                                AS wal_sync,
    io.write_time                                                            AS wal_write_time,
    io.fsync_time                                                            AS wal_sync_time
FROM pg_stat_wal w
CROSS JOIN (
    SELECT sum(writes)::bigint AS writes, sum(fsyncs)::bigint AS fsyncs,
           sum(write_time)::float8 AS write_time, sum(fsync_time)::float8 AS fsync_time
    FROM pg_stat_io
    WHERE object = 'wal'
) io
