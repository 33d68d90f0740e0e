-- name: database_counters
-- description: Commits, rollbacks, deadlocks, conflicts, temp files, block reads and tuple changes of this database as rates, with the rollback and cache-hit ratios; from PG14 session counts and times (ms), from PG18 parallel workers.
-- kind: metrics
-- min_version: 13
-- interval: 5s
-- timeout: 1s
-- privileges: none
-- rates: xact_commit, xact_rollback, deadlocks, conflicts, temp_files, temp_bytes, blks_read, blks_hit, tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted, checksum_failures, sessions, sessions_abandoned, sessions_fatal, sessions_killed, session_time, active_time, idle_in_transaction_time, parallel_workers_to_launch, parallel_workers_launched
-- ratios: rollback_ratio = xact_rollback / xact_commit + xact_rollback; cache_hit_ratio = blks_hit / blks_hit + blks_read
-- locks: none
-- changes: PG14 adds session counters and times; PG18 adds parallel_workers_to_launch and parallel_workers_launched
-- panel: data
-- show: xact_commit_per_s "commits/s" unit=/s kind=health direction=lower_is_worse
-- show: rollback_ratio "rollback ratio" warn=0.05 critical=0.2 kind=health direction=higher_is_worse
-- show: tup_updated_per_s "rows updated/s" unit=/s kind=counter
-- show: conflicts_per_s "standby conflicts/s" unit=/s warn=0.01 kind=health direction=higher_is_worse
-- kinds: health higher_is_worse unit=/s: xact_rollback_per_s, deadlocks_per_s, temp_files_per_s, checksum_failures_per_s, sessions_abandoned_per_s, sessions_fatal_per_s, sessions_killed_per_s
-- kinds: health higher_is_worse unit=B/s: temp_bytes_per_s
-- kinds: health higher_is_worse unit=ms/s: active_time_per_s, idle_in_transaction_time_per_s
-- kinds: health lower_is_worse unit=%: cache_hit_ratio
-- kinds: counter unit=/s: blks_read_per_s, blks_hit_per_s, tup_returned_per_s, tup_fetched_per_s, tup_inserted_per_s, tup_deleted_per_s, sessions_per_s, parallel_workers_to_launch_per_s, parallel_workers_launched_per_s
-- kinds: counter unit=ms/s: session_time_per_s
-- kinds: state: numbackends
SELECT /* migtui */
    d.numbackends                                                AS numbackends,
    d.xact_commit                                                AS xact_commit,
    d.xact_rollback                                              AS xact_rollback,
    d.deadlocks                                                  AS deadlocks,
    d.conflicts                                                  AS conflicts,
    d.temp_files                                                 AS temp_files,
    d.temp_bytes                                                 AS temp_bytes,
    d.blks_read                                                  AS blks_read,
    d.blks_hit                                                   AS blks_hit,
    d.tup_returned                                               AS tup_returned,
    d.tup_fetched                                                AS tup_fetched,
    d.tup_inserted                                               AS tup_inserted,
    d.tup_updated                                                AS tup_updated,
    d.tup_deleted                                                AS tup_deleted,
    d.checksum_failures                                          AS checksum_failures,
    NULL::bigint                                                 AS sessions,
    NULL::bigint                                                 AS sessions_abandoned,
    NULL::bigint                                                 AS sessions_fatal,
    NULL::bigint                                                 AS sessions_killed,
    NULL::float8                                                 AS session_time,
    NULL::float8                                                 AS active_time,
    NULL::float8                                                 AS idle_in_transaction_time,
    NULL::bigint                                                 AS parallel_workers_to_launch,
    NULL::bigint                                                 AS parallel_workers_launched
FROM pg_stat_database d
WHERE d.datname = current_database()
