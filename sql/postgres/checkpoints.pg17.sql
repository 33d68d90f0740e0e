-- name: checkpoints
-- description: Checkpoint and background-writer counters - timed and requested checkpoints (and restartpoints on a standby), write and sync time in ms, buffers written by checkpoints, the bgwriter and backends - as rates.
-- kind: metrics
-- min_version: 17
-- interval: 10s
-- timeout: 1s
-- privileges: none
-- rates: checkpoints_timed, checkpoints_req, checkpoints_done, restartpoints_timed, restartpoints_req, restartpoints_done, checkpoint_write_time, checkpoint_sync_time, buffers_checkpoint, buffers_clean, maxwritten_clean, buffers_backend, buffers_backend_fsync, buffers_alloc, slru_written
-- locks: none
-- changes: PG17 moves checkpoint counters from pg_stat_bgwriter to pg_stat_checkpointer and drops buffers_backend[_fsync]; PG18 adds num_done and slru_written
SELECT /* migtui */
    c.num_timed                                                  AS checkpoints_timed,
    c.num_requested                                              AS checkpoints_req,
    NULL::bigint                                                 AS checkpoints_done,
    c.restartpoints_timed                                        AS restartpoints_timed,
    c.restartpoints_req                                          AS restartpoints_req,
    c.restartpoints_done                                         AS restartpoints_done,
    c.write_time                                                 AS checkpoint_write_time,
    c.sync_time                                                  AS checkpoint_sync_time,
    c.buffers_written                                            AS buffers_checkpoint,
    b.buffers_clean                                              AS buffers_clean,
    b.maxwritten_clean                                           AS maxwritten_clean,
    NULL::bigint                                                 AS buffers_backend,
    NULL::bigint                                                 AS buffers_backend_fsync,
    b.buffers_alloc                                              AS buffers_alloc,
    NULL::bigint                                                 AS slru_written
FROM pg_stat_checkpointer c, pg_stat_bgwriter b
