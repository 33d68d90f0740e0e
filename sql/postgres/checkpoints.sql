-- name: checkpoints
-- description: Checkpoint and background-writer counters - timed and requested checkpoints (and restartpoints on a standby), write and sync time in ms, buffers written by checkpoints, the bgwriter and backends - as rates.
-- kind: metrics
-- min_version: 13
-- interval: 10s
-- timeout: 1s
-- privileges: none
-- rates: checkpoints_timed, checkpoints_req, checkpoints_done, restartpoints_timed, restartpoints_req, restartpoints_done, checkpoint_write_time, checkpoint_sync_time, buffers_checkpoint, buffers_clean, maxwritten_clean, buffers_backend, buffers_backend_fsync, buffers_alloc, slru_written
-- locks: none
-- changes: PG17 moves checkpoint counters from pg_stat_bgwriter to pg_stat_checkpointer and drops buffers_backend[_fsync]; PG18 adds num_done and slru_written
-- kinds: health higher_is_worse unit=/s: checkpoints_req_per_s, buffers_backend_fsync_per_s
-- kinds: health higher_is_worse unit=ms/s: checkpoint_sync_time_per_s
-- kinds: counter unit=/s: checkpoints_timed_per_s, checkpoints_done_per_s, restartpoints_timed_per_s, restartpoints_req_per_s, restartpoints_done_per_s, buffers_checkpoint_per_s, buffers_clean_per_s, maxwritten_clean_per_s, buffers_backend_per_s, buffers_alloc_per_s, slru_written_per_s
-- kinds: counter unit=ms/s: checkpoint_write_time_per_s
SELECT /* migtui */
    b.checkpoints_timed                                          AS checkpoints_timed,
    b.checkpoints_req                                            AS checkpoints_req,
    NULL::bigint                                                 AS checkpoints_done,
    NULL::bigint                                                 AS restartpoints_timed,
    NULL::bigint                                                 AS restartpoints_req,
    NULL::bigint                                                 AS restartpoints_done,
    b.checkpoint_write_time                                      AS checkpoint_write_time,
    b.checkpoint_sync_time                                       AS checkpoint_sync_time,
    b.buffers_checkpoint                                         AS buffers_checkpoint,
    b.buffers_clean                                              AS buffers_clean,
    b.maxwritten_clean                                           AS maxwritten_clean,
    b.buffers_backend                                            AS buffers_backend,
    b.buffers_backend_fsync                                      AS buffers_backend_fsync,
    b.buffers_alloc                                              AS buffers_alloc,
    NULL::bigint                                                 AS slru_written
FROM pg_stat_bgwriter b
