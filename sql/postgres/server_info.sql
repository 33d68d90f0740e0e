-- name: server_info
-- description: The server's version number, whether it is a standby, uptime in seconds and whether data checksums are on.
-- kind: metrics
-- min_version: 13
-- interval: 60s
-- timeout: 1s
-- privileges: none
-- locks: none
-- kinds: state: server_version_num, in_recovery, data_checksums
-- kinds: state unit=s: uptime_seconds
SELECT /* migtui */
    current_setting('server_version_num')::int                                  AS server_version_num,
    pg_is_in_recovery()                                                         AS in_recovery,
    extract(epoch FROM clock_timestamp() - pg_postmaster_start_time())::float8  AS uptime_seconds,
    (current_setting('data_checksums') = 'on')                                  AS data_checksums
