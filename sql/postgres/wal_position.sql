-- name: wal_position
-- description: The current WAL insert position as a byte count (on a standby, the replay position); its per-second rate is the WAL generation (or replay) rate.
-- kind: metrics
-- min_version: 13
-- interval: 2s
-- timeout: 1s
-- privileges: none
-- rates: wal_bytes
-- locks: none
-- panel: data
-- show: wal_bytes_per_s "WAL" unit=B/s kind=counter
-- kinds: state: in_recovery
SELECT /* migtui */
    pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                         ELSE pg_current_wal_insert_lsn() END, '0/0')         AS wal_bytes,
    pg_is_in_recovery()                                                      AS in_recovery
