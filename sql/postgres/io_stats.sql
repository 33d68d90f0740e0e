-- name: io_stats
-- description: Shared-buffer I/O from pg_stat_io by backend type (client backend, autovacuum worker, background worker = parallel workers, checkpointer, background writer, other) and context (normal = the buffer pool; bulkread, bulkwrite, vacuum = ring buffers): reads, writes, extends and their bytes, hits, evictions, ring reuses, fsyncs, read/write time in ms (track_io_timing), as rates. A backfill thrashing shared buffers shows as client-backend evictions and reads in context normal; backends writing or fsyncing themselves means the checkpointer and bgwriter are not keeping up.
-- kind: metrics
-- min_version: 16
-- interval: 10s
-- timeout: 1s
-- privileges: none
-- rates: reads, read_bytes, read_time, writes, write_bytes, write_time, extends, extend_bytes, hits, evictions, reuses, fsyncs
-- locks: none
-- changes: PG16 adds pg_stat_io; PG18 counts reads/writes/extends as I/O operations (several blocks each) and replaces op_bytes with read_bytes, write_bytes and extend_bytes, and adds object wal (see wal_stats) and context init
-- source: pgwatch metrics.yaml#stat_io; docs monitoring-stats (pg_stat_io)
-- kinds: counter unit=/s: reads_per_s, writes_per_s, extends_per_s, hits_per_s, evictions_per_s, reuses_per_s, fsyncs_per_s
-- kinds: counter unit=B/s: read_bytes_per_s, write_bytes_per_s, extend_bytes_per_s
-- kinds: counter unit=ms/s: read_time_per_s, write_time_per_s
SELECT /* migtui */
    CASE WHEN io.backend_type IN ('client backend', 'autovacuum worker', 'background worker',
                                  'checkpointer', 'background writer')
         THEN io.backend_type ELSE 'other' END                                 AS tag_backend_type,
    io.context                                                                 AS tag_context,
    sum(io.reads)::bigint                                                      AS reads,
    -- through PG17 a relation read, write or extend is one block: op_bytes = block_size (op_bytes is
    -- gone in PG18, block_size keeps this file valid there)
    sum(io.reads * b.block_size)::bigint                                       AS read_bytes,
    sum(io.read_time)::float8                                                  AS read_time,
    sum(io.writes)::bigint                                                     AS writes,
    sum(io.writes * b.block_size)::bigint                                      AS write_bytes,
    sum(io.write_time)::float8                                                 AS write_time,
    sum(io.extends)::bigint                                                    AS extends,
    sum(io.extends * b.block_size)::bigint                                     AS extend_bytes,
    sum(io.hits)::bigint                                                       AS hits,
    sum(io.evictions)::bigint                                                  AS evictions,
    sum(io.reuses)::bigint                                                     AS reuses,
    sum(io.fsyncs)::bigint                                                     AS fsyncs
FROM pg_stat_io io
CROSS JOIN (SELECT current_setting('block_size')::bigint AS block_size) b
-- shared buffers only (temp relations use local buffers; WAL is in wal_stats), summed over a fixed
-- set of rows so that every series stays a monotonic counter; a column pg_stat_io leaves NULL for a
-- backend type or context gives no series
WHERE io.object = 'relation'
  AND io.context IN ('normal', 'bulkread', 'bulkwrite', 'vacuum')
GROUP BY 1, 2
ORDER BY 1, 2
