-- name: checkpoint_pressure
-- description: Checkpoint pressure as a throttle signal - requested checkpoints per minute (max_wal_size reached before checkpoint_timeout: WAL is written faster than the checkpoint spreads it) and timed ones, over the last poll; minutes is the server clock in minutes (the ratios' denominator).
-- kind: metrics
-- min_version: 13
-- interval: 10s
-- timeout: 1s
-- privileges: none
-- ratios: requested_per_min = requested / minutes; timed_per_min = timed / minutes
-- locks: none
-- changes: PG17 moves the counters from pg_stat_bgwriter to pg_stat_checkpointer
-- kinds: health higher_is_worse unit=/min: requested_per_min
-- kinds: counter unit=/min: timed_per_min
-- kinds: counter: requested, timed, minutes
SELECT /* migtui */
    b.checkpoints_req                                            AS requested,
    b.checkpoints_timed                                          AS timed,
    extract(epoch FROM clock_timestamp())::float8 / 60           AS minutes
FROM pg_stat_bgwriter b
