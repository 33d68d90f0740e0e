-- name: wal_stats
-- description: WAL generation counters from pg_stat_wal (records, full-page images, bytes, buffers-full events, writes and syncs with their times in ms), as rates.
-- kind: metrics
-- min_version: 14
-- interval: 5s
-- timeout: 1s
-- privileges: none
-- rates: wal_records, wal_fpi, wal_bytes, wal_buffers_full, wal_write, wal_sync, wal_write_time, wal_sync_time
-- locks: none
-- changes: PG14 adds pg_stat_wal; PG18 moves wal_write, wal_sync and their times to pg_stat_io (object wal)
-- kinds: health higher_is_worse unit=/s: wal_buffers_full_per_s
-- kinds: counter unit=/s: wal_records_per_s, wal_fpi_per_s, wal_write_per_s, wal_sync_per_s
-- kinds: counter unit=B/s: wal_bytes_per_s
-- kinds: counter unit=ms/s: wal_write_time_per_s, wal_sync_time_per_s
SELECT /* migtui */
    w.wal_records,
    w.wal_fpi,
    w.wal_bytes,
    w.wal_buffers_full,
    w.wal_write,
    w.wal_sync,
    w.wal_write_time,
    w.wal_sync_time
FROM pg_stat_wal w
