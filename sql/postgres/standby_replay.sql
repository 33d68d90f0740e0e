-- name: standby_replay
-- description: On a standby, how far WAL replay trails what was received (bytes) and how old the last replayed transaction is (seconds, 0 when fully caught up); returns no rows on a primary.
-- kind: metrics
-- min_version: 13
-- interval: 5s
-- timeout: 1s
-- privileges: pg_read_all_stats
-- locks: none
-- kinds: health higher_is_worse unit=B: receive_replay_lag_bytes
-- kinds: health higher_is_worse unit=s: replay_delay_seconds
-- kinds: health lower_is_worse: receiver_streaming
-- kinds: state: replay_paused
SELECT /* migtui */
    pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())      AS receive_replay_lag_bytes,
    CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
         ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())
    END::float8                                                              AS replay_delay_seconds,
    pg_is_wal_replay_paused()                                                AS replay_paused,
    EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')   AS receiver_streaming
WHERE pg_is_in_recovery()
