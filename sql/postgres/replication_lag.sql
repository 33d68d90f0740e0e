-- name: replication_lag
-- description: Lag of every connected standby or logical subscriber in bytes (sent, written, flushed, replayed behind the current WAL position) and in seconds.
-- kind: metrics
-- min_version: 13
-- interval: 5s
-- timeout: 1s
-- privileges: pg_read_all_stats
-- locks: none
-- panel: data
-- show: replay_lag_bytes "replication lag" unit=B kind=health direction=higher_is_worse
-- kinds: health higher_is_worse unit=B: sent_lag_bytes, write_lag_bytes, flush_lag_bytes
-- kinds: health higher_is_worse unit=s: write_lag_seconds, flush_lag_seconds, replay_lag_seconds, reply_age_seconds
-- kinds: health lower_is_worse: streaming
-- kinds: state: synchronous
WITH /* migtui */ pos AS (
    SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END AS lsn
)
SELECT
    coalesce(r.application_name, '')                                     AS tag_application_name,
    coalesce(host(r.client_addr), '')                                    AS tag_client_addr,
    (r.state = 'streaming')                                              AS streaming,
    (r.sync_state IN ('sync', 'quorum'))                                 AS synchronous,
    pg_wal_lsn_diff(pos.lsn, r.sent_lsn)                                 AS sent_lag_bytes,
    pg_wal_lsn_diff(pos.lsn, r.write_lsn)                                AS write_lag_bytes,
    pg_wal_lsn_diff(pos.lsn, r.flush_lsn)                                AS flush_lag_bytes,
    pg_wal_lsn_diff(pos.lsn, r.replay_lsn)                               AS replay_lag_bytes,
    extract(epoch FROM r.write_lag)::float8                              AS write_lag_seconds,
    extract(epoch FROM r.flush_lag)::float8                              AS flush_lag_seconds,
    extract(epoch FROM r.replay_lag)::float8                             AS replay_lag_seconds,
    extract(epoch FROM clock_timestamp() - r.reply_time)::float8         AS reply_age_seconds
FROM pg_stat_replication r, pos
