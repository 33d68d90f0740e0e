-- name: archiver
-- description: WAL archiving - archived and failed segments as rates, whether the last attempt failed, and seconds since the last success and the last failure (a failing archiver keeps WAL in pg_wal and breaks point-in-time recovery).
-- kind: metrics
-- min_version: 13
-- interval: 10s
-- timeout: 1s
-- privileges: none
-- rates: archived_count, failed_count
-- locks: none
-- kinds: health higher_is_worse unit=/s: failed_count_per_s
-- kinds: health higher_is_worse: failing
-- kinds: health higher_is_worse unit=s: last_archived_seconds_ago
-- kinds: counter unit=/s: archived_count_per_s
-- kinds: state: archive_enabled, last_failed_seconds_ago
SELECT /* migtui */
    (current_setting('archive_mode') <> 'off')                                        AS archive_enabled,
    a.archived_count,
    a.failed_count,
    coalesce(a.last_failed_time > coalesce(a.last_archived_time, '-infinity'), false) AS failing,
    extract(epoch FROM clock_timestamp() - a.last_archived_time)::float8              AS last_archived_seconds_ago,
    extract(epoch FROM clock_timestamp() - a.last_failed_time)::float8                AS last_failed_seconds_ago
FROM pg_stat_archiver a
