-- name: database_conflicts
-- description: Queries of this database cancelled by recovery conflicts on a standby, by cause (dropped tablespace, lock such as a replayed ACCESS EXCLUSIVE from DDL, snapshot as vacuum cleanup removes rows a query still needs, buffer pin, deadlock, from PG16 logical slot), as rates; a migration's heavy WAL makes them spike on a read replica. Always zero on a primary.
-- kind: metrics
-- min_version: 13
-- interval: 10s
-- timeout: 1s
-- privileges: none
-- rates: confl_tablespace, confl_lock, confl_snapshot, confl_bufferpin, confl_deadlock, confl_active_logicalslot
-- locks: none
-- changes: PG16 adds confl_active_logicalslot
-- kinds: health higher_is_worse unit=/s: confl_tablespace_per_s, confl_lock_per_s, confl_snapshot_per_s, confl_bufferpin_per_s, confl_deadlock_per_s, confl_active_logicalslot_per_s
SELECT /* migtui */
    c.confl_tablespace                                           AS confl_tablespace,
    c.confl_lock                                                 AS confl_lock,
    c.confl_snapshot                                             AS confl_snapshot,
    c.confl_bufferpin                                            AS confl_bufferpin,
    c.confl_deadlock                                             AS confl_deadlock,
    NULL::bigint                                                 AS confl_active_logicalslot
FROM pg_stat_database_conflicts c
WHERE c.datname = current_database()
